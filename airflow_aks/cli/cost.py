"""CLI glue for the cost and deploy-time estimates (``plan`` flags, ``prices`` command)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from airflow_aks.estimate import cost, deploy_time


def add_plan_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("cost estimate (loaded scenario)")
    g.add_argument(
        "--task-pod-hours",
        type=float,
        default=cost.Load.task_pod_hours_per_day,
        metavar="H",
        help="task-pod hours per day on the task pool (default %(default)s)",
    )
    g.add_argument(
        "--task-pods-per-node",
        type=int,
        default=None,
        metavar="N",
        help="task pods packed per task node (default: one per vCPU)",
    )
    g.add_argument(
        "--gpu-hours",
        type=float,
        default=0.0,
        metavar="H",
        help="GPU-node hours per day (default 0)",
    )
    g.add_argument(
        "--log-gb-per-day",
        type=float,
        default=None,
        metavar="GB",
        help="Log Analytics ingestion to include (default: listed, not summed)",
    )
    g.add_argument("--prices", metavar="PATH", help="price table (default: the packaged one)")


def load_from(args: argparse.Namespace) -> cost.Load:
    for name in ("task_pod_hours", "gpu_hours", "log_gb_per_day"):
        v = getattr(args, name)
        if v is not None and v < 0:
            raise cost.PriceTableError(f"--{name.replace('_', '-')} must be >= 0, got {v}")
    if args.task_pods_per_node is not None and args.task_pods_per_node < 1:
        raise cost.PriceTableError("--task-pods-per-node must be >= 1")
    return cost.Load(
        task_pod_hours_per_day=args.task_pod_hours,
        task_pods_per_node=args.task_pods_per_node,
        gpu_hours_per_day=args.gpu_hours,
        log_gb_per_day=args.log_gb_per_day,
    )


def precheck(args: argparse.Namespace) -> None:
    """The price table and load flags, before a plan runs (PriceTableError if unusable)."""
    cost.load_table(Path(args.prices) if args.prices else None)
    load_from(args)


def attach(export: dict[str, Any], args: argparse.Namespace) -> str:
    """Add ``cost`` and ``deployTime`` to the export; return their text report.

    Raises :class:`cost.PriceTableError` for a malformed table or bad load flags; a stale
    table is a warning on stderr (and in the report), never an error.
    """
    table = cost.load_table(Path(args.prices) if args.prices else None)
    if table.stale:
        print(f"warning: {table.stale}", file=sys.stderr)
    est = cost.estimate(export, table, cost.region_of(export), load_from(args))
    cp = deploy_time.critical_path(export)
    export["cost"] = est.export()
    export["deployTime"] = cp.export()
    return (
        cost.format_estimate(est)
        + sleep_notes(export)
        + "\n\n"
        + deploy_time.format_critical_path(cp)
    )


def sleep_notes(export: dict[str, Any]) -> str:
    """What a hibernating stack's operator must know: how to wake it for a deploy, and the
    DAG schedules in ``dags/`` that fire while it sleeps (warnings, never errors)."""
    from airflow_aks.config.files import project_root
    from airflow_aks.estimate import awake

    window = awake.window_of(export)
    if window is None:
        return ""
    days, wake, sleep = window
    stack = export.get("stack", "<stack>")
    lines = [
        f"  hibernation: awake {', '.join(d[:3] for d in days)} {wake}-{sleep}; a stopped "
        f"cluster refuses `pulumi up`: run `airflow-aks wake --stack {stack}` first "
        "(and `airflow-aks sleep` after)",
    ]
    lines += [f"  warning: {w}" for w in awake.warnings(export, project_root() / "dags")]
    return "\n" + "\n".join(lines)


def refresh_query(p: cost.Price) -> str:
    """The Retail Prices API query ``prices --refresh`` runs for a row, and what it keeps."""
    from airflow_aks.estimate import retail_prices

    if not p.meter:
        return "none (no API meter: kept as sourced)"
    keep = ", ".join(
        f"{k}={p.meter[k]!r}" for k in ("productName", "skuName", "meterName") if k in p.meter
    )
    return f"$filter={retail_prices.odata_filter(p.meter, p.region)}" + (
        f"; keep {keep}" if keep else ""
    )


def cmd_prices(args: argparse.Namespace) -> int:
    from airflow_aks.estimate import retail_prices

    path = Path(args.table) if args.table else cost.DEFAULT_TABLE
    try:
        table = cost.load_table(path)
    except cost.PriceTableError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if table.stale:
        print(f"warning: {table.stale}", file=sys.stderr)
    if not args.refresh:
        for p in table.prices:
            shown = "MISSING" if p.price is None else f"{p.price:g}/{p.unit}"
            print(f"{p.region:<11} {p.key:<42} {shown:<18} seen {p.seen}  {p.source[:60]}")
            # What --refresh asks the Retail Prices API for this row.
            print(f"{'':11} refresh: {refresh_query(p)}")
        return 0
    try:
        new, outcomes = retail_prices.refresh(table)
    except OSError as err:
        print(f"error: the Retail Prices API is not reachable ({err})", file=sys.stderr)
        return 1
    for o in outcomes:
        print(f"{o.status:<10} {o.region:<11} {o.key}: {o.detail}")
    out = Path(args.output) if args.output else path
    out.write_text(json.dumps(new.to_json(), indent=2, sort_keys=False) + "\n")
    print(f"\nPrice table written to {out}")
    failed = [o for o in outcomes if o.status in ("not-found", "ambiguous")]
    return 1 if failed else 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("prices", help="show the price table, or --refresh it from the API")
    p.add_argument(
        "--refresh",
        action="store_true",
        help="re-read every metered price from https://prices.azure.com (online)",
    )
    p.add_argument("--table", metavar="PATH", help="price table (default: the packaged one)")
    p.add_argument("--output", metavar="PATH", help="where --refresh writes (default: --table)")
    p.set_defaults(func=cmd_prices)
