"""Kubernetes object rules (Checkov CKV_K8S_*), on pod specs we create and on Helm values.

Pod specs are found in Pods, Deployments, StatefulSets, DaemonSets, Jobs and CronJobs.
Objects a chart renders are checked like any other object: ``pulumi preview`` hands them to the
pack as the Chart's children, and ``airflow-aks plan --render`` adds them to the export the same
way. Where a chart is not rendered, its values are checked where a setting is recognisable by
its key (``privileged``, ``hostNetwork``, ``runAsUser``, ``image.tag``...).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import _airflow_workloads, _k8s_access, _pod_references
from ._core import (
    ADVISORY,
    CLUSTER_ROLE,
    HELM_TYPES,
    MANDATORY,
    ROLE,
    SERVICE_ACCOUNT,
    WORKLOAD_TYPES,
    Context,
    Rule,
    as_dict,
    as_list,
    get,
    is_false,
    is_true,
    is_unknown,
    resource_rule,
    show,
    stack_rule,
    walk,
)

RULES: list[Rule] = []
PODS = WORKLOAD_TYPES
PODS_AND_CHARTS = WORKLOAD_TYPES + HELM_TYPES
RBAC = (ROLE, CLUSTER_ROLE)
NAMESPACED = (
    *WORKLOAD_TYPES,
    SERVICE_ACCOUNT,
    ROLE,
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:Secret",
    "kubernetes:core/v1:Service",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    *HELM_TYPES,
)


# ------------------------------------------------------------------ pod-spec discovery


def is_helm(props: Mapping[str, Any]) -> bool:
    return "chart" in props and ("values" in props or "repositoryOpts" in props)


def pod_specs(props: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """``(path, podSpec)`` of a Pod or of any workload's pod template."""
    spec = as_dict(props.get("spec"))
    if "containers" in spec:
        return [("spec", spec)]
    if "template" in spec:
        return [("spec.template.spec", as_dict(get(spec, "template.spec")))]
    if "jobTemplate" in spec:
        return [
            (
                "spec.jobTemplate.spec.template.spec",
                as_dict(get(spec, "jobTemplate.spec.template.spec")),
            )
        ]
    return []


def pod_metadata(props: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = as_dict(props.get("spec"))
    if "containers" in spec:
        return as_dict(props.get("metadata"))
    if "template" in spec:
        return as_dict(get(spec, "template.metadata"))
    return as_dict(get(spec, "jobTemplate.spec.template.metadata"))


def containers(pod_path: str, pod: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for i, c in enumerate(as_list(pod.get(field))):
            c = as_dict(c)
            yield f"{pod_path}.{field}[{i}] ({c.get('name', '?')})", c


def all_containers(
    props: Mapping[str, Any],
) -> Iterator[tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
    """``(label, container, podSpec)`` for every container of a workload."""
    for path, pod in pod_specs(props):
        for label, c in containers(path, pod):
            yield label, c, pod


def helm_values(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return as_dict(props.get("values")) if is_helm(props) else {}


def helm_keys(props: Mapping[str, Any], *keys: str) -> Iterator[tuple[str, Any]]:
    """``(path, value)`` of every Helm value whose key is one of ``keys``."""
    for path, key, value in walk(helm_values(props)):
        if key in keys:
            yield f"values.{path}", value


# ------------------------------------------------------------------ security context rules


@resource_rule(
    RULES,
    name="k8s-no-privileged",
    level=MANDATORY,
    mirrors="CKV_K8S_16",
    types=PODS_AND_CHARTS,
    description="""No privileged containers: a privileged container is root on the node and
    can read every other pod's secrets and tokens.""",
)
def no_privileged(props: Mapping[str, Any], ctx: Context) -> list[str]:
    out = [
        f"{label}: securityContext.privileged is true"
        for label, c, _ in all_containers(props)
        if is_true(get(c, "securityContext.privileged"))
        and not chart_owned(ctx.urn, props, "k8s-no-privileged", c.get("name"))
    ]
    out += [f"{p} is true" for p, v in helm_keys(props, "privileged") if is_true(v)]
    return out


def _host_rule(field: str, rule: str) -> Any:
    def check(props: Mapping[str, Any], ctx: Context) -> list[str]:
        if chart_owned(ctx.urn, props, rule):
            return []
        out = [
            f"{path}.{field} is true" for path, pod in pod_specs(props) if is_true(pod.get(field))
        ]
        out += [f"{p} is true" for p, v in helm_keys(props, field) if is_true(v)]
        return out

    return check


no_host_pid = resource_rule(
    RULES,
    name="k8s-no-host-pid",
    level=MANDATORY,
    mirrors="CKV_K8S_17",
    types=PODS_AND_CHARTS,
    description="""Pods must not share the host PID namespace: they could see and signal
    every process on the node, including other tenants' task pods.""",
)(_host_rule("hostPID", "k8s-no-host-pid"))

no_host_ipc = resource_rule(
    RULES,
    name="k8s-no-host-ipc",
    level=MANDATORY,
    mirrors="CKV_K8S_18",
    types=PODS_AND_CHARTS,
    description="""Pods must not share the host IPC namespace: shared memory of node
    processes would be readable.""",
)(_host_rule("hostIPC", "k8s-no-host-ipc"))

no_host_network = resource_rule(
    RULES,
    name="k8s-no-host-network",
    level=MANDATORY,
    mirrors="CKV_K8S_19",
    types=PODS_AND_CHARTS,
    description="""Pods must not use the host network: they bypass NetworkPolicy and the mesh,
    and can reach the node's IMDS endpoint and kubelet.""",
)(_host_rule("hostNetwork", "k8s-no-host-network"))


@resource_rule(
    RULES,
    name="k8s-no-privilege-escalation",
    level=MANDATORY,
    mirrors="CKV_K8S_20",
    types=PODS_AND_CHARTS,
    description="""Every container must set allowPrivilegeEscalation: false, so a setuid binary
    in an image cannot turn a compromised process into root.""",
)
def no_privilege_escalation(props: Mapping[str, Any], ctx: Context) -> list[str]:
    out = [
        f"{label}: securityContext.allowPrivilegeEscalation must be false "
        f"(is {show(get(c, 'securityContext.allowPrivilegeEscalation'))})"
        for label, c, _ in all_containers(props)
        if not is_false(get(c, "securityContext.allowPrivilegeEscalation"))
        and not chart_owned(ctx.urn, props, "k8s-no-privilege-escalation", c.get("name"))
    ]
    out += [f"{p} is true" for p, v in helm_keys(props, "allowPrivilegeEscalation") if is_true(v)]
    return out


@resource_rule(
    RULES,
    name="k8s-run-as-non-root",
    level=MANDATORY,
    mirrors="CKV_K8S_23, CKV_K8S_40",
    types=PODS_AND_CHARTS,
    description="""Containers must run as non-root (runAsNonRoot: true at pod or container
    level, never runAsUser: 0): root in a container is one kernel bug away from root on the
    node.""",
)
def run_as_non_root(props: Mapping[str, Any], ctx: Context) -> list[str]:
    out = []
    for path, pod in pod_specs(props):
        pod_nonroot = is_true(get(pod, "securityContext.runAsNonRoot"))
        if get(pod, "securityContext.runAsUser") == 0:
            out.append(f"{path}.securityContext.runAsUser is 0")
        for label, c in containers(path, pod):
            if chart_owned(ctx.urn, props, "k8s-run-as-non-root", c.get("name")):
                continue
            sc = as_dict(c.get("securityContext"))
            if sc.get("runAsUser") == 0:
                out.append(f"{label}: securityContext.runAsUser is 0")
            elif is_false(sc.get("runAsNonRoot")) or (
                not pod_nonroot and not is_true(sc.get("runAsNonRoot"))
            ):
                out.append(f"{label}: runAsNonRoot is not true (pod or container)")
    out += [f"{p} is false" for p, v in helm_keys(props, "runAsNonRoot") if is_false(v)]
    out += [f"{p} is 0 (root)" for p, v in helm_keys(props, "runAsUser") if v == 0]
    return out


def image_problem(image: Any) -> str | None:
    """Why an image reference is not pinned, or None when it is (tag or digest)."""
    if is_unknown(image) or not isinstance(image, str):
        return None
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image!r} has no tag"
    if last.rsplit(":", 1)[-1].lower() == "latest":
        return f"image {image!r} uses the latest tag"
    return None


@resource_rule(
    RULES,
    name="k8s-image-pinned",
    level=MANDATORY,
    mirrors="CKV_K8S_14, CKV_K8S_43",
    types=PODS_AND_CHARTS,
    description="""Images must be pinned to a version tag or digest, never latest or untagged:
    otherwise what runs changes under you on every pull and cannot be reviewed or rolled
    back.""",
)
def image_pinned(props: Mapping[str, Any], ctx: Context) -> list[str]:
    out = []
    for label, c, _ in all_containers(props):
        problem = image_problem(c.get("image"))
        if problem:
            out.append(f"{label}: {problem}")
    for p, v in helm_keys(props, "tag", "version"):
        if isinstance(v, str) and v.strip().lower() == "latest":
            out.append(f"{p} is 'latest'")
    for p, v in helm_keys(props, "image"):
        if isinstance(v, str) and (v.rsplit(":", 1)[-1].lower() == "latest"):
            out.append(f"{p}: image {v!r} uses the latest tag")
    return out


@resource_rule(
    RULES,
    name="k8s-drop-capabilities",
    level=MANDATORY,
    mirrors="CKV_K8S_28, CKV_K8S_37, CKV_K8S_39",
    types=PODS_AND_CHARTS,
    description="""Containers must drop ALL (or at least NET_RAW) capabilities and never add
    SYS_ADMIN/NET_ADMIN/ALL: NET_RAW allows ARP and DNS spoofing inside the pod network.""",
)
def drop_capabilities(props: Mapping[str, Any], ctx: Context) -> list[str]:
    out = []
    for label, c, _ in all_containers(props):
        if chart_owned(ctx.urn, props, "k8s-drop-capabilities", c.get("name")):
            continue
        caps = as_dict(get(c, "securityContext.capabilities"))
        drop = {str(x).upper() for x in as_list(caps.get("drop"))}
        if not drop & {"ALL", "NET_RAW"}:
            out.append(f"{label}: securityContext.capabilities.drop lacks ALL")
        added = {str(x).upper() for x in as_list(caps.get("add"))} & DANGEROUS_CAPS
        if added:
            out.append(f"{label}: adds dangerous capabilities {sorted(added)}")
    for p, v in helm_keys(props, "add"):
        added = {str(x).upper() for x in as_list(v)} & DANGEROUS_CAPS
        if added and "capabilities" in p:
            out.append(f"{p} adds dangerous capabilities {sorted(added)}")
    return out


DANGEROUS_CAPS = {"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE"}


@resource_rule(
    RULES,
    name="k8s-seccomp-profile",
    level=MANDATORY,
    mirrors="CKV_K8S_31",
    types=PODS_AND_CHARTS,
    description="""Pods must run with the RuntimeDefault (or a Localhost) seccomp profile;
    Unconfined exposes the full syscall surface to container escapes.""",
)
def seccomp_profile(props: Mapping[str, Any], ctx: Context) -> list[str]:
    ok = ("runtimedefault", "localhost")
    out = []
    for path, pod in pod_specs(props):
        pod_type = str(get(pod, "securityContext.seccompProfile.type", "")).lower()
        for label, c in containers(path, pod):
            if chart_owned(ctx.urn, props, "k8s-seccomp-profile", c.get("name")):
                continue
            c_type = str(get(c, "securityContext.seccompProfile.type", "")).lower()
            effective = c_type or pod_type
            if effective not in ok:
                out.append(
                    f"{label}: seccompProfile.type must be RuntimeDefault "
                    f"(is {effective or 'missing'})"
                )
    for p, v in helm_keys(props, "seccompProfile"):
        if str(as_dict(v).get("type", "")).lower() == "unconfined":
            out.append(f"{p}.type is Unconfined")
    return out


@resource_rule(
    RULES,
    name="k8s-read-only-root-fs",
    level=ADVISORY,
    mirrors="CKV_K8S_22",
    types=PODS,
    description="""Containers should use a read-only root filesystem so an intruder cannot
    drop tools into the image. Advisory: Airflow and many tools need writable paths that
    must first be mapped to emptyDir volumes.""",
)
def read_only_root_fs(props: Mapping[str, Any], ctx: Context) -> list[str]:
    return [
        f"{label}: securityContext.readOnlyRootFilesystem should be true"
        for label, c, _ in all_containers(props)
        if not is_true(get(c, "securityContext.readOnlyRootFilesystem"))
    ]


@resource_rule(
    RULES,
    name="k8s-resource-requests",
    level=ADVISORY,
    mirrors="CKV_K8S_10, CKV_K8S_12",
    types=PODS,
    description="""Containers should request CPU and memory so the scheduler places them
    sensibly and the autoscaler adds nodes for pending task pods. Advisory: cost/ops.""",
)
def resource_requests(props: Mapping[str, Any], ctx: Context) -> list[str]:
    out = []
    for label, c, _ in all_containers(props):
        requests = as_dict(get(c, "resources.requests"))
        missing = [r for r in ("cpu", "memory") if not requests.get(r)]
        if missing:
            out.append(f"{label}: resources.requests lacks {', '.join(missing)}")
    return out


@resource_rule(
    RULES,
    name="k8s-memory-limits",
    level=ADVISORY,
    mirrors="CKV_K8S_13, CKV_K8S_11",
    types=PODS,
    description="""Containers should set a memory limit so one runaway task is OOM-killed
    instead of evicting its neighbours. Advisory: cost/ops (CPU limits are deliberately not
    required, they throttle more than they protect).""",
)
def memory_limits(props: Mapping[str, Any], ctx: Context) -> list[str]:
    return [
        f"{label}: resources.limits.memory is not set"
        for label, c, _ in all_containers(props)
        if not get(c, "resources.limits.memory")
    ]


LONG_RUNNING = (
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
)


@resource_rule(
    RULES,
    name="k8s-probes",
    level=ADVISORY,
    mirrors="CKV_K8S_8, CKV_K8S_9",
    types=LONG_RUNNING,
    description="""Long-running containers should declare liveness and readiness probes so a
    hung scheduler is restarted and traffic only reaches ready pods. Advisory: ops.""",
)
def probes(props: Mapping[str, Any], ctx: Context) -> list[str]:
    out = []
    for path, pod in pod_specs(props):
        for label, c in containers(path, pod):
            if ".initContainers" in label:
                continue
            missing = [p for p in ("livenessProbe", "readinessProbe") if not c.get(p)]
            if missing:
                out.append(f"{label}: no {' / '.join(missing)}")
    return out


@resource_rule(
    RULES,
    name="k8s-secrets-as-files",
    level=ADVISORY,
    mirrors="CKV_K8S_35",
    types=PODS,
    description="""Secrets should be mounted as files (the Key Vault CSI volume), not passed
    as environment variables: env vars leak into crash dumps, child processes and
    'kubectl describe', and do not see rotation. Advisory.""",
)
def secrets_as_files(props: Mapping[str, Any], ctx: Context) -> list[str]:
    out = []
    for label, c, _ in all_containers(props):
        for env in as_list(c.get("env")):
            if get(env, "valueFrom.secretKeyRef") is not None:
                out.append(f"{label}: env {get(env, 'name', '?')} comes from a Secret")
        for src in as_list(c.get("envFrom")):
            if as_dict(src).get("secretRef") is not None:
                out.append(f"{label}: envFrom a whole Secret")
    return out


@resource_rule(
    RULES,
    name="k8s-no-default-serviceaccount",
    level=ADVISORY,
    mirrors="CKV_K8S_38, CKV_K8S_41",
    types=PODS,
    description="""Pods should run under a dedicated ServiceAccount, not 'default': workload
    identity and RBAC are granted per ServiceAccount, so sharing 'default' shares every
    grant.""",
)
def no_default_serviceaccount(props: Mapping[str, Any], ctx: Context) -> list[str]:
    out = []
    for path, pod in pod_specs(props):
        sa = pod.get("serviceAccountName") or pod.get("serviceAccount")
        if sa in (None, "", "default"):
            out.append(f"{path}.serviceAccountName is {show(sa)} (the default ServiceAccount)")
    return out


# ------------------------------------------------------------------ namespaces and RBAC


@resource_rule(
    RULES,
    name="k8s-no-default-namespace",
    level=MANDATORY,
    mirrors="CKV_K8S_21",
    types=NAMESPACED,
    description="""Objects must live in a named namespace, not 'default' (or the provider's
    implicit default): namespaces are the unit of RBAC, mesh injection, network policy and
    quota.""",
)
def no_default_namespace(props: Mapping[str, Any], ctx: Context) -> list[str]:
    ns = props.get("namespace") if is_helm(props) else get(props, "metadata.namespace")
    if is_unknown(ns):
        return []
    if ns in (None, "", "default"):
        where = "namespace" if is_helm(props) else "metadata.namespace"
        return [f"{where} is {show(ns)}: use a dedicated namespace"]
    return []


def _rbac_rules(props: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    for i, r in enumerate(as_list(props.get("rules"))):
        yield i, as_dict(r)


@resource_rule(
    RULES,
    name="k8s-rbac-no-wildcards",
    level=MANDATORY,
    mirrors="CKV_K8S_49",
    types=RBAC,
    description="""Roles must not use '*' in apiGroups, resources or verbs: a wildcard grants
    every future resource type too, including secrets and RBAC itself.""",
)
def rbac_no_wildcards(props: Mapping[str, Any], ctx: Context) -> list[str]:
    out = []
    for i, rule in _rbac_rules(props):
        for field in ("apiGroups", "resources", "verbs"):
            if "*" in [str(x) for x in as_list(rule.get(field))]:
                out.append(f"rules[{i}].{field} contains '*'")
    return out


ESCALATION_VERBS = ("escalate", "bind", "impersonate")


@resource_rule(
    RULES,
    name="k8s-rbac-no-escalation-verbs",
    level=MANDATORY,
    mirrors="CKV_K8S_155, CKV_K8S_157, CKV_K8S_158",
    types=RBAC,
    description="""Roles must not grant escalate, bind or impersonate: each lets the holder
    give itself permissions it does not have, i.e. become cluster-admin.""",
)
def rbac_no_escalation_verbs(props: Mapping[str, Any], ctx: Context) -> list[str]:
    out = []
    for i, rule in _rbac_rules(props):
        verbs = {str(x).lower() for x in as_list(rule.get("verbs"))}
        bad = [v for v in ESCALATION_VERBS if v in verbs]
        if bad:
            out.append(f"rules[{i}].verbs grants {', '.join(bad)}")
    return out


# ------------------------------------------------------------------ exposure and tokens

SERVICE = "kubernetes:core/v1:Service"


def rendered_by_chart(urn: str) -> bool:
    """Whether a URN's parent chain holds a Helm chart (a chart-rendered child: in a real
    preview and in ``plan --render`` exports alike)."""
    parts = urn.split("::")
    chain = parts[2].split("$")[:-1] if len(parts) >= 4 else []
    return any(t in HELM_TYPES for t in chain)


@dataclass(frozen=True)
class ChartOwned:
    """A setting a chart hard-codes on one of its own objects, that no values key changes.

    Recognised only on a chart-rendered child (URN parent chain holds a Chart) whose kind,
    namespace, name (``name`` exact, or ending in ``name_suffix`` after the release prefix)
    and ``label`` all match; ``containers`` limits it to those containers (``()`` = the
    whole pod). The same setting on any object we write still fails the rule."""

    rules: frozenset[str]
    kind: str
    namespace: str
    label: tuple[str, str]
    names: tuple[str, ...] = ()
    name_suffix: str = ""
    containers: tuple[str, ...] = ()
    reason: str = ""


_LINKERD_CP = ("linkerd-destination", "linkerd-identity", "linkerd-proxy-injector")
_LINKERD_PART = ("app.kubernetes.io/part-of", "Linkerd")
CHART_OWNED: tuple[ChartOwned, ...] = (
    ChartOwned(
        rules=frozenset({"k8s-drop-capabilities"}),
        kind="Deployment",
        namespace="linkerd",
        label=_LINKERD_PART,
        names=_LINKERD_CP,
        containers=("linkerd-init",),
        reason="linkerd2 edge-26.8.3 charts/partials/templates/_proxy-init.tpl:52-62 (read "
        "2026-12-02): the iptables init container adds NET_ADMIN/NET_RAW and drops nothing; "
        "only linkerd2-cni (cniEnabled) removes it",
    ),
    ChartOwned(
        rules=frozenset({"mesh-linkerd-default-deny"}),
        kind="Deployment",
        namespace="linkerd",
        label=_LINKERD_PART,
        names=_LINKERD_CP,
        reason="linkerd2 edge-26.8.3 charts/linkerd-control-plane/templates/destination.yaml:167, "
        "identity.yaml:140, proxy-injector.yaml:47 (read 2026-12-02) hard-code "
        "default-inbound-policy all-unauthenticated on the control plane's own pods "
        "(every meshed proxy must reach them); no values key changes it",
    ),
    ChartOwned(
        rules=frozenset(
            {
                "k8s-drop-capabilities",
                "k8s-no-host-pid",
                "k8s-no-privilege-escalation",
                "k8s-no-privileged",
                "k8s-run-as-non-root",
                "k8s-seccomp-profile",
            }
        ),
        kind="DaemonSet",
        namespace="gpu-resources",
        label=("app.kubernetes.io/name", "nvidia-device-plugin"),
        name_suffix="-nvidia-device-plugin-mps-control-daemon",
        containers=("mps-control-daemon-mounts", "mps-control-daemon-ctr"),
        reason="NVIDIA/k8s-device-plugin v0.20.0 deployments/helm/nvidia-device-plugin/templates/"
        "daemonset-mps-control-daemon.yml (read 2026-12-02): the MPS daemon is privileged with "
        "hostPID by design, rendered whenever the device plugin is, and scheduled only on "
        "nodes labelled nvidia.com/mps.capable=true",
    ),
)


def chart_owned(urn: str, props: Mapping[str, Any], rule: str, container: Any = None) -> bool:
    """Whether ``rule``'s finding on this object (and ``container``, if given) is a
    :data:`CHART_OWNED` setting of the chart that rendered it."""
    if not rendered_by_chart(urn):
        return False
    meta = as_dict(props.get("metadata"))
    name = str(meta.get("name", ""))
    # kind from the URN's type token (set under `pulumi preview` and offline alike)
    kind = urn.split("::")[2].split("$")[-1].rsplit(":", 1)[-1]
    for o in CHART_OWNED:
        if rule not in o.rules or kind != o.kind:
            continue
        if meta.get("namespace") != o.namespace:
            continue
        if as_dict(meta.get("labels")).get(o.label[0]) != o.label[1]:
            continue
        if not (name in o.names or (o.name_suffix and name.endswith(o.name_suffix))):
            continue
        if o.containers and container is not None and container not in o.containers:
            continue
        return True
    return False


EXTERNAL_SERVICE_TYPES = {"loadbalancer", "nodeport"}
# AKS "Use an internal load balancer" (learn.microsoft.com, seen 2026-12): this annotation
# makes a LoadBalancer Service private to the VNet.
INTERNAL_LB = "service.beta.kubernetes.io/azure-load-balancer-internal"


def _exposure(service_type: Any, annotations: Mapping[str, Any], external_ips: Any) -> str | None:
    kind = str(service_type or "").lower()
    if kind == "loadbalancer" and is_true(annotations.get(INTERNAL_LB)):
        return None
    if kind in EXTERNAL_SERVICE_TYPES:
        return f"type {service_type}"
    if as_list(external_ips):
        return f"externalIPs {as_list(external_ips)}"
    return None


@resource_rule(
    RULES,
    name="k8s-no-external-service",
    level=MANDATORY,
    mirrors="AKS baseline (no public Services; internal load balancer or private ingress)",
    types=(SERVICE, *HELM_TYPES),
    description="""No Service may be exposed outside the cluster: type LoadBalancer (unless
    annotated as an internal Azure load balancer), NodePort or externalIPs, also when set
    through chart values (e.g. apiServer.service.type). A public Airflow API server is one
    leaked password from every connection it holds; reach it through kubectl port-forward or
    a reviewed private ingress instead.""",
)
def no_external_service(props: Mapping[str, Any], ctx: Context) -> list[str]:
    fix = "fix: use ClusterIP (or an internal load balancer annotation)"
    if not is_helm(props):
        spec = as_dict(props.get("spec"))
        ann = as_dict(get(props, "metadata.annotations"))
        why = _exposure(spec.get("type"), ann, spec.get("externalIPs"))
        return [f"Service is exposed outside the cluster ({why}); {fix}"] if why else []
    out = []
    for path, key, value in walk(helm_values(props)):
        svc = as_dict(value)
        if not key.lower().endswith("service") or not svc:
            continue
        why = _exposure(svc.get("type"), as_dict(svc.get("annotations")), svc.get("externalIPs"))
        if why:
            out.append(f"values.{path} exposes a Service outside the cluster ({why}); {fix}")
    return out


@resource_rule(
    RULES,
    name="k8s-serviceaccount-automount-explicit",
    level=MANDATORY,
    mirrors="CKV_K8S_38 (automountServiceAccountToken)",
    types=(SERVICE_ACCOUNT,),
    description="""Every ServiceAccount the stack declares (not one a Helm chart renders)
    must state automountServiceAccountToken: Kubernetes
    mounts an API token into every pod by default, so a ServiceAccount that forgets the field
    hands a Kubernetes credential to pods that never call the API. Set false, or true only for
    pods that do (the KubernetesExecutor scheduler, pod-launching tasks).""",
)
def serviceaccount_automount_explicit(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if rendered_by_chart(ctx.urn):
        # A chart's own ServiceAccounts (Linkerd's and Kuma's control planes leave the field
        # out, linkerd2 edge-26.8.3 / kuma v2.14.3 templates, seen 2026-12) are the chart's
        # decision; the stack answers for the ones it declares.
        return []
    value = props.get("automountServiceAccountToken")
    if value is None:
        return [
            "automountServiceAccountToken is not set (Kubernetes defaults to true); fix: set "
            "it false unless the pods call the Kubernetes API"
        ]
    return []


# ------------------------------------------------ first contact with the cluster, mesh and chart


@stack_rule(
    RULES,
    name="k8s-pod-references-resolve",
    level=MANDATORY,
    mirrors="Kubernetes PodSpec (objects referenced in the pod's namespace); DNS for Services",
    description="""Every ConfigMap, Secret, ServiceAccount, PersistentVolumeClaim and
    SecretProviderClass a pod references must exist in the namespace the pod runs in — for
    the plan's workloads and the Airflow chart's pods, including the KubernetesExecutor's pod
    template in every namespace it places task pods in (the template mounts the chart's
    ConfigMap, which the chart renders only in its own namespace); and the control-plane
    URLs task pods in other namespaces use must be fully qualified. Sources: Kubernetes API
    reference (PodSpec), "DNS for Services and Pods", the chart templates named in
    policies/rules/_airflow_chart.py (read 2026-12-07).""",
)
def pod_references_resolve(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    return _pod_references.pod_references_resolve(resources, ctx)


@stack_rule(
    RULES,
    name="k8s-user-code-rbac",
    level=MANDATORY,
    mirrors="Kubernetes RBAC good practices (workload creation, pods/exec, secrets, impersonation)",
    description="""No ServiceAccount that runs user code (Airflow task pods of every task
    namespace, i.e. the pods DAGs run and launch from) may hold pods create/update/patch,
    pods/exec or attach, secrets read, token creation or impersonation in a namespace where
    platform components run (any chart release's namespace, the system namespaces) or
    cluster-wide — the Airflow chart's own pod-launcher RoleBinding (modelled from the
    values) included; and every launcher holds what it needs where it launches (scheduler,
    API server log reads, triggerer, the task ServiceAccount of each task namespace) with a
    mounted token. Sources: Kubernetes "Role Based Access Control Good Practices"; chart
    templates and cncf.kubernetes 10.25.0 sources named in this module (read 2026-12-07).""",
)
def user_code_rbac(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    return _k8s_access.user_code_rbac(resources, ctx)


@stack_rule(
    RULES,
    name="k8s-task-quota-reachable",
    level=MANDATORY,
    mirrors="Kubernetes ResourceQuota (limits.cpu / limits.memory / pods)",
    description="""A task namespace's ResourceQuota must be able to admit the pods it
    promises: pods <= min(limits.cpu / per-pod CPU limit, limits.memory / per-pod memory
    limit), per pod = the executor's task container limit plus the injected Linkerd proxy's
    (Kubernetes "Resource Quotas": the sum of limits across non-terminal pods cannot exceed
    limits.cpu / limits.memory, a pod that would exceed them is refused). Otherwise the
    quota says 40 task slots while the fifth task pod is already refused.""",
)
def task_quota_reachable(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    return _airflow_workloads.task_quota_reachable(resources, ctx)


@stack_rule(
    RULES,
    name="k8s-crds-before-custom-resources",
    level=MANDATORY,
    mirrors="Kubernetes API: a custom resource needs its CustomResourceDefinition; chart "
    "and AKS sources in policies/rules/crds.py (read 2026-12-07)",
    description="""Every custom-resource kind the plan creates has a source that exists
    before it: a CustomResourceDefinition resource or a chart installing the CRDs that it
    depends on, or a ManagedCluster property that provides them (Cilium, the Key Vault CSI
    add-on, the managed Gateway API, or a post-create step the plan prints). Otherwise the
    `up` fails when it reaches that object.""",
)
def crds_before_custom_resources(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    from .crds import crds_before_custom_resources_findings

    return crds_before_custom_resources_findings(resources, ctx)
