"""``airflow-aks:index:Airflow`` — the official Airflow chart, meshed and keyless.

Wires resources only; every setting comes from the pure builder in
:mod:`airflow_aks.components.airflow.values`. Children, in dependency order:

1. the Namespace (mesh labels/annotations, Pod Security ``restricted`` warn/audit);
2. two :class:`~airflow_aks.components.identity.WorkloadIdentity` — control plane (scheduler, API
   server, DAG processor, triggerer, migration/user Jobs) and tasks — each creating our
   ServiceAccounts with a federated credential per ServiceAccount;
3. role assignments: "Key Vault Secrets User" on each secret an identity reads (never the
   whole vault), "Storage Blob Data Contributor" on the log container (when scopes are given);
4. the SecretProviderClass(es) — control plane (metadata connection, fernet key, API
   secret key, JWT secret, ...), and for tasks only the git token when one is used;
5. the chart (``kubernetes.helm.v4.Chart``), after all of the above.

Values that only Azure knows (client ids, tenant) are substituted into the values leaf by
leaf, so a preview (or the offline plan) shows every other value.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from airflow_aks.components.airflow import values as V
from airflow_aks.components.airflow.mesh_paths import (
    API_SERVER_PORT,
    WORKER_LOGS_PORT,
    allow_rules,
)
from airflow_aks.components.airflow.network_policies import (
    STATSD_INGEST_PORT,
    AirflowNetwork,
    GatewayPeer,
    airflow_network_policies,
)
from airflow_aks.components.airflow.signin_config import SignInSettings
from airflow_aks.components.domains import (
    AirflowPeerArgs,
    create_pod_rbac,
    mesh_rules,
    pod_rbac_plan,
)
from airflow_aks.components.domains import network_policies as task_namespace_policies
from airflow_aks.components.identity import WorkloadIdentity, WorkloadIdentityArgs, role_assignment
from airflow_aks.components.mesh import detached_mesh
from airflow_aks.components.mesh.base import (
    PROVIDERS,
    AllowRule,
    Client,
    Mesh,
    NetworkNeeds,
    custom_resource,
)
from airflow_aks.components.netpol import (
    Manifest,
    Peer,
    cilium_api_server_egress,
    network_policy,
)
from airflow_aks.components.scheduling import PodPlacementArgs, from_args
from airflow_aks.components.secrets import create_secret_provider_class, secret_provider_class
from airflow_aks.components.tokens import type_token

# Placeholders for Outputs inside the pure values; replaced leaf by leaf.
_CP_CLIENT = "@@control-plane-client-id@@"
_TASKS_CLIENT = "@@tasks-client-id@@"
_TENANT = "@@tenant-id@@"
_SIGN_IN_CLIENT = "@@sign-in-client-id@@"
_KV_NAME = "@@key-vault-name@@"
_SECRETS_CHECKSUM = "@@secret-versions-checksum@@"


class SignInArgs(TypedDict):
    """Entra ID single sign-on for the UI (see :mod:`airflow_aks.components.signin`)."""

    client_id: pulumi.Input[str]
    """Client id of the app registration people sign in to."""
    host: str
    """Public host name of the UI."""


class GatewayClientArgs(TypedDict, total=False):
    """The entrance's gateway pods, admitted to the API server port by the mesh."""

    service_account: Required[str]
    """ServiceAccount of the gateway pods (Linkerd identity)."""
    labels: Required[Mapping[str, str]]
    """Pod labels of the gateway pods (Kuma tags; NetworkPolicy selector)."""
    listener_ports: Sequence[int]
    """Ports the gateway pods listen on (opened to any source by the network policy)."""
    control_plane_namespace: str
    """Namespace of the gateway's control plane the pods connect to (istiod)."""
    control_plane_ports: Sequence[int]
    """Ports of that control plane."""
    health_ports: Sequence[int]
    """Status / health-probe ports the gateway's LoadBalancer Service also publishes
    (approuting-istio: 15021), opened like the listeners."""


class PeerArgs(TypedDict, total=False):
    """Pods in another namespace (all of them when no labels)."""

    namespace: Required[str]
    """Their namespace."""
    labels: Mapping[str, str]
    """Their pod labels."""


class NetworkPolicyArgs(TypedDict, total=False):
    """Default-deny NetworkPolicies for the Airflow namespace (see
    :mod:`airflow_aks.components.airflow.network_policies` for every open path)."""

    cluster_cidrs: Required[Sequence[str]]
    """Pod, service and node address ranges: HTTPS egress goes to anything else."""
    database_cidr: str | None
    """Postgres subnet (private access); absent: Postgres anywhere outside the cluster."""
    metrics_scrapers: Sequence[PeerArgs]
    """Who may scrape the statsd exporter's metrics port."""
    cilium: bool
    """The cluster enforces policy with Cilium: also a CiliumNetworkPolicy allowing the
    API server entity (``netpol.cilium_api_server_egress``)."""


class GitSyncArgs(TypedDict, total=False):
    """DAGs pulled from Git by a git-sync sidecar (instead of baked into the image)."""

    repo: Required[str]
    """HTTPS URL of the DAG repository."""
    branch: str
    """Branch to follow (default ``main``)."""
    sub_path: str
    """Directory of the DAGs inside the repository (default ``dags``)."""
    period: str
    """Pull interval (default ``60s``)."""
    username: str | None
    """User for a private repository (the token comes from ``git_token_object``)."""


ENVIRONMENTS = ("dev", "prod")


class DomainTasksArgs(TypedDict):
    """A data domain as Airflow sees it: where its task pods run and how they look."""

    name: str
    """Domain name (what a DAG asks for)."""
    namespace: str
    """Namespace of its task pods."""
    service_account: str
    """ServiceAccount (federated with the domain's identity) of its task pods."""
    labels: dict[str, str]
    """Pod labels: domain, workload identity, the mesh's run-to-completion labels."""
    annotations: dict[str, str]
    """Pod annotations (the mesh's run-to-completion settings)."""
    node_selector: dict[str, str]
    """Node selection of the domain's pool."""
    tolerations: list[dict[str, str]]
    """Tolerations of the domain's pool taints."""


class AirflowArgs(TypedDict, total=False):
    """Arguments of :class:`Airflow` (plain data and Inputs only)."""

    environment: Required[str]
    """``dev`` (one of each, no PDBs) or ``prod`` (HA, PDBs, zone spread)."""
    namespace: Required[str]
    """Kubernetes namespace created for Airflow."""
    resource_group_name: Required[pulumi.Input[str]]
    """Resource group of the user-assigned identities."""
    location: Required[pulumi.Input[str]]
    """Azure region of the identities."""
    oidc_issuer_url: Required[pulumi.Input[str]]
    """The cluster's OIDC issuer (federated credentials)."""
    tenant_id: Required[pulumi.Input[str]]
    """Entra tenant of the identities and the vault."""
    control_plane_identity_name: Required[str]
    """Azure name of the control plane's user-assigned identity."""
    tasks_identity_name: Required[str]
    """Azure name of the task pods' user-assigned identity."""
    key_vault_name: Required[pulumi.Input[str]]
    """Vault holding the Airflow secrets (CSI ``keyvaultName``)."""
    key_vault_id: pulumi.Input[str] | None
    """ARM id of the vault; when set, each identity gets "Key Vault Secrets User" on each
    secret it mounts or reads (``<vault id>/secrets/<name>``), never on the whole vault."""
    key_vault_secret_ids: Mapping[str, pulumi.Input[str]]
    """Key Vault secret name -> ARM id of that ``keyvault.Secret`` (the stack's generated
    secrets): grants scoped by these wait for the secrets to exist."""
    backend_secret_names: Sequence[str]
    """Secrets the Key Vault secrets backend may read (connections / variables)."""
    storage_account_name: Required[str]
    """Storage account of the remote logs."""
    logs_container: str
    """Blob container of the remote logs (default ``airflow-logs``)."""
    logs_container_scope: pulumi.Input[str] | None
    """ARM id of the log container; when set, both identities get "Storage Blob Data
    Contributor" on it."""
    mesh_namespace_labels: Mapping[str, str]
    """From ``Mesh.namespace_labels()``."""
    mesh_namespace_annotations: Mapping[str, str]
    """From ``Mesh.namespace_annotations()``."""
    mesh_service_labels: Mapping[str, str]
    """From ``Mesh.pod_labels("service")`` (long-running components)."""
    mesh_service_annotations: Mapping[str, str]
    """From ``Mesh.pod_annotations("service")``."""
    mesh_job_labels: Mapping[str, str]
    """From ``Mesh.pod_labels("job")`` (task pods, migration/user Jobs)."""
    mesh_job_annotations: Mapping[str, str]
    """From ``Mesh.pod_annotations("job")``."""
    task_secret_names: Sequence[str]
    """Key Vault secrets task pods may read (scoped grants; must exist before deploy)."""
    mesh_provider: str
    """A registered mesh (``components/mesh/registry.py``) or ``none`` (default): the
    mesh whose authorization objects open Airflow's in-mesh paths. From Python, passing
    ``mesh=`` to :class:`Airflow` sets it."""
    release_name: str
    """Helm release name (default ``airflow``)."""
    chart_version: str
    """Official chart version (default :data:`values.CHART_VERSION`)."""
    chart_repo: str
    """Chart repository (default :data:`values.CHART_REPO`)."""
    image_repository: str
    """Airflow image repository (default ``apache/airflow``)."""
    image_tag: str
    """Pinned Airflow image tag (never ``latest``)."""
    airflow_version: str
    """Airflow version in the image (chart decisions)."""
    git_sync: GitSyncArgs | None
    """DAGs from Git; None (default) for DAGs baked in the image."""
    admin_password_object: str | None
    """Key Vault secret with the initial admin password (else a random one)."""
    git_token_object: str | None
    """Key Vault secret with the Git token (git-sync and the gitops DAG)."""
    key_vault_secrets_backend: bool
    """Airflow connections/variables from Key Vault (default True)."""
    replicas: Mapping[str, int]
    """Replica overrides per chart key (``scheduler``, ``apiServer``, ...)."""
    task_placement: PodPlacementArgs
    """Node selection + tolerations of the task pool (``scheduling.pool_placement``), for
    the KubernetesExecutor pod template and the pods DAGs launch."""
    gpu_placement: PodPlacementArgs | None
    """The GPU pool's placement when the stack has one (GPU tasks in DAGs)."""
    helm_values: Mapping[str, Any]
    """Escape hatch deep-merged last into the chart values."""
    sign_in: SignInArgs
    """Entra ID sign-in (FAB auth manager, no built-in admin); absent: the built-in admin."""
    gateway: GatewayClientArgs
    """The entrance's gateway, allowed to reach the API server through the mesh."""
    domains: Sequence[DomainTasksArgs]
    """Data domains whose task pods this Airflow launches (multi-namespace mode over
    exactly these namespaces, execution-API access, ``AIRFLOW_AKS_DOMAINS`` for DAGs)."""
    network_policies: NetworkPolicyArgs
    """Default-deny NetworkPolicies with the declared paths (the policy pack requires
    them); absent: none are created."""
    tasks_namespace: str
    """Namespace created for default task pods and the pods DAGs launch (default
    ``<namespace>-tasks``); never the control plane's namespace."""
    secret_versions: Mapping[str, pulumi.Input[str]]
    """Key Vault secret name -> its current version (``secretUriWithVersion``) for each
    secret the control plane reads once per process: their digest is a pod annotation, so
    a rotation restarts those pods."""


def _one_of(args: Mapping[str, Any], key: str, allowed: Sequence[str], default: str | None) -> str:
    value = args.get(key, default)
    if value not in allowed:
        raise ValueError(f"airflow args: {key} must be one of {', '.join(allowed)}; got {value!r}")
    return str(value)


def values_input(args: AirflowArgs) -> V.AirflowValuesInput:
    """Component args -> the pure builder's input (Outputs as placeholders)."""
    for key in (
        "namespace",
        "control_plane_identity_name",
        "tasks_identity_name",
        "key_vault_name",
        "storage_account_name",
    ):
        if not args.get(key):
            raise ValueError(f"airflow args: {key} is required")
    environment: V.Environment = (
        "prod" if _one_of(args, "environment", ENVIRONMENTS, None) == "prod" else "dev"
    )
    _one_of(args, "mesh_provider", PROVIDERS, "none")
    # what the mesh's sidecar needs from pods that mount no token (the mesh interface)
    token = detached_mesh(args.get("mesh_provider", "none")).sidecar_token()
    git = args.get("git_sync")
    if git is not None and not git.get("repo"):
        raise ValueError("airflow args: git_sync.repo is required when git_sync is set")
    git_sync = (
        V.GitSync(
            repo=git["repo"],
            branch=git.get("branch", "main"),
            sub_path=git.get("sub_path", "dags"),
            period=git.get("period", "60s"),
            username=git.get("username"),
        )
        if git
        else None
    )
    git_token = args.get("git_token_object")
    return V.AirflowValuesInput(
        environment=environment,
        namespace=args["namespace"],
        tenant_id=_TENANT,
        control_plane_client_id=_CP_CLIENT,
        tasks_client_id=_TASKS_CLIENT,
        secret_provider_class=spc_names(args)[0],
        tasks_secret_provider_class=spc_names(args)[1] if git_token else None,
        key_vault_name=_KV_NAME,
        storage_account=args["storage_account_name"],
        logs_container=args.get("logs_container", "airflow-logs"),
        release_name=args.get("release_name", "airflow"),
        key_vault_objects=V.KeyVaultObjects(
            admin_password=args.get("admin_password_object"), git_token=git_token
        ),
        mesh=V.MeshPodSettings(
            service_labels=dict(args.get("mesh_service_labels", {})),
            service_annotations=dict(args.get("mesh_service_annotations", {})),
            job_labels=dict(args.get("mesh_job_labels", {})),
            job_annotations=dict(args.get("mesh_job_annotations", {})),
            token_annotations=token.annotations() if token else {},
            token_volume=token.volume() if token else None,
        ),
        image_repository=args.get("image_repository", V.AIRFLOW_IMAGE_REPOSITORY),
        image_tag=args.get("image_tag", V.AIRFLOW_IMAGE_TAG),
        airflow_version=args.get("airflow_version", V.AIRFLOW_VERSION),
        git_sync=git_sync,
        key_vault_secrets_backend=args.get("key_vault_secrets_backend", True),
        replicas=dict(args.get("replicas", {})),
        task_placement=from_args(args.get("task_placement")),
        gpu_placement=from_args(gpu) if (gpu := args.get("gpu_placement")) else None,
        helm_values=dict(args.get("helm_values", {})),
        sign_in=(
            SignInSettings(tenant_id=_TENANT, client_id=_SIGN_IN_CLIENT, host=sign_in["host"])
            if (sign_in := args.get("sign_in"))
            else None
        ),
        task_namespaces=tuple(d["namespace"] for d in args.get("domains", ())),
        tasks_namespace=args.get("tasks_namespace"),
        secrets_checksum=_SECRETS_CHECKSUM if args.get("secret_versions") else None,
        domains={
            d["name"]: {k: v for k, v in d.items() if k != "name"} for d in args.get("domains", ())
        },
    )


def gateway_client(args: AirflowArgs) -> Client | None:
    """The mesh client of the entrance's gateway (in the Airflow namespace), if any."""
    gw = args.get("gateway")
    if gw is None:
        return None
    return Client(args["namespace"], gw["service_account"], dict(gw["labels"]))


def spc_names(args: AirflowArgs) -> tuple[str, str]:
    release = args.get("release_name", "airflow")
    return f"{release}-control-plane-kv", f"{release}-tasks-kv"


def task_secret_names(args: AirflowArgs) -> list[str]:
    """Secrets task pods may read: the configured ones plus the git-sync token, if any."""
    names = list(args.get("task_secret_names", ()))
    token = args.get("git_token_object")
    if token and token not in names:
        names.append(token)
    return names


def control_plane_secret_names(args: AirflowArgs) -> list[str]:
    """Secrets the control plane reads: what its SecretProviderClass mounts, plus the
    secrets backend's connections/variables."""
    names = values_input(args).key_vault_objects.control_plane_objects()
    names += [n for n in args.get("backend_secret_names", ()) if n not in names]
    return names


def secret_scopes(
    vault_id: pulumi.Input[str], names: Sequence[str], known: Mapping[str, pulumi.Input[str]]
) -> list[tuple[str, pulumi.Input[str]]]:
    """(logical suffix, scope) per secret: the Secret's own id when the stack creates it
    (so the grant waits for it), else ``<vault id>/secrets/<name>``."""
    return [
        (
            f"kv-{n}",
            known[n]
            if n in known
            else pulumi.Output.from_input(vault_id).apply(lambda v, n=n: f"{v}/secrets/{n}"),
        )
        for n in names
    ]


def task_secret_scopes(
    vault_id: pulumi.Input[str], args: AirflowArgs
) -> list[tuple[str, pulumi.Input[str]]]:
    """(logical suffix, scope) per task-readable secret: ``<vault id>/secrets/<name>``."""
    return secret_scopes(vault_id, task_secret_names(args), {})


def substitute(obj: Any, outputs: Mapping[str, pulumi.Input[str]]) -> Any:
    """Replace placeholders in string leaves by Outputs (only those leaves become Outputs)."""
    if isinstance(obj, dict):
        return {k: substitute(v, outputs) for k, v in obj.items()}
    if isinstance(obj, list):
        return [substitute(v, outputs) for v in obj]
    if isinstance(obj, str) and any(p in obj for p in outputs):
        used = [p for p in outputs if p in obj]

        def fill(vals: list[str], text: str = obj) -> str:
            for placeholder, value in zip(used, vals, strict=True):
                text = text.replace(placeholder, value)
            return text

        return pulumi.Output.all(*[outputs[p] for p in used]).apply(fill)
    return obj


def mesh_allow_rules(args: AirflowArgs, inp: V.AirflowValuesInput) -> list[AllowRule]:
    """Airflow's in-mesh paths (also the NetworkPolicy paths): see ``mesh_paths``."""
    domain_tasks = [
        Client(V.tasks_namespace(inp), inp.service_accounts.tasks),
        *(Client(d["namespace"], d["service_account"]) for d in args.get("domains", ())),
    ]
    return allow_rules(
        inp.release_name,
        args["namespace"],
        inp.service_accounts,
        gateway_client(args),
        domain_tasks,
    )


def network_manifests(
    args: AirflowArgs, inp: V.AirflowValuesInput, mesh: Mesh | None, values: Mapping[str, Any]
) -> list[Manifest]:
    """The Airflow namespace's NetworkPolicies (empty without ``network_policies``)."""
    np = args.get("network_policies")
    if np is None:
        return []
    cidrs = tuple(np.get("cluster_cidrs") or ())
    if not cidrs:
        raise ValueError("airflow args: network_policies.cluster_cidrs is required")
    gw = args.get("gateway")
    gateway = None
    if gw is not None:
        ports = tuple(gw.get("listener_ports") or ())
        if not ports:
            raise ValueError(
                "airflow args: gateway.listener_ports is required with network_policies"
            )
        gateway = GatewayPeer(
            labels=dict(gw["labels"]),
            listener_ports=ports,
            control_plane_namespace=gw.get("control_plane_namespace"),
            control_plane_ports=tuple(gw.get("control_plane_ports") or ()),
            health_ports=tuple(gw.get("health_ports") or ()),
        )
    net = AirflowNetwork(
        namespace=args["namespace"],
        release=inp.release_name,
        cluster_cidrs=cidrs,
        database_cidr=np.get("database_cidr"),
        mesh=mesh.network_needs() if mesh is not None else NetworkNeeds(),
        statsd=bool(values.get("statsd", {}).get("enabled", True)),  # helm_values may turn it off
        domain_namespaces=(
            V.tasks_namespace(inp),
            *(d["namespace"] for d in args.get("domains", ())),
        ),
        gateway=gateway,
        scrapers=tuple(
            Peer(s["namespace"], (), dict(s.get("labels", {})))
            for s in np.get("metrics_scrapers", ())
        ),
    )
    return airflow_network_policies(net, mesh_allow_rules(args, inp))


def control_plane_service_accounts(
    values: Mapping[str, Any], sas: V.ServiceAccountNames
) -> list[str]:
    """The control plane's ServiceAccounts, without the create-user Job's when the chart
    does not run that Job (sign-in on): no federated credential for a pod that never
    exists."""
    off = {
        sa
        for key, sa in sas.by_chart_key().items()
        if key in V.JOBS and values.get(key, {}).get("enabled") is False
    }
    return [sa for sa in sas.control_plane() if sa not in off]


def airflow_peer(inp: V.AirflowValuesInput) -> AirflowPeerArgs:
    """Who launches, serves and reads task pods (chart labels, our ServiceAccounts)."""
    release, sas = inp.release_name, inp.service_accounts
    return AirflowPeerArgs(
        namespace=inp.namespace,
        release=release,
        scheduler_service_account=sas.scheduler,
        api_server_service_account=sas.api_server,
        triggerer_service_account=sas.triggerer,
        api_server_labels={"component": "api-server", "release": release},
        api_server_port=API_SERVER_PORT,
        worker_labels={"component": "worker", "release": release},
        worker_logs_port=WORKER_LOGS_PORT,
        statsd_labels={"component": "statsd", "release": release},
        statsd_port=STATSD_INGEST_PORT,
    )


def tasks_namespace_manifests(
    args: AirflowArgs, inp: V.AirflowValuesInput, mesh: Mesh | None
) -> list[Manifest]:
    """The tasks namespace's NetworkPolicies: the data-domain ones (default deny; DNS, the
    API server, the execution API, statsd, HTTPS outside the cluster; live-log fetches
    from the API server), without any declared call."""
    np = args.get("network_policies")
    if np is None:
        return []
    needs = mesh.network_needs() if mesh is not None else NetworkNeeds()
    return task_namespace_policies(
        {
            "namespace": V.tasks_namespace(inp),
            "airflow": airflow_peer(inp),
            "cluster_cidrs": list(np.get("cluster_cidrs") or ()),
        },
        needs.control_plane_namespace,
        needs.control_plane_ports,
        needs.inbound_proxy_ports,
        needs.scrape_namespace,
        needs.scrape_ports,
        needs.telemetry_namespace,
        needs.telemetry_ports,
    )


def secrets_checksum(versions: Mapping[str, str]) -> str:
    """Digest of ``name=version`` pairs (order-free): changes when any secret is rotated."""
    import hashlib

    text = "\n".join(f"{k}={v}" for k, v in sorted(versions.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def chart_config_data(resources: Any, name: str) -> Any:
    """The ``data`` of the chart's rendered ConfigMap ``name`` (airflow.cfg and the pod
    template) among the Chart's ``resources`` output; ``{}`` while unknown (preview)."""
    maps = [r for r in resources or [] if isinstance(r, k8s.core.v1.ConfigMap)]
    if not maps:
        return {}

    def pick(pairs: list[Any]) -> dict[str, str]:
        for meta, data in pairs:
            if getattr(meta, "name", None) == name:
                return dict(data or {})
        return {}

    return pulumi.Output.all(*[pulumi.Output.all(m.metadata, m.data) for m in maps]).apply(pick)


def _depends_on(opts: pulumi.ResourceOptions | None) -> list[pulumi.Resource]:
    deps = opts.depends_on if opts else None
    if isinstance(deps, pulumi.Resource):
        return [deps]
    return [d for d in deps or [] if isinstance(d, pulumi.Resource)]  # type: ignore[union-attr]


class Airflow(pulumi.ComponentResource):
    """Apache Airflow 3 (KubernetesExecutor) from the official chart, keyless and meshed."""

    namespace: pulumi.Output[str]
    """The Airflow namespace."""
    control_plane_client_id: pulumi.Output[str]
    """Client id of the control plane's identity."""
    tasks_client_id: pulumi.Output[str]
    """Client id of the task pods' identity."""
    tasks_principal_id: pulumi.Output[str]
    """Principal id of the task pods' identity (grant DAG-specific roles to it)."""
    control_plane_identity_id: pulumi.Output[str]
    """ARM id of the control plane's user-assigned identity."""
    tasks_identity_id: pulumi.Output[str]
    """ARM id of the task pods' user-assigned identity."""
    service_accounts: dict[str, str]
    """Chart key -> ServiceAccount name."""
    values: dict[str, Any]
    """The chart values as built (placeholders for Azure-computed ids)."""
    chart_version: str
    """Pinned chart version."""

    def __init__(
        self,
        name: str,
        args: AirflowArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        mesh: Mesh | None = None,
    ) -> None:
        """``mesh`` (Python): the mesh object; its ``allow(...)`` creates the policies, after
        ``mesh.ready``. Without it, ``args["mesh_provider"]`` picks the policy kind and they
        wait for whatever the component's ``depends_on`` names (the mesh component)."""
        if mesh is not None:
            args = {**args, "mesh_provider": mesh.provider}
        inp = values_input(args)  # validates everything before any resource exists
        built = V.build_values(inp)
        if mesh is None and args.get("mesh_provider", "none") != "none":
            mesh = detached_mesh(args.get("mesh_provider", "none"), _depends_on(opts))
        netpols = network_manifests(args, inp, mesh, built)
        tasks_ns_name = V.tasks_namespace(inp)
        task_netpols = tasks_namespace_manifests(args, inp, mesh)
        super().__init__(type_token(Airflow), name, {}, opts)
        self.values = built
        self.chart_version = args.get("chart_version", V.CHART_VERSION)
        sas = inp.service_accounts
        self.service_accounts = sas.by_chart_key()
        ns_name = args["namespace"]

        def namespace(resource_name: str, namespace_name: str) -> k8s.core.v1.Namespace:
            return k8s.core.v1.Namespace(
                resource_name,
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=namespace_name,
                    labels={
                        **dict(args.get("mesh_namespace_labels", {})),
                        # Warn/audit (not enforce): mesh init containers may need NET_ADMIN.
                        "pod-security.kubernetes.io/warn": "restricted",
                        "pod-security.kubernetes.io/audit": "restricted",
                        "app.kubernetes.io/part-of": "airflow-aks",
                    },
                    annotations=dict(args.get("mesh_namespace_annotations", {})) or None,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

        ns = namespace(f"{name}-namespace", ns_name)
        # Task code runs here, never beside the control plane.
        tasks_ns = namespace(f"{name}-tasks-namespace", tasks_ns_name)

        def identity_args(
            namespace: str, identity_name: str, service_accounts: list[str], automount: list[str]
        ) -> WorkloadIdentityArgs:
            return WorkloadIdentityArgs(
                resource_group_name=args["resource_group_name"],
                location=args["location"],
                oidc_issuer_url=args["oidc_issuer_url"],
                namespace=namespace,
                labels={"app.kubernetes.io/part-of": "airflow-aks"},
                identity_name=identity_name,
                service_accounts=service_accounts,
                automount_token_for=automount,
            )

        control = WorkloadIdentity(
            f"{name}-control-plane",
            identity_args(
                ns_name,
                args["control_plane_identity_name"],
                # no ServiceAccount / federated credential for a Job the chart does not run
                control_plane_service_accounts(built, sas),
                # the scheduler launches task pods (KubernetesExecutor); the API server reads
                # running tasks' logs through the Kubernetes API (cncf.kubernetes 10.25.0
                # kubernetes_executor.py get_streaming_task_log); the triggerer watches
                # deferred KubernetesPodOperator pods (triggers/pod.py)
                [sas.scheduler, sas.api_server, sas.triggerer],
            ),
            opts=pulumi.ResourceOptions(parent=self),
            wait_for=[ns],
        )
        tasks = WorkloadIdentity(
            f"{name}-tasks",
            identity_args(
                tasks_ns_name,
                args["tasks_identity_name"],
                [sas.tasks],
                # KubernetesPodOperator tasks launch pods of their own
                [sas.tasks],
            ),
            opts=pulumi.ResourceOptions(parent=self),
            wait_for=[tasks_ns],
        )
        self.control_plane_client_id = control.client_id
        self.tasks_client_id = tasks.client_id
        self.tasks_principal_id = tasks.principal_id
        self.control_plane_identity_id = control.identity_id
        self.tasks_identity_id = tasks.identity_id

        vault_id = args.get("key_vault_id")
        logs_scope = args.get("logs_container_scope")
        kv, blob = "Key Vault Secrets User", "Storage Blob Data Contributor"
        # (identity, role, logical suffix, scope): no identity gets the whole vault, only
        # the secrets it mounts or reads (policy identity-no-vault-wide-read).
        wanted: list[tuple[str, WorkloadIdentity, str, str, pulumi.Input[str]]] = []
        if vault_id is not None:
            known = dict(args.get("key_vault_secret_ids", {}))
            wanted += [
                ("control-plane", control, kv, s, sc)
                for s, sc in secret_scopes(vault_id, control_plane_secret_names(args), known)
            ]
            wanted += [("tasks", tasks, kv, s, sc) for s, sc in task_secret_scopes(vault_id, args)]
        if logs_scope is not None:
            wanted += [
                (who, i, blob, "logs", logs_scope)
                for who, i in (("control-plane", control), ("tasks", tasks))
            ]
        grants: list[pulumi.Resource] = [
            role_assignment(
                f"{name}-{who}-{short}",
                principal_id=ident.principal_id,
                role=role,
                scope=scope,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for who, ident, role, short, scope in wanted
        ]

        cp_spc, tasks_spc = spc_names(args)
        objects = inp.key_vault_objects
        # (suffix, SecretProviderClass name, namespace, consumer identity, mounted objects)
        spc_plan = [
            ("control-plane", cp_spc, ns_name, ns, control, objects.control_plane_objects())
        ]
        if inp.tasks_secret_provider_class and objects.task_objects():
            spc_plan.append(
                ("tasks", tasks_spc, tasks_ns_name, tasks_ns, tasks, objects.task_objects())
            )
        spcs = [
            create_secret_provider_class(
                f"{name}-{suffix}-kv",
                secret_provider_class(
                    spc,
                    spc_ns,
                    identity.client_id,
                    args["key_vault_name"],
                    args["tenant_id"],
                    spc_objects,
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[spc_ns_res]),
            )
            for suffix, spc, spc_ns, spc_ns_res, identity, spc_objects in spc_plan
        ]

        placeholders: dict[str, pulumi.Input[str]] = {
            _CP_CLIENT: control.client_id,
            _TASKS_CLIENT: tasks.client_id,
            _TENANT: args["tenant_id"],
            _KV_NAME: args["key_vault_name"],
        }
        if sign_in := args.get("sign_in"):
            placeholders[_SIGN_IN_CLIENT] = sign_in["client_id"]
        if versions := args.get("secret_versions"):
            placeholders[_SECRETS_CHECKSUM] = pulumi.Output.all(
                **{k: pulumi.Output.from_input(v) for k, v in versions.items()}
            ).apply(secrets_checksum)
        chart_values = substitute(built, placeholders)
        # The identity components as a whole: ServiceAccounts *and* federated credentials
        # exist before any pod asks for a token.
        # Default deny is on in meshed namespaces: the allow-list exists before any pod.
        policies: list[pulumi.Resource] = [
            network_policy(
                f"{name}-netpol-{m['metadata']['name']}",
                m,
                pulumi.ResourceOptions(parent=self, depends_on=[ns]),
            )
            for m in netpols
        ]
        policies += [
            network_policy(
                f"{name}-tasks-netpol-{m['metadata']['name']}",
                m,
                pulumi.ResourceOptions(parent=self, depends_on=[tasks_ns]),
            )
            for m in task_netpols
        ]
        if (args.get("network_policies") or {}).get("cilium"):
            policies += [
                custom_resource(
                    f"{name}{suffix}-cnp-kube-apiserver",
                    cilium_api_server_egress(ns_of),
                    pulumi.ResourceOptions(parent=self, depends_on=[dep]),
                )
                for suffix, ns_of, dep in (("", ns_name, ns), ("-tasks", tasks_ns_name, tasks_ns))
            ]
        if mesh is not None:
            for rule in mesh_allow_rules(args, inp):
                policies += mesh.allow(
                    rule.name,
                    rule.namespace,
                    rule.target,
                    rule.clients,
                    pulumi.ResourceOptions(parent=self, depends_on=[ns]),
                )
            peer = airflow_peer(inp)
            for rule_name, target, clients in mesh_rules(
                {"namespace": tasks_ns_name, "airflow": peer}
            ):
                policies += mesh.allow(
                    f"{name}-tasks-{rule_name}",
                    tasks_ns_name,
                    target,
                    clients,
                    pulumi.ResourceOptions(parent=self, depends_on=[tasks_ns]),
                )
        # Launch / log-read / trigger-watch rights only where task pods run (the chart
        # renders none: allowPodLaunching and apiServer.allowPodLogReading are off).
        rbac = create_pod_rbac(
            f"{name}-tasks",
            inp.release_name,
            tasks_ns_name,
            pod_rbac_plan(airflow_peer(inp), tasks_ns_name, sas.tasks),
            {"app.kubernetes.io/part-of": "airflow-aks"},
            pulumi.ResourceOptions(parent=self, depends_on=[tasks_ns]),
        )
        deps: Sequence[pulumi.Resource] = [
            ns,
            tasks_ns,
            control,
            tasks,
            *spcs,
            *grants,
            *policies,
            *rbac,
        ]
        self.chart = k8s.helm.v4.Chart(
            f"{name}-chart",
            chart=V.CHART_NAME,
            version=self.chart_version,
            repository_opts=k8s.helm.v4.RepositoryOptsArgs(
                repo=args.get("chart_repo", V.CHART_REPO)
            ),
            name=inp.release_name,
            namespace=ns_name,
            values=chart_values,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(deps)),
        )
        # The executor's pod template mounts the chart's ConfigMap (airflow.cfg) in every
        # namespace a task pod runs in, but the chart renders it only in its own (pod-
        # template-file.kubernetes-helm-yaml, configmaps/configmap.yaml, stored commit
        # 00c4d758, read 2026-12-07): a copy of its rendered data
        # in each task namespace, updated with it.
        config_name = V.chart_config_map_name(inp.release_name)
        config_data = self.chart.resources.apply(lambda rs: chart_config_data(rs, config_name))
        for task_ns in V.task_pod_namespaces(inp):
            k8s.core.v1.ConfigMap(
                f"{name}-config-{task_ns}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=config_name,
                    namespace=task_ns,
                    labels={
                        "app.kubernetes.io/part-of": "airflow-aks",
                        "release": inp.release_name,
                    },
                ),
                data=config_data,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[tasks_ns, self.chart]),
            )
        self.namespace = ns.metadata.apply(lambda m: m.name or ns_name)
        self.register_outputs(
            {
                "namespace": self.namespace,
                "control_plane_client_id": self.control_plane_client_id,
                "tasks_client_id": self.tasks_client_id,
                "chart_version": self.chart_version,
            }
        )
