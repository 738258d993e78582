"""DAG schedules against the hibernation window: runs due while the environment sleeps.

A DAG whose cron fires outside the awake window has no scheduler to run it then. When the
scheduler is back it creates every missed run only if the DAG has ``catchup`` on; Airflow 3
defaults it off (apache/airflow PR #47354, "Defaults to False", read 2026-12-07), and then
only the latest missed interval runs. ``plan`` warns about each such schedule found in
``dags/`` (read statically: the files are not imported).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

WEEK = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PRESETS = {  # Airflow's cron presets (airflow.utils.dates / timetables), as cron
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


def _field(text: str, lo: int, hi: int) -> set[int]:
    """Values of one cron field (``*``, lists, ranges, steps), pure."""
    out: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if body == "*":
            start, end = lo, hi
        elif "-" in body:
            a, b = body.split("-", 1)
            start, end = int(a), int(b)
        else:
            start = end = int(body)
            if step_text:
                end = hi
        out.update(range(start, end + 1, step))
    return {v for v in out if lo <= v <= hi}


def firings(cron: str) -> set[tuple[str, int, int]]:
    """(weekday, hour, minute) a cron expression fires at in a week (day-of-month and month
    fields ignored: a run on any day of the week counts), pure. Raises ValueError."""
    expr = PRESETS.get(cron.strip(), cron.strip())
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"{cron!r} is not a 5-field cron expression")
    minutes, hours = _field(fields[0], 0, 59), _field(fields[1], 0, 23)
    # cron weekdays: 0 and 7 are Sunday
    dows = {d % 7 for d in _field(fields[4], 0, 7)}
    days = [WEEK[(d - 1) % 7] for d in sorted(dows)]
    return {(d, h, m) for d in days for h in hours for m in minutes}


def outside_window(cron: str, days: Sequence[str], wake: str, sleep: str) -> list[str]:
    """The weekly firings of ``cron`` that fall while the environment sleeps (pure)."""
    start = int(wake[:2]) * 60 + int(wake[3:])
    end = int(sleep[:2]) * 60 + int(sleep[3:])
    bad = sorted(
        (WEEK.index(d), h, m)
        for d, h, m in firings(cron)
        if d not in days or not start <= h * 60 + m < end
    )
    return [f"{WEEK[d][:3]} {h:02d}:{m:02d}" for d, h, m in bad]


def dag_schedules(files: Iterable[Path]) -> list[tuple[str, str, str]]:
    """(file, dag id or '?', schedule) of every literal ``schedule=`` string (static)."""
    out: list[tuple[str, str, str]] = []
    for path in sorted(files):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            kw = {k.arg: k.value for k in node.keywords if k.arg}
            sched = kw.get("schedule")
            if isinstance(sched, ast.Constant) and isinstance(sched.value, str):
                dag = kw.get("dag_id")
                name = dag.value if isinstance(dag, ast.Constant) else "?"
                out.append((path.name, str(name), sched.value))
    return out


def window_of(export: Mapping[str, Any]) -> tuple[list[str], str, str] | None:
    """(awake days, wake, sleep) from the plan's wake/sleep workflows; None without them."""
    import json

    wake = sleep = None
    for r in export["resources"]:
        if r["type"] != "azure-native:logic:Workflow":
            continue
        definition = r["inputs"].get("definition") or {}
        for trig in (definition.get("triggers") or {}).values():
            rec = (trig or {}).get("recurrence") or {}
            sched = rec.get("schedule") or {}
            if not sched.get("hours"):
                continue
            at = f"{sched['hours'][0]:02d}:{(sched.get('minutes') or [0])[0]:02d}"
            actions = json.dumps(definition.get("actions") or {})
            if "/start?" in actions:
                wake = (list(sched.get("weekDays") or []), at)
            elif "/stop?" in actions:
                sleep = at
    if wake is None or sleep is None:
        return None
    return wake[0], wake[1], sleep


def warnings(export: Mapping[str, Any], dags_dir: Path) -> list[str]:
    """One line per DAG schedule that fires while the plan's environment sleeps."""
    window = window_of(export)
    if window is None or not dags_dir.is_dir():
        return []
    days, wake, sleep = window
    out = []
    for file, dag, cron in dag_schedules(dags_dir.glob("*.py")):
        try:
            bad = outside_window(cron, days, wake, sleep)
        except ValueError:
            continue  # timetables and datasets: not a cron the window can be checked against
        if bad:
            shown = ", ".join(bad[:3]) + (f" (+{len(bad) - 3} more)" if len(bad) > 3 else "")
            out.append(
                f"{file}: DAG {dag} schedule {cron!r} fires while the environment sleeps "
                f"({shown}); they wait for the next wake (without catchup only the latest runs)"
            )
    return out
