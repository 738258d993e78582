"""The program's plan grows linearly in data domains, checked by counting, not timing.

The prod stack is planned with 2, 4 and 6 domains of the benchmark's shape
(``benchmarks/domains_scale.py``: a secret, a created container, a host and a mesh call to
the previous domain each). Every two domains after the first must add the same resources
and the same dependency edges: a resource that depended on every earlier domain (or a
component whose inputs aggregate all of them, once per domain) would add more each time.
"""

from __future__ import annotations

import gc
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_aks.offline import plan
from airflow_aks.program import stack as program

ROOT = Path(__file__).resolve().parent.parent


def bench_domains(n: int) -> list[dict[str, Any]]:
    spec = importlib.util.spec_from_file_location(
        "domains_scale", ROOT / "benchmarks" / "domains_scale.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.domains(n)


def measures(n: int) -> tuple[int, int, int]:
    """(resources, dependency edges, export size in bytes) of prod with n domains."""
    config = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]
    config["airflow-aks:domains"] = bench_domains(n)
    resources = plan.run(program.main, stack="prod", config=config).export()["resources"]
    edges = sum(
        len(r["dependencies"]) + sum(len(v) for v in r["propertyDependencies"].values())
        for r in resources
    )
    return len(resources), edges, len(json.dumps(resources))


@pytest.fixture(scope="module")
def sizes() -> list[tuple[int, int, int]]:
    return [measures(n) for n in (2, 4, 6)]


def test_each_domain_adds_the_same_resources_and_edges(sizes):
    (r2, e2, b2), (r4, e4, b4), (r6, e6, b6) = sizes
    assert r4 - r2 == r6 - r4 > 0
    assert e4 - e2 == e6 - e4 > 0
    # Bytes: names grow by a digit now and then; nothing may grow with the domain count.
    assert b6 - b4 <= 1.02 * (b4 - b2)


def test_the_plan_process_makes_no_full_collections():
    before = gc.get_threshold()
    try:
        plan.freeze_import_heap()
        young, middle, full = gc.get_threshold()
        assert (young, middle) == before[:2]
        assert full == plan.NO_FULL_COLLECTIONS
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
