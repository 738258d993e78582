"""Hibernation: the stack stops its AKS cluster and Postgres server outside an awake window.

Two Logic App (Consumption) workflows with a Recurrence trigger, ``{name}-wake`` and
``{name}-sleep``, call the ARM ``start``/``stop`` operations of exactly the cluster and
the server, authenticating as one user-assigned identity that holds a custom role with
only those four actions, assigned on exactly those two resources.

Why Logic Apps over an Automation account: a Logic App is one ARM resource whose whole
behaviour (schedule, time zone, HTTP calls, identity) is its ``definition``, visible in the
plan and checked by the policy pack; an Automation account needs a runbook (code shipped
as a separate artefact), a schedule, a job schedule linking them, and a module import for
Az, four resources to keep in step and a script the plan cannot read.

Facts (read 2026-12-07):
- ARM operations: ``POST .../managedClusters/{name}/start|stop?api-version=2026-07-01``
  (AKS REST reference, Managed Clusters - Start / Stop: "A cluster does not accrue charges
  while it is stopped"); ``POST .../flexibleServers/{name}/start|stop?api-version=
  2026-10-01`` (PostgreSQL REST reference, Servers - Start / Stop). The permissions are the
  operations' ``{type}/{operation}/action`` names.
- Logic Apps HTTP action ``authentication: {type: ManagedServiceIdentity, identity:
  <user-assigned identity id>, audience: https://management.azure.com/}`` (azure-docs
  logic-apps managed-identity article and its localized copies).
- Recurrence trigger: ``frequency``/``interval``/``timeZone``/``schedule`` with
  ``weekDays``/``hours``/``minutes`` (azure-mgmt-logic WorkflowTriggerRecurrence /
  RecurrenceSchedule); ``timeZone`` takes Windows zone names.
- A stopped Postgres flexible server starts itself after 7 days: the sleep workflow runs
  every day of the week, so a server that woke itself is stopped again within a day.
"""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Required, TypedDict

import pulumi
from pulumi_azure_native import authorization, logic, managedidentity

from airflow_aks.components.tokens import type_token

AKS_API_VERSION = "2026-07-01"
POSTGRES_API_VERSION = "2026-10-01"
ARM = "https://management.azure.com"
ARM_AUDIENCE = "https://management.azure.com/"
WORKFLOW_SCHEMA = (
    "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/"
    "2016-06-01/workflowdefinition.json#"
)
START_STOP_ACTIONS: tuple[str, ...] = (
    "Microsoft.ContainerService/managedClusters/start/action",
    "Microsoft.ContainerService/managedClusters/stop/action",
    "Microsoft.DBforPostgreSQL/flexibleServers/start/action",
    "Microsoft.DBforPostgreSQL/flexibleServers/stop/action",
)
WEEK = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# --------------------------------------------------------------------------- pure functions


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    hours, minutes = int(h), int(m)
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(f"{hhmm!r} is not a time of day (HH:MM)")
    return hours * 60 + minutes


def recurrence(days: Sequence[str], at: str, windows_time_zone: str) -> dict[str, Any]:
    """A weekly Recurrence on ``days`` at ``at`` (HH:MM) in a Windows time zone."""
    bad = [d for d in days if d not in WEEK]
    if bad or not days:
        raise ValueError(f"days must be a non-empty subset of {', '.join(WEEK)}: {bad or days}")
    minutes = _minutes(at)
    return {
        "frequency": "Week",
        "interval": 1,
        "timeZone": windows_time_zone,
        "schedule": {
            "weekDays": sorted(set(days), key=WEEK.index),
            "hours": [minutes // 60],
            "minutes": [minutes % 60],
        },
    }


def wake_recurrence(days: Sequence[str], wake: str, windows_time_zone: str) -> dict[str, Any]:
    """The wake workflow starts the environment on the awake days only."""
    return recurrence(days, wake, windows_time_zone)


def sleep_recurrence(sleep: str, windows_time_zone: str) -> dict[str, Any]:
    """The sleep workflow runs every day: at the end of each awake window, and on the other
    days to stop a Postgres server that started itself after 7 days stopped."""
    return recurrence(WEEK, sleep, windows_time_zone)


def awake_hours_per_week(days: Sequence[str], wake: str, sleep: str) -> float:
    """Hours a week the environment runs: each awake day from ``wake`` to ``sleep``."""
    span = _minutes(sleep) - _minutes(wake)
    if span <= 0:
        raise ValueError(f"sleep {sleep} must be later than wake {wake}")
    return len(set(days)) * span / 60


def awake_hours_per_month(
    days: Sequence[str], wake: str, sleep: str, hours_per_month: float
) -> float:
    """Awake hours in a month of ``hours_per_month`` (730 in the price table): the weekly
    figure scaled by weeks per month, so 5 x 12 h = 60 h/week -> 260.7 h of 730."""
    return awake_hours_per_week(days, wake, sleep) * hours_per_month / (7 * 24)


def awake_from_recurrences(wake: Mapping[str, Any], sleep: Mapping[str, Any]) -> float:
    """Hours a week awake, read back from the two workflows' Recurrence triggers (what the
    cost estimate reads in a plan): each wake day until the sleep time of that day."""
    ws, ss = wake.get("schedule") or {}, sleep.get("schedule") or {}
    if wake.get("frequency") != "Week" or sleep.get("frequency") != "Week":
        raise ValueError("hibernation recurrences must be weekly")
    start = int(ws["hours"][0]) * 60 + int(ws["minutes"][0])
    end = int(ss["hours"][0]) * 60 + int(ss["minutes"][0])
    days = [d for d in ws.get("weekDays", []) if d in ss.get("weekDays", [])]
    return max(end - start, 0) * len(days) / 60


def http_call(uri: pulumi.Input[str], identity_id: pulumi.Input[str]) -> dict[str, Any]:
    """A Logic Apps HTTP action: POST ``uri`` as the user-assigned identity, for ARM."""
    return {
        "type": "Http",
        "inputs": {
            "method": "POST",
            "uri": uri,
            "authentication": {
                "type": "ManagedServiceIdentity",
                "identity": identity_id,
                "audience": ARM_AUDIENCE,
            },
        },
    }


def operation_uri(resource_id: str, operation: str, api_version: str) -> str:
    """``https://management.azure.com{id}/{operation}?api-version=...`` (pure)."""
    if operation not in ("start", "stop"):
        raise ValueError(f"operation must be start or stop, not {operation!r}")
    return f"{ARM}{resource_id}/{operation}?api-version={api_version}"


def workflow_definition(
    trigger: Mapping[str, Any],
    operation: str,
    cluster_uri: pulumi.Input[str],
    server_uri: pulumi.Input[str],
    identity_id: pulumi.Input[str],
) -> dict[str, Any]:
    """The wake (``start``) or sleep (``stop``) workflow, given the two operation URIs.

    Waking starts Postgres and the cluster side by side. Sleeping stops the cluster first,
    then Postgres whatever the cluster call returned (a cluster already stopped answers
    with an error; the server must still stop)."""
    if operation not in ("start", "stop"):
        raise ValueError(f"operation must be start or stop, not {operation!r}")
    cluster = http_call(cluster_uri, identity_id)
    server = http_call(server_uri, identity_id)
    if operation == "start":
        actions = {"start-postgres": {**server, "runAfter": {}}}
        actions["start-cluster"] = {**cluster, "runAfter": {}}
    else:
        actions = {"stop-cluster": {**cluster, "runAfter": {}}}
        actions["stop-postgres"] = {
            **server,
            "runAfter": {"stop-cluster": ["Succeeded", "Failed", "TimedOut"]},
        }
    return {
        "$schema": WORKFLOW_SCHEMA,
        "contentVersion": "1.0.0.0",
        "triggers": {"schedule": {"type": "Recurrence", "recurrence": dict(trigger)}},
        "actions": actions,
        "outputs": {},
    }


def role_guid(role_name: str) -> str:
    """A stable GUID for the custom role (its ARM name): the same stack always asks for the
    same role id, so the plan, the grants and the policy pack can name it before it exists."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"airflow-aks:role:{role_name}"))


def resource_group_of(resource_id: str) -> str:
    """``/subscriptions/s/resourceGroups/rg`` of an ARM id (pure)."""
    head, sep, _ = resource_id.partition("/providers/")
    if not sep or "/resourcegroups/" not in head.lower():
        raise ValueError(f"{resource_id!r} is not an ARM resource id in a resource group")
    return head


# --------------------------------------------------------------------------- component


class HibernationArgs(TypedDict, total=False):
    """Arguments of :class:`Hibernation`."""

    resource_group_name: Required[pulumi.Input[str]]
    """Resource group of the workflows and the identity."""
    location: Required[pulumi.Input[str]]
    """Region of the workflows and the identity."""
    cluster_id: Required[pulumi.Input[str]]
    """ARM id of the AKS managed cluster to stop and start."""
    server_id: Required[pulumi.Input[str]]
    """ARM id of the Postgres flexible server to stop and start."""
    days: Required[Sequence[str]]
    """Awake days (``Monday`` .. ``Sunday``)."""
    wake: Required[str]
    """Start of the awake window, HH:MM local."""
    sleep: Required[str]
    """End of the awake window, HH:MM local, later than ``wake``."""
    windows_time_zone: Required[str]
    """The window's time zone as a Windows zone name (what Logic Apps accepts)."""
    role_name: Required[str]
    """Name of the custom role (unique in the tenant: include the stack)."""
    tags: pulumi.Input[Mapping[str, pulumi.Input[str]]]
    """Tags on every resource."""


class Hibernation(pulumi.ComponentResource):
    """Stops the cluster and the Postgres server outside the awake window, on schedule."""

    identity_id: pulumi.Output[str]
    """ARM id of the identity the workflows act as."""
    principal_id: pulumi.Output[str]
    """Principal id of that identity (for audits of its grants)."""
    role_definition_id: pulumi.Output[str]
    """ARM id of the start/stop-only custom role."""
    wake_workflow_name: pulumi.Output[str]
    """Name of the Logic App that wakes the environment."""
    sleep_workflow_name: pulumi.Output[str]
    """Name of the Logic App that puts it to sleep."""

    def __init__(
        self, name: str, args: HibernationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(type_token(Hibernation), name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        rg, loc, tags = args["resource_group_name"], args["location"], args.get("tags")
        cluster_id = pulumi.Output.from_input(args["cluster_id"])
        server_id = pulumi.Output.from_input(args["server_id"])
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_group_name=rg,
            location=loc,
            tags=tags,
            opts=child,
        )
        group = cluster_id.apply(resource_group_of)
        role = authorization.RoleDefinition(
            f"{name}-role",
            role_name=args["role_name"],
            role_definition_id=role_guid(args["role_name"]),
            description="airflow-aks hibernation: start and stop the stack's cluster and "
            "Postgres server, nothing else",
            # Custom roles are assignable at resource-group scope or above; the assignments
            # below put it on the two resources only.
            scope=group,
            assignable_scopes=[group],
            permissions=[{"actions": list(START_STOP_ACTIONS), "not_actions": []}],
            opts=child,
        )
        for target, scope in (("cluster", cluster_id), ("postgres", server_id)):
            authorization.RoleAssignment(
                f"{name}-{target}",
                principal_id=identity.principal_id,
                principal_type="ServicePrincipal",
                role_definition_id=role.id,
                scope=scope,
                description=f"airflow-aks hibernation: start/stop the {target}",
                opts=child,
            )
        days, tz = list(args["days"]), args["windows_time_zone"]
        triggers = {
            "start": wake_recurrence(days, args["wake"], tz),
            "stop": sleep_recurrence(args["sleep"], tz),
        }
        flows: dict[str, logic.Workflow] = {}
        for operation, label in (("start", "wake"), ("stop", "sleep")):
            # Only the URIs wait for the ids: the schedule stays readable in a preview.
            definition = workflow_definition(
                triggers[operation],
                operation,
                cluster_id.apply(lambda i, op=operation: operation_uri(i, op, AKS_API_VERSION)),
                server_id.apply(lambda i, op=operation: operation_uri(i, op, POSTGRES_API_VERSION)),
                identity.id,
            )
            flows[label] = logic.Workflow(
                f"{name}-{label}",
                resource_group_name=rg,
                location=loc,
                state="Enabled",
                identity={
                    "type": "UserAssigned",
                    "user_assigned_identities": [identity.id],
                },
                definition=definition,
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[role]),
            )
        self.identity_id = identity.id
        self.principal_id = identity.principal_id
        self.role_definition_id = role.id
        self.wake_workflow_name = flows["wake"].name
        self.sleep_workflow_name = flows["sleep"].name
        self.register_outputs(
            {
                "identity_id": self.identity_id,
                "principal_id": self.principal_id,
                "role_definition_id": self.role_definition_id,
                "wake_workflow_name": self.wake_workflow_name,
                "sleep_workflow_name": self.sleep_workflow_name,
            }
        )
