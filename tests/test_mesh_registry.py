"""The mesh registry: every mesh registers what the rest of the program needs, and nothing
outside ``components/mesh/``, ``config/`` and ``policies/`` names a mesh."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from airflow_aks.components import mesh as M
from airflow_aks.components.mesh.base import PROVIDERS, NetworkNeeds
from tests.conftest import ROOT

PACKAGE = ROOT / "airflow_aks"
MAY_NAME_A_MESH = ("components/mesh/", "config/", "policies/")
MESH_NAME = re.compile("|".join(p for p in PROVIDERS if p != "none"), re.IGNORECASE)
# String constants that name a mesh for another reason than choosing one: a shipped
# example stack's file name, and a measured deploy-time note.
ALLOWED = {
    ("delivery/pipeline.py", "examples/Pulumi.dev-kuma.yaml"),
    ("estimate/deploy_time.py", ": Linkerd control plane 1-3 min; Airflow bounded by Helm's wait"),
}


def _docstrings(tree: ast.AST) -> set[int]:
    """Bare string statements: module, class, function and attribute docstrings."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


def mesh_mentions(path: Path) -> list[str]:
    """Imports of a mesh module and string constants (not docstrings) naming a mesh."""
    tree = ast.parse(path.read_text())
    docs = _docstrings(tree)
    rel = path.relative_to(PACKAGE).as_posix()
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom | ast.Import):
            names = [a.name for a in node.names]
            mod = node.module if isinstance(node, ast.ImportFrom) else ""
            if any(MESH_NAME.search(n) for n in [mod or "", *names]):
                out.append(f"{rel}:{node.lineno} import {mod} {names}")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docs
            and MESH_NAME.search(node.value)
            and (rel, node.value) not in ALLOWED
        ):
            out.append(f"{rel}:{node.lineno} {node.value!r}")
    return out


def test_nothing_outside_mesh_config_and_policies_names_a_mesh() -> None:
    found = [
        m
        for path in sorted(PACKAGE.rglob("*.py"))
        if not path.relative_to(PACKAGE).as_posix().startswith(MAY_NAME_A_MESH)
        for m in mesh_mentions(path)
    ]
    assert found == []


def test_the_check_sees_strings_and_imports(tmp_path: Path) -> None:
    probe = PACKAGE / "components" / "_probe_for_test.py"
    probe.write_text(
        '"""Docstrings may say Linkerd."""\n'
        "from airflow_aks.components.mesh.linkerd import Linkerd\n"
        "X = {'kuma.io/sidecar-injection': 'disabled'}\n"
    )
    try:
        found = mesh_mentions(probe)
    finally:
        probe.unlink()
    assert len(found) == 2, found


def test_registry_names_every_provider_once() -> None:
    assert tuple(M.REGISTRY) == PROVIDERS
    assert all(name == e.name for name, e in M.REGISTRY.items())


@pytest.mark.parametrize("provider", PROVIDERS)
def test_detached_mesh_has_the_registered_decisions(provider: str) -> None:
    mesh = M.detached_mesh(provider)
    assert mesh.provider == provider
    e = M.REGISTRY[provider]
    assert mesh.namespace_labels() == e.decisions.namespace_labels()
    assert isinstance(mesh.network_needs(), NetworkNeeds)


def test_unknown_provider_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown mesh provider 'istio'; expected one of"):
        M.detached_mesh("istio")
    with pytest.raises(ValueError, match="unknown mesh provider"):
        M.installs_cert_manager("istio")


@pytest.mark.parametrize(
    ("provider", "installs"), [("linkerd", True), ("kuma", True), ("none", False)]
)
def test_which_meshes_install_cert_manager(provider: str, installs: bool) -> None:
    """Both mesh components install cert-manager (``cert_manager.install``), so the
    entrance must not install a second one."""
    assert M.installs_cert_manager(provider) is installs


def test_injection_opt_out_covers_every_registered_mesh() -> None:
    labels, annotations = M.injection_opt_out()
    for e in M.REGISTRY.values():
        assert e.opt_out_labels.items() <= labels.items()
        assert e.opt_out_annotations.items() <= annotations.items()
    assert labels or annotations


def test_provider_host_publishes_every_mesh_component() -> None:
    from airflow_aks.program.provider import COMPONENTS

    published = [e.component for e in M.REGISTRY.values() if e.component is not None]
    assert published and all(c in COMPONENTS for c in published)
