"""Service mesh and Airflow chart rules.

Mesh rules are stack rules: whether a namespace or a Job is right depends on which mesh
(if any) the stack installs and how its control plane is configured.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._core import (
    ADVISORY,
    CRON_JOB,
    CUSTOM_RESOURCE,
    HELM_TYPES,
    JOB,
    MANDATORY,
    NAMESPACE,
    POD,
    SECRET,
    SERVICE_ACCOUNT,
    UNKNOWN,
    Context,
    Rule,
    as_dict,
    as_list,
    dig,
    get,
    is_false,
    is_true,
    resource_rule,
    show,
    stack_rule,
    walk,
)
from .kubernetes import chart_owned, is_helm, pod_metadata

RULES: list[Rule] = []

LINKERD_INJECT = "linkerd.io/inject"
LINKERD_NATIVE = "config.linkerd.io/proxy-enable-native-sidecar"
KUMA_INJECT = "kuma.io/sidecar-injection"

SYSTEM_NAMESPACES = {
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "gatekeeper-system",
    "flux-system",
    "cert-manager",
    "linkerd",
    "linkerd-cni",
    "kuma-system",
    "calico-system",
    "tigera-operator",
    "aks-command",
    "app-routing-system",
    "gpu-resources",  # node-level NVIDIA device plugin (AKS GPU doc's namespace)
}
# Kuma marks no system namespace by label (the chart finds it by name; the old
# kuma.io/system-namespace label is used nowhere since Kuma 2.11, kumahq/kuma UPGRADE.md).
SYSTEM_NAMESPACE_LABELS = (
    "linkerd.io/is-control-plane",
    "linkerd.io/control-plane-ns",
)


# ------------------------------------------------------------------ mesh discovery


@dataclass(frozen=True)
class MeshInfo:
    """The mesh a stack installs and whether its proxies run as native sidecars."""

    kind: Literal["linkerd", "kuma"]
    native_sidecars: bool


def chart_name(props: Mapping[str, Any]) -> str:
    """``airflow`` for ``airflow``, ``apache-airflow/airflow`` or ``oci://.../airflow``."""
    return str(props.get("chart", "")).rstrip("/").rsplit("/", 1)[-1].lower()


def _kuma_version_native(version: Any) -> bool:
    """Kuma turns native sidecars (``experimental.sidecarContainers``) on by default in 2.14."""
    m = re.match(r"^v?(\d+)\.(\d+)", str(version or ""))
    return bool(m) and (int(m.group(1)), int(m.group(2))) >= (2, 14)


def detect_mesh(resources: list[dict[str, Any]]) -> MeshInfo | None:
    kind: Literal["linkerd", "kuma"] | None = None
    native = False
    for r in resources:
        t, props = str(r.get("type", "")), as_dict(r.get("inputs"))
        name = chart_name(props) if t in HELM_TYPES else ""
        if t == "airflow-aks:index:Linkerd" or name == "linkerd-control-plane":
            kind = "linkerd"
            if name:
                native = native or is_true(get(props, "values.proxy.nativeSidecar"))
        elif t == "airflow-aks:index:Kuma" or name == "kuma":
            kind = "kuma"
            if name:
                flag = get(props, "values.experimental.sidecarContainers")
                native = (
                    native
                    or is_true(flag)
                    or (not is_false(flag) and _kuma_version_native(props.get("version")))
                )
    return MeshInfo(kind, native) if kind else None


def _k8s_name(r: Mapping[str, Any]) -> str:
    name = get(r.get("inputs"), "metadata.name")
    return name if isinstance(name, str) and name and name != UNKNOWN else str(r.get("name"))


def _injects(labels: Mapping[str, Any], annotations: Mapping[str, Any]) -> bool | None:
    """True/False when labels/annotations switch injection on/off; None when silent."""
    for source in (annotations, labels):
        for key in (LINKERD_INJECT, KUMA_INJECT):
            value = source.get(key)
            if isinstance(value, str):
                if value.lower() in ("enabled", "true", "ingress"):
                    return True
                if value.lower() in ("disabled", "false"):
                    return False
    return None


def _namespaces(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {_k8s_name(r): r for r in resources if r.get("type") == NAMESPACE}


def is_app_namespace(name: str, r: Mapping[str, Any]) -> bool:
    labels = as_dict(get(r.get("inputs"), "metadata.labels"))
    return name not in SYSTEM_NAMESPACES and not any(k in labels for k in SYSTEM_NAMESPACE_LABELS)


def meshed_namespaces(resources: list[dict[str, Any]]) -> set[str]:
    out = set()
    for name, r in _namespaces(resources).items():
        meta = as_dict(get(r.get("inputs"), "metadata"))
        if _injects(as_dict(meta.get("labels")), as_dict(meta.get("annotations"))):
            out.add(name)
    return out


@stack_rule(
    RULES,
    name="mesh-app-namespaces-injected",
    level=MANDATORY,
    mirrors="Linkerd/Kuma zero-trust guidance",
    description="""When the stack installs a mesh, every application namespace it creates
    must enable sidecar injection (linkerd.io/inject or kuma.io/sidecar-injection), so
    traffic between Airflow components is mutually authenticated and encrypted; an
    un-meshed namespace silently falls back to plaintext. System namespaces are exempt.""",
)
def app_namespaces_injected(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    mesh = detect_mesh(resources)
    if mesh is None:
        return []
    meshed = meshed_namespaces(resources)
    return [
        (str(r.get("urn")), f"namespace {name!r} is not injected by the {mesh.kind} mesh")
        for name, r in _namespaces(resources).items()
        if is_app_namespace(name, r) and name not in meshed
    ]


@stack_rule(
    RULES,
    name="mesh-mtls-strict",
    level=MANDATORY,
    mirrors="Kuma Mesh mTLS STRICT; Linkerd automatic mTLS",
    description="""The mesh must enforce mTLS: Linkerd does for every meshed pod; Kuma only
    when a Mesh resource enables a CA backend in STRICT mode (PERMISSIVE still accepts
    plaintext, and Kuma's default mesh has no mTLS at all).""",
)
def mtls_strict(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    mesh = detect_mesh(resources)
    if mesh is None or mesh.kind != "kuma":
        return []
    meshes = [
        r
        for r in resources
        if (r.get("type") == CUSTOM_RESOURCE and get(r.get("inputs"), "kind") == "Mesh")
        or (
            str(r.get("type", "")).startswith("kubernetes:kuma.io/")
            and str(r.get("type", "")).endswith(":Mesh")
        )
    ]
    if not meshes:
        return [("", "Kuma is installed but the stack creates no Mesh with STRICT mTLS")]
    out = []
    for r in meshes:
        mtls = as_dict(get(r.get("inputs"), "spec.mtls"))
        enabled = mtls.get("enabledBackend")
        backend = next(
            (
                as_dict(b)
                for b in as_list(mtls.get("backends"))
                if as_dict(b).get("name") == enabled
            ),
            {},
        )
        if not enabled or str(backend.get("mode", "")).upper() != "STRICT":
            out.append(
                (str(r.get("urn")), f"Mesh mTLS is not STRICT (enabledBackend {show(enabled)})")
            )
    return out


AIRFLOW_JOB_COMPONENTS = ("migrateDatabaseJob", "createUserJob", "cleanup", "databaseCleanup")


def _airflow_run_to_completion(
    values: Mapping[str, Any],
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """``(component, labels, annotations)`` of the pods the Airflow chart runs to completion."""
    base_ann = dict(as_dict(values.get("airflowPodAnnotations")))
    base_lab = dict(as_dict(values.get("labels")))
    comps = (
        [("workers", "executor task pods")]
        if "Kubernetes" in str(values.get("executor", ""))
        else []
    )
    comps += [(c, c) for c in AIRFLOW_JOB_COMPONENTS]
    for comp, label in comps:
        cv = as_dict(values.get(comp))
        if comp != "workers" and (
            is_false(cv.get("enabled"))
            or (comp in ("cleanup", "databaseCleanup") and not is_true(cv.get("enabled")))
        ):
            continue
        ann = {**base_ann, **as_dict(cv.get("annotations")), **as_dict(cv.get("podAnnotations"))}
        lab = {**base_lab, **as_dict(cv.get("labels"))}
        if comp == "workers":
            # chart >= 1.20 reads workers.kubernetes.* first (research/charts.md, 2026-12)
            kv = as_dict(cv.get("kubernetes"))
            ann.update(as_dict(kv.get("podAnnotations")))
            lab.update(as_dict(kv.get("labels")))
        yield label, lab, ann


def _finishes(
    mesh: MeshInfo, ns_meshed: bool, labels: Mapping[str, Any], ann: Mapping[str, Any]
) -> bool:
    injected = _injects(labels, ann)
    if injected is False or (injected is None and not ns_meshed):
        return True
    if mesh.kind == "linkerd":
        pod_native = ann.get(LINKERD_NATIVE)
        if isinstance(pod_native, str):
            return pod_native.lower() == "true"
    return mesh.native_sidecars


@stack_rule(
    RULES,
    name="mesh-jobs-can-finish",
    level=MANDATORY,
    mirrors="linkerd2 #1869/#8006, apache/airflow #40359",
    description="""Run-to-completion pods (Jobs, CronJobs, bare Pods, Airflow task pods and
    migration jobs) in a meshed namespace must run their proxy as a native sidecar or opt
    out of injection: with a classic sidecar the proxy keeps the pod alive forever and
    the Job never completes (Helm/Pulumi waits time out, task slots leak).""",
)
def jobs_can_finish(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    mesh = detect_mesh(resources)
    if mesh is None:
        return []
    meshed = meshed_namespaces(resources)
    out = []
    for r in resources:
        t, props = str(r.get("type", "")), as_dict(r.get("inputs"))
        urn = str(r.get("urn"))
        if t in (JOB, CRON_JOB, POD):
            ns = str(get(props, "metadata.namespace", ""))
            meta = pod_metadata(props)
            labels, ann = as_dict(meta.get("labels")), as_dict(meta.get("annotations"))
            if not _finishes(mesh, ns in meshed, labels, ann):
                out.append(
                    (
                        urn,
                        f"{t.rsplit(':', 1)[-1]} would never finish behind a classic "
                        f"{mesh.kind} sidecar",
                    )
                )
        elif t in HELM_TYPES and chart_name(props) == "airflow":
            ns = str(props.get("namespace", ""))
            for comp, labels, ann in _airflow_run_to_completion(as_dict(props.get("values"))):
                if not _finishes(mesh, ns in meshed, labels, ann):
                    out.append(
                        (
                            urn,
                            f"Airflow {comp} would never finish behind a classic "
                            f"{mesh.kind} sidecar",
                        )
                    )
    return out


# ------------------------------------------------------------------ Airflow chart


def _is_airflow(props: Mapping[str, Any]) -> bool:
    return is_helm(props) and chart_name(props) == "airflow"


def _values(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return as_dict(props.get("values"))


@resource_rule(
    RULES,
    name="airflow-kubernetes-executor",
    level=MANDATORY,
    mirrors="Microsoft Learn: Airflow on AKS",
    types=HELM_TYPES,
    description="""The Airflow chart must use the KubernetesExecutor: every task runs in its
    own pod under its own ServiceAccount (per-task workload identity, no shared worker
    holding every credential), no Celery broker with a password, and the tasks pool scales
    to zero.""",
)
def kubernetes_executor(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not _is_airflow(props):
        return []
    executor = _values(props).get("executor")
    primary = str(executor).split(",")[0].strip() if isinstance(executor, str) else executor
    if primary != "KubernetesExecutor":
        return [f"values.executor must be KubernetesExecutor (is {show(executor)})"]
    return []


def _airflow_config(values: Mapping[str, Any], section: str, key: str) -> Any:
    value = dig(values, "config", section, key)
    if value is not None:
        return value
    env_name = f"AIRFLOW__{section.upper()}__{key.upper()}"
    for env in as_list(values.get("env")):
        if as_dict(env).get("name") == env_name:
            return as_dict(env).get("value")
    return None


@resource_rule(
    RULES,
    name="airflow-remote-logging",
    level=ADVISORY,
    mirrors="Airflow production guide (remote logging)",
    types=HELM_TYPES,
    description="""Remote logging to Blob storage must be on (config.logging.remote_logging
    with a remote_base_log_folder): KubernetesExecutor task pods are deleted after they
    finish, taking their logs with them. Advisory: operations, not a security boundary.""",
)
def remote_logging(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not _is_airflow(props):
        return []
    values = _values(props)
    out = []
    if not is_true(_airflow_config(values, "logging", "remote_logging")):
        out.append("config.logging.remote_logging is not True")
    elif not _airflow_config(values, "logging", "remote_base_log_folder"):
        out.append("config.logging.remote_base_log_folder is not set")
    return out


@resource_rule(
    RULES,
    name="airflow-chart-secrets-referenced",
    level=MANDATORY,
    mirrors="Airflow chart production guide",
    types=HELM_TYPES,
    description="""The Airflow chart must reference pre-created Secrets for the metadata
    connection, fernet key, API secret key and JWT secret: left unset, the chart puts the
    database password in values or invents random keys on every render, which breaks
    encrypted connections and logs every user out on each deploy.""",
)
def chart_secrets_referenced(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not _is_airflow(props):
        return []
    values = _values(props)
    required = {
        "data.metadataSecretName": get(values, "data.metadataSecretName"),
        "fernetKeySecretName": values.get("fernetKeySecretName"),
        "apiSecretKeySecretName": values.get("apiSecretKeySecretName")
        or values.get("webserverSecretKeySecretName"),
        "jwtSecretName": values.get("jwtSecretName"),
    }
    return [f"values.{k} is not set" for k, v in required.items() if not v]


@resource_rule(
    RULES,
    name="airflow-no-helm-hooks",
    level=ADVISORY,
    mirrors="apache/airflow #32003",
    types=HELM_TYPES,
    description="""migrateDatabaseJob and createUserJob should not be Helm hooks
    (useHelmHooks: false): Pulumi's Chart resource does not run hooks, so the migration
    would never run, and helm.v3.Release deadlocks on them.""",
)
def no_helm_hooks(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not _is_airflow(props):
        return []
    values = _values(props)
    return [
        f"values.{comp}.useHelmHooks should be false "
        f"(is {show(get(values, comp + '.useHelmHooks'))})"
        for comp in ("migrateDatabaseJob", "createUserJob")
        if not is_false(get(values, comp + ".useHelmHooks"))
        and not is_false(get(values, comp + ".enabled"))
    ]


WI_USE = "azure.workload.identity/use"


@resource_rule(
    RULES,
    name="airflow-workload-identity-label",
    level=MANDATORY,
    mirrors="AKS workload identity (azure.workload.identity/use label)",
    types=HELM_TYPES,
    description="""Airflow pods must carry the label azure.workload.identity/use: "true"
    (values.labels or per component): without it the webhook injects no federated token, so
    task code that calls DefaultAzureCredential without a client id falls through to the
    node's IMDS endpoint (the kubelet identity every pod on the node shares) instead of the
    pod's own least-privilege identity. The Microsoft Learn guide forgets the label.""",
)
def workload_identity_label(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not _is_airflow(props):
        return []
    values = _values(props)
    if is_true(as_dict(values.get("labels")).get(WI_USE)):
        return []
    missing = [
        comp
        for comp in ("scheduler", "apiServer", "workers", "triggerer", "dagProcessor")
        if not is_true(as_dict(get(values, comp + ".labels")).get(WI_USE))
    ]
    if not missing:
        return []
    return [
        f"label {WI_USE}: 'true' missing on {', '.join(missing)}; fix: set values.labels"
        f".{WI_USE}: 'true' (or each component's labels)"
    ]


# ------------------------------------------------------------------ secret literals

SECRET_WORDS = {
    "password",
    "passwd",
    "pwd",
    "pass",
    "secret",
    "token",
    "apikey",
    "connection",
    "conn",
    "credential",
    "credentials",
    "fernet",
    "privatekey",
}
# "key" alone is everywhere in Kubernetes values (topologyKey, tolerations, selectors);
# it counts only next to one of these qualifiers (keyPEM, secret_key, accountKey, ...).
KEY_QUALIFIERS = {
    "pem",
    "private",
    "secret",
    "api",
    "fernet",
    "access",
    "account",
    "storage",
    "shared",
    "signing",
    "encryption",
    "master",
    "client",
    "ssh",
}
# Keys naming or pointing at a secret (not holding one).
REFERENCE_SUFFIXES = {
    "name",
    "names",
    "ref",
    "id",
    "ids",
    "path",
    "file",
    "mount",
    "cmd",
    "class",
    "url",
    "endpoint",
    "host",
    "hosts",
    "port",
    "enabled",
    "type",
    "kind",
    "expiration",
    "ttl",
    "duration",
    "audience",
    "audiences",
    "length",
    "size",
    "version",
    "algorithm",
    "scheme",
    "namespace",
    "selector",
    "annotations",
    "labels",
}
PLACEHOLDERS = {SECRET, UNKNOWN, ""}


def _key_words(key: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def is_secret_key(key: str) -> bool:
    """Whether a value under ``key`` would be a secret (``password``, ``keyPEM``,
    ``AIRFLOW__CORE__FERNET_KEY``) rather than a reference to one (``fernetKeySecretName``,
    ``existingSecret``, ``AIRFLOW__CORE__FERNET_KEY_CMD``, ``secretProviderClass``)."""
    words = _key_words(key)
    if not words or words[-1] in REFERENCE_SUFFIXES or words[0] == "existing":
        return False
    if key.startswith("AIRFLOW__") and key.upper().endswith("_SECRET"):
        # AIRFLOW__S__OPT_SECRET names a secrets-backend entry when OPT itself is secret
        # (FERNET_KEY_SECRET, JWT_SECRET_SECRET); AIRFLOW__API_AUTH__JWT_SECRET is a value.
        return not is_secret_key(key[: -len("_SECRET")])
    if any(w in SECRET_WORDS for w in words):
        return True
    return "key" in words and any(w in KEY_QUALIFIERS for w in words)


def _literal(value: Any) -> bool:
    if not isinstance(value, str) or value.strip() in PLACEHOLDERS:
        return False
    return not (value.startswith(("{{", "$(", "${")) or value.lower().startswith("secretref:"))


def secret_literals(values: Any) -> list[str]:
    """Paths of Helm values that hold a literal secret instead of a reference."""
    out = []
    for path, key, value in walk(values):
        if "secretKeyRef" in path or "valueFrom" in path or "existingSecret" in path:
            continue
        if is_secret_key(key) and _literal(value):
            out.append(path)
        elif (
            isinstance(value, Mapping)
            and isinstance(value.get("name"), str)
            and is_secret_key(value["name"])
            and _literal(value.get("value"))
        ):
            # env-style {name: AIRFLOW__CORE__FERNET_KEY, value: "..."}
            out.append(f"{path}.value ({value['name']})")
    return out


@resource_rule(
    RULES,
    name="helm-no-secret-literals",
    level=MANDATORY,
    mirrors="CKV_SECRET_* (secrets in configuration)",
    types=HELM_TYPES,
    description="""Helm values must not hold secret literals (keys such as password, secret,
    key, token, connection): values end up in the Pulumi state and in rendered manifests.
    Reference a Kubernetes Secret synced from Key Vault (…SecretName, existingSecret,
    secretKeyRef) or pass a Pulumi secret.""",
)
def no_secret_literals(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not is_helm(props):
        return []
    return [f"values.{p} holds a literal secret" for p in secret_literals(props.get("values"))]


# ------------------------------------------------------------------ mesh default deny

LINKERD_POLICY = "config.linkerd.io/default-inbound-policy"
# linkerd2 edge-26.8.3 charts/linkerd-control-plane/values.yaml l.248-251 (seen 2026-12-02):
# proxy.defaultInboundPolicy, one of all-authenticated, all-unauthenticated,
# cluster-authenticated, cluster-unauthenticated, deny, audit; default all-unauthenticated.
# linkerd.io/2/reference/authorization-policy: the annotation on a namespace or pod spec
# overrides it; only `deny` denies ("audit" = all-unauthenticated + a log line).
LINKERD_DEFAULT_POLICY = "all-unauthenticated"


def _helm(resources: list[dict[str, Any]], chart: str) -> list[dict[str, Any]]:
    return [
        r
        for r in resources
        if r.get("type") in HELM_TYPES and chart_name(as_dict(r.get("inputs"))) == chart
    ]


def _kind(r: Mapping[str, Any]) -> str:
    """``kind`` of a Kubernetes object: the input, or the last segment of the type token."""
    kind = get(r.get("inputs"), "kind")
    if isinstance(kind, str) and kind:
        return kind
    t = str(r.get("type", ""))
    return t.rsplit(":", 1)[-1] if t.startswith("kubernetes:") else ""


@stack_rule(
    RULES,
    name="mesh-linkerd-default-deny",
    level=MANDATORY,
    mirrors="Linkerd authorization policy (default-inbound-policy: deny)",
    description="""With Linkerd, every meshed application namespace must default to deny
    inbound traffic (annotation config.linkerd.io/default-inbound-policy: deny, or the control
    plane's proxy.defaultInboundPolicy: deny), and no pod template or chart value may
    override it: Linkerd's own default is all-unauthenticated, under which the Servers and
    AuthorizationPolicies the stack writes allow extra callers but deny nobody.""",
)
def linkerd_default_deny(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    mesh = detect_mesh(resources)
    if mesh is None or mesh.kind != "linkerd":
        return []
    cluster_default = LINKERD_DEFAULT_POLICY
    for r in _helm(resources, "linkerd-control-plane"):
        value = get(r.get("inputs"), "values.proxy.defaultInboundPolicy")
        if isinstance(value, str) and value:
            cluster_default = value
    fix = f"fix: annotate it {LINKERD_POLICY}: deny"
    out = []
    meshed = meshed_namespaces(resources)
    for name, r in _namespaces(resources).items():
        if name not in meshed or not is_app_namespace(name, r):
            continue
        policy = as_dict(get(r.get("inputs"), "metadata.annotations")).get(LINKERD_POLICY)
        effective = policy if isinstance(policy, str) and policy else cluster_default
        if effective != "deny":
            out.append(
                (
                    str(r.get("urn")),
                    f"meshed namespace {name!r} admits traffic by default ({effective}); {fix}",
                )
            )
    for r in resources:
        props = as_dict(r.get("inputs"))
        overrides: list[tuple[str, Any]] = []
        if r.get("type") in HELM_TYPES:
            overrides = [
                (f"values.{p}", v) for p, k, v in walk(props.get("values")) if k == LINKERD_POLICY
            ]
        elif chart_owned(str(r.get("urn", "")), props, "mesh-linkerd-default-deny"):
            pass  # Linkerd's own control-plane pods (kubernetes.CHART_OWNED)
        elif "template" in as_dict(props.get("spec")) or r.get("type") == POD:
            ann = as_dict(pod_metadata(props).get("annotations"))
            if LINKERD_POLICY in ann:
                overrides = [("pod template annotations", ann[LINKERD_POLICY])]
        for where, value in overrides:
            if value != "deny":
                out.append(
                    (
                        str(r.get("urn")),
                        f"{where} sets {LINKERD_POLICY}: {value!r}, overriding default deny; "
                        "fix: remove it (or set deny)",
                    )
                )
    return out


def _mtps(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in resources if _kind(r) == "MeshTrafficPermission"]


def _froms(r: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [as_dict(f) for f in as_list(get(r.get("inputs"), "spec.from"))]


ALLOW_ACTIONS = {"allow", "allowwithshadowdeny"}


@stack_rule(
    RULES,
    name="mesh-kuma-default-deny",
    level=MANDATORY,
    mirrors="Kuma MeshTrafficPermission (mesh-wide Deny)",
    description="""With Kuma, the stack must create a mesh-wide deny: a
    MeshTrafficPermission in the control-plane namespace whose targetRef and from are both
    kind Mesh with action Deny, labelled kuma.io/mesh with a Mesh the stack creates. Every
    allowed path is then an explicit, narrower MeshTrafficPermission; without it, whatever
    default or forgotten allow-all exists decides who reaches the Airflow API.""",
)
def kuma_default_deny(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    mesh = detect_mesh(resources)
    if mesh is None or mesh.kind != "kuma":
        return []
    system_ns = "kuma-system"
    for r in _helm(resources, "kuma"):
        system_ns = str(get(r.get("inputs"), "namespace") or system_ns)
    meshes = {
        str(get(r.get("inputs"), "metadata.name") or r.get("name"))
        for r in resources
        if _kind(r) == "Mesh"
    }
    problems = []
    for r in _mtps(resources):
        props = as_dict(r.get("inputs"))
        denies_all = get(props, "spec.targetRef.kind") == "Mesh" and any(
            get(f, "targetRef.kind") == "Mesh"
            and str(get(f, "default.action", "")).lower() == "deny"
            for f in _froms(r)
        )
        if not denies_all:
            continue
        target_mesh = as_dict(get(props, "metadata.labels")).get("kuma.io/mesh", "default")
        ns = get(props, "metadata.namespace")
        if ns != system_ns:
            problems.append(f"{r.get('name')} is in namespace {ns!r}, not {system_ns!r}")
        elif target_mesh not in meshes:
            problems.append(f"{r.get('name')} targets mesh {target_mesh!r}, not one created here")
        else:
            return []
    mesh_urn = next((str(r.get("urn")) for r in resources if _kind(r) == "Mesh"), "")
    detail = f" ({'; '.join(problems)})" if problems else ""
    return [
        (
            mesh_urn,
            f"no mesh-wide deny MeshTrafficPermission{detail}; fix: create one in {system_ns} "
            "with targetRef {kind: Mesh} and from [{targetRef: {kind: Mesh}, default: {action: "
            "Deny}}], labelled kuma.io/mesh",
        )
    ]


# ------------------------------------------------------------------ wildcard identities


@resource_rule(
    RULES,
    name="mesh-no-wildcard-identities",
    level=MANDATORY,
    mirrors="Linkerd MeshTLSAuthentication / AuthorizationPolicy; Kuma MeshTrafficPermission",
    kinds=("MeshTLSAuthentication", "AuthorizationPolicy", "MeshTrafficPermission"),
    description="""Mesh authorisation must name its clients: no MeshTLSAuthentication
    identity '*' (or '*.' domain wildcard) or identityRef without a name (all
    ServiceAccounts), no AuthorizationPolicy with an empty requiredAuthenticationRefs (it
    requires nothing, so everyone passes), and no MeshTrafficPermission allowing kind Mesh or
    an empty MeshSubset (every workload) or applying an allow to the whole mesh. A
    namespace-wide client stays allowed (a deliberate, reviewable grant).""",
)
def no_wildcard_identities(props: Mapping[str, Any], ctx: Context) -> list[str]:
    # linkerd2 edge-26.8.3 CRDs (seen 2026-12-02): meshtls-authentication.yaml "An identity
    # string of `*` indicates that all authentication clients are authorized"; identityRefs
    # "Name ... When unspecified, this refers to all resources of the specified Group and
    # Kind"; authorization-policy.yaml "ALL authentications must be satisfied".
    kind = str(props.get("kind") or "")
    spec = as_dict(props.get("spec"))
    fix = "fix: list the client ServiceAccounts (or pod labels) explicitly"
    out = []
    if kind == "MeshTLSAuthentication":
        for i, ident in enumerate(as_list(spec.get("identities"))):
            if str(ident).startswith("*"):
                out.append(f"spec.identities[{i}] is the wildcard {ident!r}; {fix}")
        for i, ref in enumerate(as_list(spec.get("identityRefs"))):
            name = as_dict(ref).get("name")
            if as_dict(ref).get("kind") == "ServiceAccount" and name in (None, "", "*"):
                out.append(f"spec.identityRefs[{i}] names no ServiceAccount (all of them); {fix}")
    elif kind == "AuthorizationPolicy":
        if not as_list(spec.get("requiredAuthenticationRefs")):
            out.append(
                "spec.requiredAuthenticationRefs is empty: the policy authorises every "
                f"client; {fix} in a MeshTLSAuthentication and reference it"
            )
    elif kind == "MeshTrafficPermission":
        for i, f in enumerate(as_list(spec.get("from"))):
            f = as_dict(f)
            if str(get(f, "default.action", "")).lower() not in ALLOW_ACTIONS:
                continue
            ref = as_dict(f.get("targetRef"))
            if ref.get("kind") == "Mesh":
                out.append(f"spec.from[{i}] allows the whole mesh (targetRef kind Mesh); {fix}")
            elif ref.get("kind") == "MeshSubset" and not as_dict(ref.get("tags")):
                out.append(f"spec.from[{i}] allows an empty MeshSubset (everyone); {fix}")
            elif get(spec, "targetRef.kind") == "Mesh":
                out.append(
                    f"spec.from[{i}] allows callers into every workload (targetRef kind Mesh); "
                    "fix: target the one Dataplane selector that serves them"
                )
    return out


# ------------------------------------------------------------------ chart settings

# Chart values.yaml (apache/airflow chart, /work/shared/charts/airflow/values.yaml l.421-430,
# seen 2026-12): enableBuiltInSecretEnvVars.* all default true. These five carry secrets the
# platform delivers as CSI-mounted files read through *_CMD instead.
BUILTIN_SECRET_ENV = (
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW_CONN_AIRFLOW_DB",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
)


@resource_rule(
    RULES,
    name="airflow-builtin-secret-env-off",
    level=MANDATORY,
    mirrors="CKV_K8S_35 (secrets as files, not env vars); Airflow chart enableBuiltInSecretEnvVars",
    types=HELM_TYPES,
    description="""The Airflow chart's built-in secret env vars (enableBuiltInSecretEnvVars
    for the fernet key, metadata connection, API secret key and JWT secret; all true by
    default) must be switched off: they copy each secret into a Kubernetes Secret and every
    pod's environment, where crash dumps, child processes and `kubectl describe` see it and
    rotation does not reach it. The values are read from the CSI-mounted files instead.""",
)
def builtin_secret_env_off(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not _is_airflow(props):
        return []
    flags = as_dict(_values(props).get("enableBuiltInSecretEnvVars"))
    return [
        f"values.enableBuiltInSecretEnvVars.{key} is {show(flags.get(key))} (chart default "
        f"true); fix: set it false and read the value with {key}_CMD from the mounted file"
        for key in BUILTIN_SECRET_ENV
        if not is_false(flags.get(key))
    ]


# Airflow components that never call the Kubernetes API in this platform: the API server reads
# task logs from the worker log server (allowed through the mesh) or Blob storage, the DAG
# processor parses files, the Jobs migrate and create a user, statsd exports metrics. The
# scheduler (KubernetesExecutor) and task pods (KubernetesPodOperator) do need a token; the
# triggerer may (deferrable KubernetesPodOperator triggers poll pods), so neither is listed.
NO_API_COMPONENTS = ("apiServer", "dagProcessor", "migrateDatabaseJob", "createUserJob", "statsd")


@stack_rule(
    RULES,
    name="airflow-api-token-only-where-needed",
    level=MANDATORY,
    mirrors="CKV_K8S_38 (service account tokens only where necessary)",
    description="""Airflow components that never call the Kubernetes API (API server, DAG
    processor, migration and create-user Jobs, statsd) must run without a mounted
    Kubernetes token: automountServiceAccountToken false on the ServiceAccount the chart
    uses, whether the stack creates it or the chart does (the chart defaults to true). A
    token in the API server, the one component users log in to, is a foothold into the
    cluster API.""",
)
def api_token_only_where_needed(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    sas = {
        (
            str(get(r.get("inputs"), "metadata.namespace")),
            str(get(r.get("inputs"), "metadata.name")),
        ): r
        for r in resources
        if r.get("type") == SERVICE_ACCOUNT
    }
    out = []
    for chart in _helm(resources, "airflow"):
        props = as_dict(chart.get("inputs"))
        values, ns = _values(props), str(props.get("namespace") or "default")
        for comp in NO_API_COMPONENTS:
            cv = as_dict(values.get(comp))
            if is_false(cv.get("enabled")):
                continue
            sa = as_dict(cv.get("serviceAccount"))
            fix = f"fix: set automountServiceAccountToken false for {comp}"
            if is_false(sa.get("create")):
                ref = sas.get((ns, str(sa.get("name"))))
                if ref is not None and not is_false(
                    get(ref.get("inputs"), "automountServiceAccountToken")
                ):
                    out.append(
                        (
                            str(ref.get("urn")),
                            f"ServiceAccount {ns}/{sa.get('name')} of Airflow {comp} mounts a "
                            f"Kubernetes token it never uses; {fix} on it",
                        )
                    )
            elif not is_false(sa.get("automountServiceAccountToken")):
                out.append(
                    (
                        str(chart.get("urn")),
                        f"values.{comp}.serviceAccount.automountServiceAccountToken is "
                        f"{show(sa.get('automountServiceAccountToken'))} (chart default true); "
                        f"{fix}",
                    )
                )
    return out
