"""docs/bootstrap.md shows only commands the generator prints for the shipped delivery.yaml."""

from __future__ import annotations

import re

from conftest import ROOT

from airflow_aks.cli import pipeline as pipeline_cli
from airflow_aks.config.delivery import load_pipeline
from airflow_aks.delivery.pipeline import bootstrap_commands

GUIDE = ROOT / "docs" / "bootstrap.md"
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)


def guide_commands() -> list[str]:
    text = GUIDE.read_text()
    return [
        line.strip()
        for block in BLOCK.findall(text)
        for line in block.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_every_command_of_the_guide_comes_from_the_generator() -> None:
    pipeline = load_pipeline(ROOT / "delivery.yaml")
    printed = bootstrap_commands(pipeline, pipeline_cli.stage_providers(ROOT, pipeline))
    shown = guide_commands()
    assert len(shown) >= 30
    assert [c for c in shown if c not in printed] == []
    # ... and in the generator's order, none left out.
    assert shown == printed


def test_the_guide_names_who_must_hold_what_once() -> None:
    text = GUIDE.read_text()
    for needed in ("**Owner**", "**Privileged Role Administrator**", "required reviewers"):
        assert needed in text
