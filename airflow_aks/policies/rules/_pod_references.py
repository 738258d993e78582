"""References resolve where the pod runs.

A pod's ConfigMaps, Secrets, ServiceAccount, PersistentVolumeClaims and
SecretProviderClasses are looked up in the pod's own namespace (Kubernetes API reference,
PodSpec: ``serviceAccountName``, ``volumes[].configMap.name``, ``secret.secretName``,
``persistentVolumeClaim.claimName``, ``env[].valueFrom.*KeyRef.name`` all name objects "in
the same namespace"; the Secrets Store CSI driver reads ``volumeAttributes.secretProviderClass``
from the pod's namespace — secrets-store-csi-driver docs "Usage"). A missing one keeps the
pod in ContainerCreating (volumes) or CreateContainerConfigError (env) until something gives
up. And a Service's short name resolves only inside its own namespace (Kubernetes "DNS for
Services and Pods": the resolver search path starts with the pod's namespace), so a URL one
namespace hands to pods of another must be fully qualified.

Pods come from the plan's workloads and, for the Airflow chart (one resource in the
offline plan), from :mod:`._airflow_chart`'s model of its pod templates — including the
KubernetesExecutor's pod template in every namespace it places task pods in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ._airflow_chart import CONTROL_PLANE, JOBS, AirflowChart, airflow_charts
from ._core import (
    CUSTOM_RESOURCE,
    UNKNOWN,
    WORKLOAD_TYPES,
    Context,
    as_dict,
    as_list,
    get,
    is_false,
)

KINDS = ("ConfigMap", "Secret", "ServiceAccount", "PersistentVolumeClaim", "SecretProviderClass")
CSI_DRIVER = "secrets-store.csi.k8s.io"


@dataclass(frozen=True)
class Ref:
    kind: str
    name: str
    where: str


def _kind(r: Mapping[str, Any]) -> str:
    typ = str(r.get("type", ""))
    if typ == CUSTOM_RESOURCE or not typ.startswith("kubernetes:"):
        return str(as_dict(r.get("inputs")).get("kind", ""))
    return typ.rsplit(":", 1)[-1]


def existing(resources: list[dict[str, Any]]) -> dict[str, set[tuple[str, str]]]:
    """Kind -> ``{(namespace, name)}`` of the objects the plan creates."""
    out: dict[str, set[tuple[str, str]]] = {k: set() for k in KINDS}
    for r in resources:
        kind = _kind(r)
        if kind in out:
            meta = as_dict(get(r.get("inputs"), "metadata"))
            out[kind].add((str(meta.get("namespace") or "default"), str(meta.get("name"))))
    return out


def volume_refs(volumes: Any, where: str) -> Iterator[Ref]:
    for v in map(as_dict, as_list(volumes)):
        name = v.get("name", "?")
        cm, sec = as_dict(v.get("configMap")), as_dict(v.get("secret"))
        if cm.get("name") and not cm.get("optional"):
            yield Ref("ConfigMap", str(cm["name"]), f"{where} volume {name}")
        if sec.get("secretName") and not sec.get("optional"):
            yield Ref("Secret", str(sec["secretName"]), f"{where} volume {name}")
        if pvc := as_dict(v.get("persistentVolumeClaim")).get("claimName"):
            yield Ref("PersistentVolumeClaim", str(pvc), f"{where} volume {name}")
        csi = as_dict(v.get("csi"))
        if csi.get("driver") == CSI_DRIVER:
            spc = as_dict(csi.get("volumeAttributes")).get("secretProviderClass")
            if spc:
                yield Ref("SecretProviderClass", str(spc), f"{where} volume {name}")


def env_refs(env: Any, where: str) -> Iterator[Ref]:
    for e in map(as_dict, as_list(env)):
        source = as_dict(e.get("valueFrom"))
        for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
            ref = as_dict(source.get(key))
            if ref.get("name") and not ref.get("optional"):
                yield Ref(kind, str(ref["name"]), f"{where} env {e.get('name')}")


def pod_spec_refs(spec: Mapping[str, Any], where: str) -> list[Ref]:
    refs = [Ref("ServiceAccount", str(spec.get("serviceAccountName") or "default"), where)]
    refs += volume_refs(spec.get("volumes"), where)
    for field in ("initContainers", "containers"):
        for c in map(as_dict, as_list(spec.get(field))):
            refs += env_refs(c.get("env"), f"{where} container {c.get('name')}")
            for src in map(as_dict, as_list(c.get("envFrom"))):
                for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                    ref = as_dict(src.get(key))
                    if ref.get("name") and not ref.get("optional"):
                        refs.append(Ref(kind, str(ref["name"]), f"{where} envFrom"))
    for s in map(as_dict, as_list(spec.get("imagePullSecrets"))):
        if s.get("name"):
            refs.append(Ref("Secret", str(s["name"]), f"{where} imagePullSecrets"))
    return refs


def _workload_spec(props: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = as_dict(props.get("spec"))
    if "containers" in spec:
        return spec
    if "template" in spec:
        return as_dict(get(spec, "template.spec"))
    return as_dict(get(spec, "jobTemplate.spec.template.spec"))


def airflow_pods(chart: AirflowChart) -> Iterator[tuple[str, list[Ref], set[str]]]:
    """``(namespace, refs, names the chart renders there)`` per Airflow pod template."""
    v = chart.values
    secret_refs = [
        Ref("Secret", name, f"chart env {env}") for env, name in chart.builtin_secret_refs()
    ]
    rendered = chart.chart_secret_defaults()
    for comp in (*CONTROL_PLANE, *JOBS):
        if not chart.enabled(comp):
            continue
        where = f"Airflow {comp}"
        refs = [*secret_refs, *volume_refs(get(v, f"{comp}.extraVolumes"), where)]
        refs += env_refs(get(v, f"{comp}.env"), where)
        if not chart.chart_creates_service_account(comp):
            refs.append(Ref("ServiceAccount", chart.service_account(comp), where))
        yield chart.namespace, refs, rendered
    volumes = [
        *as_list(get(v, "workers.extraVolumes")),
        *as_list(get(v, "workers.kubernetes.extraVolumes")),
    ]
    for ns in chart.task_namespaces():
        where = f"Airflow task pod template in {ns}"
        refs = [
            Ref("ConfigMap", chart.config_map(), f"{where} volume config"),
            *secret_refs,
            *volume_refs(volumes, where),
            *env_refs(get(v, "workers.env"), where),
        ]
        sa = chart.task_service_account(ns)
        chart_made = ns == chart.namespace and chart.chart_creates_service_account("workers")
        if not chart_made:
            refs.append(Ref("ServiceAccount", sa, where))
        in_release = ns == chart.namespace
        yield ns, refs, (rendered | {chart.config_map()}) if in_release else set()


def _single_label_host(value: str) -> str | None:
    """The host of a URL (or a bare host) that has no dot: a short cluster name."""
    text = value.strip()
    host = urlsplit(text).hostname if "://" in text else text.split(":")[0]
    if host and re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", host) and host != "localhost":
        return host
    return None


# Airflow settings task pods use to reach the control plane, with the chart's default when
# unset: ``config.metrics.statsd_host`` is ``<fullname>-statsd`` (chart values.yaml); the
# execution API defaults to ``{[api] base_url}/execution/`` (Airflow 3.3 config reference,
# base_url default http://localhost:8080 — the task pod itself).
CROSS_NAMESPACE_SETTINGS = (("core", "execution_api_server_url"), ("metrics", "statsd_host"))


def cross_namespace_urls(chart: AirflowChart) -> list[str]:
    others = [ns for ns in chart.task_namespaces() if ns != chart.namespace]
    if not others:
        return []
    out = []
    for section, key in CROSS_NAMESPACE_SETTINGS:
        if key == "statsd_host" and (
            is_false(get(chart.values, "statsd.enabled"))
            or is_false(chart.config("metrics", "statsd_on"))
        ):
            continue
        value = chart.config(section, key)
        if value is None:
            out.append(
                f"config.{section}.{key} is unset: the chart's default does not reach the "
                f"control plane from task pods in {', '.join(others)}; fix: set it to the "
                f"Service's fully qualified name (<service>.{chart.namespace}.svc.cluster.local)"
            )
        elif isinstance(value, str) and value != UNKNOWN and (host := _single_label_host(value)):
            out.append(
                f"config.{section}.{key} uses the short name {host!r}, which resolves only in "
                f"{chart.namespace}, not in {', '.join(others)} where task pods run; fix: "
                f"{host}.{chart.namespace}.svc.cluster.local"
            )
    for e in map(as_dict, as_list(get(chart.values, "workers.env"))):
        value = e.get("value")
        if isinstance(value, str) and "://" in value and (host := _single_label_host(value)):
            out.append(
                f"workers.env {e.get('name')} uses the short name {host!r} in task pods outside "
                f"{chart.namespace}; fix: {host}.{chart.namespace}.svc.cluster.local"
            )
    return out


def pod_references_resolve(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    have = existing(resources)
    out: list[tuple[str, str]] = []

    def check(urn: str, ns: str, refs: list[Ref], rendered: set[str]) -> None:
        for ref in refs:
            if ref.name == UNKNOWN or (ref.kind == "ServiceAccount" and ref.name == "default"):
                continue
            if (ns, ref.name) in have[ref.kind] or ref.name in rendered:
                continue
            out.append(
                (
                    urn,
                    f"{ref.where} references {ref.kind} {ref.name!r}, which nothing creates in "
                    f"namespace {ns!r} (the pod's namespace); fix: create it there or stop "
                    "referencing it",
                )
            )

    for r in resources:
        if r.get("type") in WORKLOAD_TYPES:
            props = as_dict(r.get("inputs"))
            ns = str(get(props, "metadata.namespace") or "default")
            check(str(r.get("urn")), ns, pod_spec_refs(_workload_spec(props), _kind(r)), set())
    for raw in airflow_charts(resources):
        chart = AirflowChart.of(raw)
        for ns, refs, rendered in airflow_pods(chart):
            check(chart.urn, ns, refs, rendered)
        out += [(chart.urn, m) for m in cross_namespace_urls(chart)]
    return out
