"""``airflow_aks.offline.testing``: a consumer's program using our components, tested in a few
lines — ARM ids, fake cloud-computed values, invokes and StackReferences answered."""

import pulumi
import pytest
import yaml

from airflow_aks.components.aks import Cluster, ClusterArgs
from airflow_aks.components.identity import WorkloadIdentity
from airflow_aks.offline.testing import FAKE_SUBSCRIPTION, FAKE_TENANT, fake_kubeconfig, run_program

MC = "azure-native:containerservice:ManagedCluster"
SA = "kubernetes:core/v1:ServiceAccount"
FIC = "azure-native:managedidentity:FederatedIdentityCredential"


def cluster_args() -> ClusterArgs:
    return ClusterArgs(
        location="westeurope",
        resource_group_name="rg-team",
        cluster_name="aks-team",
        workspace_name="log-team",
        vnet_name="vnet-team",
        kubernetes_version="1.33",
        network={
            "vnet_cidr": "10.50.0.0/16",
            "aks_subnet_cidr": "10.50.0.0/22",
            "database_subnet_cidr": "10.50.8.0/24",
            "private_endpoint_subnet_cidr": "10.50.9.0/24",
        },
        maintenance_window={
            "day_of_week": "Sunday",
            "start_time": "02:00",
            "duration_hours": 4,
            "utc_offset": "+00:00",
        },
        system_pool={"name": "system", "vm_size": "Standard_D4ds_v5"},
        authorized_ip_ranges=["203.0.113.0/24"],
    )


def program() -> None:
    cluster = Cluster("aks", cluster_args())
    ident = WorkloadIdentity(
        "etl",
        {
            "resource_group_name": cluster.resource_group_name,
            "location": "westeurope",
            "identity_name": "id-etl",
            "oidc_issuer_url": cluster.oidc_issuer_url,
            "namespace": "etl",
            "service_accounts": ["etl-runner"],
        },
        pulumi.ResourceOptions(provider=cluster.provider),
    )
    pulumi.export("clusterId", cluster.cluster_id)
    pulumi.export("issuer", cluster.oidc_issuer_url)
    pulumi.export("kubeconfig", cluster.kubeconfig)
    pulumi.export("clientId", ident.client_id)


@pytest.fixture(scope="module")
def fake_plan():
    return run_program(program, project="team", stack="test")


def test_cluster_gets_arm_ids_and_cloud_values(fake_plan) -> None:
    out = fake_plan.outputs
    assert out["clusterId"] == (
        f"/subscriptions/{FAKE_SUBSCRIPTION}/resourceGroups/rg-team/providers/"
        "Microsoft.ContainerService/managedClusters/aks-team"
    )
    assert out["issuer"].startswith(f"https://westeurope.oic.prod-aks.azure.com/{FAKE_TENANT}/")
    assert out["kubeconfig"] == "[secret]"
    # the federated credential trusts the (fake) issuer, the SA carries the client id
    assert fake_plan.one(FIC).inputs["issuer"] == out["issuer"]
    sa = fake_plan.one(SA, "etl-etl-runner")
    assert (
        sa.inputs["metadata"]["annotations"]["azure.workload.identity/client-id"]
        == (out["clientId"])
    )


def test_finders_explain_misses(fake_plan) -> None:
    with pytest.raises(LookupError, match=r"found 0 \(of that type: \['etl-etl-runner'\]\)"):
        fake_plan.one(SA, "nope")
    kids = {r.type for r in fake_plan.children(fake_plan.one("airflow-aks:index:Cluster"))}
    assert MC in kids


def test_policy_pack_runs_over_the_consumer_plan(fake_plan) -> None:
    results = fake_plan.policy(production=False)
    assert results.checks > 0
    assert results.mandatory == 0, [v for v in results.open if v.level == "mandatory"]


def test_unknown_mode_matches_the_offline_plan() -> None:
    plan = run_program(program, project="team", stack="test", computed="unknown")
    assert plan.outputs["issuer"] == "[unknown]"
    assert plan.outputs["clusterId"].startswith("/subscriptions/[unknown]/")


def test_kubeconfig_is_the_answered_one_with_the_login_pinned() -> None:
    seen: list[str] = []

    def prog() -> None:
        Cluster("aks", cluster_args()).kubeconfig.apply(seen.append)

    run_program(prog)
    doc = yaml.safe_load(seen[0])
    args = doc["users"][0]["user"]["exec"]["args"]
    assert args[args.index("--login") + 1] == "azurecli"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the failed run's pending outputs
def test_stack_references_answered_or_named() -> None:
    ref_name = "org/airflow-aks/dev"

    def prog() -> None:
        ref = pulumi.StackReference(ref_name)
        pulumi.export("vault", ref.get_output("keyVaultId"))

    plan = run_program(prog, stack_references={ref_name: {"keyVaultId": "/subscriptions/s/v"}})
    assert plan.outputs["vault"] == "/subscriptions/s/v"
    with pytest.raises(Exception, match=r"StackReference 'org/airflow-aks/dev' is not answered"):
        run_program(prog)


def test_calls_override() -> None:
    seen: list[str] = []
    custom = fake_kubeconfig("other-cluster")

    def prog() -> None:
        Cluster("aks", cluster_args()).kubeconfig.apply(seen.append)

    run_program(
        prog,
        calls={
            "azure-native:containerservice:listManagedClusterUserCredentials": {
                "kubeconfigs": [{"name": "clusterUser", "value": custom}]
            }
        },
    )
    assert yaml.safe_load(seen[0])["clusters"][0]["name"] == "other-cluster"
