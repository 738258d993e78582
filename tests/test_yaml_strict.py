"""The strict YAML reader of stack files, delivery.yaml and price tables."""

from __future__ import annotations

import json

import pytest

from airflow_aks.config.base import ConfigError
from airflow_aks.config.yamlfile import MAX_DEPTH, parse_yaml, read_json, read_yaml
from airflow_aks.estimate import cost
from tests.conftest import ROOT


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_yaml(text, "f.yaml")
    return [str(i) for i in err.value.issues]


def test_repeated_key_names_both_lines():
    text = "config:\n  airflow-aks:aks:\n    tier: Free\n    tier: Standard\n"
    assert problems(text) == [
        "f.yaml:4 (config.airflow-aks:aks.tier): key 'tier' appears twice (lines 3 and 4); "
        "YAML would keep only the last: remove one"
    ]


def test_repeated_repository_in_delivery_yaml(tmp_path):
    from airflow_aks.config.delivery import load_pipeline

    text = (ROOT / "delivery.yaml").read_text()
    path = tmp_path / "delivery.yaml"
    path.write_text(text + "repository: attacker/fork\n")
    with pytest.raises(ConfigError, match="key 'repository' appears twice"):
        load_pipeline(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("startTime: 10:30", "read as the base-60 number 630: quote it ('10:30')"),
        ("kubernetesVersion: 1.30", "read as the number 1.3: quote it ('1.30')"),
        ("secretsIssuedOn: 2026-11-23", "read as a date/time, not text: quote it"),
        ("enabled: on", "read as the boolean True: write true or false, or quote it ('on')"),
        ("enabled: no", "read as the boolean False"),
        ("mode: 0755", "read as the octal number 493"),
    ],
)
def test_yaml_11_surprises_say_quote_it(text, expected):
    (problem,) = problems(text)
    assert expected in problem and problem.startswith("f.yaml:1 (")


@pytest.mark.parametrize(
    "text",
    [
        "a: '10:30'\nb: \"1.30\"\nc: '2026-11-23'\nd: 'on'\n",
        "a: true\nb: false\nc: 1.5\nd: 0.25\ne: 42\nf: -1\ng: null\nh: ~\n",
        "base: &b {x: 1}\nother:\n  <<: *b\n  x: 2\n",
    ],
)
def test_plain_values_pass(text):
    assert parse_yaml(text, "f.yaml")


def test_aliases_are_bounded():
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        laughs += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]\n"
    assert len(laughs) < 1200
    (problem,) = problems(laughs)
    assert "through aliases (at most 200000)" in problem


def test_depth_is_bounded_without_recursion_error():
    deep = "".join("  " * i + f"k{i}:\n" for i in range(800)) + "  " * 800 + "leaf\n"
    (problem,) = problems(deep)
    assert f"nested deeper than {MAX_DEPTH} levels" in problem


def test_not_utf8_is_refused_clearly(tmp_path):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_bytes(b"config:\n  airflow-aks:location: westeurope\n  # caf\xe9\n")
    with pytest.raises(ConfigError) as err:
        read_yaml(path)
    assert str(err.value.issues[0]) == (
        f"{path}:3: not UTF-8 text (byte 0xe9 at offset 50): save the file as UTF-8"
    )


def test_invalid_yaml_names_the_line():
    (problem,) = problems("a: [1, 2\nb: 3\n")
    assert problem.startswith("f.yaml:2: not valid YAML:")


def test_price_table_with_a_repeated_key_is_refused(tmp_path):
    text = (cost.DEFAULT_TABLE).read_text()
    data = json.loads(text)
    path = tmp_path / "prices.json"
    key = next(iter(data))
    path.write_text("{" + json.dumps(key) + ": " + json.dumps(data[key]) + ", " + text.strip()[1:])
    with pytest.raises(ConfigError, match=f"key '{key}' appears twice"):
        read_json(path)
    with pytest.raises(cost.PriceTableError, match="appears twice"):
        cost.load_table(path)


def test_shipped_files_read_strictly():
    for name in ("Pulumi.dev.yaml", "Pulumi.prod.yaml", "delivery.yaml", "Pulumi.yaml"):
        assert read_yaml(ROOT / name)
    assert read_yaml(ROOT / "examples" / "Pulumi.dev-kuma.yaml")
