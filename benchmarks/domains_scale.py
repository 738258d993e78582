"""Scale of data domains: `airflow-aks plan` of the prod stack with N generated domains.

For each size N (default 1, 10, 100, 300) the prod stack file gets N domains, each with one
secret, one created container, one external host and a mesh call to the previous domain
(so the cross-domain grouping and every per-domain resource are exercised). Each run is a
fresh `airflow-aks plan --stack prod --config <file> --json <out>` process — config
validation, the program under the mock engine, and the policy pack over the result. Wall
time is measured around the process, peak memory is the child's maximum resident set size
(``os.wait4``). Medians of ``--runs`` runs; ``--docs`` rewrites the table between the
``domains-bench`` markers in docs/domains.md.

    .venv/bin/python benchmarks/domains_scale.py [--sizes 1 10 100 300] [--runs 3] [--docs]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- domains-bench:start -->", "<!-- domains-bench:end -->"


def domains(n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(n):
        d: dict[str, Any] = {
            "name": f"team{i:03d}",
            "secrets": [{"name": f"team{i:03d}-dsn"}],
            "containers": [{"name": f"team{i:03d}-landing", "create": True, "access": "write"}],
            "hosts": [f"api{i}.example.com:443"],
        }
        if i:
            d["meshCalls"] = [
                {"domain": f"team{i - 1:03d}", "labels": {"app": "api"}, "port": 8080}
            ]
        out.append(d)
    return out


def stack_file(n: int, directory: Path) -> Path:
    data = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    data["config"]["airflow-aks:domains"] = domains(n)
    path = directory / f"Pulumi.prod-{n}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def run_once(config: Path, out: Path) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, resources planned)."""
    cli = [sys.executable, "-m", "airflow_aks.cli.main"]
    cmd = [*cli, "plan", "--stack", "prod", "--config", str(config), "--json", str(out)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"plan failed ({proc.returncode}) for {config.name}:\n{err[-2000:]}")
    resources = len(json.loads(out.read_text())["resources"])
    return wall, usage.ru_maxrss / 1024, resources  # ru_maxrss is KiB on Linux


def table(rows: list[tuple[int, int, float, float, int]]) -> str:
    lines = [
        START,
        f"Measured {datetime.date.today().isoformat()} on {platform.machine()} with "
        f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at the end); "
        "median of the runs, each a fresh `airflow-aks plan --stack prod` (config, program, "
        "policy pack):",
        "",
        "| domains | resources | runs | wall time (median) | peak memory (median) | per domain |",
        "|---|---|---|---|---|---|",
    ]
    base = rows[0]
    for n, res, runs, wall, mem in [(r[0], r[4], r[1], r[2], r[3]) for r in rows]:
        per = "" if n == base[0] else f"{(wall - base[2]) / (n - base[0]) * 1000:.0f} ms"
        lines.append(f"| {n} | {res} | {runs} | {wall:.1f} s | {mem:.0f} MiB | {per} |")
    lines.append(END)
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100, 300])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--docs", action="store_true", help="rewrite the table in docs/domains.md")
    a = ap.parse_args()
    rows: list[tuple[int, int, float, float, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for n in a.sizes:
            cfg = stack_file(n, d)
            results = [run_once(cfg, d / f"plan-{n}.json") for _ in range(a.runs)]
            wall = statistics.median(r[0] for r in results)
            mem = statistics.median(r[1] for r in results)
            rows.append((n, a.runs, wall, mem, results[0][2]))
            print(f"{n:4d} domains: {results[0][2]:6d} resources, {wall:6.1f} s, {mem:6.0f} MiB")
    text = table(rows)
    print(text)
    if a.docs:
        doc = ROOT / "docs" / "domains.md"
        body = doc.read_text()
        if START in body:
            head, rest = body.split(START, 1)
            body = head + text + rest.split(END, 1)[1]
        else:
            raise SystemExit(f"docs/domains.md lacks {START} / {END}")
        doc.write_text(body)


if __name__ == "__main__":
    main()
