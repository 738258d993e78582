"""Chart-owned settings (policies.rules.kubernetes.CHART_OWNED): accepted on the exact
chart-rendered object, still violations on the same object written by us or renamed."""

from typing import Any

import pytest

from airflow_aks.policies.rules import kubernetes as k8s
from airflow_aks.policies.rules import mesh
from airflow_aks.policies.rules._core import Context

CHART = "urn:pulumi:dev::airflow-aks::airflow-aks:index:Linkerd$kubernetes:helm.sh/v4:Chart"
LINKERD_CHILD = f"{CHART}$kubernetes:apps/v1:Deployment::mesh-control-plane:linkerd/{{}}"
OURS = "urn:pulumi:dev::airflow-aks::airflow-aks:index:Linkerd$kubernetes:apps/v1:Deployment::{}"
GPU_CHILD = (
    "urn:pulumi:dev::airflow-aks::airflow-aks:index:NvidiaDevicePlugin$kubernetes:helm.sh/v4:Chart"
    "$kubernetes:apps/v1:DaemonSet::gpu-device-plugin-chart:gpu-resources/{}"
)
MPS = "gpu-device-plugin-chart-nvidia-device-plugin-mps-control-daemon"


def _linkerd(name: str, ns: str = "linkerd") -> dict[str, Any]:
    init = {
        "name": "linkerd-init",
        "securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": {"app.kubernetes.io/part-of": "Linkerd"},
        },
        "spec": {
            "template": {
                "metadata": {
                    "annotations": {
                        "config.linkerd.io/default-inbound-policy": "all-unauthenticated"
                    }
                },
                "spec": {"initContainers": [init], "containers": [{"name": "identity"}]},
            }
        },
    }


def _mps(name: str = MPS) -> dict[str, Any]:
    ctr = {"securityContext": {"privileged": True}}
    return {
        "kind": "DaemonSet",
        "metadata": {
            "name": name,
            "namespace": "gpu-resources",
            "labels": {"app.kubernetes.io/name": "nvidia-device-plugin"},
        },
        "spec": {
            "template": {
                "spec": {
                    "hostPID": True,
                    "initContainers": [{"name": "mps-control-daemon-mounts", **ctr}],
                    "containers": [{"name": "mps-control-daemon-ctr", **ctr}],
                }
            }
        },
    }


def _caps(urn: str, props: dict[str, Any]) -> list[str]:
    return [m for m in k8s.drop_capabilities(props, Context(urn=urn)) if "linkerd-init" in m]


def test_linkerd_init_accepted_only_on_the_charts_control_plane() -> None:
    name = "linkerd-identity"
    assert _caps(LINKERD_CHILD.format(name), _linkerd(name)) == []
    # the same init container on a Deployment we write, or a chart object of another name
    assert len(_caps(OURS.format(name), _linkerd(name))) == 2
    assert len(_caps(LINKERD_CHILD.format("my-app"), _linkerd("my-app"))) == 2
    assert len(_caps(LINKERD_CHILD.format(name), _linkerd(name, ns="airflow"))) == 2


def _deny_findings(urn: str, props: dict[str, Any]) -> list[str]:
    resources = [
        {
            "type": "kubernetes:helm.sh/v4:Chart",
            "urn": f"{CHART}::mesh-control-plane",
            "inputs": {"chart": "linkerd-control-plane", "values": {}},
        },
        {"type": "kubernetes:apps/v1:Deployment", "urn": urn, "inputs": props},
    ]
    return [u for u, _ in mesh.linkerd_default_deny(resources, Context()) if u == urn]


def test_default_inbound_policy_accepted_only_on_linkerd_control_plane() -> None:
    name = "linkerd-destination"
    assert _deny_findings(LINKERD_CHILD.format(name), _linkerd(name)) == []
    assert _deny_findings(OURS.format(name), _linkerd(name)) == [OURS.format(name)]
    other = LINKERD_CHILD.format("airflow-api")
    assert _deny_findings(other, _linkerd("airflow-api")) == [other]


@pytest.mark.parametrize(
    "rule",
    [
        k8s.no_privileged,
        k8s.no_privilege_escalation,
        k8s.run_as_non_root,
        k8s.seccomp_profile,
        k8s.drop_capabilities,
        next(r.check for r in k8s.RULES if r.name == "k8s-no-host-pid"),
    ],
)
def test_mps_daemon_accepted_only_as_the_charts_object(rule: Any) -> None:
    assert rule(_mps(), Context(urn=GPU_CHILD.format(MPS))) == []
    assert rule(_mps(), Context(urn=OURS.format(MPS))) != []
    assert rule(_mps("gpu-privileged"), Context(urn=GPU_CHILD.format("gpu-privileged"))) != []
