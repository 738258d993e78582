"""The weakening table (tests/weakenings.py) against the real plans: every row must make
the policy pack fail with the named mandatory rule on dev, prod and the Kuma example, and
docs/policies.md shows the measured figure per area.

The three plans are computed once per session (tests/conftest.py ``plan_export``); each row
works on a deep copy and is evaluated in-process with the evaluator ``airflow-aks policies
--check`` runs (``rules.evaluate``, same exceptions file and levels), restricted to the row's
rule; one row per area also goes through the real command on a saved file. Regenerate the
docs/policies.md block with ``AIRFLOW_AKS_UPDATE_DOCS=1 pytest tests/test_policy_weakenings.py``.
"""

from __future__ import annotations

import copy
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import KUMA_EXAMPLE, ROOT, plan_export
from weakenings import ALL, TODAY, WEAKENINGS, W, find

from airflow_aks.cli import main as cli
from airflow_aks.offline import policy_report
from airflow_aks.policies.rules import ALL_RULES, MANDATORY, RULES_BY_NAME, evaluate

DOC_START = "<!-- weakenings:start -->"
DOC_END = "<!-- weakenings:end -->"


def plan_of(stack: str) -> dict[str, Any]:
    if stack == "kuma":
        return plan_export("dev", str(KUMA_EXAMPLE))
    return plan_export(stack)


@dataclass(frozen=True)
class Outcome:
    row: W
    stack: str
    caught: bool
    changed: bool
    detail: str


def weaken(row: W, stack: str) -> tuple[dict[str, Any], str | None]:
    export = copy.deepcopy(plan_of(stack))
    export.pop("policy", None)
    return export, row.edit(export)


def run_row(row: W, stack: str) -> Outcome:
    """Evaluate the row's rule the way ``policies --check`` does (same ``evaluate``, same
    exceptions file, same levels). Only the named rule runs: a non-excepted mandatory
    violation of it is exactly what makes the full pack exit 1 naming it (more rules can
    only add violations), and it keeps 280-odd evaluations to a few seconds."""
    export, urn = weaken(row, stack)
    excs = None if row.exceptions is None else list(row.exceptions)
    results = evaluate(
        export["resources"],
        str(export["stack"]),
        excs,
        today=TODAY,
        rules=(RULES_BY_NAME[row.rule],),
    )
    hits = [
        v
        for v in results.open
        if v.level == MANDATORY and (row.anywhere or urn is None or v.urn == urn)
    ]
    found = [f"{v.urn}: {v.message}" for v in results.open]
    detail = f"expected {row.rule} on {urn or 'any URN'}; it reported {found}"
    changed = row.exceptions is not None or export != plan_of(stack)
    return Outcome(row, stack, bool(hits) and not results.ok, changed, detail)


@pytest.fixture(scope="session")
def outcomes() -> dict[tuple[str, str], Outcome]:
    return {(row.id, s): run_row(row, s) for row in WEAKENINGS for s in row.stacks}


CASES = [(row, s) for row in WEAKENINGS for s in row.stacks]


def test_table_is_well_formed() -> None:
    ids = [row.id for row in WEAKENINGS]
    assert len(ids) == len(set(ids)), "two rows with the same rule and description"
    for row in WEAKENINGS:
        assert row.rule in RULES_BY_NAME, f"{row.id}: unknown rule"
        assert RULES_BY_NAME[row.rule].level == MANDATORY, f"{row.id}: not a mandatory rule"
        assert row.stacks and set(row.stacks) <= set(ALL), row.id


def test_every_mandatory_rule_has_a_row() -> None:
    """The table is the pack's specification: a mandatory rule without a weakening row is a
    rule nobody showed to stop anything. Add a one-line ``W(...)`` to tests/weakenings.py."""
    covered = {row.rule for row in WEAKENINGS}
    missing = [r.name for r in ALL_RULES if r.level == MANDATORY and r.name not in covered]
    assert missing == [], f"mandatory rules without a weakening row: {missing}"


@pytest.mark.parametrize("stack", ALL)
def test_unweakened_plans_pass_every_mandatory_rule(stack: str) -> None:
    results = policy_report.evaluate_plan(plan_of(stack), today=TODAY)
    failing = [f"{v.rule} {v.urn}: {v.message}" for v in results.open if v.level == MANDATORY]
    assert failing == [], "\n".join(failing)


@pytest.mark.parametrize(("row", "stack"), CASES, ids=[f"{r.id}@{s}" for r, s in CASES])
def test_weakening_is_caught(row: W, stack: str, outcomes: dict[tuple[str, str], Outcome]) -> None:
    outcome = outcomes[(row.id, stack)]
    assert outcome.caught, f"{row.what} on {stack} not caught: {outcome.detail}"


def test_weakenings_change_the_plan(outcomes: dict[tuple[str, str], Outcome]) -> None:
    """Each edit touches the plan (a no-op row could not show the rule stops anything);
    the expired-exception row weakens the exceptions file instead."""
    unchanged = [f"{k[0]}@{k[1]}" for k, o in outcomes.items() if not o.changed]
    assert unchanged == []


def test_cli_check_exits_1_naming_the_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real command on saved files, one row per area (the rest run in-process)."""
    first: dict[str, W] = {}
    for row in WEAKENINGS:
        if row.exceptions is None:
            first.setdefault(RULES_BY_NAME[row.rule].area, row)
    for area, row in first.items():
        export, _ = weaken(row, row.stacks[0])
        path = tmp_path / f"{area}.json"
        path.write_text(json.dumps(export))
        code = cli.main(["policies", "--check", str(path), "--today", TODAY.isoformat()])
        out = capsys.readouterr().out
        assert code == 1, f"{row.id}: exit {code}"
        assert any(row.rule in line and "MANDATORY" in line for line in out.splitlines()), out


def test_find_refuses_ambiguous_selectors() -> None:
    with pytest.raises(LookupError, match="ServiceAccount"):
        find(plan_of("dev"), "core/v1:ServiceAccount")


# ------------------------------------------------------------------ docs/policies.md figure


def figure(outcomes: dict[tuple[str, str], Outcome]) -> str:
    """The docs/policies.md block: weakenings caught / tried per area and per plan."""
    stacks = list(ALL)
    tried: Counter[tuple[str, str]] = Counter()
    caught: Counter[tuple[str, str]] = Counter()
    rows: Counter[str] = Counter()
    for row in WEAKENINGS:
        rows[RULES_BY_NAME[row.rule].area] += 1
    for (_, stack), o in outcomes.items():
        area = RULES_BY_NAME[o.row.rule].area
        tried[(area, stack)] += 1
        caught[(area, stack)] += o.caught

    def cell(area: str | None, stack: str | None) -> tuple[int, int]:
        keys = [
            k for k in tried if (area is None or k[0] == area) and (stack is None or k[1] == stack)
        ]
        return sum(caught[k] for k in keys), sum(tried[k] for k in keys)

    def fmt(n: tuple[int, int]) -> str:
        return f"{n[0]}/{n[1]}" if n[1] else "-"

    labels = {"dev": "dev (Linkerd)", "prod": "prod (Linkerd, HA)", "kuma": "Kuma example"}
    lines = [
        DOC_START,
        f"{len(WEAKENINGS)} weakenings (`tests/weakenings.py`, one property flipped, widened or "
        "removed per row), each applied to the plans it fits; caught = `airflow-aks policies "
        "--check` exits 1 with a mandatory violation of the row's rule on the weakened "
        "resource. Measured by `tests/test_policy_weakenings.py`.",
        "",
        "| area | rows | caught / tried | " + " | ".join(labels[s] for s in stacks) + " |",
        "|---|---|---|" + "---|" * len(stacks),
    ]
    for area in sorted(rows):
        per = " | ".join(fmt(cell(area, s)) for s in stacks)
        lines.append(f"| {area} | {rows[area]} | {fmt(cell(area, None))} | {per} |")
    total = " | ".join(fmt(cell(None, s)) for s in stacks)
    lines.append(f"| **all** | {len(WEAKENINGS)} | {fmt(cell(None, None))} | {total} |")
    lines.append(DOC_END)
    return "\n".join(lines)


def test_docs_show_the_measured_figure(outcomes: dict[tuple[str, str], Outcome]) -> None:
    doc = ROOT / "docs" / "policies.md"
    text = doc.read_text()
    start, end = text.find(DOC_START), text.find(DOC_END)
    assert 0 <= start < end, f"docs/policies.md lacks {DOC_START} / {DOC_END}"
    current = text[start : end + len(DOC_END)]
    expected = figure(outcomes)
    if current != expected and os.environ.get("AIRFLOW_AKS_UPDATE_DOCS") == "1":
        doc.write_text(text.replace(current, expected))
        current = expected
    assert current == expected, (
        "docs/policies.md weakening figure is stale: run "
        "`AIRFLOW_AKS_UPDATE_DOCS=1 .venv/bin/python -m pytest tests/test_policy_weakenings.py`"
    )
