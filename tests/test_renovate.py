"""Renovate keeps the pins fresh: its config parses and its patterns find every pin."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import ROOT

from airflow_aks.delivery import pipeline as delivery

CONFIG = json.loads((ROOT / "renovate.json").read_text())


def _managers() -> list[dict]:
    return CONFIG["customManagers"]


def _python_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern.replace("(?<", "(?P<"))  # RE2 named groups -> Python


def _files(manager: dict) -> list[Path]:
    patterns = [re.compile(p.strip("/")) for p in manager["managerFilePatterns"]]
    return [
        p
        for p in ROOT.rglob("*")
        if p.is_file()
        and ".venv" not in p.parts
        and any(rx.search(str(p.relative_to(ROOT))) for rx in patterns)
    ]


def test_every_renovate_annotation_is_matched() -> None:
    (annotated,) = [m for m in _managers() if "renovate:" in m["matchStrings"][0]]
    rx = _python_regex(annotated["matchStrings"][0])
    files = _files(annotated)
    comments = sum(p.read_text().count("# renovate: datasource=") for p in files)
    found = [m.groupdict() for p in files for m in rx.finditer(p.read_text())]
    assert comments >= 2 and len(found) == comments, (comments, found)
    assert {f["depName"] for f in found} >= {"airflow", "apache/airflow"}


def test_workflow_action_pins_are_matched() -> None:
    (actions,) = [m for m in _managers() if m.get("datasourceTemplate") == "github-tags"]
    rx = _python_regex(actions["matchStrings"][0])
    text = (ROOT / "airflow_aks" / "delivery" / "pipeline.py").read_text()
    found = {m["depName"]: m["currentValue"] for m in rx.finditer(text)}
    assert found == {repo: ref.split(" # ")[1] for repo, ref in delivery.ACTIONS.values()}


def test_uv_pin_is_matched() -> None:
    (uv,) = [m for m in _managers() if m.get("depNameTemplate") == "uv"]
    text = (ROOT / "Makefile").read_text()
    assert _python_regex(uv["matchStrings"][0]).search(text)


def test_lock_files_are_managed() -> None:
    patterns = CONFIG["pip_requirements"]["managerFilePatterns"]
    for path in ("requirements.lock", "policies/requirements.txt"):
        assert any(re.search(p.strip("/"), path) for p in patterns), path
