"""What Azure and Kubernetes validate, as pure functions (config/kinds.py), table-tested."""

from __future__ import annotations

import pytest

from airflow_aks.config import kinds as K


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("airflow", True),
        ("a", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ("Airflow", False),
        ("-airflow", False),
        ("airflow-", False),
        ("air_flow", False),
        ("air.flow", False),
    ],
)
def test_dns_label(value, ok):
    assert (K.dns_label_problem(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("airflow", True),
        ("team-a", True),
        ("default", False),
        ("kube-system", False),
        ("kube-public", False),
        ("kube-node-lease", False),
        ("kube-anything", False),
        ("linkerd", False),
        ("kuma-system", False),
        ("cert-manager", False),
        ("flux-system", False),
        ("aks-istio-system", False),
        ("app-routing-system", False),
        ("gpu-resources", False),
    ],
)
def test_namespace(value, ok):
    assert (K.namespace_problem(value) is None) is ok


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("app", True),
        ("airflow-aks/pool", True),
        ("app.kubernetes.io/name", True),
        ("A_b.c-D", True),
        ("-app", False),
        ("app-", False),
        ("", False),
        ("/app", False),
        ("Example.com/app", False),
        ("a" * 64, False),
        ("has space", False),
    ],
)
def test_label_key(key, ok):
    assert (K.label_key_problem(key) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("", True), ("segments", True), ("v1.2_x", True), ("seg ments", False), ("-x", False)],
)
def test_label_value(value, ok):
    assert (K.label_value_problem(value) is None) is ok


@pytest.mark.parametrize(
    ("taint", "ok"),
    [
        ("airflow-aks/pool=tasks:NoSchedule", True),
        ("nvidia.com/gpu=present:NoExecute", True),
        ("CriticalAddonsOnly=true:PreferNoSchedule", True),
        ("airflow-aks/pool=tasks:NoSchedul", False),
        ("dedicated", False),
        ("k=v", False),
        ("k=bad value:NoSchedule", False),
    ],
)
def test_taint(taint, ok):
    assert (K.taint_problem(taint) is None) is ok


def test_tags():
    assert K.tag_problems({"owner": "a", "cost-center": "42"}) == []
    assert K.tag_problems({f"t{i}": "x" for i in range(50)}) == []
    (p,) = K.tag_problems({f"t{i}": "x" for i in range(48)}, added=("project", "environment", "x"))
    assert "51 tags" in p
    assert "contains /" in K.tag_problems({"a/b": "x"})[0]
    for ch in "<>%&\\?":
        assert K.tag_problems({f"a{ch}b": "x"}), ch
    assert "case-insensitive" in K.tag_problems({"Owner": "a", "owner": "b"})[0]
    assert K.tag_problems({"k" * 513: "x"}) and not K.tag_problems({"k" * 512: "x"})
    assert K.tag_problems({"k": "v" * 257}) and not K.tag_problems({"k": "v" * 256})


@pytest.mark.parametrize(
    ("value", "ok"),
    [("westeurope", True), ("swedencentral", True), ("westeurop", False), ("WestEurope", False)],
)
def test_location(value, ok):
    assert (K.location_problem(value) is None) is ok


def test_location_suggests():
    assert "did you mean 'westeurope'" in (K.location_problem("westeurop") or "")


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("7f3c2a9e-1b4d-4c8e-9f0a-2d6e5b8c1a47", True),
        ("7F3C2A9E-1B4D-4C8E-9F0A-2D6E5B8C1A47", True),
        ("7f3c2a9e1b4d4c8e9f0a2d6e5b8c1a47", False),  # uuid.UUID accepts this; Azure ids do not
        ("{7f3c2a9e-1b4d-4c8e-9f0a-2d6e5b8c1a47}", False),
        ("dba-team", False),
    ],
)
def test_guid(value, ok):
    assert (K.guid_problem(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("203.0.113.7", True), ("203.0.113.0/24", True), ("203.0.113.1/24", False), ("office", False)],
)
def test_ip_or_cidr(value, ok):
    assert (K.ip_or_cidr_problem(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [(-1, True), (0.05, True), (0.12345, True), (0, False), (-5, False), (0.123456, False)],
)
def test_spot_price(value, ok):
    assert (K.spot_price_problem(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("main", True),
        ("release/1.2", True),
        ("feature/x-y_z", True),
        ("main\nrm", False),
        ("${{ github.token }}", False),
        ("a..b", False),
        ("a b", False),
        ("-main", False),
        ("main/", False),
        ("main.", False),
        ("a//b", False),
        ("a/.b", False),
        ("x.lock", False),
        ("a@{b", False),
        ("@", False),
        ("a~1", False),
        ("a^", False),
        ("a:b", False),
        ("a?", False),
        ("a*", False),
        ("a[", False),
        ("a\\b", False),
        ("", False),
    ],
)
def test_branch(value, ok):
    assert (K.branch_problem(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "number"),
    [("100m", 0.1), ("2", 2.0), ("1Gi", 2.0**30), ("512Mi", 512 * 2.0**20), ("1.5", 1.5)],
)
def test_quantity(value, number):
    assert K.quantity(value) == number


@pytest.mark.parametrize(
    ("graph", "loop"),
    [
        ({"a": [], "b": ["a"]}, None),
        ({"a": ["b"], "b": ["a"]}, ["a", "b", "a"]),
        ({"a": ["a"]}, ["a", "a"]),
        ({"a": ["b"], "b": ["c"], "c": ["b"]}, ["b", "c", "b"]),
        ({"a": ["x"]}, None),
        ({"a": ["b", "c"], "b": ["c"], "c": []}, None),
    ],
)
def test_cycle(graph, loop):
    assert K.cycle(graph) == loop
