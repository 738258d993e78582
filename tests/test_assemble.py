"""The assembler's decisions (table tests), its typed args (a misspelt key fails pyright),
and the layering it keeps: ``config/`` builds no component args."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_aks.config.mesh import MeshConfig
from airflow_aks.program import assemble as A
from tests.conftest import ROOT


@pytest.mark.parametrize(("production", "env"), [(True, "prod"), (False, "dev")])
def test_airflow_environment(production: bool, env: str) -> None:
    assert A.airflow_environment(production) == env


@pytest.mark.parametrize(
    ("entrance_on", "requested", "installs"),
    [(False, True, True), (False, False, False), (True, True, False), (True, False, False)],
)
def test_mesh_installs_gateway_api(entrance_on: bool, requested: bool, installs: bool) -> None:
    assert A.mesh_installs_gateway_api(entrance_on, requested) is installs
    args = A.mesh_args(MeshConfig(install_gateway_api=requested), False, entrance_on)
    assert args["install_gateway_api"] is installs


@pytest.mark.parametrize(("mesh_has", "entrance_installs"), [(True, False), (False, True)])
def test_entrance_installs_cert_manager(mesh_has: bool, entrance_installs: bool) -> None:
    assert A.entrance_installs_cert_manager(mesh_has) is entrance_installs


@pytest.mark.parametrize(
    ("gateway_class", "known"),
    [("approuting-istio", True), ("istio", False), ("nginx", False)],
)
def test_gateway_control_plane_known(gateway_class: str, known: bool) -> None:
    assert A.gateway_control_plane_known(gateway_class) is known


def _gpu(enabled: bool) -> object:
    from airflow_aks.config.aks import GpuPoolConfig

    return GpuPoolConfig.model_validate(
        {"name": "gpu", "vmSize": "Standard_NC4as_T4_v3", "enabled": enabled}
    )


@pytest.mark.parametrize(("enabled", "wanted"), [(None, False), (False, False), (True, True)])
def test_gpu_plugin_wanted(enabled: bool | None, wanted: bool) -> None:
    gpu = None if enabled is None else _gpu(enabled)
    assert A.gpu_plugin_wanted(gpu) is wanted  # type: ignore[arg-type]  # object from _gpu


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


# Constants config validators check against (secret names, chart keys, roles, the merge
# the helm_values key uses). Component args, builders and mesh modules are not here.
_CONFIG_MAY_IMPORT = {
    "airflow_aks.components.airflow.values",
    "airflow_aks.components.database.ADMIN_PASSWORD_SECRET",
    "airflow_aks.components.database.CONNECTION_SECRET",
    "airflow_aks.components.secrets.API_SECRET_KEY_SECRET",
    "airflow_aks.components.secrets.FERNET_KEY_SECRET",
    "airflow_aks.components.secrets.JWT_SECRET_SECRET",
    "airflow_aks.components.secrets.DEFAULT_SECRETS_ISSUED_ON",  # the one rotation default
    "airflow_aks.components.merge.deep_merge",
    "airflow_aks.components.airflow.signin_config.ROLE_VALUES",
    "airflow_aks.components.domains.DOMAIN_TAG",  # counts towards Azure's 50 tags
}


@pytest.mark.parametrize("module", sorted((ROOT / "airflow_aks" / "config").glob("*.py")), ids=str)
def test_config_builds_no_component_args(module: Path) -> None:
    """config/ validates; the assembler (program/assemble.py) turns config into args."""
    from_components = {i for i in _imports(module) if i.startswith("airflow_aks.components")} | {
        "airflow_aks.components.airflow.values" for i in _imports(module) if i.endswith(".V")
    }
    extra = {
        i for i in from_components if i not in _CONFIG_MAY_IMPORT and not i.endswith(".values")
    }
    assert extra == set(), f"{module.name} imports {sorted(extra)} from components"
    assert not any(i.endswith("Args") for i in _imports(module)), module.name


def test_a_misspelt_arg_key_fails_type_checking(tmp_path: Path) -> None:
    """The typed assembler's point: a typo in a component arg key is a pyright error, not a
    plan that silently ships without NetworkPolicies. Checks a copy of the real assembler
    with ``network_policies=`` misspelt (and the unchanged copy, which must be clean)."""
    pyright = Path(sys.executable).with_name("pyright")
    exe = str(pyright) if pyright.exists() else shutil.which("pyright")
    if exe is None:
        pytest.skip("pyright not installed; enable: `make venv` (dev extras)")
    source = (ROOT / "airflow_aks" / "program" / "assemble.py").read_text()
    assert source.count("network_policies=") == 1
    (tmp_path / "good.py").write_text(source)
    (tmp_path / "bad.py").write_text(source.replace("network_policies=", "networ_policies="))
    (tmp_path / "pyrightconfig.json").write_text(
        json.dumps({"typeCheckingMode": "standard", "extraPaths": [str(ROOT)]})
    )
    run = [exe, "-p", str(tmp_path / "pyrightconfig.json"), "--pythonpath", sys.executable]
    for name, clean in (("good.py", True), ("bad.py", False)):
        res = subprocess.run(
            [*run, str(tmp_path / name)], capture_output=True, text=True, cwd=ROOT, timeout=300
        )
        assert (res.returncode == 0) is clean, res.stdout + res.stderr
    # pyright reports the TypedDict constructor's failed overload at the call (it does not
    # name the key): the error is on the ``AirflowArgs(`` line of the misspelt copy.
    line = 1 + source.splitlines().index("    args = AirflowArgs(")
    assert f"bad.py:{line}:" in res.stdout and "reportCallIssue" in res.stdout, res.stdout
