"""AKS decisions as pure functions, then the component's settings in the dev/prod plans."""

from __future__ import annotations

import base64

import pytest
import yaml

from airflow_aks.components.aks import (
    SPOT_TAINT,
    SYSTEM_TAINT,
    NodePoolArgs,
    cluster_settings,
    exec_kubeconfig,
    first_kubeconfig,
    initial_count,
    maintenance_window,
    network_layout,
    pool_settings,
)
from tests.conftest import by_type

MC = "azure-native:containerservice:ManagedCluster"


def pool(**kw) -> NodePoolArgs:
    return NodePoolArgs(name="p", vm_size="Standard_D4ds_v5", **kw)


@pytest.mark.parametrize(
    ("kw", "count"),
    [
        ({}, 1),
        ({"min_count": 0}, 0),
        ({"min_count": 0, "enable_auto_scaling": False}, 1),
        ({"min_count": 2, "node_count": 3}, 3),
    ],
)
def test_initial_count(kw, count):
    assert initial_count(pool(**kw)) == count


def test_system_pool_is_tainted_and_hardened():
    s = pool_settings(pool(), "subnet", mode="System")
    assert SYSTEM_TAINT in s["node_taints"]
    assert s["os_disk_type"] == "Ephemeral" and s["max_pods"] >= 50
    assert s["enable_encryption_at_host"] is True and s["enable_node_public_ip"] is False
    assert s["type"] == "VirtualMachineScaleSets" and s["enable_auto_scaling"] is True


def test_user_pool_not_tainted_critical_and_spot_settings():
    s = pool_settings(pool(spot=True, min_count=0), "subnet", mode="User")
    assert SYSTEM_TAINT not in s["node_taints"] and SPOT_TAINT in s["node_taints"]
    assert s["scale_set_priority"] == "Spot" and s["scale_set_eviction_policy"] == "Delete"
    assert s["min_count"] == 0 and s["count"] == 0


def test_spot_pools_send_no_surge_regular_pools_do():
    # AKS refuses max surge on spot pools ("Spot pools can't set max surge"; aks-docs
    # spot-node-pool.md, terraform-provider-azurerm#19355).
    assert "upgrade_settings" not in pool_settings(pool(spot=True), "s", mode="User")
    assert pool_settings(pool(), "s", mode="User")["upgrade_settings"] == {"max_surge": "33%"}
    assert pool_settings(pool(max_surge="2"), "s", mode="User")["upgrade_settings"] == {
        "max_surge": "2"
    }


def test_no_spot_pool_in_the_shipped_plans_sends_surge(dev_plan, kuma_plan):
    for plan in (dev_plan, kuma_plan):
        spot = [
            r
            for r in by_type(plan, "azure-native:containerservice:AgentPool")
            if r["inputs"].get("scaleSetPriority") == "Spot"
        ]
        assert spot, "the shipped stack has a spot pool"
        for r in spot:
            assert "upgradeSettings" not in r["inputs"], r["urn"]


def test_system_pool_cannot_be_spot():
    with pytest.raises(ValueError, match="system pool"):
        pool_settings(pool(spot=True), "subnet", mode="System")


def test_zones_only_when_given():
    assert "availability_zones" not in pool_settings(pool(), "s", mode="User")
    assert pool_settings(pool(zones=["1", "2"]), "s", mode="User")["availability_zones"] == [
        "1",
        "2",
    ]


def test_maintenance_window_weekly():
    w = maintenance_window(
        {
            "day_of_week": "Sunday",
            "start_time": "02:00",
            "duration_hours": 4,
            "utc_offset": "+00:00",
        }
    )
    assert w["schedule"]["weekly"] == {"day_of_week": "Sunday", "interval_weeks": 1}
    assert w["duration_hours"] == 4


def _args(**kw):
    args = {
        "location": "westeurope",
        "resource_group_name": "rg",
        "cluster_name": "aks-x",
        "workspace_name": "log",
        "vnet_name": "vnet",
        "network": {},
        "kubernetes_version": "1.36",
        "maintenance_window": {},
        "system_pool": pool(),
        "admin_group_object_ids": ["g"],
        "authorized_ip_ranges": ["203.0.113.0/24"],
    }
    args.update(kw)
    return args


def settings(**kw):
    return cluster_settings(_args(**kw), subnet_id="sn", workspace_id="ws", identity_id="id")  # type: ignore[arg-type]


def test_cluster_defaults_are_secure():
    s = settings()
    assert s["disable_local_accounts"] is True
    assert s["aad_profile"] == {
        "managed": True,
        "enable_azure_rbac": True,
        "admin_group_object_ids": ["g"],
    }
    assert s["oidc_issuer_profile"] == {"enabled": True}
    assert s["security_profile"]["workload_identity"] == {"enabled": True}
    assert s["security_profile"]["image_cleaner"]["enabled"] is True
    addons = s["addon_profiles"]
    assert addons["azureKeyvaultSecretsProvider"]["config"]["enableSecretRotation"] == "true"
    assert addons["omsagent"]["config"] == {
        "logAnalyticsWorkspaceResourceID": "ws",
        "useAADAuth": "true",
    }
    # Retired add-ons are not sent at all (not even as enabled: false).
    assert not {"kubeDashboard", "httpApplicationRouting"} & set(addons)
    assert addons["azurepolicy"] == {"enabled": True}
    assert s["network_profile"]["network_plugin_mode"] == "overlay"
    assert s["network_profile"]["network_dataplane"] == "cilium"
    assert s["auto_upgrade_profile"] == {
        "upgrade_channel": "stable",
        "node_os_upgrade_channel": "NodeImage",
    }
    assert s["api_server_access_profile"]["authorized_ip_ranges"] == ["203.0.113.0/24"]
    assert s["identity"]["type"] == "UserAssigned"
    assert len(s["agent_pool_profiles"]) == 1  # only the system pool inline


@pytest.mark.parametrize(
    ("kw", "check"),
    [
        (
            {"private_cluster": True},
            lambda s: (
                "authorized_ip_ranges" not in s["api_server_access_profile"]
                and s["public_network_access"] == "Disabled"
            ),
        ),
        (
            {"defender": True},
            lambda s: s["security_profile"]["defender"]["security_monitoring"]["enabled"],
        ),
        ({"defender": False}, lambda s: "defender" not in s["security_profile"]),
        ({"monitoring": False}, lambda s: "omsagent" not in s["addon_profiles"]),
        ({"tenant_id": "t"}, lambda s: s["aad_profile"]["tenant_id"] == "t"),
        ({"local_accounts": True}, lambda s: s["disable_local_accounts"] is False),
        (
            {"secret_rotation_interval": "5m"},
            lambda s: (
                s["addon_profiles"]["azureKeyvaultSecretsProvider"]["config"][
                    "rotationPollInterval"
                ]
                == "5m"
            ),
        ),
    ],
)
def test_cluster_settings_follow_args(kw, check):
    assert check(settings(**kw))


def _kubeconfig(args):
    doc = {"users": [{"name": "u", "user": {"exec": {"command": "kubelogin", "args": args}}}]}
    return base64.b64encode(yaml.safe_dump(doc).encode()).decode()


@pytest.mark.parametrize(
    ("args", "login", "expected"),
    [
        (["get-token", "--login", "devicecode"], "azurecli", ["get-token", "--login", "azurecli"]),
        (["get-token"], "workloadidentity", ["get-token", "--login", "workloadidentity"]),
    ],
)
def test_exec_kubeconfig_pins_login(args, login, expected):
    doc = yaml.safe_load(exec_kubeconfig(_kubeconfig(args), login))
    assert doc["users"][0]["user"]["exec"]["args"] == expected


def test_exec_kubeconfig_rejects_unknown_login():
    with pytest.raises(ValueError, match="kubelogin method"):
        exec_kubeconfig(_kubeconfig([]), "password")


# --- the component, as registered in the offline plans -------------------------------


def test_prod_cluster_settings_in_plan(prod_plan):
    (mc,) = by_type(prod_plan, MC)
    i = mc["inputs"]
    assert i["sku"] == {"name": "Base", "tier": "Standard"}
    assert i["disableLocalAccounts"] is True and i["enableRBAC"] is True
    assert i["aadProfile"]["managed"] and i["aadProfile"]["enableAzureRBAC"]
    assert i["oidcIssuerProfile"]["enabled"] and i["securityProfile"]["workloadIdentity"]["enabled"]
    assert i["securityProfile"]["defender"]["securityMonitoring"]["enabled"] is True
    assert i["autoUpgradeProfile"]["upgradeChannel"] == "stable"
    assert i["autoUpgradeProfile"]["nodeOSUpgradeChannel"] == "NodeImage"
    assert i["networkProfile"]["networkPluginMode"] == "overlay"
    assert (
        i["addonProfiles"]["azureKeyvaultSecretsProvider"]["config"]["enableSecretRotation"]
        == "true"
    )
    assert i["addonProfiles"]["omsagent"]["config"]["useAADAuth"] == "true"
    assert i["apiServerAccessProfile"]["authorizedIPRanges"]
    (system,) = i["agentPoolProfiles"]
    assert system["mode"] == "System" and system["nodeTaints"] == [
        "CriticalAddonsOnly=true:NoSchedule"
    ]
    assert system["osDiskType"] == "Ephemeral" and system["maxPods"] >= 50
    assert system["availabilityZones"] == ["1", "2", "3"] and system["minCount"] >= 3
    # The issuer only exists after creation: unknown in a plan, never invented.
    assert prod_plan["outputs"]["oidcIssuerUrl"] == "[unknown]"
    assert prod_plan["outputs"]["kubeconfig"] == "[secret]"


def test_user_pools_are_separate_agent_pools(dev_plan):
    pools = {
        p["inputs"]["agentPoolName"]: p["inputs"]
        for p in by_type(dev_plan, "azure-native:containerservice:AgentPool")
    }
    assert set(pools) == {"workload", "tasks"}
    assert pools["tasks"]["minCount"] == 0 and pools["tasks"]["scaleSetPriority"] == "Spot"
    assert all(p["mode"] == "User" for p in pools.values())


def test_maintenance_configurations(dev_plan):
    names = {
        m["inputs"]["configName"]
        for m in by_type(dev_plan, "azure-native:containerservice:MaintenanceConfiguration")
    }
    assert names == {"aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule"}


def test_kubernetes_provider_uses_secret_kubeconfig(dev_plan):
    (prov,) = [
        r for r in by_type(dev_plan, "pulumi:providers:kubernetes") if r["name"].startswith("aks")
    ]
    # Unknown until the cluster exists, and secret either way: never shown.
    assert prov["inputs"]["kubeconfig"] == "[secret]"


def test_optional_gpu_pool_scales_from_zero_and_is_tainted():
    from airflow_aks.config.stack import read_stack_file
    from airflow_aks.offline import plan
    from airflow_aks.program import stack as program
    from tests.conftest import ROOT

    raw = read_stack_file(ROOT / "Pulumi.dev.yaml")
    raw["airflow-aks:aks"] = {**raw["airflow-aks:aks"], "gpuPool": {"enabled": True}}
    export = plan.run(program.main, stack="dev", config=raw).export()
    pools = {
        p["inputs"]["agentPoolName"]: p["inputs"]
        for p in by_type(export, "azure-native:containerservice:AgentPool")
    }
    gpu = pools["gpu"]
    assert gpu["vmSize"] == "Standard_NC4as_T4_v3" and gpu["minCount"] == 0 and gpu["count"] == 0
    assert gpu["nodeTaints"] == ["nvidia.com/gpu=present:NoSchedule"]
    assert set(pools) == {"workload", "tasks", "gpu"}


def test_maintenance_window_missing_key_names_it():
    window = {"day_of_week": "Sunday", "start_time": "02:00", "duration_hours": 4}
    with pytest.raises(ValueError, match=r"maintenance_window\.utc_offset is required"):
        maintenance_window(window)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("net", "result"),
    [
        (
            {
                "vnet_cidr": "10.0.0.0/16",
                "aks_subnet_cidr": "10.0.0.0/22",
                "database_subnet_cidr": "10.0.8.0/24",
                "private_endpoint_subnet_cidr": "10.0.9.0/24",
            },
            "new",
        ),
        (
            {
                "existing_vnet_id": "/v",
                "existing_aks_subnet_id": "/a",
                "existing_database_subnet_id": "/d",
            },
            "existing",
        ),
        ({"existing_vnet_id": "/v"}, r"network\.existing_aks_subnet_id is required"),
        ({"vnet_cidr": "10.0.0.0/16"}, r"network\.aks_subnet_cidr is required"),
    ],
)
def test_network_layout(net, result):
    if result in ("new", "existing"):
        assert network_layout(net) == result
    else:
        with pytest.raises(ValueError, match=result):
            network_layout(net)


def test_first_kubeconfig_without_mocked_invoke_is_a_clear_error():
    with pytest.raises(ValueError, match="listManagedClusterUserCredentials"):
        first_kubeconfig(None, "azurecli")
