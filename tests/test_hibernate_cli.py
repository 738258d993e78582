"""``airflow-aks wake|sleep``: which resources, which order, which URLs (fake Azure)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_aks.cli import hibernate
from airflow_aks.cli import main as cli

SUB = "00000000-0000-0000-0000-000000000001"


def test_targets_from_the_dev_plan(dev_plan: dict[str, Any]) -> None:
    found = hibernate.targets(dev_plan, SUB)
    assert [t.kind for t in found] == ["cluster", "postgres"]
    assert found[0].resource_id == (
        f"/subscriptions/{SUB}/resourceGroups/rg-airflow-dev-weu/providers/"
        "Microsoft.ContainerService/managedClusters/aks-airflow-dev-weu"
    )


@pytest.mark.parametrize(
    ("op", "kinds"), [("start", ["postgres", "cluster"]), ("stop", ["cluster", "postgres"])]
)
def test_order(dev_plan: dict[str, Any], op: str, kinds: list[str]) -> None:
    found = hibernate.targets(dev_plan, SUB)
    assert [t.kind for t in hibernate.order(found, op)] == kinds


def _args(op: str) -> Any:
    return cli.parser().parse_args(
        ["wake" if op == "start" else "sleep", "--stack", "dev", "--subscription", SUB]
    )


@pytest.mark.parametrize("op", ["start", "stop"])
def test_command_posts_the_hibernation_operations(op: str, capsys: Any) -> None:
    sent: list[str] = []

    def post(url: str) -> int:
        sent.append(url)
        return 202

    assert hibernate.command(_args(op), post=post) == 0
    assert len(sent) == 2
    assert all(u.startswith(f"https://management.azure.com/subscriptions/{SUB}/") for u in sent)
    assert all(f"/{op}?api-version=" in u for u in sent)
    out = capsys.readouterr().out
    assert out.count("HTTP 202 accepted") == 2


def test_a_refusal_stops_and_exits_1(capsys: Any) -> None:
    sent: list[str] = []

    def post(url: str) -> int:
        sent.append(url)
        return 403

    assert hibernate.command(_args("stop"), post=post) == 1
    assert len(sent) == 1 and "managedClusters" in sent[0]  # Postgres not stopped after it
    assert "HTTP 403 REFUSED" in capsys.readouterr().out


def test_no_subscription_is_a_usage_error(monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    args = cli.parser().parse_args(["wake", "--stack", "dev"])
    assert hibernate.command(args, post=lambda u: 202) == 2
    assert "no subscription" in capsys.readouterr().err
