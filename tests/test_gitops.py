"""GitOps: pure decisions (subjects, kustomization graph, extension settings), config, plan."""

from __future__ import annotations

import pytest

from airflow_aks.components.delivery import github_subject
from airflow_aks.components.gitops import (
    cluster_grants,
    flux_settings,
    kustomization_specs,
)
from airflow_aks.components.identity import BUILTIN_ROLES
from airflow_aks.config.base import ConfigError
from airflow_aks.config.stack import load, read_stack_file
from tests.conftest import ROOT, by_type


@pytest.mark.parametrize(
    ("kw", "subject"),
    [
        ({"environment": "prod"}, "repo:org/app:environment:prod"),
        ({"branch": "main"}, "repo:org/app:ref:refs/heads/main"),
        ({"pull_request": True}, "repo:org/app:pull_request"),
        # entra-docs workload-identities-github-immutable-subjects.md (2026-12-07).
        (
            {"environment": "prod", "owner_id": 5544123, "repository_id": 821093847},
            "repo:org@5544123/app@821093847:environment:prod",
        ),
        (
            {"branch": "main", "owner_id": 1, "repository_id": 2},
            "repo:org@1/app@2:ref:refs/heads/main",
        ),
    ],
)
def test_github_subject(kw, subject):
    assert github_subject("org/app", **kw) == subject


@pytest.mark.parametrize(
    ("repo", "kw"),
    [
        ("not-a-repo", {"branch": "main"}),
        ("org/app", {}),
        ("org/app", {"environment": "prod", "branch": "main"}),
        ("org/app", {"environment": "prod", "owner_id": 1}),
    ],
)
def test_github_subject_rejects(repo, kw):
    with pytest.raises(ValueError):
        github_subject(repo, **kw)


def test_kustomizations_keep_order_and_defaults():
    specs = kustomization_specs(
        {"infra": {"path": "./infra"}, "apps": {"path": "./apps", "depends_on": ["infra"]}}
    )
    assert specs["apps"]["depends_on"] == ["infra"]
    assert specs["infra"]["prune"] is True and specs["infra"]["wait"] is True


@pytest.mark.parametrize(
    ("ks", "fragment"),
    [
        ({"a": {"path": "./a", "depends_on": ["b"]}}, "unknown"),
        (
            {"a": {"path": "./a", "depends_on": ["b"]}, "b": {"path": "./b", "depends_on": ["a"]}},
            "cycle",
        ),
    ],
)
def test_kustomization_graph_errors(ks, fragment):
    with pytest.raises(ValueError, match=fragment):
        kustomization_specs(ks)


def test_flux_settings_lock_down():
    s = flux_settings()
    assert s["multiTenancy.enforce"] == "true" and s["workloadIdentity.enable"] == "false"
    assert s["image-automation-controller.enabled"] == "false"
    assert flux_settings(multi_tenancy=False)["multiTenancy.enforce"] == "false"


def _raw(**gitops):
    raw = read_stack_file(ROOT / "Pulumi.dev.yaml")
    return {**raw, "airflow-aks:gitops": gitops}


@pytest.mark.parametrize(
    ("gitops", "fragment"),
    [
        ({"enabled": True}, "needs repositoryUrl"),
        ({"enabled": True, "repositoryUrl": "ftp://x/y"}, "repositoryUrl"),
        ({"enabled": True, "repositoryUrl": "ssh://git@github.com/o/r"}, "localAuthSecret"),
        ({"kustomizations": {"a": {"path": "./a", "dependsOn": ["zz"]}}}, "unknown"),
        ({"kustomizations": {"a": {"path": "a"}}}, "gitops.kustomizations.a.path"),
        ({"ci": {"githubRepository": "o/r"}}, "gitops.ci moved"),
    ],
)
def test_gitops_config_errors(gitops, fragment):
    with pytest.raises(ConfigError) as err:
        load(_raw(**gitops), "dev")
    assert fragment in str(err.value)


def test_plan_has_flux(dev_plan):
    (ext,) = by_type(dev_plan, "azure-native:kubernetesconfiguration:Extension")
    assert ext["inputs"]["extensionType"] == "microsoft.flux"
    assert ext["inputs"]["configurationSettings"]["multiTenancy.enforce"] == "true"
    (flux,) = by_type(dev_plan, "azure-native:kubernetesconfiguration:FluxConfiguration")
    assert ext["urn"] in flux["dependencies"]
    assert flux["inputs"]["sourceKind"] == "GitRepository"
    assert flux["inputs"]["kustomizations"]["apps"]["dependsOn"] == ["infrastructure"]
    # The pipeline's identities live in the bootstrap (delivery/), not in the stack.
    assert not by_type(dev_plan, "azuread:index/application:Application")
    assert not by_type(dev_plan, "azuread:index/applicationPassword:ApplicationPassword")


def test_operators_grants_are_namespace_scoped(dev_plan):
    grants = [
        r
        for r in by_type(dev_plan, "azure-native:authorization:RoleAssignment")
        if r["urn"].split("::")[2].startswith("airflow-aks:index:GitOps")
    ]
    scopes = {
        r["inputs"]["roleDefinitionId"].rsplit("/", 1)[-1]: r["inputs"]["scope"] for r in grants
    }
    reader = BUILTIN_ROLES["Azure Kubernetes Service RBAC Reader"]
    assert scopes[reader].endswith("/managedClusters/aks-airflow-dev-weu/namespaces/airflow")
    assert all("/managedClusters/" in s for s in scopes.values())


@pytest.mark.parametrize(
    ("level", "namespaces", "expected"),
    [
        ("Reader", [], [("cluster-user", "Azure Kubernetes Service Cluster User Role", None)]),
        (
            "Writer",
            ["airflow", "data"],
            [
                ("cluster-user", "Azure Kubernetes Service Cluster User Role", None),
                ("airflow", "Azure Kubernetes Service RBAC Writer", "airflow"),
                ("data", "Azure Kubernetes Service RBAC Writer", "data"),
            ],
        ),
    ],
)
def test_cluster_grants(level, namespaces, expected):
    assert cluster_grants(level, namespaces) == expected


def test_cluster_grants_refuse_admin():
    with pytest.raises(ValueError, match="Reader"):
        cluster_grants("Admin", ["airflow"])


def test_principal_types(dev_plan):
    grants = [
        r
        for r in by_type(dev_plan, "azure-native:authorization:RoleAssignment")
        if r["name"].startswith("gitops-")
    ]
    kinds = {r["name"]: r["inputs"]["principalType"] for r in grants}
    assert kinds == {
        "gitops-operators-cluster-user": "Group",
        "gitops-operators-airflow": "Group",
    }
