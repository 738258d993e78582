"""``airflow-aks``: the offline plan and the policy pack, with no cloud and no Pulumi CLI.

Exit codes: 0 ok, 1 a mandatory policy violation or a program error, 2 invalid
configuration or usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from airflow_aks.cli.common import (
    EXIT_CONFIG,
    EXIT_FAIL,
    EXIT_OK,
    load_stack,
    project_root,
    stack_file,
)
from airflow_aks.config.base import ConfigError

__all__ = ["EXIT_CONFIG", "EXIT_FAIL", "EXIT_OK", "main", "project_root", "stack_file"]


def post_create_steps(export: dict[str, Any]) -> list[str]:
    """The ManagedCluster's ``airflow-aks-post-create`` tag (``components/aks.py``): what
    the SDK's API version cannot set, run once when the cluster exists."""
    from airflow_aks.components.aks import POST_CREATE_TAG

    return [
        str((r["inputs"].get("tags") or {})[POST_CREATE_TAG])
        for r in export["resources"]
        if r["type"] == "azure-native:containerservice:ManagedCluster"
        and POST_CREATE_TAG in (r["inputs"].get("tags") or {})
    ]


def summarize(export: dict[str, Any]) -> str:
    """Human summary: resources by type, then stack outputs."""
    resources = export["resources"]
    lines = [f"Offline plan of stack '{export['stack']}' ({export['project']}): "]
    custom = [r for r in resources if r["custom"]]
    n_components = len(resources) - len(custom)
    lines[0] += f"{len(resources)} resources ({len(custom)} custom, {n_components} components)"
    counts = Counter(r["type"] for r in resources)
    width = max((len(t) for t in counts), default=0)
    lines.append("")
    lines.append("Resources by type:")
    for typ, n in sorted(counts.items()):
        lines.append(f"  {typ:<{width}}  {n:>3}")
    protected = [r["urn"] for r in resources if r["protect"]]
    if protected:
        lines.append("")
        lines.append(f"Protected from deletion ({len(protected)}):")
        lines.extend(
            f"  {u.rsplit('::', 1)[-1]} ({u.split('::')[2].rsplit('$', 1)[-1]})" for u in protected
        )
    steps = post_create_steps(export)
    if steps:
        lines.append("")
        lines.append(
            "Run once after the cluster exists, before the objects that need it (first "
            "deploy: `pulumi up` stops at them; run this, then `pulumi up` again):"
        )
        lines.extend(f"  {step}" for step in steps)
    lines.append("")
    lines.append("Stack outputs:")
    for key, value in export["outputs"].items():
        shown = value if isinstance(value, str) else json.dumps(value)
        lines.append(f"  {key}: {shown}")
    lines.append("")
    lines.append("[unknown] = computed by Azure at deploy time; [secret] = never shown.")
    return "\n".join(lines)


def cmd_plan(args: argparse.Namespace) -> int:
    from airflow_aks.offline import plan
    from airflow_aks.program import stack as program

    if getattr(args, "tune_gc", False):
        plan.freeze_import_heap()

    # Everything a plan will write or read besides the stack, checked before planning.
    if problem := output_path_problems(args) or diff_base_problem(args):
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    from airflow_aks.cli import cost as cost_cli

    try:
        cost_cli.precheck(args)
    except cost_cli.cost.PriceTableError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_CONFIG
    loaded = load_stack(args.stack, args.config)  # validate before anything registers
    if loaded is None:
        return EXIT_CONFIG
    path, raw, cfg = loaded
    try:
        result = plan.run(program.main, stack=args.stack, config=raw)
    except ConfigError as err:  # a config mistake only the program could see
        print(f"error: {path}: {err}", file=sys.stderr)
        return EXIT_CONFIG
    except Exception as exc:  # the program's own error, shown without the engine's stack
        print(f"error: the program failed under the mock engine: {exc}", file=sys.stderr)
        return EXIT_FAIL
    export = result.export()
    from airflow_aks.offline import (
        render,  # rendered chart objects join the export first, so the pack sees them
    )

    render_options = render.options_from_args(args)
    charts = render.attach(export, render_options)
    from airflow_aks.offline import policy_report  # the policy pack over the same plan

    try:
        # Production-only rules follow the stack's profile, as the program does.
        policy = policy_report.attach(export, production=cfg.production)
    except policy_report.PolicyInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_CONFIG
    try:  # cost and first-deploy time
        estimates = cost_cli.attach(export, args)
    except cost_cli.cost.PriceTableError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_CONFIG
    print(summarize(export))
    print()
    print(render.format_report(charts))
    # Asked to render (--render / --pull) and a chart was not: the pack never saw its objects.
    unrendered = [r.chart for r in charts.unrendered] if render_options.required else []
    if unrendered:
        print(
            f"error: rendering was requested but {len(unrendered)} chart(s) were not rendered: "
            + ", ".join(unrendered)
            + (f" ({charts.unrendered[0].reason})" if charts.unrendered[0].reason else ""),
            file=sys.stderr,
        )
    print()
    print(policy_report.format_results(policy))
    print()
    print(estimates)
    if args.json:
        Path(args.json).write_text(json.dumps(export, indent=2, sort_keys=True) + "\n")
        print(f"\nPlan written to {args.json}")
    if args.diff and (code := print_diff(args.diff, export, args.diff_markdown)) != EXIT_OK:
        return code
    return EXIT_OK if policy.ok and not charts.failed and not unrendered else EXIT_FAIL


def output_path_problems(args: argparse.Namespace) -> str | None:
    """An output path of ``plan`` that cannot be written (before the plan runs)."""
    for flag, value in (("--json", args.json), ("--diff-markdown", args.diff_markdown)):
        if not value:
            continue
        p = Path(value)
        if p.is_dir():
            return f"{flag} {value}: is a directory; give a file path"
        if not p.parent.is_dir():
            return f"{flag} {value}: directory {p.parent} does not exist"
    if args.diff_markdown and not args.diff:
        return "--diff-markdown needs --diff BASE.json"
    return None


def diff_base_problem(args: argparse.Namespace) -> str | None:
    """``--diff BASE.json`` that is not a readable plan export."""
    if not args.diff:
        return None
    try:
        base = json.loads(Path(args.diff).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:  # JSONDecodeError: ValueError
        return f"--diff {args.diff}: {err}"
    if not isinstance(base, dict) or not isinstance(base.get("resources"), list):
        return f"--diff {args.diff}: not a plan export (no 'resources' list)"
    return None


def print_diff(base_path: str, export: dict[str, Any], markdown_path: str | None) -> int:
    """``plan --diff BASE.json``: the change against a saved base plan, as Markdown."""
    from airflow_aks.offline import diff as plan_diff

    try:
        base = json.loads(Path(base_path).read_text())
        change = plan_diff.diff(base, export)
        text = plan_diff.markdown(change, export["stack"])
    except (OSError, ValueError, AttributeError, TypeError, KeyError) as err:
        # JSONDecodeError is a ValueError; a base of another shape fails inside the diff.
        print(f"error: --diff {base_path}: not a plan export ({err})", file=sys.stderr)
        return EXIT_CONFIG
    print()
    print(text, end="")
    if markdown_path:
        Path(markdown_path).write_text(text)
    if change.blocked:
        print(
            f"error: the change replaces or deletes {len(change.blocked)} protected "
            "resource(s): " + ", ".join(change.blocked),
            file=sys.stderr,
        )
        return EXIT_FAIL
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="airflow-aks", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    pl = sub.add_parser("plan", help="run the stack under Pulumi's mock engine (offline)")
    pl.add_argument("--stack", required=True, help="stack name, e.g. dev or prod")
    pl.add_argument("--config", help="stack file to plan (default: Pulumi.<stack>.yaml)")
    pl.add_argument("--json", metavar="PATH", help="write the plan export here")
    pl.add_argument(
        "--diff", metavar="BASE.json", help="compare with a saved plan export (Markdown)"
    )
    pl.add_argument("--diff-markdown", metavar="PATH", help="also write the diff here")
    from airflow_aks.offline import render

    render.add_arguments(pl)
    pl.set_defaults(func=cmd_plan)
    from airflow_aks.cli import cost as cost_cli
    from airflow_aks.offline import policy_report

    cost_cli.add_plan_arguments(pl)
    policy_report.add_parser(sub)
    cost_cli.add_parser(sub)
    from airflow_aks.cli import hibernate, preflight
    from airflow_aks.cli import pipeline as pipeline_cli

    pipeline_cli.add_parser(sub)
    preflight.add_parser(sub).set_defaults(func=preflight.command)
    hibernate.add_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except ConfigError as err:  # from any command: a configuration mistake
        print(f"error: {err}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return EXIT_FAIL
    except Exception as exc:  # last resort: a message, never a traceback
        print(
            f"error: airflow-aks failed unexpectedly ({type(exc).__name__}: {exc}); "
            "please report it with the command line",
            file=sys.stderr,
        )
        return EXIT_FAIL


def _main(argv: list[str] | None) -> int:
    args = parser().parse_args(argv)
    args.tune_gc = argv is None and args.command == "plan"  # a process of its own
    if args.tune_gc:
        # The SDK imports allocate ~1M long-lived objects: collecting cycles among them
        # finds nothing. Pause the collector until they are loaded and frozen (cmd_plan).
        import gc

        gc.disable()
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
