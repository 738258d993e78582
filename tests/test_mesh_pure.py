"""Mesh decisions as pure functions, table-driven over linkerd / kuma / none (no mocks)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_aks.components.mesh import (
    PROVIDERS,
    AllowRule,
    Client,
    NoMesh,
    WorkloadSelector,
    kuma,
    linkerd,
)
from airflow_aks.components.mesh.base import Manifest, PodKind

# ------------------------------------------------------------------ shared fixtures

AIRFLOW_NS = "airflow"
MONITORING_NS = "monitoring"

WORKERS = Client(AIRFLOW_NS, "airflow-worker", {"component": "worker"})
SCHEDULER = Client(AIRFLOW_NS, "airflow-scheduler", {"component": "scheduler"})
API = Client(AIRFLOW_NS, "airflow-api-server", {"component": "api-server"})
DAG_PROCESSOR = Client(AIRFLOW_NS, "airflow-dag-processor", {"component": "dag-processor"})
TRIGGERER = Client(AIRFLOW_NS, "airflow-triggerer", {"component": "triggerer"})
PROMETHEUS = Client(MONITORING_NS, "prometheus", {"app.kubernetes.io/name": "prometheus"})

# The paths Airflow needs under default deny: exactly these, nothing else.
RULES = (
    AllowRule(
        "api-server",
        AIRFLOW_NS,
        WorkloadSelector({"component": "api-server"}, 8080, "api-server"),
        (WORKERS, SCHEDULER),
    ),
    AllowRule(
        "pgbouncer",
        AIRFLOW_NS,
        WorkloadSelector({"component": "pgbouncer"}, 6543, "pgbouncer", "opaque"),
        (SCHEDULER, API, DAG_PROCESSOR, TRIGGERER, WORKERS),
    ),
    AllowRule(
        "statsd-metrics",
        AIRFLOW_NS,
        WorkloadSelector({"component": "statsd"}, 9102, "statsd-scrape"),
        (PROMETHEUS,),
    ),
)

LINKERD = "linkerd"
KUMA = "kuma"
NONE = "none"

MODULES: dict[str, Any] = {LINKERD: linkerd, KUMA: kuma, NONE: NoMesh()}


def allow_manifests(provider: str, rule: AllowRule) -> list[Manifest]:
    if provider == NONE:
        return []
    return MODULES[provider].allow_manifests(rule)


# ------------------------------------------------------------ namespaces and pods


@pytest.mark.parametrize(
    ("provider", "labels", "annotations"),
    [
        (
            LINKERD,
            {},
            {
                "linkerd.io/inject": "enabled",
                "config.linkerd.io/default-inbound-policy": "deny",
                "config.linkerd.io/opaque-ports": "5432,6543",
            },
        ),
        (KUMA, {"kuma.io/sidecar-injection": "enabled", "kuma.io/mesh": "default"}, {}),
        (NONE, {}, {}),
    ],
)
def test_namespace_metadata(
    provider: str, labels: dict[str, str], annotations: dict[str, str]
) -> None:
    m = MODULES[provider]
    assert m.namespace_labels() == labels
    assert m.namespace_annotations() == annotations


@pytest.mark.parametrize(
    ("provider", "kind", "labels", "annotations"),
    [
        (LINKERD, "service", {}, {"linkerd.io/inject": "enabled"}),
        (
            LINKERD,
            "job",
            {},
            {
                "linkerd.io/inject": "enabled",
                "config.linkerd.io/proxy-enable-native-sidecar": "true",
            },
        ),
        (KUMA, "service", {"kuma.io/sidecar-injection": "enabled", "kuma.io/mesh": "default"}, {}),
        (
            KUMA,
            "job",
            {"kuma.io/sidecar-injection": "enabled", "kuma.io/mesh": "default"},
            {"kuma.io/wait-for-dataplane-ready": "true"},
        ),
        (NONE, "service", {}, {}),
        (NONE, "job", {}, {}),
    ],
)
def test_pod_metadata(
    provider: str, kind: PodKind, labels: dict[str, str], annotations: dict[str, str]
) -> None:
    m = MODULES[provider]
    assert m.pod_labels(kind) == labels
    assert m.pod_annotations(kind) == annotations


def job_can_finish(provider: str) -> bool:
    """A run-to-completion pod finishes iff it is not meshed, or its proxy is a native
    sidecar (an init container with restartPolicy Always that Kubernetes stops once the
    main containers exit) — set both cluster-wide and, for Linkerd, on the pod itself."""
    m = MODULES[provider]
    labels, annotations = m.pod_labels("job"), m.pod_annotations("job")
    if provider == LINKERD:
        meshed = annotations.get("linkerd.io/inject") == "enabled"
        native = (
            annotations.get("config.linkerd.io/proxy-enable-native-sidecar") == "true"
            and linkerd.control_plane_values(ha=False, cni=False)["proxy"]["nativeSidecar"]
            and linkerd.control_plane_values(ha=True, cni=False)["proxy"]["nativeSidecar"]
        )
        return not meshed or bool(native)
    if provider == KUMA:
        meshed = labels.get("kuma.io/sidecar-injection") == "enabled"
        native = all(
            kuma.chart_values(ha)["experimental"]["sidecarContainers"] is True
            for ha in (False, True)
        )
        return not meshed or native
    return not labels and not annotations


@pytest.mark.parametrize("provider", PROVIDERS)
def test_run_to_completion_pods_can_finish(provider: str) -> None:
    assert job_can_finish(provider), provider


def test_linkerd_job_without_native_sidecar_would_be_flagged() -> None:
    """The check above is not vacuous: a job annotated like a service relies only on the
    global default, which the check refuses."""
    annotations = linkerd.pod_annotations("service")
    assert "config.linkerd.io/proxy-enable-native-sidecar" not in annotations


# ----------------------------------------------------------------- allow-lists


def _linkerd_paths(manifests: list[Manifest]) -> set[tuple[str, str, int | str, str, str]]:
    """(namespace, target labels, port, client ns, client sa) for every allowed path."""
    by_kind: dict[str, dict[str, Manifest]] = {}
    for m in manifests:
        by_kind.setdefault(m["kind"], {})[m["metadata"]["name"]] = m
    paths = set()
    for name, policy in by_kind["AuthorizationPolicy"].items():
        target = policy["spec"]["targetRef"]
        assert target["kind"] == "Server"
        server = by_kind["Server"][target["name"]]
        (auth_ref,) = policy["spec"]["requiredAuthenticationRefs"]
        assert auth_ref["kind"] == "MeshTLSAuthentication"
        auth = by_kind["MeshTLSAuthentication"][auth_ref["name"]]
        for ref in auth["spec"]["identityRefs"]:
            assert ref["kind"] == "ServiceAccount"
            paths.add(
                (
                    server["metadata"]["namespace"],
                    str(sorted(server["spec"]["podSelector"]["matchLabels"].items())),
                    server["spec"]["port"],
                    ref["namespace"],
                    ref["name"],
                )
            )
        assert name == server["metadata"]["name"]
    return paths


def _kuma_paths(manifests: list[Manifest]) -> set[tuple[str, str, str, str]]:
    paths = set()
    for m in manifests:
        assert m["kind"] == "MeshTrafficPermission"
        assert m["metadata"]["labels"] == {"kuma.io/mesh": "default"}
        target = m["spec"]["targetRef"]
        assert target["kind"] == "Dataplane"
        for entry in m["spec"]["from"]:
            assert entry["default"] == {"action": "Allow"}
            assert entry["targetRef"]["kind"] == "MeshSubset"
            tags = dict(entry["targetRef"]["tags"])
            ns = tags.pop("k8s.kuma.io/namespace")
            paths.add(
                (
                    m["metadata"]["namespace"],
                    str(sorted(target["labels"].items())),
                    ns,
                    str(sorted(tags.items())),
                )
            )
    return paths


def _declared(provider: str) -> set[tuple]:
    out: set[tuple] = set()
    for r in RULES:
        for c in r.clients:
            labels = str(sorted(r.target.labels.items()))
            if provider == LINKERD:
                out.add((r.namespace, labels, r.target.port, c.namespace, c.service_account))
            else:
                out.add((r.namespace, labels, c.namespace, str(sorted(c.labels.items()))))
    return out


def test_linkerd_allow_list_is_default_deny_plus_exactly_declared_paths() -> None:
    assert linkerd.namespace_annotations()["config.linkerd.io/default-inbound-policy"] == "deny"
    manifests = [m for r in RULES for m in linkerd.allow_manifests(r)]
    assert _linkerd_paths(manifests) == _declared(LINKERD)
    # Nothing but the three policy kinds, one of each per rule, none authorizing a
    # namespace-wide or unauthenticated source.
    assert sorted(m["kind"] for m in manifests) == sorted(
        ["Server", "MeshTLSAuthentication", "AuthorizationPolicy"] * len(RULES)
    )
    for m in manifests:
        if m["kind"] == "AuthorizationPolicy":
            assert m["spec"]["targetRef"]["kind"] != "Namespace"
        assert "NetworkAuthentication" not in str(m)


def test_kuma_allow_list_is_default_deny_plus_exactly_declared_paths() -> None:
    mesh = kuma.mesh_manifest()
    backend = mesh["spec"]["mtls"]["backends"][0]
    assert backend["mode"] == "STRICT"
    assert mesh["spec"]["skipCreatingInitialPolicies"] == ["*"]  # no allow-all created
    deny = kuma.deny_all_manifest()
    assert deny["spec"] == {
        "targetRef": {"kind": "Mesh"},
        "from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Deny"}}],
    }
    manifests = [m for r in RULES for m in kuma.allow_manifests(r)]
    assert len(manifests) == len(RULES)
    assert _kuma_paths(manifests) == _declared(KUMA)


@pytest.mark.parametrize(
    ("provider", "kinds_per_rule"),
    [
        (LINKERD, ["AuthorizationPolicy", "MeshTLSAuthentication", "Server"]),
        (KUMA, ["MeshTrafficPermission"]),
        (NONE, []),
    ],
)
def test_allow_objects_per_provider(provider: str, kinds_per_rule: list[str]) -> None:
    for r in RULES:
        assert sorted(m["kind"] for m in allow_manifests(provider, r)) == kinds_per_rule


def test_linkerd_opaque_server_for_pgbouncer() -> None:
    server = linkerd.allow_manifests(RULES[1])[0]
    assert server["kind"] == "Server"
    assert server["spec"]["proxyProtocol"] == "opaque"
    assert server["spec"]["port"] == 6543
    assert linkerd.allow_manifests(RULES[0])[0]["spec"]["proxyProtocol"] == "unknown"


def test_kuma_client_without_labels_is_its_namespace() -> None:
    assert kuma.client_tags(Client("data", "etl")) == {"k8s.kuma.io/namespace": "data"}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: WorkloadSelector({}, 80, "http"), "at least one pod label"),
        (lambda: WorkloadSelector({"a": "b"}, 70000, "http"), "out of range"),
        (
            lambda: AllowRule("x", "ns", WorkloadSelector({"a": "b"}, 80, "http"), ()),
            "no clients",
        ),
        (
            lambda: AllowRule(
                "Bad_Name", "ns", WorkloadSelector({"a": "b"}, 80, "http"), (WORKERS,)
            ),
            "DNS-1123",
        ),
    ],
)
def test_invalid_rules_are_refused(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


# ------------------------------------------------------------- identity chain


def test_linkerd_identity_rotation_chain() -> None:
    m = linkerd.identity_manifests()
    assert m["selfsigned-issuer"]["spec"] == {"selfSigned": {}}
    anchor = m["trust-anchor"]["spec"]
    assert anchor["isCA"] is True
    assert anchor["privateKey"] == {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}
    assert anchor["issuerRef"]["name"] == m["selfsigned-issuer"]["metadata"]["name"]
    issuer = m["identity-cluster-issuer"]
    assert issuer["kind"] == "ClusterIssuer"
    assert issuer["spec"]["ca"]["secretName"] == anchor["secretName"]
    cert = m["identity-issuer"]
    assert cert["metadata"] == {
        "name": "linkerd-identity-issuer",
        "namespace": "linkerd",
        # the identity pod mounts its Secret: applied once issued
        "annotations": {"pulumi.com/waitFor": "condition=Ready"},
    }
    spec = cert["spec"]
    assert (spec["duration"], spec["renewBefore"], spec["isCA"]) == ("48h", "25h", True)
    assert spec["commonName"] == "identity.linkerd.cluster.local"
    assert spec["privateKey"]["algorithm"] == "ECDSA" and spec["privateKey"]["size"] == 256
    assert spec["issuerRef"] == {
        "name": issuer["metadata"]["name"],
        "kind": "ClusterIssuer",
        "group": "cert-manager.io",
    }
    bundle = m["trust-roots"]
    assert bundle["kind"] == "Bundle"
    assert bundle["metadata"]["name"] == "linkerd-identity-trust-roots"
    assert bundle["spec"]["sources"] == [
        {"secret": {"name": anchor["secretName"], "key": "tls.crt"}}
    ]
    target = bundle["spec"]["target"]
    assert target["configMap"] == {"key": "ca-bundle.crt"}
    selector = target["namespaceSelector"]["matchLabels"]
    assert selector.items() <= linkerd.control_plane_namespace_labels().items()


def test_linkerd_identity_objects_wait_for_what_they_reference() -> None:
    """The creation-order table covers every identity object, only points backwards (or at
    the charts / control-plane namespace) and lists each issuer and CA secret it uses."""
    m = linkerd.identity_manifests()
    depends = linkerd.IDENTITY_DEPENDS
    order = list(m)
    assert list(depends) == order
    for i, role in enumerate(order):
        assert set(depends[role]) <= {"cert-manager", "trust-manager", "ns", *order[:i]}, role
    by_ref = {(o["kind"], o["metadata"]["name"]): role for role, o in m.items()}
    for role, o in m.items():
        ref = o["spec"].get("issuerRef")
        if ref:
            assert by_ref[(ref["kind"], ref["name"])] in depends[role], role
    by_secret = {o["spec"]["secretName"]: r for r, o in m.items() if o["kind"] == "Certificate"}
    ca_secret = m["identity-cluster-issuer"]["spec"]["ca"]["secretName"]
    assert by_secret[ca_secret] in depends["identity-cluster-issuer"]
    (source,) = m["trust-roots"]["spec"]["sources"]
    assert by_secret[source["secret"]["name"]] in depends["trust-roots"]


# ----------------------------------------------------------------- Helm values


@pytest.mark.parametrize("ha", [False, True])
def test_linkerd_control_plane_values(ha: bool) -> None:
    v = linkerd.control_plane_values(ha=ha, cni=False)
    assert v["identity"] == {"externalCA": True, "issuer": {"scheme": "kubernetes.io/tls"}}
    assert "identityTrustAnchorsPEM" not in v
    assert v["proxy"]["nativeSidecar"] is True
    assert v["proxyInit"] == {"runAsRoot": False}
    assert v["cniEnabled"] is False
    # every injected proxy: requests and limits (a domain quota on limits rejects less)
    res = v["proxy"]["resources"]
    assert all(res[r].get("request") and res[r].get("limit") for r in ("cpu", "memory"))
    if ha:
        assert v["controllerReplicas"] == 3
        assert v["enablePodDisruptionBudget"] is True
        assert v["enablePodAntiAffinity"] is True
        assert v["webhookFailurePolicy"] == "Fail"
        assert v["proxy"]["resources"]["memory"] == {"limit": "250Mi", "request": "20Mi"}
        assert v["identityResources"]["memory"]["request"] == "10Mi"
    else:
        assert "controllerReplicas" not in v and "enablePodDisruptionBudget" not in v


def test_linkerd_cni_values() -> None:
    assert linkerd.control_plane_values(ha=False, cni=True)["cniEnabled"] is True


@pytest.mark.parametrize(("flag"), [True, False])
def test_linkerd_crds_values(flag: bool) -> None:
    assert linkerd.crds_values(flag) == {"installGatewayAPI": flag}


@pytest.mark.parametrize(
    ("ha", "replicas", "pdb"),
    [(False, None, None), (True, 3, {"enabled": True, "maxUnavailable": 1})],
)
def test_kuma_chart_values(ha: bool, replicas: int | None, pdb: dict | None) -> None:
    v = kuma.chart_values(ha)
    assert v["experimental"] == {"sidecarContainers": True}
    assert v["controlPlane"]["defaults"] == {"skipMeshCreation": True}
    # helm.v4.Chart drops hooks itself; noHelmHooks: true adds a lookup that fails offline
    assert v["noHelmHooks"] is False and v["patchSystemNamespace"] is False
    assert v["controlPlane"]["tls"] == {"general": {"certManager": {"enabled": True}}}
    assert v["controlPlane"].get("replicas") == replicas
    assert v["controlPlane"].get("podDisruptionBudget") == pdb
    # the chart default is only readOnlyRootFilesystem: the policy pack needs the rest
    assert v["controlPlane"]["containerSecurityContext"] == {
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }


@pytest.mark.parametrize("ha", [False, True])
def test_cert_manager_and_trust_manager_values(ha: bool) -> None:
    cm = linkerd.cert_manager_values(ha)
    assert cm["crds"] == {"enabled": True, "keep": True}
    assert ("replicaCount" in cm) is ha
    tm = linkerd.trust_manager_values(ha)
    assert tm["app"]["trust"]["namespace"] == "cert-manager"
    assert tm["defaultPackage"] == {"enabled": False}
    assert ("podDisruptionBudget" in tm) is ha


def test_kuma_mesh_mtls() -> None:
    mtls = kuma.mesh_manifest("12h")["spec"]["mtls"]
    (backend,) = mtls["backends"]
    assert mtls["enabledBackend"] == backend["name"]
    assert backend["type"] == "builtin"
    assert backend["dpCert"] == {"rotation": {"expiration": "12h"}}
    assert backend["conf"]["caCert"]["RSAbits"] == 2048
    assert kuma.mesh_manifest()["spec"]["mtls"]["backends"][0]["dpCert"]["rotation"] == {
        "expiration": "24h"
    }


def test_kuma_trace() -> None:
    t = kuma.trace_manifest("otel-collector.observability:4317")
    assert t["kind"] == "MeshTrace"
    assert t["spec"]["default"]["backends"] == [
        {
            "type": "OpenTelemetry",
            "openTelemetry": {"endpoint": "otel-collector.observability:4317"},
        }
    ]


def test_kuma_system_namespace_label_is_the_one_the_chart_checks() -> None:
    """kuma v2.14.3 pre-install-patch-namespace-job.yaml: kuma.io/sidecar-injection "false"."""
    assert kuma.system_namespace_labels() == {"kuma.io/sidecar-injection": "false"}


def test_linkerd_webhooks_use_cert_manager_secrets() -> None:
    values = linkerd.control_plane_values(ha=False, cni=False)
    manifests = linkerd.webhook_manifests()
    for key, (certificate, secret) in linkerd.WEBHOOKS.items():
        assert values[key] == {
            "externalSecret": True,
            "injectCaFrom": f"linkerd/{certificate}",
        }
        cert = manifests[f"webhook-{certificate}"]
        assert cert["metadata"]["name"] == certificate  # what injectCaFrom names
        assert cert["spec"]["secretName"] == secret  # what the pods mount
        assert cert["spec"]["dnsNames"] == [f"{certificate}.linkerd.svc"]
        assert cert["spec"]["issuerRef"]["name"] == linkerd.WEBHOOK_ISSUER
        assert set(linkerd.WEBHOOK_DEPENDS[f"webhook-{certificate}"]) >= {"webhook-issuer"}
    assert manifests["webhook-issuer"]["spec"] == {"ca": {"secretName": linkerd.WEBHOOK_CA}}
    assert manifests["webhook-ca"]["spec"]["isCA"] is True
    # the webhook CA is its own, never the mesh trust anchor
    assert linkerd.WEBHOOK_CA != linkerd.TRUST_ANCHOR
    assert values["disableHeartBeat"] is True  # heartbeat schedule = render time
    assert set(linkerd.WEBHOOK_DEPENDS) == set(manifests)


@pytest.mark.parametrize("ha", [False, True])
def test_ha_mesh_charts_get_resources(ha: bool) -> None:
    """Prod: every container the mesh charts render has requests (render check 2026-12-02)."""
    cm = linkerd.cert_manager_values(ha)
    tm = linkerd.trust_manager_values(ha)
    got = [cm.get("resources"), cm.get("webhook", {}).get("resources")]
    got += [cm.get("cainjector", {}).get("resources"), tm.get("resources")]
    assert all(r and r["requests"] for r in got) if ha else got == [None] * 4
    if ha:
        cp = linkerd.ha_values()
        assert cp["policyController"]["resources"]["memory"]["request"]
        assert "controllerResources" not in cp and "heartbeatResources" not in cp
