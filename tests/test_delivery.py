"""The delivery pipeline: one definition, workflows and OIDC trust that agree by construction."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, by_type, plan_export

from airflow_aks.cli import pipeline as pipeline_cli
from airflow_aks.config.base import ConfigError
from airflow_aks.config.delivery import PipelineConfig, RunnerConfig, StageConfig, load_pipeline
from airflow_aks.delivery import grants as grants_mod
from airflow_aks.delivery import pipeline as delivery

PIPELINE = load_pipeline(ROOT / "delivery.yaml")


def workflow(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())


def azure_jobs() -> list[tuple[str, dict[str, Any]]]:
    """Every job, in either workflow, that logs in to Azure."""
    out = []
    for name in ("pull-request.yml", "deploy.yml"):
        for job_id, job in workflow(name)["jobs"].items():
            if any(str(s.get("uses", "")).startswith("azure/login@") for s in job["steps"]):
                out.append((f"{name}:{job_id}", job))
    return out


@pytest.fixture(scope="module")
def bootstrap_plans() -> dict[str, dict[str, Any]]:
    from airflow_aks.delivery import bootstrap
    from airflow_aks.offline import plan

    return {
        s: plan.run(bootstrap.main, stack=s, config={}, project="airflow-aks-delivery").export()
        for s in PIPELINE.stage_names
    }


def test_generated_files_match_delivery_yaml() -> None:
    files, _ = pipeline_cli.expected_files(ROOT, PIPELINE, plan_export)
    assert pipeline_cli.stale(files) == [], "run `airflow-aks pipeline --write`"


def test_stale_files_are_named(tmp_path: Path) -> None:
    files, _ = pipeline_cli.expected_files(tmp_path, PIPELINE, plan_export)
    assert len(pipeline_cli.stale(files)) == len(files)  # nothing written there yet


def test_every_azure_job_declares_the_environment_its_credential_trusts(
    bootstrap_plans: dict[str, dict[str, Any]],
) -> None:
    trusted = {
        r["inputs"]["subject"]
        for export in bootstrap_plans.values()
        for r in export["resources"]
        if r["type"] == "azuread:index/applicationFederatedIdentityCredential:"
        "ApplicationFederatedIdentityCredential"
    }
    jobs = azure_jobs()
    assert len(jobs) == 2 * len(PIPELINE.stages)  # a preview and an up per stage
    presented = set()
    for where, job in jobs:
        assert job.get("environment"), f"{where} logs in to Azure without an environment"
        assert job["permissions"]["id-token"] == "write", where
        org, repo = PIPELINE.repository.split("/")
        immutable = f"{org}@{PIPELINE.repository_owner_id}/{repo}@{PIPELINE.repository_id}"
        presented.add(f"repo:{immutable}:environment:{job['environment']}")
    assert not PIPELINE.trust_name_subjects
    assert presented == trusted  # the immutable form only: no name-based trust is shipped


def test_prod_up_needs_dev_and_its_protected_environment() -> None:
    jobs = workflow("deploy.yml")["jobs"]
    assert jobs["up-prod"]["environment"] == "prod"
    assert jobs["up-prod"]["needs"] == "up-dev"
    assert PIPELINE.stage("prod").required_reviewers
    for stack in PIPELINE.stage_names:
        assert jobs[f"up-{stack}"]["concurrency"] == {
            "group": f"pulumi-{stack}",
            "cancel-in-progress": False,
        }


def test_pull_requests_plan_check_and_preview_every_stack() -> None:
    wf = workflow("pull-request.yml")
    assert "pull_request" in wf["on"]
    jobs = wf["jobs"]
    assert any("make test" in s.get("run", "") for s in jobs["checks"]["steps"])
    matrix = jobs["offline-plan"]["strategy"]["matrix"]["include"]
    assert {m["label"] for m in matrix} == {"dev", "prod", "dev-kuma"}
    runs = " ".join(s.get("run", "") for s in jobs["offline-plan"]["steps"])
    assert "--diff ../base.json --diff-markdown diff.md" in runs
    assert "--render --pull" in runs  # the real charts, judged by the pack, on every PR
    assert "policies --check plan.json" in runs
    for stack in PIPELINE.stage_names:
        preview = jobs[f"preview-{stack}"]
        step = next(s for s in preview["steps"] if "pulumi/actions@" in s.get("uses", ""))
        assert step["with"]["command"] == "preview"
        assert step["with"]["policyPacks"] == "airflow_aks/policies"
        assert step["with"]["comment-on-pr"] is True


def test_no_stored_secret_and_every_action_pinned_by_commit() -> None:
    for name in ("pull-request.yml", "deploy.yml"):
        text = (ROOT / ".github" / "workflows" / name).read_text()
        assert "secrets." not in text, f"{name} reads a stored secret"
        for uses in re.findall(r"uses: (\S+)", text):
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", uses), f"{name}: {uses}"


def test_bootstrap_grants_only_at_the_environment_resource_group(
    bootstrap_plans: dict[str, dict[str, Any]],
) -> None:
    forbidden = {"8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "b24988ac-6180-42a0-ab88-20f7382dd24c"}
    for stack, export in bootstrap_plans.items():
        rg = next(r for r in export["resources"] if r["type"].endswith(":ResourceGroup"))
        assert rg["protect"], "the environment's resource group must be protected"
        rg_id = f"/subscriptions/[unknown]/resourceGroups/{rg['inputs']['resourceGroupName']}"
        grants = [r for r in export["resources"] if r["type"].endswith(":RoleAssignment")]
        assert grants
        roles = {r["urn"]: r for r in export["resources"] if r["type"].endswith(":RoleDefinition")}
        sub_id = "/subscriptions/[unknown]"
        for g in grants:
            assert not any(f in str(g["inputs"]["roleDefinitionId"]) for f in forbidden)
            if g["inputs"]["scope"] == rg_id:
                continue
            # Beyond the resource group: only a custom role of reads, assignable only there.
            assert g["inputs"]["scope"] == sub_id, (stack, g["urn"])
            role = roles[g["propertyDependencies"]["roleDefinitionId"][0]]["inputs"]
            assert role["assignableScopes"] == [sub_id]
            (p,) = role["permissions"]
            assert p["actions"] and all(a.endswith("/read") for a in p["actions"]), p
            assert not p.get("dataActions"), p
        rbac_admin = [g for g in grants if "f58310d9" in str(g["inputs"]["roleDefinitionId"])]
        assert len(rbac_admin) == 1 and "GuidEquals" in rbac_admin[0]["inputs"]["condition"]
        names = [r["inputs"].get("displayName") for r in export["resources"]]
        assert f"airflow-{stack}-ci-deploy" in names and f"airflow-{stack}-ci-preview" in names


def test_preview_identity_is_read_only() -> None:
    grants = grants_mod.derive_grants(plan_export("prod"))
    assert {g.role for g in grants.preview} == {
        "Reader",
        "Azure Kubernetes Service Cluster User Role",
        grants_mod.PREVIEWER,
        grants_mod.SUBSCRIPTION_READER,
    }
    previewer = grants.custom_roles[grants_mod.PREVIEWER]
    assert previewer.actions == ()
    assert all(a.endswith("/read") for a in previewer.data_actions)
    assert "Microsoft.ContainerService/managedClusters/secrets/read" in previewer.not_data_actions
    sub = grants.custom_roles[grants_mod.SUBSCRIPTION_READER]
    assert sub.scope == "subscription" and all(a.endswith("/read") for a in sub.actions)
    assert all(p.endswith(".Read.All") for p in grants.graph_app_roles["preview"])


def test_deploy_roles_follow_what_the_stack_creates() -> None:
    export = copy.deepcopy(plan_export("dev"))
    base = {g.role for g in grants_mod.derive_grants(export).deploy}
    assert "Azure Kubernetes Service Contributor Role" in base
    export["resources"] = [
        r for r in export["resources"] if not r["type"].startswith("azure-native:keyvault:")
    ]
    assert "Key Vault Contributor" not in {g.role for g in grants_mod.derive_grants(export).deploy}


def test_a_type_without_a_permission_model_is_refused() -> None:
    export = copy.deepcopy(plan_export("dev"))
    export["resources"].append(
        {"urn": "u", "type": "azure-native:cdn:Profile", "custom": True, "inputs": {}}
    )
    with pytest.raises(ValueError, match="azure-native:cdn:Profile"):
        grants_mod.derive_grants(export)
    export = copy.deepcopy(plan_export("dev"))
    export["invokes"].append({"token": "azure-native:cdn:getProfile", "args": {}})
    with pytest.raises(ValueError, match="invoke azure-native:cdn:getProfile"):
        grants_mod.derive_grants(export)


def test_a_stack_that_creates_its_resource_group_is_refused() -> None:
    export = copy.deepcopy(plan_export("dev"))
    export["resources"].append(
        {"urn": "u", "type": "azure-native:resources:ResourceGroup", "custom": True, "inputs": {}}
    )
    with pytest.raises(ValueError, match=r"resourceGroup\.existing"):
        grants_mod.derive_grants(export)


def test_role_assignment_condition_lists_exactly_the_stack_roles() -> None:
    grants = grants_mod.derive_grants(plan_export("prod"))
    cond = next(g.condition for g in grants.deploy if g.condition)
    listed = set(re.findall(r"[0-9a-f-]{36}", cond))
    assert listed == set(grants.assignable_roles)
    assert cond.count("ActionMatches") == 2  # write and delete, each constrained
    with pytest.raises(ValueError, match="no role to delegate"):
        grants_mod.constrain_role_assignments([])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"stages": [{"stack": "dev"}]}, "repository"),
        (
            {
                "repository": "o/r",
                "repositoryId": 1,
                "pulumiOrganization": "o",
                "stages": [{"stack": "dev"}],
            },
            "repositoryOwnerId",
        ),
        (
            {
                "repository": "o/r",
                "repositoryOwnerId": 1,
                "repositoryId": 2,
                "pulumiOrganization": "o",
                "backendUrl": "azblob://x",
                "stages": [{"stack": "dev"}],
            },
            "exactly one of pulumiOrganization and backendUrl",
        ),
        (
            {
                "repository": "o/r",
                "repositoryOwnerId": 1,
                "repositoryId": 2,
                "pulumiOrganization": "o",
                "stages": [{"stack": "dev"}, {"stack": "dev"}],
            },
            "more than once",
        ),
        (
            {
                "repository": "o/r",
                "repositoryOwnerId": 1,
                "repositoryId": 2,
                "pulumiOrganization": "o",
                "stages": [{"stack": "prod", "after": "dev"}, {"stack": "dev"}],
            },
            "must name an earlier stage",
        ),
        (
            {
                "repository": "o/r",
                "repositoryOwnerId": 1,
                "repositoryId": 2,
                "pulumiOrganization": "o",
                "stages": [{"stack": "dev", "previewEnvironment": "dev"}],
            },
            "used twice",
        ),
        (
            {
                "repository": "o/r",
                "repositoryOwnerId": 1,
                "repositoryId": 2,
                "pulumiOrganization": "o",
                "stages": [{"stak": "dev"}],
            },
            "did you mean 'stack'",
        ),
    ],
)
def test_bad_pipeline_config_is_refused_with_its_key(
    tmp_path: Path, data: dict[str, Any], message: str
) -> None:
    path = tmp_path / "delivery.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=re.escape(message)) as err:
        load_pipeline(path)
    assert "delivery.yaml:" in str(err.value)


def test_subjects_of_a_stage() -> None:
    data = {
        "repository": "o/r",
        "repositoryOwnerId": 7,
        "repositoryId": 9,
        "pulumiOrganization": "o",
        "stages": [{"stack": "prod"}],
    }
    cfg = PipelineConfig.model_validate(data)
    assert delivery.subjects(cfg, cfg.stage("prod")) == {
        "preview": ["repo:o@7/r@9:environment:prod-preview"],
        "deploy": ["repo:o@7/r@9:environment:prod"],
    }
    cfg = PipelineConfig.model_validate({**data, "trustNameSubjects": True})
    assert delivery.subjects(cfg, cfg.stage("prod"))["deploy"] == [
        "repo:o@7/r@9:environment:prod",
        "repo:o/r:environment:prod",
    ]


def test_bootstrap_and_stages_agree_on_principal_types(
    bootstrap_plans: dict[str, dict[str, Any]],
) -> None:
    """CI deploys every stage as a service principal: the stack's cluster-admin grant to its
    deployer says so (else UnmatchedPrincipalType), as do the bootstrap's grants."""
    for stack in PIPELINE.stage_names:
        grants = by_type(plan_export(stack), "azure-native:authorization:RoleAssignment")
        deployer = [g for g in grants if g["name"].endswith("cluster-admin-deployer")]
        assert len(deployer) == 1, stack
        assert deployer[0]["inputs"]["principalType"] == "ServicePrincipal", stack
        boot = by_type(bootstrap_plans[stack], "azure-native:authorization:RoleAssignment")
        assert boot and {g["inputs"]["principalType"] for g in boot} == {"ServicePrincipal"}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "config:\n  airflow-aks:aks:\n    # keep me\n    tier: Free\n",
            "config:\n  airflow-aks:aks:\n" + delivery._DEPLOYER_LINE + "\n    # keep me\n"
            "    tier: Free\n",
        ),
        (
            "config:\n  airflow-aks:aks:\n    deployerPrincipalType: User\n  x:y: 1\n",
            "config:\n  airflow-aks:aks:\n" + delivery._DEPLOYER_LINE + "\n  x:y: 1\n",
        ),
        (
            "config:\n  x:y: 1\n",
            "config:\n  airflow-aks:aks:\n" + delivery._DEPLOYER_LINE + "\n  x:y: 1\n",
        ),
    ],
)
def test_stage_stack_files_deploy_as_a_service_principal(before: str, after: str) -> None:
    assert delivery.stack_file_for_ci(before) == after
    assert delivery.stack_file_for_ci(after) == after
    with pytest.raises(ValueError, match="config"):
        delivery.stack_file_for_ci("nothing: here\n")


def test_docs_grants_table_is_current() -> None:
    doc = (ROOT / "docs" / "delivery.md").read_text()
    table = doc.split("<!-- grants:start -->\n", 1)[1].split("\n<!-- grants:end -->", 1)[0]
    dev = grants_mod.grants_markdown([grants_mod.derive_grants(plan_export("dev"))])
    assert table + "\n" == dev, "docs/delivery.md grants are stale: paste `pipeline --grants` (dev)"


def _stage(**runner: Any) -> StageConfig:
    return StageConfig.model_validate({"stack": "prod", "runner": runner})


_GROUP = {"group": "g", "egressIps": ["203.0.113.10/32"]}


@pytest.mark.parametrize(
    ("runner", "private", "ranges", "problem"),
    [
        ({}, False, (), None),  # an open API server: any runner
        ({}, False, ("203.0.113.0/24",), "standard hosted runners"),
        (_GROUP, False, ("203.0.113.0/24",), None),
        ({"labels": ["sh"], "egressIps": ["198.51.100.7"]}, False, ("198.51.0.0/16",), None),
        ({"group": "g"}, False, ("203.0.113.0/24",), "name the runners' egressIps"),
        ({"group": "g", "egressIps": ["192.0.2.1/32"]}, False, ("203.0.113.0/24",), "outside"),
        ({}, True, (), "private API server"),
        (_GROUP, True, (), "private API server"),
        ({"group": "g", "privateApiReachable": True}, True, (), None),
    ],
)  # fmt: skip
def test_network_path_to_the_api_server(
    runner: dict[str, Any], private: bool, ranges: tuple[str, ...], problem: str | None
) -> None:
    got = delivery.network_path_problem(1, _stage(**runner), delivery.ApiAccess(private, ranges))
    if problem is None:
        assert got is None
    else:
        assert got is not None and problem in got and "delivery.yaml:stages[1].runner" in got


def test_pipeline_write_refuses_a_hosted_runner_against_a_restricted_api_server(
    tmp_path: Path,
) -> None:
    for stack in PIPELINE.stage_names:
        (tmp_path / f"Pulumi.{stack}.yaml").write_text((ROOT / f"Pulumi.{stack}.yaml").read_text())
    hosted = PIPELINE.model_copy(
        update={
            "stages": [s.model_copy(update={"runner": RunnerConfig()}) for s in PIPELINE.stages]
        }
    )
    with pytest.raises(ValueError, match=r"stages\[0\]\.runner: stack 'dev' admits only"):
        pipeline_cli.expected_files(tmp_path, hosted, plan_export)
    files, _ = pipeline_cli.expected_files(tmp_path, PIPELINE, plan_export)  # the shipped path
    assert files


def test_cloud_jobs_run_where_the_api_server_is_reachable_with_kubelogin() -> None:
    for where, job in azure_jobs():
        stack = job["environment"].removesuffix("-preview")
        assert job["runs-on"] == {"group": PIPELINE.stage(stack).runner.group}, where
        names = [s.get("name", "") for s in job["steps"]]
        kube = next(i for i, n in enumerate(names) if n.startswith("kubelogin v"))
        pulumi = next(
            i for i, s in enumerate(job["steps"]) if "pulumi/actions@" in s.get("uses", "")
        )
        assert kube < pulumi, where
        run = job["steps"][kube]["run"]
        assert f"/download/{delivery.KUBELOGIN_VERSION}/" in run and "sha256sum -c" in run
