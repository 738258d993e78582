"""``airflow-aks:index:DataDomain`` — one team's isolated slice of the platform.

Each domain gets, as children of one component:

1. a meshed Namespace (labelled ``airflow-aks.io/domain``, annotated with its declared
   scope so reviewers and the policy pack see what it may hold);
2. a :class:`~airflow_aks.components.identity.WorkloadIdentity` — its own user-assigned
   identity, ServiceAccount and federated credential (subject from the ServiceAccount);
3. role assignments scoped to exactly its Key Vault secrets (``<vault>/secrets/<name>``)
   and Blob containers, plus write on the task-log container (Airflow 3 task pods upload
   their own logs); containers marked ``create`` are created here;
4. mesh authorization through the mesh interface: the Airflow API server may fetch live
   logs from its task pods, and only the declared callers of other domains reach the
   declared ports (everything else stays denied by the namespace's default);
5. NetworkPolicies: ``default-deny`` plus egress to DNS, the API server, the Airflow
   execution API, the mesh control plane, its declared in-mesh calls and hosts, and
   ingress from the Airflow API server (logs) and its declared callers;
6. a ResourceQuota and a LimitRange;
7. RBAC (:func:`pod_rbac_plan`): the Airflow scheduler may launch and watch pods here
   (KubernetesExecutor ``multi_namespace_mode`` with a namespace list, so no ClusterRole),
   the domain's own ServiceAccount may too (KubernetesPodOperator run from a task placed in
   the domain), the API server may read pod logs and the triggerer watch deferred pods.

Decisions (names, rules, manifests, grants) are pure functions below, tested table-driven.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi_azure_native import storage

from airflow_aks.components import netpol
from airflow_aks.components.identity import WorkloadIdentity, role_assignment
from airflow_aks.components.mesh import detached_mesh
from airflow_aks.components.mesh.base import (
    PROVIDERS,
    Client,
    Mesh,
    WorkloadSelector,
    custom_resource,
    meshed_namespace,
)
from airflow_aks.components.tokens import type_token

DOMAIN_LABEL = "airflow-aks.io/domain"
"""Label on a domain's Namespace, ServiceAccount and task pods: the domain's name."""
SCOPE_ANNOTATION = "airflow-aks.io/declared-scope"
"""Namespace annotation: JSON of what the domain's identity may hold (the policy pack
compares every grant of the identity with it)."""
DOMAIN_TAG = "airflow-aks-domain"
"""Azure tag on the domain's identity: the domain's name."""

SECRET_ROLES = {"read": "Key Vault Secrets User", "write": "Key Vault Secrets Officer"}
CONTAINER_ROLES = {"read": "Storage Blob Data Reader", "write": "Storage Blob Data Contributor"}
LOGS_ROLE = "Storage Blob Data Contributor"

# What the KubernetesExecutor and KubernetesPodOperator do with pods: create, watch,
# read logs, delete, adopt/patch; events for failure reasons; exec for the XCom sidecar.
# Same verbs as the official chart's pod-launcher Role (chart templates/rbac).
POD_LAUNCHER_RULES: tuple[dict[str, list[str]], ...] = (
    {
        "apiGroups": [""],
        "resources": ["pods"],
        "verbs": ["create", "list", "get", "patch", "watch", "delete"],
    },
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create", "get"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["list"]},
)
POD_LOG_READER_RULES: tuple[dict[str, list[str]], ...] = (
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "get", "watch"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get", "list"]},
)
"""The API server reads running tasks' logs through the Kubernetes API: the
KubernetesExecutor's ``get_task_log`` lists the pod by label selector and reads its log in
the pod's namespace (cncf.kubernetes 10.25.0 ``executors/kubernetes_executor.py``
``get_streaming_task_log``: ``list_namespaced_pod``, ``read_namespaced_pod_log``; read
2026-12-07)."""
POD_TRIGGER_WATCHER_RULES: tuple[dict[str, list[str]], ...] = (
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch", "delete"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["list"]},
)
"""The triggerer runs deferrable KubernetesPodOperator triggers: ``KubernetesPodTrigger``
reads the pod, its log and events, and deletes it on kill or cleanup (cncf.kubernetes
10.25.0 ``triggers/pod.py`` ``hook.get_pod`` / ``hook.delete_pod``, ``utils/pod_manager.py``
``read_logs`` / ``get_pod_events``; read 2026-12-07)."""

RbacPlan = list[tuple[str, tuple[dict[str, list[str]], ...], list[tuple[str, str]]]]


class SecretGrantArgs(TypedDict):
    """A Key Vault secret the domain may read (or write)."""

    name: str
    """Secret name in the platform vault."""
    access: str
    """``read`` (Key Vault Secrets User) or ``write`` (Key Vault Secrets Officer)."""


class ContainerGrantArgs(TypedDict):
    """A Blob container of the platform storage account the domain may use."""

    name: str
    """Container name."""
    access: str
    """``read`` (Storage Blob Data Reader) or ``write`` (Storage Blob Data Contributor)."""
    create: bool
    """Create the container here (else it must exist)."""


class MeshPeerArgs(TypedDict):
    """A workload by namespace and ServiceAccount (a mesh client)."""

    namespace: str
    """Namespace of the client pods."""
    service_account: str
    """ServiceAccount of the client pods (Linkerd's identity)."""


class InboundArgs(TypedDict):
    """Pods of this domain other domains may call."""

    labels: dict[str, str]
    """Pod labels of the target pods."""
    port: int
    """Container port."""
    callers: list[MeshPeerArgs]
    """The calling domains' task ServiceAccounts."""


class OutboundArgs(TypedDict):
    """Pods of another domain this domain may call."""

    namespace: str
    """Namespace of the target domain."""
    labels: dict[str, str]
    """Pod labels of the target pods."""
    port: int
    """Container port."""


class HostArgs(TypedDict):
    """An external destination, ``host`` a DNS name or an IPv4 address/CIDR."""

    host: str
    """DNS name, IPv4 address or CIDR."""
    port: int
    """TCP port."""


class QuotaArgs(TypedDict):
    """ResourceQuota hard limits and LimitRange defaults (Kubernetes quantities)."""

    requests_cpu: str
    """Sum of CPU requests."""
    requests_memory: str
    """Sum of memory requests."""
    limits_cpu: str
    """Sum of CPU limits."""
    limits_memory: str
    """Sum of memory limits."""
    pods: int
    """Number of pods."""
    default_request_cpu: str
    """CPU request of a container that states none."""
    default_request_memory: str
    """Memory request of a container that states none."""
    default_limit_cpu: str
    """CPU limit of a container that states none."""
    default_limit_memory: str
    """Memory limit of a container that states none."""


class AirflowPeerArgs(TypedDict, total=False):
    """The Airflow installation the domain's tasks belong to."""

    namespace: Required[str]
    """Airflow's namespace."""
    release: Required[str]
    """Helm release name (pod label ``release``)."""
    scheduler_service_account: Required[str]
    """Launches the KubernetesExecutor task pods."""
    api_server_service_account: Required[str]
    """Serves the execution API and reads task logs."""
    triggerer_service_account: str
    """Runs deferrable KubernetesPodOperator triggers (watches and deletes their pods)."""
    api_server_labels: Required[dict[str, str]]
    """Pod labels of the API server."""
    api_server_port: Required[int]
    """Execution API port."""
    worker_labels: Required[dict[str, str]]
    """Pod labels of KubernetesExecutor task pods."""
    worker_logs_port: Required[int]
    """Port the API server fetches live task logs from."""
    statsd_labels: dict[str, str]
    """Pod labels of the statsd exporter (tasks send it metrics over UDP); absent: none."""
    statsd_port: int
    """Its UDP ingest port."""


class DataDomainArgs(TypedDict, total=False):
    """Arguments of :class:`DataDomain`."""

    domain: Required[str]
    """Domain name (DNS label)."""
    namespace: Required[str]
    """Namespace created for the domain."""
    service_account: Required[str]
    """ServiceAccount of the domain's task pods."""
    resource_group_name: Required[pulumi.Input[str]]
    """Resource group of the identity."""
    location: Required[pulumi.Input[str]]
    """Azure region of the identity."""
    identity_name: Required[str]
    """Azure name of the domain's user-assigned identity."""
    oidc_issuer_url: Required[pulumi.Input[str]]
    """The cluster's OIDC issuer (federated credential)."""
    key_vault_id: Required[pulumi.Input[str]]
    """ARM id of the platform vault (secret scopes hang below it)."""
    storage_account_id: Required[pulumi.Input[str]]
    """ARM id of the platform storage account (container scopes hang below it)."""
    storage_account_name: Required[pulumi.Input[str]]
    """Name of that account (containers created here)."""
    logs_container: Required[str]
    """Name of the task-log container (write, for the task pods' remote logs)."""
    airflow: Required[AirflowPeerArgs]
    """Who launches, serves and reads the domain's task pods."""
    quota: Required[QuotaArgs]
    """ResourceQuota and LimitRange."""
    cluster_cidrs: Required[list[str]]
    """Pod, service and node ranges: excluded from "outside the cluster" egress."""
    cilium: bool
    """The cluster enforces policy with Cilium: also a CiliumNetworkPolicy allowing the
    API server entity (``netpol.cilium_api_server_egress``)."""
    secrets: list[SecretGrantArgs]
    """Key Vault secrets the identity may read/write (exactly these)."""
    containers: list[ContainerGrantArgs]
    """Blob containers the identity may read/write (exactly these)."""
    inbound: list[InboundArgs]
    """Declared calls from other domains into this one."""
    outbound: list[OutboundArgs]
    """Declared calls from this domain into others."""
    hosts: list[HostArgs]
    """Declared external destinations."""
    tags: dict[str, str]
    """Azure tags of the identity."""
    mesh_provider: str
    """A registered mesh (``components/mesh/registry.py``) or ``none`` (default): the
    mesh whose authorization objects the domain gets. From Python, passing ``mesh=`` to
    :class:`DataDomain` sets it."""


# ---------------------------------------------------------------- pure decisions


def validate(args: DataDomainArgs) -> None:
    """Refuse what the types cannot say (from other languages args arrive unchecked)."""
    for key in ("domain", "namespace", "service_account", "identity_name", "logs_container"):
        if not args.get(key):
            raise ValueError(f"domain args: {key} is required")
    for kind, grants, roles in (
        ("secrets", args.get("secrets", []), SECRET_ROLES),
        ("containers", args.get("containers", []), CONTAINER_ROLES),
    ):
        for g in grants:
            if g["access"] not in roles:
                raise ValueError(
                    f"domain {args['domain']!r}: {kind} {g['name']!r} access must be read or "
                    f"write, got {g['access']!r}"
                )
    if args.get("mesh_provider", "none") not in PROVIDERS:
        raise ValueError(f"domain args: mesh_provider must be one of {', '.join(PROVIDERS)}")


def declared_scope(args: DataDomainArgs) -> dict[str, dict[str, str] | str]:
    """What the identity may hold: secret -> access, container -> access, log container."""
    return {
        "secrets": {s["name"]: s["access"] for s in args.get("secrets", [])},
        "containers": {c["name"]: c["access"] for c in args.get("containers", [])},
        "logs": args["logs_container"],
    }


def grant_plan(args: DataDomainArgs) -> list[tuple[str, str, str, str]]:
    """``(suffix, role, kind, name)`` per role assignment: one per secret and container,
    and the log container; ``kind`` is ``secret`` or ``container``."""
    out = [
        (f"kv-{s['name']}", SECRET_ROLES[s["access"]], "secret", s["name"])
        for s in args.get("secrets", [])
    ]
    out += [
        (f"blob-{c['name']}", CONTAINER_ROLES[c["access"]], "container", c["name"])
        for c in args.get("containers", [])
    ]
    out.append(("logs", LOGS_ROLE, "container", args["logs_container"]))
    return out


def secret_scope(vault_id: str, name: str) -> str:
    return f"{vault_id}/secrets/{name}"


def container_scope(account_id: str, name: str) -> str:
    return f"{account_id}/blobServices/default/containers/{name}"


MeshRule = tuple[str, WorkloadSelector, tuple[Client, ...]]


class DomainCallArgs(TypedDict, total=False):
    """What :func:`mesh_rules` reads: a subset of :class:`DataDomainArgs` (any
    DataDomainArgs fits), so a namespace that only runs tasks (Airflow's tasks namespace)
    gets the same rules without a whole domain's args."""

    namespace: Required[str]
    airflow: Required[AirflowPeerArgs]
    inbound: list[InboundArgs]


class DomainTrafficArgs(DomainCallArgs, total=False):
    """What :func:`network_policies` reads (also a subset of :class:`DataDomainArgs`)."""

    cluster_cidrs: Required[list[str]]
    outbound: list[OutboundArgs]
    hosts: list[HostArgs]


def mesh_rules(args: DomainCallArgs) -> list[MeshRule]:
    """``(rule name, target, clients)`` in the domain namespace: API server -> task-pod
    logs, and each declared inbound call (one rule per target port and labels)."""
    af = args["airflow"]
    api = Client(af["namespace"], af["api_server_service_account"], af["api_server_labels"])
    rules: list[MeshRule] = [
        (
            "airflow-worker-logs",
            WorkloadSelector(af["worker_labels"], af["worker_logs_port"], "worker-logs"),
            (api,),
        )
    ]
    for i, inbound in enumerate(args.get("inbound", [])):
        clients = tuple(Client(c["namespace"], c["service_account"]) for c in inbound["callers"])
        rules.append(
            (
                f"domain-inbound-{i}",
                WorkloadSelector(inbound["labels"], inbound["port"], f"inbound-{i}"),
                clients,
            )
        )
    return rules


def network_policies(
    args: DomainTrafficArgs,
    control_plane_namespace: str | None = None,
    control_plane_ports: Sequence[int] = (),
    inbound_proxy_ports: Sequence[int] = (),
    scrape_namespace: str | None = None,
    scrape_ports: Sequence[int] = (),
    telemetry_namespace: str | None = None,
    telemetry_ports: Sequence[int] = (),
) -> list[netpol.Manifest]:
    """``default-deny``, ``allow-egress`` and ``allow-ingress`` for the domain namespace
    (mesh needs from the mesh interface)."""
    ns, af = args["namespace"], args["airflow"]
    cidrs = args["cluster_cidrs"]
    egress = [
        netpol.dns_rule(),
        netpol.external_rule(netpol.outside_cluster(cidrs, [netpol.API_SERVER_PORT])),
        netpol.peer_rule(
            netpol.with_proxy_ports(
                netpol.Peer(af["namespace"], (af["api_server_port"],), af["api_server_labels"]),
                inbound_proxy_ports,
            ),
            "egress",
        ),
    ]
    if (statsd := af.get("statsd_labels")) and (port := af.get("statsd_port")):
        statsd_peer = netpol.Peer(af["namespace"], (port,), statsd, protocol="UDP")
        egress.append(netpol.peer_rule(statsd_peer, "egress"))
    if control_plane_namespace and control_plane_ports:
        egress.append(
            netpol.peer_rule(
                netpol.Peer(control_plane_namespace, tuple(control_plane_ports)), "egress"
            )
        )
    if telemetry_namespace and telemetry_ports:  # the mesh's own trace collector
        egress.append(
            netpol.peer_rule(netpol.Peer(telemetry_namespace, tuple(telemetry_ports)), "egress")
        )
    for out in args.get("outbound", []):
        peer = netpol.Peer(out["namespace"], (out["port"],), out["labels"])
        egress.append(
            netpol.peer_rule(netpol.with_proxy_ports(peer, inbound_proxy_ports), "egress")
        )
    for h in args.get("hosts", []):
        if _is_cidr(h["host"]):
            cidr = h["host"] if "/" in h["host"] else f"{h['host']}/32"
            egress.append(netpol.external_rule(netpol.External(cidr, (h["port"],))))
        else:
            egress.append(netpol.external_rule(netpol.outside_cluster(cidrs, [h["port"]])))
    logs_from = netpol.Peer(
        af["namespace"], (af["worker_logs_port"], *inbound_proxy_ports), af["api_server_labels"]
    )
    ingress = [netpol.peer_rule(logs_from, "ingress")]
    if scrape_namespace and scrape_ports:
        ports = (*scrape_ports, *inbound_proxy_ports)  # a meshed scraper dials the proxy port
        ingress.append(netpol.peer_rule(netpol.Peer(scrape_namespace, ports), "ingress"))
    for inbound in args.get("inbound", []):
        for caller in inbound["callers"]:
            ports = (inbound["port"], *inbound_proxy_ports)
            ingress.append(netpol.peer_rule(netpol.Peer(caller["namespace"], ports), "ingress"))
    return [
        netpol.default_deny(ns),
        netpol.allow("allow-egress", ns, egress=egress),
        netpol.allow("allow-ingress", ns, ingress=ingress),
    ]


def _is_cidr(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.IPv4Network(host, strict=True)
    except ValueError:
        return False
    return True


def quota_spec(q: QuotaArgs) -> dict[str, dict[str, str]]:
    return {
        "hard": {
            "requests.cpu": q["requests_cpu"],
            "requests.memory": q["requests_memory"],
            "limits.cpu": q["limits_cpu"],
            "limits.memory": q["limits_memory"],
            "pods": str(q["pods"]),
        }
    }


def limit_range_spec(q: QuotaArgs) -> dict[str, list[dict[str, object]]]:
    return {
        "limits": [
            {
                "type": "Container",
                "defaultRequest": {
                    "cpu": q["default_request_cpu"],
                    "memory": q["default_request_memory"],
                },
                "default": {"cpu": q["default_limit_cpu"], "memory": q["default_limit_memory"]},
            }
        ]
    }


def inbound_calls(
    domains: Sequence[tuple[str, str, str, Sequence[tuple[str, Mapping[str, str], int]]]],
) -> dict[str, list[InboundArgs]]:
    """Per target domain, its inbound calls grouped by (labels, port), from
    ``(name, namespace, service account, [(target domain, labels, port)])`` per domain.

    One pass over every declared call (linear): a rule per target port, not per caller,
    since Linkerd allows one Server per pod port."""
    grouped: dict[str, dict[tuple[tuple[tuple[str, str], ...], int], InboundArgs]] = {}
    for _name, namespace, sa, calls in domains:
        for target, labels, port in calls:
            key = (tuple(sorted(labels.items())), port)
            slot = grouped.setdefault(target, {}).setdefault(
                key, InboundArgs(labels=dict(labels), port=port, callers=[])
            )
            caller = MeshPeerArgs(namespace=namespace, service_account=sa)
            if caller not in slot["callers"]:
                slot["callers"].append(caller)
    return {target: list(by_key.values()) for target, by_key in grouped.items()}


def _snake(rule: Mapping[str, list[str]]) -> dict[str, list[str]]:
    return {"api_groups": rule["apiGroups"], "resources": rule["resources"], "verbs": rule["verbs"]}


def pod_rbac_plan(af: AirflowPeerArgs, namespace: str, launcher_sa: str) -> RbacPlan:
    """``(role name, rules, [(subject namespace, ServiceAccount)])`` for a namespace where task
    pods run: the scheduler launches executor pods, the namespace's own task ServiceAccount
    launches KubernetesPodOperator pods (the operator runs inside a task pod of this
    namespace: its launcher is that pod's ServiceAccount), the API server reads live logs,
    the triggerer watches deferred pods. Nothing here is granted in Airflow's namespace."""
    plan: RbacPlan = [
        (
            "pod-launcher",
            POD_LAUNCHER_RULES,
            [(af["namespace"], af["scheduler_service_account"]), (namespace, launcher_sa)],
        ),
        (
            "pod-log-reader",
            POD_LOG_READER_RULES,
            [(af["namespace"], af["api_server_service_account"])],
        ),
    ]
    if triggerer := af.get("triggerer_service_account"):
        plan.append(
            ("pod-trigger-watcher", POD_TRIGGER_WATCHER_RULES, [(af["namespace"], triggerer)])
        )
    return plan


def create_pod_rbac(
    name: str,
    release: str,
    namespace: str,
    plan: RbacPlan,
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> list[pulumi.Resource]:
    """A Role and its RoleBinding per :func:`pod_rbac_plan` entry (``<name>-<role>``)."""
    out: list[pulumi.Resource] = []
    for role_name, rbac_rules, subjects in plan:
        role_k8s_name = f"{release}-{role_name}"
        rmeta = k8s.meta.v1.ObjectMetaArgs(
            name=role_k8s_name, namespace=namespace, labels=dict(labels)
        )
        role = k8s.rbac.v1.Role(
            f"{name}-{role_name}",
            metadata=rmeta,
            rules=[k8s.rbac.v1.PolicyRuleArgs(**_snake(r)) for r in rbac_rules],
            opts=opts,
        )
        binding = k8s.rbac.v1.RoleBinding(
            f"{name}-{role_name}",
            metadata=rmeta,
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="Role", name=role_k8s_name
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=n, namespace=s_ns)
                for s_ns, n in subjects
            ],
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[role])),
        )
        out += [role, binding]
    return out


# ---------------------------------------------------------------------- component


class DataDomain(pulumi.ComponentResource):
    """A team's namespace, identity, scoped grants, mesh rules, network policy, quota and
    RBAC."""

    namespace: pulumi.Output[str]
    """The domain's namespace."""
    service_account: str
    """ServiceAccount of the domain's task pods."""
    client_id: pulumi.Output[str]
    """Client id of the domain's identity."""
    principal_id: pulumi.Output[str]
    """Principal id of the domain's identity."""

    def __init__(
        self,
        name: str,
        args: DataDomainArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        mesh: Mesh | None = None,
    ) -> None:
        """``mesh`` (Python): the mesh object. Without it, ``args["mesh_provider"]`` picks the
        policy kind and they wait for the component's ``depends_on`` (the mesh component)."""
        # Decisions first: a bad rule or manifest raises before anything registers.
        validate(args)
        if mesh is None:
            deps = opts.depends_on if opts else None
            ready = [deps] if isinstance(deps, pulumi.Resource) else list(deps or [])  # type: ignore[arg-type]
            mesh = detached_mesh(args.get("mesh_provider", "none"), ready)
        rules = mesh_rules(args)
        needs = mesh.network_needs()
        policies = network_policies(
            args,
            needs.control_plane_namespace,
            needs.control_plane_ports,
            needs.inbound_proxy_ports,
            needs.scrape_namespace,
            needs.scrape_ports,
            needs.telemetry_namespace,
            needs.telemetry_ports,
        )
        grants = grant_plan(args)
        super().__init__(type_token(DataDomain), name, {}, opts)
        domain, ns_name = args["domain"], args["namespace"]
        labels = {DOMAIN_LABEL: domain, "app.kubernetes.io/part-of": "airflow-aks"}

        def child(*deps: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, depends_on=list(deps))

        ns = meshed_namespace(
            mesh,
            f"{name}-namespace",
            ns_name,
            child(),
            labels={
                **labels,
                "pod-security.kubernetes.io/warn": "restricted",
                "pod-security.kubernetes.io/audit": "restricted",
            },
            annotations={SCOPE_ANNOTATION: json.dumps(declared_scope(args), sort_keys=True)},
        )
        sa = args["service_account"]
        identity = WorkloadIdentity(
            f"{name}-identity",
            {
                "resource_group_name": args["resource_group_name"],
                "location": args["location"],
                "identity_name": args["identity_name"],
                "oidc_issuer_url": args["oidc_issuer_url"],
                "namespace": ns_name,
                "service_accounts": [sa],
                "labels": labels,
                # KubernetesPodOperator tasks launch pods of their own
                "automount_token_for": [sa],
                "tags": {**args.get("tags", {}), DOMAIN_TAG: domain},
            },
            child(),
            wait_for=[ns],
        )

        vault_id = pulumi.Output.from_input(args["key_vault_id"])
        account_id = pulumi.Output.from_input(args["storage_account_id"])
        created: dict[str, storage.BlobContainer] = {}
        for c in args.get("containers", []):
            if c["create"]:
                created[c["name"]] = storage.BlobContainer(
                    f"{name}-container-{c['name']}",
                    account_name=args["storage_account_name"],
                    resource_group_name=args["resource_group_name"],
                    container_name=c["name"],
                    public_access=storage.PublicAccess.NONE,
                    opts=child(),
                )
        for suffix, role, kind, target in grants:
            if kind == "secret":
                scope = vault_id.apply(lambda v, t=target: secret_scope(v, t))
            elif target in created:
                scope = created[target].id
            else:
                scope = account_id.apply(lambda a, t=target: container_scope(a, t))
            role_assignment(
                f"{name}-{suffix}",
                principal_id=identity.principal_id,
                role=role,
                scope=scope,
                opts=child(),
            )

        for rule_name, target, clients in rules:
            mesh.allow(rule_name, ns_name, target, clients, child(ns))
        for m in policies:
            netpol.network_policy(f"{name}-netpol-{m['metadata']['name']}", m, child(ns))
        if args.get("cilium"):
            custom_resource(
                f"{name}-cnp-kube-apiserver", netpol.cilium_api_server_egress(ns_name), child(ns)
            )

        q = args["quota"]
        meta = k8s.meta.v1.ObjectMetaArgs(name=domain, namespace=ns_name, labels=labels)
        quota: Any = quota_spec(q)
        limits: Any = limit_range_spec(q)
        k8s.core.v1.ResourceQuota(f"{name}-quota", metadata=meta, spec=quota, opts=child(ns))
        k8s.core.v1.LimitRange(f"{name}-limits", metadata=meta, spec=limits, opts=child(ns))

        create_pod_rbac(
            name,
            args["airflow"]["release"],
            ns_name,
            pod_rbac_plan(args["airflow"], ns_name, sa),
            labels,
            child(ns),
        )

        self.namespace = ns.metadata.apply(lambda m: m.name or ns_name)
        self.service_account = sa
        self.client_id = identity.client_id
        self.principal_id = identity.principal_id
        self.register_outputs(
            {
                "namespace": self.namespace,
                "service_account": self.service_account,
                "client_id": self.client_id,
                "principal_id": self.principal_id,
            }
        )
