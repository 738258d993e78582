"""Wall time of `airflow-aks plan` per stack beside the import floor, medians of cold runs.

Each run is a fresh process (as `make plan` is). The **import floor** is a process that
imports what the plan imports (the CLI, the plan engine, the program and its components)
and then touches every SDK class the stacks register (`pulumi_azure_native.<mod>.<Type>`,
`pulumi_kubernetes...`, `pulumi_azuread...`), which loads the SDK modules a plan needs:
no plan can be faster than that. Runs are interleaved (floor, dev, prod, floor, ...) so a
busy machine slows all three alike. Wall time and CPU time (user + system of the child) are
both reported: on a shared machine CPU time is the steadier figure. Quote medians, with the
load average printed.

    .venv/bin/python benchmarks/plan_time.py [--runs 7] [--stacks dev prod]
    .venv/bin/python benchmarks/plan_time.py --floor TYPES.json   # the floor process itself
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "azure-native": "pulumi_azure_native",
    "kubernetes": "pulumi_kubernetes",
    "azuread": "pulumi_azuread",
    "random": "pulumi_random",
    "tls": "pulumi_tls",
}


def sdk_class(token: str) -> tuple[str, str] | None:
    """A registered type token -> (module, class) of the SDK class that registers it."""
    pkg, _, rest = token.partition(":")
    if token.startswith("pulumi:providers:"):
        name = token.rsplit(":", 1)[-1]
        return (PACKAGES[name], "Provider") if name in PACKAGES else None
    if pkg not in PACKAGES:
        return None
    mod, _, cls = rest.partition(":")
    base = PACKAGES[pkg]
    if pkg == "kubernetes":
        group, _, version = mod.partition("/")
        group = {"helm.sh": "helm", "core": "core"}.get(group, group)
        if "." in group:  # a CRD kind: registered through CustomResource
            return f"{base}.apiextensions", "CustomResource"
        return f"{base}.{group}.{version}", cls
    if mod.startswith("index"):
        return base, cls
    return f"{base}.{mod}", cls


def floor(types_file: str) -> None:
    import airflow_aks.cli.cost
    import airflow_aks.cli.main
    import airflow_aks.offline.plan
    import airflow_aks.program.stack  # noqa: F401  (the imports a plan does)

    for token in json.loads(Path(types_file).read_text()):
        target = sdk_class(token)
        if target:
            getattr(importlib.import_module(target[0]), target[1])


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds user+system) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):  # 1 = policy violations: still a complete plan
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--stacks", nargs="+", default=["dev", "prod"])
    ap.add_argument("--floor", metavar="TYPES_JSON", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.floor:
        floor(args.floor)
        return
    py = sys.executable
    types: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        for stack in args.stacks:  # also the warm-up: bytecode written, files cached
            out = Path(tmp) / f"{stack}.json"
            timed([py, "-m", "airflow_aks.cli.main", "plan", "--stack", stack, "--json", str(out)])
            types |= {r["type"] for r in json.loads(out.read_text())["resources"]}
        types_file = Path(tmp) / "types.json"
        types_file.write_text(json.dumps(sorted(types)))
        cases = {"import floor": [py, __file__, "--floor", str(types_file)]}
        for stack in args.stacks:
            cases[f"plan --stack {stack}"] = [
                py,
                "-m",
                "airflow_aks.cli.main",
                "plan",
                "--stack",
                stack,
            ]
        wall: dict[str, list[float]] = {k: [] for k in cases}
        cpu: dict[str, list[float]] = {k: [] for k in cases}
        load_before = os.getloadavg()
        for _ in range(args.runs):
            for name, cmd in cases.items():
                w, c = timed(cmd)
                wall[name].append(w)
                cpu[name].append(c)
        load_after = os.getloadavg()
    floor_wall = statistics.median(wall["import floor"])
    floor_cpu = statistics.median(cpu["import floor"])
    print(
        f"{datetime.date.today()} | Python {platform.python_version()} | "
        f"{os.cpu_count()} CPUs | load average {load_before[0]:.1f} -> {load_after[0]:.1f} | "
        f"{args.runs} interleaved runs each | PYTHONDONTWRITEBYTECODE="
        f"{os.environ.get('PYTHONDONTWRITEBYTECODE', '(unset)')}"
    )
    print()
    print("| what | wall median s | wall min-max s | x floor | CPU median s | CPU x floor |")
    print("|---|---|---|---|---|---|")
    for name in cases:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        print(
            f"| {name} | {w:.2f} | {min(wall[name]):.2f}-{max(wall[name]):.2f} "
            f"| {w / floor_wall:.2f} | {c:.2f} | {c / floor_cpu:.2f} |"
        )


if __name__ == "__main__":
    main()
