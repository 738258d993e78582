"""Service mesh rules (Linkerd, Kuma): namespaces injected, mTLS strict, Jobs that finish,
default-deny inbound policy, no wildcard identities.

Mesh rules are stack rules: whether a namespace or a Job is right depends on which mesh
(if any) the stack installs and how its control plane is configured.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._core import (
    CRON_JOB,
    CUSTOM_RESOURCE,
    HELM_TYPES,
    JOB,
    MANDATORY,
    NAMESPACE,
    POD,
    UNKNOWN,
    Context,
    Rule,
    as_dict,
    as_list,
    get,
    is_false,
    is_true,
    resource_rule,
    show,
    stack_rule,
    walk,
)
from .kubernetes import chart_owned, pod_metadata
from .sidecars import sidecar_can_authenticate_findings

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


# ------------------------------------------------ what each sidecar needs (sidecars.py)


@stack_rule(
    RULES,
    name="mesh-sidecar-can-authenticate",
    level=MANDATORY,
    mirrors="kumahq/kuma v2.14.3 injector.go NewVolumeMounts, app/kuma-dp/cmd/context.go; "
    "linkerd2 edge-26.8.3 charts/partials/templates/_volumes.tpl (read 2026-12-07)",
    description="""Every pod the mesh injects must give the sidecar what it needs to join:
    under Kuma the pod's ServiceAccount token (kuma-dp exits with "dataplane token is
    invalid" otherwise), so a Kuma-injected pod that mounts no token carries the
    kuma.io/service-account-token-volume annotation naming a projected serviceAccountToken
    volume. Linkerd's injector adds its own token volume, so Linkerd pods need nothing.
    Checked on the Airflow chart's pod sections and on every workload of the plan.""",
)
def sidecar_can_authenticate(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    return sidecar_can_authenticate_findings(resources, ctx)
