"""Airflow's in-mesh allow-list: exactly the declared paths, nothing else (pure)."""

from __future__ import annotations

from airflow_aks.components.airflow.mesh_paths import allow_rules
from airflow_aks.components.airflow.values import ServiceAccountNames
from airflow_aks.components.mesh.kuma import allow_manifests as kuma_manifests
from airflow_aks.components.mesh.linkerd import allow_manifests as linkerd_manifests

SAS = ServiceAccountNames()


def test_paths_are_exactly_the_declared_ones():
    rules = {r.name: r for r in allow_rules("airflow", "airflow", SAS)}
    assert set(rules) == {"airflow-api-server", "airflow-worker-logs", "airflow-triggerer-logs"}
    api = rules["airflow-api-server"]
    assert api.target.port == 8080
    assert api.target.labels == {"component": "api-server", "release": "airflow"}
    assert {c.service_account for c in api.clients} == {
        SAS.tasks,
        SAS.scheduler,
        SAS.dag_processor,
        SAS.triggerer,
    }
    # Jobs (migrations, user creation) reach only the database, outside the mesh.
    for r in rules.values():
        assert SAS.migrate_database_job not in {c.service_account for c in r.clients}
        assert SAS.create_user_job not in {c.service_account for c in r.clients}
    assert [c.service_account for c in rules["airflow-worker-logs"].clients] == [SAS.api_server]
    assert rules["airflow-worker-logs"].target.port == 8793
    assert rules["airflow-triggerer-logs"].target.port == 8794


def test_linkerd_objects_authorise_service_account_identities():
    rule = allow_rules("rel", "ns", SAS)[0]
    server, authn, policy = linkerd_manifests(rule)
    assert server["spec"]["port"] == 8080
    assert server["spec"]["podSelector"]["matchLabels"]["release"] == "rel"
    assert {i["name"] for i in authn["spec"]["identityRefs"]} == {
        c.service_account for c in rule.clients
    }
    assert policy["spec"]["targetRef"]["name"] == server["metadata"]["name"]


def test_kuma_objects_cover_the_same_clients():
    rule = allow_rules("rel", "ns", SAS)[0]
    (mtp,) = kuma_manifests(rule)
    assert mtp["spec"]["targetRef"]["labels"] == {"component": "api-server", "release": "rel"}
    froms = mtp["spec"]["from"]
    assert len(froms) == len(rule.clients)
    assert all(f["default"]["action"] == "Allow" for f in froms)
    tags = [f["targetRef"]["tags"] for f in froms]
    for c in rule.clients:
        assert any(t.get("component") == c.labels["component"] for t in tags), tags
