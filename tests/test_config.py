"""Typed configuration: profiles, strictness, cross-field preconditions, all errors at once."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_aks.config.base import ConfigError, deep_merge, suggest
from airflow_aks.config.stack import load, read_stack_file
from tests.conftest import ROOT

GROUP = "7f3c2a9e-1b4d-4c8e-9f0a-2d6e5b8c1a47"


def base(**aks: Any) -> dict[str, Any]:
    return {
        "airflow-aks:location": "westeurope",
        "airflow-aks:aks": {
            "adminGroupObjectIds": [GROUP],
            "authorizedIpRanges": ["203.0.113.0/24"],
            **aks,
        },
    }


def problems(raw: dict[str, Any], stack: str = "dev") -> list[str]:
    with pytest.raises(ConfigError) as err:
        load(raw, stack)
    return [str(i) for i in err.value.issues]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_shipped_stacks_are_valid(stack):
    cfg = load(read_stack_file(ROOT / f"Pulumi.{stack}.yaml"), stack)
    assert cfg.profile == stack
    assert cfg.aks.oidc_issuer and cfg.aks.workload_identity and not cfg.aks.local_accounts


def test_dev_profile_is_cheap():
    cfg = load(base(), "dev")
    assert cfg.aks.tier == "Free"
    assert cfg.aks.system_pool.initial_count == 1
    assert cfg.aks.task_pool.min_count == 0 and cfg.aks.task_pool.spot


PROD_ENTRANCE = {
    "host": "airflow.example.com",
    "issuer": {"name": "letsencrypt"},
    "signIn": {"groups": {"Admin": ["7f3c2a9e-1b4d-4c8e-9f0a-2d6e5b8c1a47"]}},
}


def test_prod_profile_is_highly_available():
    cfg = load({**base(), "airflow-aks:entrance": PROD_ENTRANCE}, "prod")
    assert cfg.aks.tier == "Standard"
    assert cfg.aks.system_pool.min_count >= 3 and cfg.aks.system_pool.enable_auto_scaling
    assert cfg.aks.system_pool.zones == ["1", "2", "3"]
    assert cfg.aks.task_pool.min_count == 0


def test_stack_keys_override_profile_defaults():
    cfg = load(base(systemPool={"vmSize": "Standard_D8ds_v5"}), "dev")
    assert cfg.aks.system_pool.vm_size == "Standard_D8ds_v5"
    assert cfg.aks.system_pool.name == "system"  # the rest of the profile pool survives


def test_misspelt_key_names_path_and_suggestion():
    msgs = problems(base(systemPool={"nodeCoutn": 3}))
    assert len(msgs) == 1
    assert "airflow-aks:aks.systemPool.nodeCoutn" in msgs[0]
    assert "did you mean 'nodeCount'" in msgs[0]


def test_unknown_top_level_key_is_suggested():
    raw = base()
    raw["airflow-aks:netwrok"] = {}
    (msg,) = problems(raw)
    assert msg.startswith("airflow-aks:netwrok:") and "'network'" in msg


def test_all_errors_reported_at_once():
    raw = base(tier="Gold", systemPool={"nodeCoutn": 3, "maxPods": 5})
    raw["airflow-aks:namePrefix"] = "Bad_Prefix"
    msgs = "\n".join(problems(raw))
    for path in (
        "airflow-aks:aks.tier",
        "airflow-aks:aks.systemPool.nodeCoutn",
        "airflow-aks:aks.systemPool.maxPods",
        "airflow-aks:namePrefix",
    ):
        assert path in msgs


@pytest.mark.parametrize(
    ("aks", "path", "fragment"),
    [
        ({"workloadIdentity": True, "oidcIssuer": False}, "airflow-aks:aks", "needs oidcIssuer"),
        ({"networkPlugin": "kubenet"}, "airflow-aks:aks", "overlay' needs networkPlugin 'azure'"),
        (
            {
                "networkPolicy": "azure",
                "networkDataplane": "azure",
                "networkPlugin": "kubenet",
                "networkPluginMode": None,
            },
            "airflow-aks:aks",
            "networkPolicy 'azure' needs networkPlugin 'azure'",
        ),
        ({"networkPluginMode": None}, "airflow-aks:aks", "cilium' needs networkPluginMode"),
        ({"kubernetesVersion": "1.33.2"}, "airflow-aks:aks.kubernetesVersion", "MAJOR.MINOR"),
        ({"kubernetesVersion": "1.27"}, "airflow-aks:aks.kubernetesVersion", "too old"),
        # 1.33: AKS end of life July 2026 (AKS release calendar): no new clusters on it.
        ({"kubernetesVersion": "1.33"}, "airflow-aks:aks.kubernetesVersion", "end of life"),
        ({"kubernetesVersion": "1.99"}, "airflow-aks:aks.kubernetesVersion", "newer than"),
        ({"systemPool": {"name": "System-1"}}, "airflow-aks:aks.systemPool.name", "pattern"),
        ({"taskPool": {"minCount": 5, "maxCount": 2}}, "airflow-aks:aks.taskPool", "exceeds"),
        ({"systemPool": {"spot": True}}, "airflow-aks:aks", "cannot be spot"),
        # AKS: "Spot pools can't set max surge" (aks-docs spot-node-pool.md)
        ({"taskPool": {"spot": True, "maxSurge": "33%"}}, "airflow-aks:aks.taskPool", "spot"),
        ({"upgradeChannel": "node-image"}, "airflow-aks:aks.upgradeChannel", "stable"),
        ({"gpuPool": {"enabled": True, "labels": {}}}, "airflow-aks:aks", "gpuPool.labels"),
        ({"adminGroupObjectIds": ["admins"]}, "airflow-aks:aks.adminGroupObjectIds", "GUID"),
        ({"adminGroupObjectIds": []}, "airflow-aks:aks", "adminGroupObjectIds"),
        ({"privateCluster": True}, "airflow-aks:aks", "do not apply to a privateCluster"),
        ({"dnsServiceIp": "10.0.0.10"}, "airflow-aks:aks", "outside serviceCidr"),
        ({"podCidr": "172.16.0.0/12"}, "airflow-aks:aks", "overlaps podCidr"),
        ({"authorizedIpRanges": ["300.1.1.0/24"]}, "airflow-aks:aks.authorizedIpRanges", "CIDR"),
        (
            {"workloadPool": {"name": "system"}},
            "airflow-aks:aks",
            "node pool names must be unique",
        ),
    ],
)
def test_preconditions_name_their_key(aks, path, fragment):
    msgs = problems(base(**aks))
    assert any(m.startswith(path + ":") and fragment in m for m in msgs), msgs


@pytest.mark.parametrize(
    ("network", "fragment"),
    [
        ({"aksSubnetCidr": "10.50.0.0/22"}, "outside vnetCidr"),
        ({"databaseSubnetCidr": "10.42.1.0/24"}, "overlaps"),
        ({"existingVnetId": "/subscriptions/x/vnet"}, "together"),
    ],
)
def test_network_layout(network, fragment):
    raw = base()
    raw["airflow-aks:network"] = network
    msgs = problems(raw)
    assert any(m.startswith("airflow-aks:network:") and fragment in m for m in msgs), msgs


def test_pod_cidr_must_not_overlap_vnet():
    msgs = problems(base(podCidr="10.42.0.0/16", serviceCidr="172.16.0.0/16"))
    assert any("aks.podCidr" in m and "overlaps network.vnetCidr" in m for m in msgs)


@pytest.mark.parametrize(
    ("aks", "fragment"),
    [
        ({"tier": "Free"}, "aks.tier"),
        ({"systemPool": {"zones": []}}, "aks.systemPool.zones"),
        ({"systemPool": {"minCount": 1, "nodeCount": 1}}, "aks.systemPool.minCount"),
        ({"authorizedIpRanges": []}, "privateCluster or authorizedIpRanges"),
        # Linkerd HA: 3 replicas, one per node (linkerd2 edge-26.8.3 _affinity.tpl)
        ({"workloadPool": {"minCount": 2}}, "aks.workloadPool.minCount"),
    ],
)
def test_prod_guards(aks, fragment):
    assert any(fragment in m for m in problems(base(**aks), "prod"))


def test_linkerd_cni_refused_on_aks_managed_cilium():
    """linkerd2-cni needs Cilium's cni.exclusive=false; AKS-managed Cilium allows no change."""
    msgs = problems({**base(), "airflow-aks:mesh": {"cni": True}})
    assert any(m.startswith("airflow-aks") and "mesh.cni" in m for m in msgs), msgs
    ok = {
        **base(networkDataplane="azure", networkPolicy="azure"),
        "airflow-aks:mesh": {"cni": True},
    }
    load(ok, "dev")


def test_unknown_profile_is_an_error_naming_allowed_values():
    (msg,) = problems(base(), "staging")
    assert "airflow-aks:profile" in msg and "dev, prod" in msg


def test_other_stack_can_pick_a_profile_and_location_from_provider():
    raw = base()
    del raw["airflow-aks:location"]
    raw["azure-native:location"] = "northeurope"
    raw["airflow-aks:profile"] = "dev"
    cfg = load(raw, "staging")
    assert cfg.environment == "staging" and cfg.location == "northeurope"


def test_engine_json_strings_are_decoded():
    import json

    raw = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in base().items()}
    assert load(raw, "dev").aks.authorized_ip_ranges == ["203.0.113.0/24"]


@pytest.mark.parametrize(
    ("key", "valid", "expected"),
    [("nodeCoutn", ["nodeCount", "minCount"], "nodeCount"), ("zzz", ["aks"], None)],
)
def test_suggest(key, valid, expected):
    assert suggest(key, valid) == expected


def test_deep_merge_keeps_nested_defaults():
    assert deep_merge({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"b": 3}, "d": [2]}) == {
        "a": {"b": 3, "c": 2},
        "d": [2],
    }
