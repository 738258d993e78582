"""What each mesh's sidecar needs from the pod it is injected into.

Facts, read 2026-12-07 at the pinned tags:

* **Kuma v2.14.3.** The injected ``kuma-sidecar`` authenticates to the control plane with
  the pod's ServiceAccount token: it is started with ``KUMA_DATAPLANE_RUNTIME_TOKEN_PATH=
  /var/run/secrets/kubernetes.io/serviceaccount/token`` (``pkg/plugins/runtime/k8s/
  containers/factory.go``) and exits with "dataplane token is invalid" when the file is
  absent (``app/kuma-dp/cmd/context.go``). The injector mounts a token there only if an
  app container already mounts one, or if the pod annotation
  ``kuma.io/service-account-token-volume`` names a pod volume (``pkg/plugins/runtime/k8s/
  webhooks/injector/injector.go`` ``NewVolumeMounts`` / ``FindServiceAccountToken``; a
  named volume missing from the pod is an injection error). So a Kuma-injected pod whose
  ServiceAccount or pod spec sets ``automountServiceAccountToken: false`` needs that
  annotation and a projected ``serviceAccountToken`` volume.
* **Linkerd edge-26.8.3.** The proxy injector adds its own projected token volume
  ``linkerd-identity-token`` (audience ``identity.l5d.io``) to every injected pod
  (``charts/partials/templates/_volumes.tpl``, ``_proxy.tpl``): a meshed pod needs nothing
  of its own, whatever it automounts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._core import (
    HELM_TYPES,
    NAMESPACE,
    SERVICE_ACCOUNT,
    WORKLOAD_TYPES,
    Context,
    as_dict,
    as_list,
    get,
    is_false,
)
from .kubernetes import pod_metadata, pod_specs

KUMA_INJECT = "kuma.io/sidecar-injection"
KUMA_TOKEN_VOLUME = "kuma.io/service-account-token-volume"

# Airflow chart sections with a pod of their own: (section, annotations key, has
# extraVolumes in chart 1.22.0 values.schema.json). Jobs take `annotations` for the pod.
AIRFLOW_PODS: tuple[tuple[str, str, bool], ...] = (
    ("scheduler", "podAnnotations", True),
    ("apiServer", "podAnnotations", True),
    ("dagProcessor", "podAnnotations", True),
    ("triggerer", "podAnnotations", True),
    ("migrateDatabaseJob", "annotations", True),
    ("createUserJob", "annotations", True),
    ("statsd", "podAnnotations", False),
    ("workers", "podAnnotations", True),
)


def kuma_injected(labels: Mapping[str, Any], namespace_injected: bool = False) -> bool:
    """Kuma injects a pod labelled (or in a namespace labelled) ``enabled``; a pod label
    ``disabled`` opts it out."""
    value = str(labels.get(KUMA_INJECT, "")).lower()
    if value in ("disabled", "false"):
        return False
    return value in ("enabled", "true") or namespace_injected


def token_volume_ok(annotations: Mapping[str, Any], volumes: list[Any]) -> str | None:
    """``None`` when the Kuma token annotation names a projected ServiceAccount-token
    volume of the pod; else what is wrong."""
    name = annotations.get(KUMA_TOKEN_VOLUME)
    if not name:
        return f"no {KUMA_TOKEN_VOLUME} annotation"
    for v in volumes:
        v = as_dict(v)
        if v.get("name") != name:
            continue
        sources = as_list(get(v, "projected.sources"))
        if any("serviceAccountToken" in as_dict(s) for s in sources):
            return None
        return f"volume {name!r} holds no projected serviceAccountToken"
    return f"{KUMA_TOKEN_VOLUME} names volume {name!r}, which the pod does not have"


def _index(resources: list[dict[str, Any]], typ: str) -> dict[tuple[str, str], Mapping[str, Any]]:
    out = {}
    for r in resources:
        if r.get("type") == typ:
            inputs = as_dict(r.get("inputs"))
            ns = str(get(inputs, "metadata.namespace") or "")
            out[(ns, str(get(inputs, "metadata.name")))] = inputs
    return out


def _injected_namespaces(resources: list[dict[str, Any]]) -> set[str]:
    return {
        name
        for (_, name), inputs in _index(resources, NAMESPACE).items()
        if kuma_injected(as_dict(get(inputs, "metadata.labels")))
    }


def _automounts(
    sas: Mapping[tuple[str, str], Mapping[str, Any]], ns: str, name: str, pod_value: Any
) -> bool:
    """Whether containers get the token: pod spec wins, then the ServiceAccount (default
    true, Kubernetes "Configure Service Accounts for Pods")."""
    if pod_value is not None:
        return not is_false(pod_value)
    sa = sas.get((ns, name))
    return sa is None or not is_false(sa.get("automountServiceAccountToken"))


def _airflow_pods(
    chart: Mapping[str, Any], sas: Mapping[tuple[str, str], Mapping[str, Any]], ns_injected: bool
) -> Iterator[str]:
    props = as_dict(chart.get("inputs"))
    values = as_dict(props.get("values"))
    ns = str(props.get("namespace") or "default")
    for section, ann_key, has_volumes in AIRFLOW_PODS:
        cv = as_dict(values.get(section))
        if is_false(cv.get("enabled")):
            continue
        if not kuma_injected(as_dict(cv.get("labels")), ns_injected):
            continue
        sa = as_dict(cv.get("serviceAccount"))
        if is_false(sa.get("create")):
            mounts = _automounts(sas, ns, str(sa.get("name")), None)
        else:  # the chart creates it; chart default automount true
            mounts = not is_false(sa.get("automountServiceAccountToken"))
        if mounts:
            continue
        problem = token_volume_ok(as_dict(cv.get(ann_key)), as_list(cv.get("extraVolumes")))
        if problem is None:
            continue
        fix = (
            f"fix: add a projected serviceAccountToken volume to values.{section}.extraVolumes "
            f"and name it in values.{section}.{ann_key}.{KUMA_TOKEN_VOLUME}"
            if has_volumes
            else f"fix: the chart has no {section}.extraVolumes; let its ServiceAccount mount "
            "the token"
        )
        yield (
            f"Airflow {section} is injected by Kuma but mounts no ServiceAccount token "
            f"({problem}): kuma-dp exits with 'dataplane token is invalid'; {fix}"
        )


def sidecar_can_authenticate_findings(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    sas = _index(resources, SERVICE_ACCOUNT)
    injected = _injected_namespaces(resources)
    out: list[tuple[str, str]] = []
    for r in resources:
        props = as_dict(r.get("inputs"))
        urn = str(r.get("urn"))
        if r.get("type") in HELM_TYPES:
            chart = str(props.get("chart", "")).rstrip("/").rsplit("/", 1)[-1].lower()
            if chart == "airflow":
                ns_injected = str(props.get("namespace") or "default") in injected
                out += [(urn, m) for m in _airflow_pods(r, sas, ns_injected)]
            continue
        if r.get("type") not in WORKLOAD_TYPES:
            continue
        ns = str(get(props, "metadata.namespace") or "default")
        meta = pod_metadata(props)
        if not kuma_injected(as_dict(meta.get("labels")), ns in injected):
            continue
        for path, pod in pod_specs(props):
            sa = str(pod.get("serviceAccountName") or "default")
            if _automounts(sas, ns, sa, pod.get("automountServiceAccountToken")):
                continue
            problem = token_volume_ok(as_dict(meta.get("annotations")), as_list(pod.get("volumes")))
            if problem is not None:
                out.append(
                    (
                        urn,
                        f"{path}: Kuma-injected pod mounts no ServiceAccount token ({problem}); "
                        f"fix: a projected serviceAccountToken volume named by {KUMA_TOKEN_VOLUME}",
                    )
                )
    return out
