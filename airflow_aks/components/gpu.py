"""The NVIDIA device plugin for the GPU pool: ``airflow-aks:index:NvidiaDevicePlugin``.

AKS installs the NVIDIA driver on GPU nodes but not the device plugin; without it a node
never advertises ``nvidia.com/gpu`` and a pod asking for a GPU stays Pending (AKS "Use GPUs
for compute-intensive workloads", MicrosoftDocs/azure-aks-docs ``articles/aks/use-nvidia-gpu.md``,
read 2026-12-02).

Chart ``nvidia-device-plugin`` from https://nvidia.github.io/k8s-device-plugin (the
repository's README), pinned in ``aks.gpuPool.devicePluginVersion``. Its default
``affinity`` requires labels that node-feature-discovery / GPU feature discovery put on
nodes (``feature.node.kubernetes.io/pci-10de.present``, ``nvidia.com/gpu.present``, ...);
both are off by default and AKS does not set those labels, so with the defaults the
DaemonSet schedules nowhere (NVIDIA/k8s-device-plugin v0.20.0
``deployments/helm/nvidia-device-plugin/values.yaml``). The values here replace the
required node-selector terms with the GPU pool's own labels and the tolerations with the
pool's taints (Helm replaces lists, so nothing of the default terms survives).
"""

from collections.abc import Mapping
from typing import Any, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from airflow_aks.components import netpol
from airflow_aks.components.mesh import injection_opt_out
from airflow_aks.components.scheduling import PodPlacement, PodPlacementArgs, from_args
from airflow_aks.components.tokens import type_token

CHART = "nvidia-device-plugin"
REPO = "https://nvidia.github.io/k8s-device-plugin"
NAMESPACE = "gpu-resources"
"""The namespace the AKS GPU doc deploys the plugin into (the chart refuses ``default``)."""


def device_plugin_values(placement: PodPlacement) -> dict[str, Any]:
    """Run on the GPU pool's nodes only, tolerating exactly its taints."""
    if placement.empty or not placement.node_selector:
        raise ValueError("the device plugin needs the GPU pool's placement (labels, taints)")
    expressions = [
        {"key": k, "operator": "In", "values": [v]}
        for k, v in sorted(placement.node_selector.items())
    ]
    return {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": expressions}]
                }
            }
        },
        "tolerations": [dict(t) for t in placement.tolerations],
        "priorityClassName": "system-node-critical",  # the chart's default, stated
    }


class NvidiaDevicePluginArgs(TypedDict, total=False):
    """Arguments of :class:`NvidiaDevicePlugin`."""

    version: Required[str]
    """``nvidia-device-plugin`` chart version (= plugin version), e.g. ``0.20.0``."""
    placement: Required[PodPlacementArgs]
    """The GPU pool's placement (``scheduling.pool_placement``)."""
    namespace: str
    """Namespace to create for the plugin (default ``gpu-resources``)."""
    helm_values: Mapping[str, Any]
    """Escape hatch merged over the values (top-level keys replaced)."""


class NvidiaDevicePlugin(pulumi.ComponentResource):
    """Namespace + the pinned ``nvidia-device-plugin`` DaemonSet on the GPU pool."""

    namespace: pulumi.Output[str]
    """Namespace of the plugin."""
    chart_version: str
    """Pinned chart version."""

    def __init__(
        self, name: str, args: NvidiaDevicePluginArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        values = {
            **device_plugin_values(from_args(args["placement"])),
            **dict(args.get("helm_values", {})),
        }
        super().__init__(type_token(NvidiaDevicePlugin), name, {}, opts)
        ns_name = args.get("namespace", NAMESPACE)
        # A node-level add-on: never meshed, whichever mesh runs (every registered
        # mesh's opt-out).
        opt_out_labels, opt_out_annotations = injection_opt_out()
        ns = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=ns_name,
                labels={"app.kubernetes.io/part-of": "airflow-aks", **opt_out_labels},
                annotations=opt_out_annotations,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # No network path at all: the plugin registers with the kubelet over the Unix socket
        # in /var/lib/kubelet/device-plugins (kubernetes.io "Device Plugins", read
        # 2026-12), and node/GPU feature discovery, which call the API server, are off.
        deny = netpol.network_policy(
            f"{name}-netpol-default-deny",
            netpol.default_deny(ns_name),
            pulumi.ResourceOptions(parent=self, depends_on=[ns]),
        )
        self.chart_version = args["version"]
        k8s.helm.v4.Chart(
            f"{name}-chart",
            chart=CHART,
            version=self.chart_version,
            namespace=ns_name,
            repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=REPO),
            values=values,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ns, deny]),
        )
        self.namespace = ns.metadata.apply(lambda m: (m.name if m else None) or ns_name)
        self.register_outputs({"namespace": self.namespace, "chart_version": self.chart_version})
