"""Environment profiles: defaults merged *under* a stack's own keys.

``dev`` is cheap (Free tier, one small system node, task pool from zero, spot tasks);
``prod`` is highly available (Standard tier SLA, three zones, >= 3 system nodes,
Defender). A stack file only states what differs.
"""

from __future__ import annotations

from typing import Any

from .secrets import DEV_PROFILE as SECRETS_DEV_PROFILE
from .secrets import PROD_PROFILE as SECRETS_PROD_PROFILE

# Pools carry a label and taint so Airflow pods land where they belong; task pods
# tolerate "airflow-aks/pool=tasks" (and the spot taint AKS adds to spot pools).
SYSTEM_TAINT = "CriticalAddonsOnly=true:NoSchedule"
TASKS_TAINT = "airflow-aks/pool=tasks:NoSchedule"

_ZONES = ["1", "2", "3"]

DEV: dict[str, Any] = {
    "aks": {
        "tier": "Free",
        "upgradeChannel": "patch",
        "systemPool": {
            "name": "system",
            # AKS requires >= 4 vCPUs (and no B-series) for system pools (aks-docs
            # use-system-pools.md @ fb060abe, 2026-08-21); D4ds_v5's 150 GiB temp disk fits
            # the ephemeral OS disk.
            "vmSize": "Standard_D4ds_v5",
            "minCount": 1,
            "maxCount": 2,
            "nodeCount": 1,
            "osDiskSizeGb": 64,
            "taints": [SYSTEM_TAINT],
        },
        "workloadPool": {
            "name": "workload",
            "vmSize": "Standard_D4ds_v5",
            "minCount": 1,
            "maxCount": 3,
            "osDiskSizeGb": 128,
            "labels": {"airflow-aks/pool": "workload"},
        },
        "taskPool": {
            "name": "tasks",
            "vmSize": "Standard_D4ds_v5",
            "minCount": 0,
            "maxCount": 5,
            "osDiskSizeGb": 128,
            "spot": True,
            "taints": [TASKS_TAINT],
            "labels": {"airflow-aks/pool": "tasks"},
        },
    },
}

PROD: dict[str, Any] = {
    "aks": {
        "tier": "Standard",
        "upgradeChannel": "stable",
        "defender": True,
        "systemPool": {
            "name": "system",
            "vmSize": "Standard_D4ds_v5",
            "minCount": 3,
            "maxCount": 5,
            "osDiskSizeGb": 128,
            "zones": _ZONES,
            "taints": [SYSTEM_TAINT],
        },
        "workloadPool": {
            "name": "workload",
            "vmSize": "Standard_D4ds_v5",
            # Linkerd HA: 3 replicas per controller, one per node (config/stack.py
            # mesh_cluster_issues; linkerd2 edge-26.8.3 _affinity.tpl), one per zone.
            "minCount": 3,
            "maxCount": 6,
            "osDiskSizeGb": 128,
            "zones": _ZONES,
            "labels": {"airflow-aks/pool": "workload"},
        },
        "taskPool": {
            "name": "tasks",
            "vmSize": "Standard_D4ds_v5",
            "minCount": 0,
            "maxCount": 20,
            "osDiskSizeGb": 128,
            "zones": _ZONES,
            "taints": [TASKS_TAINT],
            "labels": {"airflow-aks/pool": "tasks"},
        },
    },
}

# Dev sleeps outside working hours: Mon-Fri 07:00-19:00 Europe/Berlin awake.
# Prod never sleeps unless a stack asks.
DEV["hibernation"] = {
    "enabled": True,
    "timeZone": "Europe/Berlin",
    "days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
    "wake": "07:00",
    "sleep": "19:00",
}
PROD["hibernation"] = {"enabled": False}

# keyVault / database / storage overrides live with their models.
DEV.update(SECRETS_DEV_PROFILE)
PROD.update(SECRETS_PROD_PROFILE)

PROFILES: dict[str, dict[str, Any]] = {"dev": DEV, "prod": PROD}
