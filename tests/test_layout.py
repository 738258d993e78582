"""One physical tree: no symlinks, one module name per file, and imports that keep the layers.

``pulumi up`` runs ``__main__.py`` with the repository root on ``sys.path``; when
``components/`` and ``policies/`` were symlinks into ``airflow_aks/`` the same file loaded as
two modules with separate globals, and a checkout without symlinks (Git for Windows' default)
did not import at all. These tests fail if either comes back, or if a module starts to import
a layer above its own.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "airflow_aks"
# Names a file of ours could mean when it imports the moved folders top-level.
RETIRED_TOP_LEVEL = ("components", "policies", "rules")
# Folders whose Python files belong to this repository (examples/consumer is a separate
# project with its own ``components`` package: the consumer's, not ours).
OUR_TREES = ("airflow_aks", "tests", "benchmarks", "delivery", "provider", "examples", "dags")
CONSUMER = ROOT / "examples" / "consumer"
# The pack run as a directory (``pulumi preview --policy-pack airflow_aks/policies``) has the
# pack folder as its cwd and imports its rules as the top-level ``rules``: that is its
# documented entry point, not a second name inside one process.
PACK_MAIN = PACKAGE / "policies" / "__main__.py"

LAYERS_ABOVE = {
    # layer -> top-level subpackages of airflow_aks it must never import
    "components": {"config", "program", "offline", "estimate", "delivery", "cli", "policies"},
    "policies": {"components", "config", "program", "offline", "estimate", "delivery", "cli"},
    "program": {"offline", "cli"},
}


def our_python_files() -> Iterator[Path]:
    yield ROOT / "__main__.py"
    for tree in OUR_TREES:
        for path in sorted((ROOT / tree).rglob("*.py")):
            if CONSUMER in path.parents or ".venv" in path.parts:
                continue
            yield path


def imported_names(
    tree: ast.AST, module: str | None = None, known: Collection[str] = ()
) -> Iterator[tuple[str, int]]:
    """Absolute module names a file imports (relative imports resolved against ``module``).
    ``from pkg import x`` means ``pkg.x`` when that is one of the ``known`` modules (importing
    a submodule runs its package first anyway), else ``pkg``; with no ``known``, both."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                if module is None:
                    continue
                parts = module.split(".")[: -node.level]
                base = ".".join([*parts, base] if base else parts)
            subs = [f"{base}.{alias.name}" for alias in node.names]
            for sub in subs:
                if sub in known or not known:
                    yield sub, node.lineno
            if not known or any(sub not in known for sub in subs):
                yield base, node.lineno


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def package_modules() -> dict[str, Path]:
    """Every module of ``airflow_aks`` by its name (packages under their own name)."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


# --- (a) no symlink --------------------------------------------------------------------------


def test_git_tracks_no_symlink() -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-s"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.splitlines()
    links = [line.split("\t", 1)[1] for line in listed if line.startswith("120000 ")]
    assert links == []


def test_no_symlink_in_the_tree() -> None:
    skip = {".git", ".venv", "node_modules", ".pytest_cache", ".ruff_cache"}
    links = []
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in skip]
        paths = [os.path.join(top, n) for n in dirs + files]
        links += [p for p in paths if os.path.islink(p)]
    assert links == []


# --- (b) one module name per file ------------------------------------------------------------


@pytest.mark.parametrize("name", RETIRED_TOP_LEVEL)
def test_moved_folders_are_not_importable_from_the_repository_root(name: str) -> None:
    """As ``pulumi up`` runs it: cwd and ``sys.path[0]`` = the repository root."""
    run = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, '.'); import {name}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0 and "ModuleNotFoundError" in run.stderr, (name, run.stderr)


def test_no_file_of_ours_imports_the_moved_folders_top_level() -> None:
    found = []
    for path in our_python_files():
        if path == PACK_MAIN:
            continue
        for name, line in imported_names(ast.parse(path.read_text())):
            if name.split(".")[0] in RETIRED_TOP_LEVEL:
                found.append(f"{path.relative_to(ROOT)}:{line}: {name}")
    assert found == []


def test_the_check_sees_a_top_level_import() -> None:
    names = [n for n, _ in imported_names(ast.parse("from components.aks import Cluster"))]
    assert "components.aks" in names


def test_every_module_loads_under_exactly_one_name() -> None:
    """Import every ``airflow_aks`` module from the repository root (as ``pulumi up`` does)
    and map each loaded file back to the module names it is loaded under."""
    names = sorted(n for n in package_modules() if not n.endswith("__main__"))
    script = f"""
import importlib, json, sys
sys.path.insert(0, ".")
for name in {names!r}:
    importlib.import_module(name)
by_file = {{}}
for name, mod in list(sys.modules.items()):
    f = getattr(mod, "__file__", None)
    if f:
        by_file.setdefault(f, []).append(name)
print(json.dumps(by_file))
"""
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    by_file = {Path(f).resolve(): n for f, n in json.loads(run.stdout).items()}
    ours = {f: n for f, n in by_file.items() if ROOT in f.parents and ".venv" not in f.parts}
    for path in package_modules().values():
        if path.name != "__main__.py":
            assert path.resolve() in ours, f"{path} was not imported"
    twice = {str(f.relative_to(ROOT)): n for f, n in ours.items() if len(n) != 1}
    assert twice == {}


def test_the_pack_runs_as_a_directory() -> None:
    """``pulumi preview --policy-pack airflow_aks/policies`` runs ``__main__.py`` with the pack
    folder as cwd: its rules import as the top-level ``rules`` with nothing else of ours."""
    script = (
        "import sys; sys.path.insert(0, '.'); import rules; "
        "names = [p.name for p in rules.build_policies()]; "
        "ours = sorted(m for m in sys.modules if m.split('.')[0] == 'airflow_aks'); "
        "print(len(names), ours)"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PACKAGE / "policies",
        capture_output=True,
        text=True,
        check=True,
    )
    from airflow_aks.policies.rules import build_policies

    assert run.stdout.split() == [str(len(build_policies())), "[]"]


# --- (c) layers and cycles -------------------------------------------------------------------


def import_graph() -> dict[str, set[str]]:
    """Module -> the ``airflow_aks`` modules it imports anywhere in its text (function-level
    imports included: a cycle hidden in a function is still a cycle)."""
    modules = package_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        own = name if path.name != "__init__.py" else f"{name}.__init__"
        edges = set()
        for target, _ in imported_names(ast.parse(path.read_text()), own, modules):
            if target in modules and target != name:
                edges.add(target)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                found.append(sorted(scc))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_modules() -> None:
    assert cycles(import_graph()) == []


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_layers_import_only_downwards() -> None:
    bad = [
        f"{src} imports {dst}"
        for src, targets in import_graph().items()
        for dst in sorted(targets)
        if layer_of(dst) in LAYERS_ABOVE.get(layer_of(src) or "", set())
    ]
    assert bad == []
