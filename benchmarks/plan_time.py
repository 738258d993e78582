"""Wall time of `airflow-aks plan` per stack: median of several cold runs.

Each run is a fresh process (as `make plan` is), so import time is included. The machine
is shared and noisy: quote the median, not the best run.

    .venv/bin/python benchmarks/plan_time.py [--runs 5] [--stacks dev prod]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def time_plan(stack: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "airflow_aks.cli", "plan", "--stack", stack],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):  # 1 = policy violations: still a complete plan
        raise SystemExit(f"plan of {stack} failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--stacks", nargs="+", default=["dev", "prod"])
    args = ap.parse_args()
    print("| stack | runs | median s | min s | max s |")
    print("|---|---|---|---|---|")
    for stack in args.stacks:
        times = [time_plan(stack) for _ in range(args.runs)]
        print(
            f"| {stack} | {args.runs} | {statistics.median(times):.2f} "
            f"| {min(times):.2f} | {max(times):.2f} |"
        )


if __name__ == "__main__":
    main()
