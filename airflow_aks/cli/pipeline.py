"""``airflow-aks pipeline``: write or check everything derived from ``delivery.yaml``.

``--write`` regenerates the GitHub workflows and ``delivery/grants/<stack>.json`` (from each
stage's offline plan); ``--check`` proves, for every resource and invoke of every stage's
plan and for preview and deploy separately, that the checked-in grants cover what it needs
(naming each uncovered action and its resource), then exits 1 naming every file that differs.
``--grants`` prints the grants table of the README.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from airflow_aks.cli.common import EXIT_CONFIG, EXIT_FAIL, EXIT_OK, project_root
from airflow_aks.config.base import ConfigError
from airflow_aks.config.delivery import PipelineConfig, load_pipeline
from airflow_aks.delivery.grants import StackGrants, check, derive_grants, grants_markdown
from airflow_aks.delivery.permissions import describe
from airflow_aks.delivery.pipeline import (
    ApiAccess,
    bootstrap_commands,
    network_path_problem,
    render_workflows,
    stack_file_for_ci,
)


def plan_stack(root: Path, stack: str) -> dict[str, Any]:
    from airflow_aks.config.stack import read_stack_file
    from airflow_aks.offline import plan
    from airflow_aks.program import stack as program

    config = read_stack_file(root / f"Pulumi.{stack}.yaml")
    return plan.run(program.main, stack=stack, config=config).export()


def check_stages(root: Path, pipeline: PipelineConfig) -> None:
    """Each stage's ``Pulumi.<stack>.yaml`` exists and is valid (ConfigError if not)."""
    from airflow_aks.config.base import ConfigIssue
    from airflow_aks.config.stack import load, read_stack_file

    for i, stage in enumerate(pipeline.stages):
        path = root / f"Pulumi.{stage.stack}.yaml"
        if not path.is_file():
            raise ConfigError(
                [ConfigIssue(f"delivery.yaml:stages[{i}].stack", f"{path.name} does not exist")]
            )
        try:
            load(read_stack_file(path), stage.stack)
        except ConfigError as err:
            raise ConfigError(
                ConfigIssue(f"{path.name}: {issue.path}", issue.message) for issue in err.issues
            ) from None


def expected_files(
    root: Path,
    pipeline: PipelineConfig,
    plan_of: Callable[[str], Mapping[str, Any]],
) -> tuple[dict[Path, str], list[StackGrants]]:
    """Every generated file (path -> text) and the grants they were made from.

    Raises ValueError when a stage's jobs could not reach its API server."""
    if problems := network_paths(root, pipeline):
        raise ValueError("no network path to the API server:\n  " + "\n  ".join(problems))
    files = {root / p: text for p, text in render_workflows(pipeline).items()}
    for stack in pipeline.stage_names:
        path = root / f"Pulumi.{stack}.yaml"
        if path.is_file():
            files[path] = stack_file_for_ci(path.read_text())
    grants = [derive_grants(plan_of(s)) for s in pipeline.stage_names]
    for g in grants:
        path = root / "delivery" / "grants" / f"{g.stack}.json"
        files[path] = json.dumps(g.to_json(), indent=2, sort_keys=True) + "\n"
    return files, grants


def network_paths(root: Path, pipeline: PipelineConfig) -> list[str]:
    """One problem per stage whose runners cannot reach its API server."""
    from airflow_aks.config.stack import load, read_stack_file

    out: list[str] = []
    for i, stage in enumerate(pipeline.stages):
        path = root / f"Pulumi.{stage.stack}.yaml"
        if not path.is_file():
            continue
        aks = load(read_stack_file(path), stage.stack).aks
        api = ApiAccess(aks.private_cluster, tuple(aks.authorized_ip_ranges))
        if problem := network_path_problem(i, stage, api):
            out.append(problem)
    return out


def uncovered_grants(
    root: Path, pipeline: PipelineConfig, plan_of: Callable[[str], Mapping[str, Any]]
) -> list[str]:
    """One line per need the checked-in grants leave uncovered (every stage, both jobs)."""
    lines: list[str] = []
    for stack in pipeline.stage_names:
        path = root / "delivery" / "grants" / f"{stack}.json"
        if not path.is_file():
            lines.append(f"{path.relative_to(root)} is missing")
            continue
        gaps = check(plan_of(stack), json.loads(path.read_text()))
        for op, needs in gaps.items():
            lines.extend(f"{stack} {op}: not granted: {describe(n)}" for n in needs)
    return lines


def stale(files: Mapping[Path, str]) -> list[Path]:
    return [p for p, text in files.items() if not p.is_file() or p.read_text() != text]


def stage_providers(root: Path, pipeline: PipelineConfig) -> list[str]:
    """Resource providers the stages' plans need, sorted (the preflight's decision)."""
    from airflow_aks.cli.preflight import requirements

    return sorted(
        {p for s in pipeline.stage_names for p in requirements(plan_stack(root, s)).providers}
    )


def cmd_pipeline(args: argparse.Namespace) -> int:
    root = project_root()
    plans: dict[str, dict[str, Any]] = {}

    def plan_of(stack: str) -> dict[str, Any]:
        if stack not in plans:
            plans[stack] = plan_stack(root, stack)
        return plans[stack]

    try:
        pipeline = load_pipeline(root / "delivery.yaml")
        if args.bootstrap_commands:
            print("\n".join(bootstrap_commands(pipeline, stage_providers(root, pipeline))))
            return EXIT_OK
        check_stages(root, pipeline)  # every stage's stack file, before any plan
        files, grants = expected_files(root, pipeline, plan_of)
        gaps = [] if args.write or args.grants else uncovered_grants(root, pipeline, plan_of)
    except (ConfigError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_CONFIG
    if args.grants:
        print(grants_markdown(grants), end="")
        return EXIT_OK
    if args.write:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(root)}")
        return EXIT_OK
    for line in gaps:
        print(line, file=sys.stderr)
    bad = stale(files)
    for path in bad:
        print(
            f"{path.relative_to(root)} differs from delivery.yaml: "
            "run `airflow-aks pipeline --write`",
            file=sys.stderr,
        )
    if not bad:
        print(f"pipeline: {len(files)} generated files match delivery.yaml")
    if not gaps:
        print(f"pipeline: the grants cover every need of {len(plans)} stage plans")
    return EXIT_FAIL if bad or gaps else EXIT_OK


def add_parser(sub: Any) -> None:
    p = sub.add_parser("pipeline", help="generate or check the workflows and pipeline grants")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", action="store_true", help="regenerate the derived files")
    g.add_argument("--check", action="store_true", help="exit 1 if a derived file is stale")
    g.add_argument("--grants", action="store_true", help="print the grants table (Markdown)")
    g.add_argument(
        "--bootstrap-commands",
        action="store_true",
        help="print every command of the one-time bootstrap (docs/bootstrap.md)",
    )
    p.set_defaults(func=cmd_pipeline)
