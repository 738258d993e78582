"""The CLI over a corpus of broken inputs (tests/corpus/): every case exits with its code,
names its key, prints no traceback, writes nothing and echoes no credential.

In-process (``cli.main``): every case is refused before a plan runs, so the whole corpus
takes a few seconds.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_aks.cli import main as cli
from airflow_aks.config.base import deep_merge
from airflow_aks.config.stack import read_stack_file
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "corpus"
STACK_CASES: list[dict[str, Any]] = yaml.safe_load((CORPUS / "stacks.yaml").read_text())


def header(path: Path, field: str) -> str | None:
    """``# field: value`` from a corpus file's leading comments."""
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith(f"# {field}: "):
            return line.split(": ", 1)[1]
    return None


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def plan_argv(stack: str, config: Path, tmp: Path) -> tuple[list[str], list[Path]]:
    base = tmp / "base.json"
    base.write_text(json.dumps({"project": "airflow-aks", "stack": stack, "resources": []}))
    outputs = [tmp / "plan.json", tmp / "diff.md"]
    argv = ["plan", "--stack", stack, "--config", str(config), "--json", str(outputs[0])]
    return [*argv, "--diff", str(base), "--diff-markdown", str(outputs[1])], outputs


def check(code: int, out: str, err: str, exit_code: int, key: str, secret: str | None) -> None:
    assert code == exit_code, err
    assert "Traceback" not in out + err
    assert key in err, err
    if secret:
        assert secret not in out + err


@pytest.mark.parametrize("case", STACK_CASES, ids=[c["name"] for c in STACK_CASES])
def test_stack_case(case: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    raw = deep_merge(read_stack_file(ROOT / f"Pulumi.{case['base']}.yaml"), case["config"])
    config = tmp_path / f"Pulumi.{case['base']}.yaml"
    # JSON is YAML: every value keeps the type the case gives it (quoted strings stay strings).
    config.write_text(json.dumps({"config": raw}))
    argv, outputs = plan_argv(case["base"], config, tmp_path)
    check(*run(argv, capsys), case["exit"], case["key"], case.get("secret"))
    assert not any(p.exists() for p in outputs)


RAW = sorted((CORPUS / "raw").glob("*.yaml"))


@pytest.mark.parametrize("path", RAW, ids=[p.stem for p in RAW])
def test_raw_stack_file(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    expect = header(path, "expect")
    assert expect, f"{path} needs a '# expect: <exit> <text>' line"
    code, text = expect.split(" ", 1)
    config = tmp_path / "Pulumi.dev.yaml"
    shutil.copy(path, config)
    argv, outputs = plan_argv("dev", config, tmp_path)
    check(*run(argv, capsys), int(code), text, header(path, "secret"))
    assert not any(p.exists() for p in outputs)


def test_not_utf8_and_deep_nesting(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """Generated here (a committed 650 kB or non-UTF-8 file would be a poor fixture)."""
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_bytes(b"config:\n  airflow-aks:location: westeurope # K\xf6ln\n")
    argv, outputs = plan_argv("dev", stack, tmp_path)
    check(*run(argv, capsys), 2, "not UTF-8 text (byte 0xf6", None)
    lines = ["config:", "  airflow-aks:airflow:", "    helmValues:"]
    lines += ["      " + "  " * i + f"k{i}:" for i in range(800)]
    stack.write_text("\n".join(lines) + "\n" + "      " + "  " * 800 + "leaf: 1\n")
    check(*run(argv, capsys), 2, "nested deeper than 64 levels", None)
    assert not any(p.exists() for p in outputs)


# ---------------------------------------------------------------- other commands


def project(tmp: Path, delivery: Path) -> Path:
    """A project directory with the shipped stack files and ``delivery``."""
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"):
        shutil.copy(ROOT / name, tmp / name)
    shutil.copy(delivery, tmp / "delivery.yaml")
    return tmp


DELIVERY = sorted((CORPUS / "delivery").glob("*.yaml"))


@pytest.mark.parametrize("mode", ["--check", "--write", "--grants"])
@pytest.mark.parametrize("path", DELIVERY, ids=[p.stem for p in DELIVERY])
def test_pipeline_case(path: Path, mode: str, tmp_path: Path, capsys, monkeypatch):
    expect = header(path, "expect")
    assert expect
    code, text = expect.split(" ", 1)
    root = project(tmp_path, path)
    monkeypatch.chdir(root)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    check(*run(["pipeline", mode], capsys), int(code), text, header(path, "secret"))
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


EXPORTS = sorted((CORPUS / "exports").glob("*.json"))


@pytest.mark.parametrize("path", EXPORTS, ids=[p.stem for p in EXPORTS])
def test_policies_check_case(path: Path, capsys):
    expect = path.read_text().split('"_expect": "', 1)[1].split('"', 1)[0]
    code, text = expect.split(" ", 1)
    check(*run(["policies", "--check", str(path)], capsys), int(code), text, None)


PRICES = sorted((CORPUS / "prices").glob("*.json"))


@pytest.mark.parametrize("path", PRICES, ids=[p.stem for p in PRICES])
def test_price_table_case(path: Path, tmp_path: Path, capsys):
    check(*run(["prices", "--table", str(path)], capsys), 2, str(path), None)
    argv, outputs = plan_argv("dev", ROOT / "Pulumi.dev.yaml", tmp_path)
    check(*run([*argv, "--prices", str(path)], capsys), 2, str(path), None)
    assert not any(p.exists() for p in outputs)


@pytest.mark.parametrize(
    ("extra", "text"),
    [
        (["--json", "/nonexistent-dir/plan.json"], "directory /nonexistent-dir does not exist"),
        (["--json", "."], "is a directory"),
        (["--diff-markdown", "x.md"], "--diff-markdown needs --diff"),
        (["--diff", "/nonexistent.json"], "--diff /nonexistent.json"),
        (["--task-pod-hours", "-1"], "--task-pod-hours must be >= 0"),
    ],
)
def test_plan_arguments_checked_before_planning(extra, text, capsys, monkeypatch):
    from airflow_aks.offline import plan

    def no_plan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("planned before checking the arguments")

    monkeypatch.setattr(plan, "run", no_plan)
    check(*run(["plan", "--stack", "dev", *extra], capsys), 2, text, None)


def test_diff_base_of_another_shape(tmp_path: Path, capsys, monkeypatch):
    base = tmp_path / "base.json"
    base.write_text(json.dumps({"resources": "nope"}))
    check(*run(["plan", "--stack", "dev", "--diff", str(base)], capsys), 2, "not a plan", None)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_preflight_refuses_a_broken_stack_offline(stack: str, tmp_path: Path, capsys):
    config = tmp_path / f"Pulumi.{stack}.yaml"
    raw = deep_merge(read_stack_file(ROOT / f"Pulumi.{stack}.yaml"), {"airflow-aks:location": "x"})
    config.write_text(json.dumps({"config": raw}))
    env = dict(os.environ)
    try:
        os.environ.pop("AZURE_SUBSCRIPTION_ID", None)
        argv = [
            "preflight",
            "--stack",
            stack,
            "--config",
            str(config),
            "--caller-ip",
            "203.0.113.9",
        ]
        check(*run(argv, capsys), 2, "airflow-aks:location", None)
    finally:
        os.environ.clear()
        os.environ.update(env)


def test_corpus_covers_every_section():
    """Every top-level key of the stack model has at least one broken case."""
    from airflow_aks.config.stack import StackConfig

    sections = {f.alias or n for n, f in StackConfig.model_fields.items()}
    covered = {
        k.split(":", 1)[1].split(".")[0].split("[")[0] for c in STACK_CASES for k in [c["key"]]
    }
    assert sections - covered == set()
