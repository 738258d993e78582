"""Where pods run: node-pool taints -> the tolerations and node selection of their pods.

Pure functions, no Pulumi. A pool's *effective* taints are the ones it is configured with
plus what AKS adds itself (the spot taint on spot pools, the ``CriticalAddonsOnly`` taint
this project puts on the system pool); a pod meant for that pool gets one toleration per
effective taint **and** a node selector on the pool's own labels. Both are needed
(AKS spot node pool doc, checked 2026-12): a toleration only *allows* a pod onto the
tainted nodes, so without node selection a task pod lands on the untainted workload pool
and the task pool never scales up from zero (nor saves anything on spot); without the
toleration a pod that selects the pool stays Pending.

:func:`pool_placement` is the one decision; the Airflow values (KubernetesExecutor pod
template) and the settings handed to DAGs (KubernetesPodOperator pods) both come from it,
so they cannot disagree. The policy rules in ``policies/rules/scheduling.py`` check the
same property from the other side, over the whole plan.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

SYSTEM_TAINT = "CriticalAddonsOnly=true:NoSchedule"
"""Keeps application pods off the system pool (AKS system node pool doc; CKV_AZURE_232)."""
SPOT_TAINT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"
"""AKS puts this taint on every node of a spot pool (AKS spot node pool doc, 2026-12)."""
SPOT_LABEL = ("kubernetes.azure.com/scalesetpriority", "spot")
"""... and this label (same doc)."""

EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


@dataclass(frozen=True)
class Taint:
    """One node taint (``key=value:Effect`` or ``key:Effect``)."""

    key: str
    value: str
    effect: str

    def __str__(self) -> str:
        return (
            f"{self.key}={self.value}:{self.effect}" if self.value else f"{self.key}:{self.effect}"
        )

    def toleration(self) -> dict[str, str]:
        """The exact toleration (``operator: Equal``) for this taint."""
        if not self.value:
            return {"key": self.key, "operator": "Exists", "effect": self.effect}
        return {"key": self.key, "operator": "Equal", "value": self.value, "effect": self.effect}


def parse_taint(text: str) -> Taint:
    """``"key=value:NoSchedule"`` -> :class:`Taint`; a clear error otherwise."""
    head, sep, effect = str(text).rpartition(":")
    if not sep or effect not in EFFECTS or not head:
        raise ValueError(
            f"taint {text!r} must look like key=value:Effect with Effect one of {list(EFFECTS)}"
        )
    key, _, value = head.partition("=")
    if not key:
        raise ValueError(f"taint {text!r} has an empty key")
    return Taint(key, value, effect)


def effective_taints(
    taints: Sequence[str], *, spot: bool = False, system: bool = False
) -> list[str]:
    """The taints a pool's nodes really carry: configured ones, plus the system taint on the
    system pool and AKS's spot taint on spot pools (stated in the plan so it equals the
    cluster's state and the policy rules see it)."""
    out = list(taints)
    if system and SYSTEM_TAINT not in out:
        out.append(SYSTEM_TAINT)
    if spot and SPOT_TAINT not in out:
        out.append(SPOT_TAINT)
    return out


class PodPlacementArgs(TypedDict):
    """Component-arg form of :class:`PodPlacement` (plain data)."""

    node_selector: Mapping[str, str]
    """Node labels the pods select (``nodeSelector``)."""
    tolerations: Sequence[Mapping[str, str]]
    """Tolerations (``key``, ``operator``, ``value``, ``effect``)."""


@dataclass(frozen=True)
class PodPlacement:
    """Node selection and tolerations for the pods of one pool (K8s field names)."""

    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: Sequence[Mapping[str, str]] = ()

    def as_args(self) -> PodPlacementArgs:
        return PodPlacementArgs(
            node_selector=dict(self.node_selector), tolerations=[dict(t) for t in self.tolerations]
        )

    def as_pod_spec(self) -> dict[str, Any]:
        """``{"nodeSelector": ..., "tolerations": [...]}`` as a pod spec fragment."""
        return {
            "nodeSelector": dict(self.node_selector),
            "tolerations": [dict(t) for t in self.tolerations],
        }

    @property
    def empty(self) -> bool:
        return not self.node_selector and not self.tolerations


def from_args(args: PodPlacementArgs | None) -> PodPlacement:
    """:class:`PodPlacementArgs` -> :class:`PodPlacement` (``None``: no placement)."""
    if args is None:
        return PodPlacement()
    return PodPlacement(dict(args["node_selector"]), [dict(t) for t in args["tolerations"]])


def pool_placement(
    pool_name: str,
    taints: Sequence[str],
    labels: Mapping[str, str],
    *,
    spot: bool = False,
    config_key: str = "aks.taskPool",
) -> PodPlacement:
    """Tolerate every blocking taint of the pool and select it by its labels.

    A pool without labels cannot be selected: that is a configuration error named by its
    key (``airflow-aks:<config_key>.labels``), never a silent "run anywhere".
    """
    if not labels:
        raise ValueError(
            f"airflow-aks:{config_key}.labels: pool {pool_name!r} has no labels, so its pods "
            "cannot select it; give it one, e.g. {'airflow-aks/pool': '" + pool_name + "'}"
        )
    tolerations: list[dict[str, str]] = []
    for text in effective_taints(taints, spot=spot):
        taint = parse_taint(text)
        if taint.effect == "PreferNoSchedule":
            continue  # does not block scheduling
        tol = taint.toleration()
        if tol not in tolerations:
            tolerations.append(tol)
    return PodPlacement(dict(labels), tolerations)
