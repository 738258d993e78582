"""DAG schedules against the awake window (pure, table-tested)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_aks.estimate import awake

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


@pytest.mark.parametrize(
    ("cron", "outside"),
    [
        ("0 9 * * 1-5", []),  # 09:00 on working days: awake
        ("30 18 * * 1-5", []),
        ("0 19 * * 1-5", ["Mon 19:00", "Tue 19:00", "Wed 19:00", "Thu 19:00", "Fri 19:00"]),
        (
            "0 2 * * *",
            [
                "Mon 02:00",
                "Tue 02:00",
                "Wed 02:00",
                "Thu 02:00",
                "Fri 02:00",
                "Sat 02:00",
                "Sun 02:00",
            ],
        ),
        ("0 12 * * 0,6", ["Sat 12:00", "Sun 12:00"]),
        ("0 12 * * 7", ["Sun 12:00"]),
        (
            "@daily",
            [
                "Mon 00:00",
                "Tue 00:00",
                "Wed 00:00",
                "Thu 00:00",
                "Fri 00:00",
                "Sat 00:00",
                "Sun 00:00",
            ],
        ),
        ("*/30 7-8 * * 1", []),
    ],
)
def test_outside_window(cron: str, outside: list[str]) -> None:
    assert awake.outside_window(cron, WEEKDAYS, "07:00", "19:00") == outside


def test_hourly_has_sleeping_firings() -> None:
    bad = awake.outside_window("@hourly", WEEKDAYS, "07:00", "19:00")
    assert len(bad) == 7 * 24 - 5 * 12


def test_not_a_cron() -> None:
    with pytest.raises(ValueError, match="5-field"):
        awake.firings("every day")


def test_warnings_name_the_dag(tmp_path: Path, dev_plan: dict[str, Any]) -> None:
    (tmp_path / "nightly.py").write_text(
        'from airflow.sdk import DAG\nDAG(dag_id="nightly", schedule="0 2 * * *")\n'
        'DAG(dag_id="office", schedule="0 9 * * 1-5")\nDAG(dag_id="manual", schedule=None)\n'
    )
    lines = awake.warnings(dev_plan, tmp_path)
    assert (
        len(lines) == 1
        and "DAG nightly" in lines[0]
        and "Mon 02:00" in lines[0]
        and "(+4 more)" in lines[0]
    )
    assert awake.window_of(dev_plan) == (WEEKDAYS, "07:00", "19:00")


def test_shipped_dags_all_fit_the_window(dev_plan: dict[str, Any]) -> None:
    from tests.conftest import ROOT

    assert awake.warnings(dev_plan, ROOT / "dags") == []


def test_no_schedule_no_warnings(prod_plan: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "n.py").write_text('DAG(dag_id="n", schedule="0 2 * * *")\n')
    assert awake.warnings(prod_plan, tmp_path) == []
