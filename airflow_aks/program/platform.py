"""``airflow-aks:index:Platform`` — the whole stack as one component.

Wraps the program's assembler (:func:`airflow_aks.program.stack.build`): the args are the stack
config (``airflow-aks:*`` keys, as nested TypedDicts generated from the pydantic models),
validated by the same loader and profiles, and the outputs are the stack outputs (the
README's "Stack outputs" table). Every component the assembler creates is a child of the
Platform. This is what other languages get from the component provider (``provider/``).
"""

from typing import Any

import pulumi
from pydantic import BaseModel

from airflow_aks.components.tokens import type_token
from airflow_aks.config.base import NAMESPACE, ConfigError
from airflow_aks.config.stack import StackConfig, load
from airflow_aks.program import stack as program
from airflow_aks.program.platform_args import PlatformArgs

__all__ = ["Platform", "PlatformArgs", "config_map"]


def _field_model(annotation: Any) -> tuple[str, type[BaseModel] | None]:
    """(``model`` | ``dict`` | ``list`` | ``plain``, the pydantic model inside, if any)."""
    from typing import get_args, get_origin

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model", annotation
    for inner in get_args(annotation):
        kind, model = _field_model(inner)
        if model is not None:
            origin = get_origin(annotation)
            if origin is dict:
                return "dict", model
            if origin in (list, tuple):
                return "list", model
            return kind, model
    return "plain", None


def _camel(model: type[BaseModel], data: Any, path: str) -> Any:
    """Snake-case TypedDict keys -> the config's camelCase keys, following the model (user
    keys such as ``tags`` or ``helmValues`` entries are left alone)."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected an object, got {type(data).__name__}")
    out: dict[str, Any] = {}
    fields = model.model_fields
    for key, value in data.items():
        field = fields.get(key) or next((f for n, f in fields.items() if f.alias == key), None)
        if field is None:
            out[key] = value  # unknown: the loader reports it with a suggestion
            continue
        name = field.alias or key
        kind, sub = _field_model(field.annotation)
        here = f"{path}.{name}" if not path.endswith(":") else f"{path}{name}"
        if sub is None or value is None:
            out[name] = value
        elif kind == "dict":
            out[name] = {k: _camel(sub, v, f"{here}.{k}") for k, v in value.items()}
        elif kind == "list":
            out[name] = [_camel(sub, v, f"{here}[{i}]") for i, v in enumerate(value)]
        else:
            out[name] = _camel(sub, value, here)
    return out


def config_map(args: PlatformArgs | dict[str, Any]) -> dict[str, Any]:
    """Platform args -> the stack config map (``{"airflow-aks:aks": {...camelCase...}}``)
    the loader validates; ``None`` values count as not given."""
    camel = _camel(StackConfig, {k: v for k, v in dict(args).items() if v is not None}, "")
    return {f"{NAMESPACE}:{k}": v for k, v in camel.items()}


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


class Platform(pulumi.ComponentResource):
    """The whole airflow-aks platform: AKS, network, mesh, Key Vault, PostgreSQL, Blob logs,
    Airflow and GitOps, from a stack config with profile defaults."""

    environment: pulumi.Output[str]
    """``dev`` or ``prod`` (the config's environment)."""
    location: pulumi.Output[str]
    """Azure region."""
    resource_group_name: pulumi.Output[str]
    """Resource group of everything the platform creates."""
    cluster_name: pulumi.Output[str]
    """ManagedCluster name."""
    cluster_id: pulumi.Output[str]
    """ARM id of the ManagedCluster."""
    cluster_identity_id: pulumi.Output[str]
    """ARM id of the cluster's user-assigned control-plane identity."""
    oidc_issuer_url: pulumi.Output[str]
    """The cluster's OIDC issuer (issuer of federated credentials)."""
    kubeconfig: pulumi.Output[str]
    """User kubeconfig in kubelogin exec format (secret)."""
    log_analytics_workspace_id: pulumi.Output[str]
    """ARM id of the Log Analytics workspace."""
    vnet_id: pulumi.Output[str]
    """ARM id of the VNet."""
    aks_subnet_id: pulumi.Output[str]
    """ARM id of the node subnet."""
    database_subnet_id: pulumi.Output[str]
    """ARM id of the subnet delegated to PostgreSQL."""
    private_endpoint_subnet_id: pulumi.Output[str]
    """ARM id of the private-endpoint subnet."""
    mesh_provider: pulumi.Output[str]
    """``linkerd``, ``kuma`` or ``none``."""
    key_vault_id: pulumi.Output[str]
    """ARM id of the Key Vault."""
    key_vault_name: pulumi.Output[str]
    """Vault name."""
    key_vault_uri: pulumi.Output[str]
    """Vault URI."""
    key_vault_secret_names: pulumi.Output[list[str]]
    """Names of the secrets the platform writes (never values)."""
    postgres_server_id: pulumi.Output[str]
    """ARM id of the PostgreSQL flexible server."""
    postgres_server_name: pulumi.Output[str]
    """PostgreSQL server name."""
    postgres_fqdn: pulumi.Output[str]
    """PostgreSQL server FQDN."""
    postgres_database: pulumi.Output[str]
    """Airflow metadata database name."""
    log_storage_account_id: pulumi.Output[str]
    """ARM id of the remote-log storage account."""
    log_storage_account: pulumi.Output[str]
    """Storage account name."""
    log_container: pulumi.Output[str]
    """Blob container of the remote logs."""
    hibernation_wake_workflow: pulumi.Output[str] | None
    """Name of the Logic App that wakes the environment (when ``hibernation.enabled``)."""
    hibernation_sleep_workflow: pulumi.Output[str] | None
    """Name of the Logic App that stops it (when ``hibernation.enabled``)."""
    domain_namespaces: pulumi.Output[dict[str, str]] | None
    """Data domain -> its namespace (when ``domains`` are declared)."""
    airflow_namespace: pulumi.Output[str] | None
    """Kubernetes namespace of Airflow (when ``airflow.enabled``)."""
    airflow_chart_version: pulumi.Output[str] | None
    """Pinned Airflow chart version (when ``airflow.enabled``)."""
    airflow_identity_id: pulumi.Output[str] | None
    """ARM id of Airflow's control-plane identity (when ``airflow.enabled``)."""
    airflow_tasks_identity_id: pulumi.Output[str] | None
    """ARM id of the task pods' identity (when ``airflow.enabled``)."""
    airflow_tasks_client_id: pulumi.Output[str] | None
    """Client id of the task pods' identity (when ``airflow.enabled``)."""
    airflow_url: pulumi.Output[str] | None
    """``https://<entrance.host>/`` (when the entrance is on)."""
    sign_in_client_id: pulumi.Output[str] | None
    """Client id of the Entra app registration people sign in to (when ``entrance.signIn``)."""
    sign_in_redirect_uri: pulumi.Output[str] | None
    """The app's redirect URI (when ``entrance.signIn``)."""
    flux_configuration: pulumi.Output[str] | None
    """Name of the FluxConfiguration (when ``gitops.enabled``)."""
    operators_group_id: pulumi.Output[str] | None
    """Object id of the Entra operators group (when ``gitops.operatorsGroup``)."""

    def __init__(
        self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Validate completely before anything registers (the loader reports every key).
        try:
            cfg = load(config_map(args), pulumi.get_stack())
        except ConfigError as err:
            raise ValueError(f"{name}: {err}") from None
        super().__init__(type_token(Platform), name, {}, opts)
        token = program._PARENT.set(self)
        try:
            outputs = program.build(cfg)
        finally:
            program._PARENT.reset(token)
        declared = set(type(self).__annotations__)
        for key, value in outputs.items():
            attr = _snake(key)
            if attr not in declared:
                raise AssertionError(f"stack output {key!r} has no Platform attribute {attr!r}")
            setattr(self, attr, pulumi.Output.from_input(value))
        for attr in declared - {_snake(k) for k in outputs}:
            setattr(self, attr, None)
        self.register_outputs(outputs)
