"""The component provider: publishes the components to every Pulumi language.

``provider/`` (``PulumiPlugin.yaml`` + ``__main__.py``) runs :func:`main`; the SDK's
analyzer (``pulumi.provider.experimental``) infers the schema from the components' type
annotations and docstrings, so ``pulumi package add <repo>/provider`` generates a
TypeScript, Go, C#, Java or YAML SDK whose names are the camelCase of the Python ones.
"""

from importlib.metadata import PackageNotFoundError, version

import pulumi

from airflow_aks.components.airflow.component import Airflow
from airflow_aks.components.aks import Cluster
from airflow_aks.components.identity import WorkloadIdentity
from airflow_aks.components.mesh import components as mesh_components
from airflow_aks.components.secrets import Vault
from airflow_aks.components.tokens import PACKAGE
from airflow_aks.program.platform import Platform

COMPONENTS: list[type[pulumi.ComponentResource]] = [
    Cluster,
    WorkloadIdentity,
    Vault,
    *mesh_components(),
    Airflow,
    Platform,
]
"""What the provider publishes (schema tokens ``airflow-aks:index:<Name>``)."""


def package_version() -> str:
    """The installed distribution's version (the schema's version)."""
    try:
        return version(PACKAGE)
    except PackageNotFoundError:  # running from a source tree without an install
        return "0.0.0"


def schema() -> dict:
    """The package schema the provider serves, computed offline (no engine, no CLI)."""
    import json

    from pulumi.provider.experimental.component import ComponentProvider

    provider = ComponentProvider(COMPONENTS, PACKAGE, version=package_version())
    return json.loads(provider.schema or "{}")


def main() -> None:
    """Serve the components over gRPC (the Pulumi CLI starts this as a plugin)."""
    from pulumi.provider.experimental import component_provider_host

    component_provider_host(COMPONENTS, PACKAGE, version=package_version())
