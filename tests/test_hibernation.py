"""Hibernation: schedule decisions, config, the component in the plan, the rule."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from airflow_aks.components import hibernation as h
from airflow_aks.config.base import ConfigError
from airflow_aks.config.stack import load, read_stack_file
from airflow_aks.policies.rules import identity
from airflow_aks.policies.rules._core import Context
from tests.conftest import ROOT, by_type

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


@pytest.mark.parametrize(
    ("days", "wake", "sleep", "week"),
    [
        (WEEKDAYS, "07:00", "19:00", 60.0),
        (WEEKDAYS, "08:30", "17:00", 42.5),
        (["Monday"], "00:00", "23:59", 23 + 59 / 60),
        (h.WEEK, "06:00", "22:00", 112.0),
        (["Friday", "Friday"], "09:00", "10:00", 1.0),  # a day twice counts once
    ],
)
def test_awake_hours_per_week(days: list[str], wake: str, sleep: str, week: float) -> None:
    assert h.awake_hours_per_week(days, wake, sleep) == pytest.approx(week)
    month = h.awake_hours_per_month(days, wake, sleep, 730)
    assert month == pytest.approx(week * 730 / 168)


def test_awake_hours_refuse_an_empty_or_inverted_window() -> None:
    with pytest.raises(ValueError, match="later than wake"):
        h.awake_hours_per_week(WEEKDAYS, "19:00", "07:00")
    with pytest.raises(ValueError, match="later than wake"):
        h.awake_hours_per_week(WEEKDAYS, "07:00", "07:00")
    with pytest.raises(ValueError, match="time of day"):
        h.awake_hours_per_week(WEEKDAYS, "25:00", "26:00")


def test_mon_fri_7_to_19_is_260_7_hours_of_730() -> None:
    assert h.awake_hours_per_month(WEEKDAYS, "07:00", "19:00", 730) == pytest.approx(260.714, 1e-3)


@pytest.mark.parametrize(
    ("days", "at", "expected"),
    [
        (WEEKDAYS, "07:00", {"weekDays": WEEKDAYS, "hours": [7], "minutes": [0]}),
        (
            ["Sunday", "Monday"],
            "19:45",
            {"weekDays": ["Monday", "Sunday"], "hours": [19], "minutes": [45]},
        ),
    ],
)
def test_recurrence(days: list[str], at: str, expected: dict[str, Any]) -> None:
    rec = h.recurrence(days, at, "W. Europe Standard Time")
    assert rec == {
        "frequency": "Week",
        "interval": 1,
        "timeZone": "W. Europe Standard Time",
        "schedule": expected,
    }


def test_recurrence_refuses_unknown_days() -> None:
    with pytest.raises(ValueError, match="subset"):
        h.recurrence(["Funday"], "07:00", "UTC")
    with pytest.raises(ValueError, match="subset"):
        h.recurrence([], "07:00", "UTC")


def test_sleep_runs_every_day_so_a_self_started_postgres_is_stopped_again() -> None:
    """Postgres starts itself after 7 days stopped: the sleep run comes every day."""
    assert h.sleep_recurrence("19:00", "UTC")["schedule"]["weekDays"] == list(h.WEEK)
    wake = h.wake_recurrence(WEEKDAYS, "07:00", "UTC")
    assert wake["schedule"]["weekDays"] == WEEKDAYS
    # read back as the estimate does: only wake days count, until the sleep time
    assert h.awake_from_recurrences(wake, h.sleep_recurrence("19:00", "UTC")) == 60.0


def test_workflow_definitions_call_only_start_or_stop() -> None:
    cid = (
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c"
    )
    sid = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/p"
    trig = h.sleep_recurrence("19:00", "UTC")
    stop = h.workflow_definition(
        trig,
        "stop",
        h.operation_uri(cid, "stop", h.AKS_API_VERSION),
        h.operation_uri(sid, "stop", h.POSTGRES_API_VERSION),
        "/id",
    )
    assert stop["triggers"]["schedule"] == {"type": "Recurrence", "recurrence": trig}
    assert stop["actions"]["stop-cluster"]["inputs"]["uri"] == (
        f"https://management.azure.com{cid}/stop?api-version=2026-07-01"
    )
    # Postgres stops even when the cluster call failed (already stopped)
    assert stop["actions"]["stop-postgres"]["runAfter"] == {
        "stop-cluster": ["Succeeded", "Failed", "TimedOut"]
    }
    for action in stop["actions"].values():
        assert action["inputs"]["method"] == "POST"
        assert action["inputs"]["authentication"] == {
            "type": "ManagedServiceIdentity",
            "identity": "/id",
            "audience": "https://management.azure.com/",
        }
    with pytest.raises(ValueError, match="start or stop"):
        h.operation_uri(cid, "delete", h.AKS_API_VERSION)
    with pytest.raises(ValueError, match="start or stop"):
        h.workflow_definition(trig, "restart", "u", "u", "/id")


def test_resource_group_of() -> None:
    assert h.resource_group_of("/subscriptions/s/resourceGroups/rg/providers/X/y/z") == (
        "/subscriptions/s/resourceGroups/rg"
    )
    with pytest.raises(ValueError, match="ARM resource id"):
        h.resource_group_of("/subscriptions/s")


# ------------------------------------------------------------------------- config


def _cfg(stack: str = "dev", **hib: Any) -> Any:
    raw = read_stack_file(ROOT / f"Pulumi.{stack}.yaml")
    if hib:
        raw["airflow-aks:hibernation"] = hib
    return load(raw, stack)


def test_dev_profile_sleeps_by_default_and_prod_does_not() -> None:
    dev = _cfg().hibernation
    assert dev.enabled and dev.time_zone == "Europe/Berlin" and dev.days == WEEKDAYS
    assert (dev.wake, dev.sleep) == ("07:00", "19:00")
    assert not _cfg("prod").hibernation.enabled


@pytest.mark.parametrize(
    ("hib", "message"),
    [
        ({"timeZone": "Mars/Olympus"}, "not an IANA time-zone name"),
        ({"timeZone": "Europe/Paris"}, "allowed: America/Los_Angeles"),
        ({"wake": "19:00", "sleep": "07:00"}, "later than wake"),
        ({"wake": "7am"}, "hibernation.wake"),
        ({"days": []}, "hibernation.days"),
        ({"days": ["Monday", "Monday"]}, "each day at most once"),
        ({"days": ["Someday"]}, "hibernation.days"),
        ({"enable": True}, "hibernation"),
    ],
)
def test_bad_hibernation_config_names_the_key(hib: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        _cfg(**hib)
    text = str(info.value)
    assert "airflow-aks:hibernation" in text and message in text, text


# ------------------------------------------------------------------------- plan


def test_dev_plan_has_the_schedule_identity_and_start_stop_role(dev_plan: dict[str, Any]) -> None:
    flows = {r["name"]: r for r in by_type(dev_plan, "azure-native:logic:Workflow")}
    assert set(flows) == {"hibernation-wake", "hibernation-sleep"}
    wake = flows["hibernation-wake"]["inputs"]["definition"]
    rec = wake["triggers"]["schedule"]["recurrence"]
    assert rec["timeZone"] == "W. Europe Standard Time"
    assert rec["schedule"] == {"weekDays": WEEKDAYS, "hours": [7], "minutes": [0]}
    (role,) = by_type(dev_plan, "azure-native:authorization:RoleDefinition")
    assert role["inputs"]["permissions"] == [
        {"actions": list(h.START_STOP_ACTIONS), "notActions": []}
    ]
    grants = [
        g
        for g in by_type(dev_plan, "azure-native:authorization:RoleAssignment")
        if g["name"].startswith("hibernation-")
    ]
    scopes = sorted(g["inputs"]["scope"].rsplit("/providers/", 1)[1] for g in grants)
    assert scopes == [
        "Microsoft.ContainerService/managedClusters/aks-airflow-dev-weu",
        "Microsoft.DBforPostgreSQL/flexibleServers/psql-airflow-dev-weu",
    ]
    (component,) = by_type(dev_plan, "airflow-aks:index:Hibernation")
    children = [r for r in dev_plan["resources"] if r.get("parent") == component["urn"]]
    assert len(children) == 6  # identity, role, 2 grants, 2 workflows


def test_prod_plan_never_sleeps(prod_plan: dict[str, Any]) -> None:
    assert not by_type(prod_plan, "azure-native:logic:Workflow")
    assert not by_type(prod_plan, "airflow-aks:index:Hibernation")


# ------------------------------------------------------------------------- rule


def _violations(export: dict[str, Any]) -> list[tuple[str, str]]:
    return identity.hibernation_start_stop_only(export["resources"], Context(stack="dev"))


def test_rule_passes_the_shipped_dev_plan(dev_plan: dict[str, Any]) -> None:
    assert _violations(dev_plan) == []


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (
            lambda role, grant: role["inputs"].update(
                permissions=[
                    {
                        "actions": [
                            *h.START_STOP_ACTIONS,
                            "Microsoft.ContainerService/managedClusters/write",
                        ]
                    }
                ]
            ),
            "managedClusters/write",
        ),
        (lambda role, grant: role["inputs"].update(permissions=[{"actions": ["*"]}]), "allows *"),
        (
            lambda role, grant: role["inputs"]["permissions"][0].update(
                dataActions=["Microsoft.KeyVault/vaults/secrets/getSecret/action"]
            ),
            "data actions",
        ),
        (
            lambda role, grant: grant["inputs"].update(
                scope=grant["inputs"]["scope"].split("/providers/")[0]
            ),
            "nothing wider",
        ),
        (
            lambda role, grant: grant.update(
                propertyDependencies={**grant["propertyDependencies"], "scope": []}
            ),
            "scope it to the cluster",
        ),
        (
            lambda role, grant: grant["inputs"].update(
                roleDefinitionId="/providers/Microsoft.Authorization/roleDefinitions/"
                "b24988ac-6180-42a0-ab88-20f7382dd24c"
            ),
            "not its own start/stop",
        ),
    ],
)
def test_rule_catches_a_wider_hibernation_grant(
    dev_plan: dict[str, Any], edit: Any, needle: str
) -> None:
    export = copy.deepcopy(dev_plan)
    (role,) = by_type(export, "azure-native:authorization:RoleDefinition")
    grant = next(
        g
        for g in by_type(export, "azure-native:authorization:RoleAssignment")
        if g["name"] == "hibernation-cluster"
    )
    edit(role, grant)
    found = _violations(export)
    assert any(needle in msg for _, msg in found), found


def test_role_guid_is_stable_per_role_name() -> None:
    a = h.role_guid("airflow-dev-westeurope hibernation start/stop")
    assert a == h.role_guid("airflow-dev-westeurope hibernation start/stop")
    assert a != h.role_guid("airflow-test-westeurope hibernation start/stop")
    assert len(a) == 36 and a.count("-") == 4
