"""The consumer stack, tested with airflow-aks's harness in a few lines: the platform's
outputs come from a StackReference answer, cloud-computed values from the harness."""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))  # the consumer's own `components` package, as Pulumi runs it

from airflow_aks.offline.testing import FAKE_SUBSCRIPTION, run_program  # noqa: E402

RG = f"/subscriptions/{FAKE_SUBSCRIPTION}/resourceGroups/rg-airflow-dev-weu"
PLATFORM = {
    "resourceGroupName": "rg-airflow-dev-weu",
    "location": "westeurope",
    "oidcIssuerUrl": "https://westeurope.oic.prod-aks.azure.com/t/0000/",
    "kubeconfig": "apiVersion: v1\nkind: Config\n",
    "aksSubnetId": f"{RG}/providers/Microsoft.Network/virtualNetworks/v/subnets/snet-aks",
    "logAnalyticsWorkspaceId": f"{RG}/providers/Microsoft.OperationalInsights/workspaces/log",
}
CONFIG = {
    "analytics:platformStack": "example-org/airflow-aks/dev",
    "analytics:keyVaultName": "kv-analytics-dev-weu",
}


@pytest.fixture(scope="module")
def plan():
    from components import team

    assert team.__file__.startswith(str(HERE)), "the consumer's own components package"
    return run_program(
        team.main,
        project="analytics",
        stack="dev",
        config=CONFIG,
        stack_references={"example-org/airflow-aks/dev": PLATFORM},
    )


def test_own_components_package_beside_airflow_aks() -> None:
    import components

    import airflow_aks.components.identity as ours

    assert Path(components.__file__).parent == HERE / "components"
    assert "airflow_aks" in ours.__name__


def test_identity_is_federated_with_the_platform_issuer(plan) -> None:
    fic = plan.one("azure-native:managedidentity:FederatedIdentityCredential")
    assert fic.inputs["issuer"] == PLATFORM["oidcIssuerUrl"]
    assert fic.inputs["subject"] == "system:serviceaccount:analytics:etl-runner"
    sa = plan.one("kubernetes:core/v1:ServiceAccount")
    assert (
        sa.inputs["metadata"]["annotations"]["azure.workload.identity/client-id"]
        == (plan.outputs["etlClientId"])
    )


def test_vault_is_the_teams_and_only_the_identity_reads_it(plan) -> None:
    vault = plan.one("azure-native:keyvault:Vault")
    assert vault.inputs["vaultName"] == "kv-analytics-dev-weu"
    rules = vault.inputs["properties"]["networkAcls"]["virtualNetworkRules"]
    assert [r["id"] for r in rules] == [PLATFORM["aksSubnetId"]]
    grants = plan.resources("azure-native:authorization:RoleAssignment")
    assert [g.inputs["scope"] for g in grants] == [
        f"{plan.outputs['vaultId']}/secrets/warehouse-dsn"
    ]
    identity = plan.one("azure-native:managedidentity:UserAssignedIdentity")
    assert identity.inputs["resourceName"] == "id-analytics-etl"


def test_mount_uses_the_identity_and_the_new_vault(plan) -> None:
    spc = plan.one("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass")
    params = spc.inputs["spec"]["parameters"]
    assert params["clientID"] == plan.outputs["etlClientId"]
    assert params["keyvaultName"] == "kv-analytics-dev-weu"
    assert "warehouse-dsn" in params["objects"]


def test_policy_pack_passes_on_the_team_stack(plan) -> None:
    results = plan.policy(production=False)
    assert results.mandatory == 0, [v for v in results.open if v.level == "mandatory"]
