"""``airflow-aks wake|sleep --stack S``: start or stop the stack's cluster and Postgres now.

The same ARM operations the hibernation workflows call (``POST {id}/start|stop`` on the
managed cluster, api-version 2026-07-01, and the flexible server, 2026-10-01; AKS and
PostgreSQL REST references read 2026-12-07), in the same order: waking starts Postgres
first (Airflow needs its database), sleeping stops the cluster first. The caller needs only
the four start/stop actions on the two resources (the hibernation role's), authenticated
with ``DefaultAzureCredential`` as ``preflight`` is.

Why it matters: a stopped cluster refuses ``pulumi up`` and the preview's Kubernetes calls;
``airflow-aks wake --stack dev`` before a deploy outside the awake window.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_aks.components.hibernation import (
    AKS_API_VERSION,
    POSTGRES_API_VERSION,
    operation_uri,
)

CLUSTER = "azure-native:containerservice:ManagedCluster"
SERVER = "azure-native:dbforpostgresql:Server"
ARM_SCOPE = "https://management.azure.com/.default"

Post = Callable[[str], int]
"""POSTs one ARM URL (path and query) and returns the HTTP status."""


@dataclass(frozen=True)
class Target:
    kind: str  # "cluster" / "postgres"
    resource_id: str
    api_version: str


def targets(export: Mapping[str, Any], subscription: str) -> list[Target]:
    """The cluster and the Postgres server of a plan, as ARM ids in ``subscription`` (pure)."""
    out: list[Target] = []
    for r in export["resources"]:
        inp = r.get("inputs") or {}
        rg = inp.get("resourceGroupName")
        base = f"/subscriptions/{subscription}/resourceGroups/{rg}/providers"
        if r["type"] == CLUSTER:
            name = inp.get("resourceName")
            rid = f"{base}/Microsoft.ContainerService/managedClusters/{name}"
            out.append(Target("cluster", rid, AKS_API_VERSION))
        elif r["type"] == SERVER:
            name = inp.get("serverName")
            rid = f"{base}/Microsoft.DBforPostgreSQL/flexibleServers/{name}"
            out.append(Target("postgres", rid, POSTGRES_API_VERSION))
    for t in out:
        if "None" in t.resource_id.split("/") or "[unknown]" in t.resource_id:
            raise ValueError(f"the plan does not name the {t.kind}'s resource group and name")
    return out


def order(found: list[Target], operation: str) -> list[Target]:
    """Wake: Postgres before the cluster. Sleep: the cluster before Postgres (pure)."""
    first = "postgres" if operation == "start" else "cluster"
    return sorted(found, key=lambda t: t.kind != first)


def run(found: list[Target], operation: str, post: Post) -> list[tuple[Target, int]]:
    """POST ``operation`` to each target in order; stops at the first refusal."""
    done: list[tuple[Target, int]] = []
    for t in order(found, operation):
        status = post(operation_uri(t.resource_id, operation, t.api_version))
        done.append((t, status))
        if status >= 400:
            break
    return done


def http_post(credential: Any) -> Post:
    """A POST through Microsoft's ARM pipeline with a bearer token for ``credential``."""
    from azure.core.pipeline.policies import BearerTokenCredentialPolicy
    from azure.mgmt.core import ARMPipelineClient

    client = ARMPipelineClient(
        base_url="https://management.azure.com",
        policies=[BearerTokenCredentialPolicy(credential, ARM_SCOPE)],
    )

    def post(url: str) -> int:
        response = client.send_request(client.post(url))
        return int(response.status_code)

    return post


def add_parsers(sub: Any) -> None:
    for name, op, text in (
        ("wake", "start", "start the stack's cluster and Postgres server now (Azure)"),
        ("sleep", "stop", "stop the stack's cluster and Postgres server now (Azure)"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--stack", required=True)
        p.add_argument("--config", help="stack file (default: Pulumi.<stack>.yaml)")
        p.add_argument("--subscription", help="subscription id (default: $AZURE_SUBSCRIPTION_ID)")
        p.set_defaults(func=command, operation=op)


def command(args: Any, *, post: Post | None = None) -> int:
    """Plan offline to find the two resources, then start or stop them (exit 1 when Azure
    refuses, 2 on bad configuration or a missing SDK)."""
    from airflow_aks.cli.common import EXIT_CONFIG, EXIT_FAIL, EXIT_OK, load_stack
    from airflow_aks.cli.preflight import subscription_id
    from airflow_aks.offline import plan
    from airflow_aks.program import stack as program

    loaded = load_stack(args.stack, args.config)
    if loaded is None:
        return EXIT_CONFIG
    _, raw, _ = loaded
    sub = subscription_id(args.subscription, raw)
    if not sub:
        print(
            "error: no subscription: pass --subscription, set AZURE_SUBSCRIPTION_ID, or "
            "`pulumi config set azure-native:subscriptionId <id>`",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    if post is None:
        try:
            from azure.identity import DefaultAzureCredential
        except ImportError:
            print(
                f"error: {args.operation} needs Microsoft's SDKs: "
                "pip install 'airflow-aks[preflight]'",
                file=sys.stderr,
            )
            return EXIT_CONFIG
        post = http_post(DefaultAzureCredential())
    export = plan.run(program.main, stack=args.stack, config=raw).export()
    try:
        found = targets(export, sub)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAIL
    ok = True
    for t, status in run(found, args.operation, post):
        accepted = status < 400
        ok = ok and accepted
        verdict = "accepted" if accepted else "REFUSED"
        print(f"{args.operation} {t.kind} {t.resource_id}: HTTP {status} {verdict}")
    if ok and args.operation == "start":
        print("Starting takes minutes; `pulumi up` works once the cluster reports Running.")
    return EXIT_OK if ok else EXIT_FAIL
