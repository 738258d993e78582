"""Entra sign-in: app roles, role mapping, group assignments, the chart values for SSO."""

from __future__ import annotations

import uuid

import pytest

from airflow_aks.components import signin as G
from airflow_aks.components.airflow import signin_config as S
from airflow_aks.components.airflow import values as V

ADMINS = "7f3c2a9e-1b4d-4c8e-9f0a-2d6e5b8c1a47"
OPS = "2b8e4f10-6c3a-4d7e-8a1b-9f0c5d2e3a64"


def test_four_app_roles_with_stable_unique_ids() -> None:
    roles = G.app_roles()
    assert [r["value"] for r in roles] == ["Admin", "Op", "User", "Viewer"]
    ids = [r["id"] for r in roles]
    assert len(set(ids)) == 4 and all(uuid.UUID(i) for i in ids)
    assert ids == [r["id"] for r in G.app_roles()]  # same stack, same ids, every run
    assert all(r["allowed_member_types"] == ["User"] and r["enabled"] for r in roles)


def test_role_mapping_maps_each_app_role_to_the_same_fab_role() -> None:
    from airflow.providers.fab.auth_manager.security_manager.override import (
        FabAirflowSecurityManagerOverride,
    )

    fab_roles = {r["role"] for r in FabAirflowSecurityManagerOverride.ROLE_CONFIGS}
    mapping = S.role_mapping()
    assert set(mapping) == {r["value"] for r in G.app_roles()}
    assert {role for targets in mapping.values() for role in targets} <= fab_roles
    assert all(targets == [key] for key, targets in mapping.items())


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ({}, []),
        ({"Admin": [ADMINS]}, [("admin-7f3c2a9e", "Admin", ADMINS)]),
        (
            {"Viewer": [OPS], "Op": [OPS, ADMINS]},
            [
                ("op-2b8e4f10", "Op", OPS),
                ("op-7f3c2a9e", "Op", ADMINS),
                ("viewer-2b8e4f10", "Viewer", OPS),
            ],
        ),
    ],
)
def test_role_assignments_per_role_and_group(
    groups: dict[str, list[str]], expected: list[tuple[str, str, str]]
) -> None:
    got = G.role_assignments(groups)
    assert got == [(s, G.app_role_id(role), g) for s, role, g in expected]


@pytest.mark.parametrize(
    ("groups", "match"),
    [({"Owner": [ADMINS]}, "unknown app roles"), ({"Admin": ["admins"]}, "not an object id")],
)
def test_bad_assignments_are_refused(groups: dict[str, list[str]], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        G.role_assignments(groups)


def test_redirect_uri_and_federated_subject() -> None:
    assert S.redirect_uri("airflow.example.com") == (
        "https://airflow.example.com/auth/oauth-authorized/azure"
    )
    assert G.federated_subject("airflow", "airflow-api-server") == (
        "system:serviceaccount:airflow:airflow-api-server"
    )


def test_optional_claims_cover_what_fab_reads() -> None:
    names = {c["name"] for c in G.optional_claims()["id_tokens"]}
    assert {"email", "upn", "given_name", "family_name"} <= names


def _values(sign_in: S.SignInSettings | None) -> dict:
    return V.build_values(
        V.AirflowValuesInput(
            environment="prod",
            namespace="airflow",
            tenant_id="@@tenant-id@@",
            control_plane_client_id="@@cp@@",
            tasks_client_id="@@tasks@@",
            secret_provider_class="airflow-control-plane-kv",
            key_vault_name="kv",
            storage_account="st",
            logs_container="airflow-logs",
            sign_in=sign_in,
        )
    )


def test_sso_values_fab_auth_manager_no_builtin_admin() -> None:
    plain = _values(None)
    sso = _values(S.SignInSettings("airflow.example.com", "@@sign-in-client-id@@", "@@t@@"))
    assert plain["createUserJob"]["enabled"] is True
    assert "auth_manager" not in plain["config"]["core"]
    assert sso["createUserJob"]["enabled"] is False
    assert sso["config"]["core"]["auth_manager"] == S.FAB_AUTH_MANAGER
    assert sso["config"]["api"]["base_url"] == "https://airflow.example.com/"
    # tasks keep calling the execution API inside the cluster, not through the entrance
    assert sso["config"]["core"]["execution_api_server_url"] == (
        "http://airflow-api-server.airflow.svc.cluster.local:8080/execution/"
    )
    assert sso["config"]["fab"]["cookie_secure"] == "True"
    assert sso["config"]["fab"]["session_max_lifetime_minutes"] == "720"
    env = {e["name"]: e["value"] for e in sso["apiServer"]["env"]}
    assert env[S.CLIENT_ID_ENV] == "@@sign-in-client-id@@"
    assert env[S.TENANT_ID_ENV] == "@@t@@"
    assert env["FORWARDED_ALLOW_IPS"] == "*"
    assert "AUTH_TYPE = AUTH_OAUTH" in sso["apiServer"]["apiServerConfig"]
    # everything else is untouched
    assert sso["scheduler"] == plain["scheduler"]
    assert sso["config"]["logging"] == plain["config"]["logging"]


def test_generated_config_survives_helm_tpl_and_has_no_secret() -> None:
    text = S.webserver_config(S.SignInSettings("airflow.example.com", "@@c@@", "@@t@@"))
    assert "{{" not in text and "}}" not in text
    assert "client_secret" not in text
    compile(text, "webserver_config.py", "exec")


@pytest.mark.parametrize(
    "settings",
    [
        S.SignInSettings("Airflow.Example.com", "@@c@@", "@@t@@"),
        S.SignInSettings("airflow.example.com", "@@c@@", "@@t@@", authority_host="a b"),
    ],
)
def test_bad_settings_are_refused(settings: S.SignInSettings) -> None:
    with pytest.raises(ValueError):
        S.webserver_config(settings)


def test_env_ids_must_be_guids_or_placeholders() -> None:
    with pytest.raises(ValueError, match="client id"):
        S.sign_in_env(S.SignInSettings("airflow.example.com", "abc", "@@t@@"))
    ok = S.sign_in_env(S.SignInSettings("airflow.example.com", ADMINS, OPS))
    assert [e["value"] for e in ok] == [ADMINS, OPS]


def test_sso_values_match_the_chart_schema() -> None:
    """apiServer.apiServerConfig / env and createUserJob.enabled are chart keys (schema)."""
    from tests.test_airflow_values import SCHEMA, _errors

    if not SCHEMA.is_file():
        pytest.skip(
            f"chart schema not found at {SCHEMA}; enable: check out the shared repository "
            "beside this one (../shared/charts/airflow/values.schema.json)"
        )
    import json

    import jsonschema

    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    sso = _values(S.SignInSettings("airflow.example.com", "@@c@@", "@@t@@"))
    assert _errors(validator, sso) == []
