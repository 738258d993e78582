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
from .kubernetes import is_helm, pod_metadata

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
}
SYSTEM_NAMESPACE_LABELS = (
    "linkerd.io/is-control-plane",
    "kuma.io/system-namespace",
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
        if t.endswith(":mesh:Linkerd") or name == "linkerd-control-plane":
            kind = "linkerd"
            if name:
                native = native or is_true(get(props, "values.proxy.nativeSidecar"))
        elif t.endswith(":mesh:Kuma") or name == "kuma":
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
