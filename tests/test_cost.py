"""Cost arithmetic on hand-made plans and price tables with known answers; the loader."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest

from airflow_aks.estimate import cost

TODAY = date(2026, 12, 2)


def table_data(**over: Any) -> dict[str, Any]:
    rows = [
        {"region": "r1", "key": "vm/Standard_D2ds_v5", "price": 0.1, "unit": "hour"},
        {"region": "r1", "key": "vm/Standard_D4ds_v5", "price": 0.2, "unit": "hour"},
        {"region": "r1", "key": "vm-spot/Standard_D4ds_v5", "price": 0.05, "unit": "hour"},
        {"region": "r1", "key": "vm/Standard_NC4as_T4_v3", "price": 1.0, "unit": "hour"},
        {"region": "*", "key": "aks/tier/Free", "price": 0.0, "unit": "hour"},
        {"region": "*", "key": "aks/tier/Standard", "price": 0.1, "unit": "hour"},
        {"region": "*", "key": "network/lb-standard", "price": 0.02, "unit": "hour"},
        {"region": "r2", "key": "network/lb-standard", "price": 0.03, "unit": "hour"},
        {"region": "*", "key": "network/public-ip-standard", "price": 0.01, "unit": "hour"},
        {"region": "r1", "key": "postgres/Burstable/Standard_B1ms", "price": 0.02, "unit": "hour"},
        {"region": "r1", "key": "postgres/storage", "price": 0.5, "unit": "GB-month"},
        {"region": "r1", "key": "disk/premium-ssd/P4", "price": 6.0, "unit": "month"},
        {"region": "*", "key": "loganalytics/ingestion", "price": 2.0, "unit": "GB"},
        {
            "region": "*",
            "key": "aks/tier/Premium",
            "price": None,
            "unit": "hour",
            "missing": "not found",
        },
    ]
    for r in rows:
        r.setdefault("source", "hand-made test table")
        r.setdefault("seen", "2026-11-01")
    data: dict[str, Any] = {
        "schema": 1,
        "currency": "USD",
        "hoursPerMonth": 730,
        "maxAgeDays": 100,
        "assumptions": {"spot": "spot at the recorded spot price"},
        "prices": rows,
    }
    data.update(over)
    return data


def table(**over: Any) -> cost.PriceTable:
    return cost.parse_table(table_data(**over), today=TODAY)


def pool(name: str, size: str, lo: int, hi: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "agentPoolName": name,
        "vmSize": size,
        "enableAutoScaling": True,
        "minCount": lo,
        "maxCount": hi,
        "count": lo,
        "osDiskType": "Ephemeral",
        "osDiskSizeGB": 64,
        **extra,
    }


def plan(*resources: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "stack": "t",
        "resources": [
            {"urn": f"urn:{i}", "type": t, "name": f"r{i}", "custom": True, "inputs": inp}
            for i, (t, inp) in enumerate(resources)
        ],
    }


MC = "azure-native:containerservice:ManagedCluster"
AP = "azure-native:containerservice:AgentPool"


def cluster(tier: str = "Free", **extra: Any) -> tuple[str, dict[str, Any]]:
    profiles = [pool("system", "Standard_D2ds_v5", 1, 2, mode="System")]
    return (MC, {"location": "r1", "sku": {"tier": tier}, "agentPoolProfiles": profiles, **extra})


def test_idle_is_min_nodes_and_fixed_charges() -> None:
    # 1 x D2 (0.1) + Free tier + LB 0.02 + IP 0.01, 730 h: (0.1 + 0.02 + 0.01) * 730 = 94.9
    est = cost.estimate(plan(cluster()), table(), "r1")
    assert est.idle == pytest.approx(94.9)
    assert est.loaded == pytest.approx(94.9)
    assert est.missing == []


def test_outbound_other_than_load_balancer_has_no_lb_line() -> None:
    est = cost.estimate(
        plan(cluster(networkProfile={"outboundType": "userDefinedRouting"})), table(), "r1"
    )
    assert est.idle == pytest.approx(0.1 * 730)


def test_region_row_wins_over_wildcard() -> None:
    est = cost.estimate(plan(cluster()), table(), "r2")
    keys = {line.item.key: line for line in est.lines}
    assert keys["network/lb-standard"].unit_price == 0.03
    # r2 has no VM price: reported missing, not guessed
    assert "r2 vm/Standard_D2ds_v5" in est.missing


def test_task_pool_spot_load_and_gpu_hours() -> None:
    tasks = pool(
        "tasks",
        "Standard_D4ds_v5",
        0,
        5,
        scaleSetPriority="Spot",
        nodeLabels={"airflow-aks/pool": "tasks"},
    )
    gpu = pool("gpu", "Standard_NC4as_T4_v3", 0, 2, nodeLabels={"airflow-aks/pool": "gpu"})
    p = plan(cluster(), (AP, tasks), (AP, gpu))
    load = cost.Load(task_pod_hours_per_day=8, task_pods_per_node=None, gpu_hours_per_day=3)
    est = cost.estimate(p, table(), "r1", load)
    days = 730 / 24
    # 8 pod-h/day, 4 pods per D4 node (one per vCPU) -> 2 node-h/day at the spot 0.05
    # GPU: 3 node-h/day at 1.0
    expected_extra = 2 * days * 0.05 + 3 * days * 1.0
    assert est.idle == pytest.approx(94.9)
    assert est.loaded - est.idle == pytest.approx(expected_extra)
    packed = cost.estimate(p, table(), "r1", cost.Load(8, task_pods_per_node=8))
    assert packed.loaded - packed.idle == pytest.approx(1 * days * 0.05)


def test_task_load_capped_by_max_nodes() -> None:
    tasks = pool("tasks", "Standard_D4ds_v5", 0, 1, nodeLabels={"airflow-aks/pool": "tasks"})
    est = cost.estimate(plan(cluster(), (AP, tasks)), table(), "r1", cost.Load(1000, 4))
    assert est.loaded - est.idle == pytest.approx(1 * 730 * 0.2)  # 1 node all month


def test_postgres_ha_doubles_compute_and_storage() -> None:
    server = (
        "azure-native:dbforpostgresql:Server",
        {"sku": {"tier": "Burstable", "name": "Standard_B1ms"}, "storage": {"storageSizeGB": 32}},
    )
    one = cost.estimate(plan(server), table(), "r1")
    assert one.idle == pytest.approx(0.02 * 730 + 32 * 0.5)
    ha = copy.deepcopy(server)
    ha[1]["highAvailability"] = {"mode": "ZoneRedundant"}
    assert cost.estimate(plan(ha), table(), "r1").idle == pytest.approx(2 * one.idle)


def test_managed_os_disk_priced_by_premium_tier() -> None:
    wl = pool("workload", "Standard_D2ds_v5", 2, 3, osDiskType="Managed", osDiskSizeGB=30)
    est = cost.estimate(plan((AP, wl)), table(), "r1")
    assert est.idle == pytest.approx(2 * 730 * 0.1 + 2 * 6.0)


def test_missing_price_listed_and_left_out() -> None:
    est = cost.estimate(plan(cluster(tier="Premium")), table(), "r1")
    assert est.idle == pytest.approx(94.9)  # tier not priced, not summed
    assert est.missing == ["r1 aks/tier/Premium: not found"]


def test_usage_lines_summed_only_with_a_usage() -> None:
    ws = ("azure-native:operationalinsights:Workspace", {})
    assert cost.estimate(plan(ws), table(), "r1").loaded == 0
    est = cost.estimate(plan(ws), table(), "r1", cost.Load(0, log_gb_per_day=1.0))
    assert est.idle == 0
    assert est.loaded == pytest.approx(730 / 24 * 2.0)


def test_top_items_ranked_and_unpriced_types_reported() -> None:
    p = plan(cluster(), ("azure-native:cdn:Profile", {}), ("azure-native:network:Subnet", {}))
    est = cost.estimate(p, table(), "r1")
    assert [line.item.key for line in est.top(2)] == ["vm/Standard_D2ds_v5", "network/lb-standard"]
    assert est.unpriced == ["azure-native:cdn:Profile"]


def test_vm_vcpus_from_size_name() -> None:
    assert cost.vm_vcpus("Standard_D4ds_v5") == 4
    assert cost.vm_vcpus("Standard_NC4as_T4_v3") == 4
    assert cost.vm_vcpus("Standard_B2s") == 2
    assert cost.vm_vcpus("not-a-size") is None


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(schema=2), "schema: expected 1"),
        (lambda d: d.update(currency="EUR"), "currency"),
        (lambda d: d.update(hoursPerMonth=24), "hoursPerMonth"),
        (lambda d: d["assumptions"].pop("spot"), "'spot' assumption"),
        (lambda d: d["prices"][0].update(price=-1), "price must be a number"),
        (lambda d: d["prices"][0].update(price="0.1"), "price must be a number"),
        (lambda d: d["prices"][0].update(unit="day"), "unit 'day'"),
        (lambda d: d["prices"][0].update(source=""), "needs its source"),
        (lambda d: d["prices"][0].update(source="-"), "real source"),
        (lambda d: d["prices"][0].update(seen="yesterday"), "ISO date"),
        (lambda d: d["prices"][0].pop("region"), "region"),
        (lambda d: d["prices"].append(dict(d["prices"][0])), "duplicate"),
        (lambda d: d["prices"][-1].pop("missing"), "'missing' reason"),
        (lambda d: d.update(prices=[]), "non-empty list"),
    ],
)
def test_loader_refuses_malformed_tables(mutate: Any, message: str) -> None:
    data = table_data()
    mutate(data)
    with pytest.raises(cost.PriceTableError, match="price table") as info:
        cost.parse_table(data, "t.json", today=TODAY)
    assert message in str(info.value)


def test_a_stale_table_still_prices_and_warns_with_its_age() -> None:
    data = table_data()
    assert cost.parse_table(data, today=date(2027, 2, 9)).stale is None  # 100 days: fine
    t = cost.parse_table(data, "t.json", today=date(2027, 11, 1))  # a year old
    assert t.stale is not None
    assert "365 days old" in t.stale and "prices --refresh" in t.stale
    assert "oldest price * aks/tier/Free seen 2026-11-01" in t.stale  # the oldest row, named
    est = cost.estimate(plan(cluster()), t, "r1")
    assert est.stale == t.stale and est.export()["priceTable"]["staleWarning"] == t.stale
    assert f"WARNING: {t.stale}" in cost.format_estimate(est)
    assert est.idle > 0  # still priced


def test_staleness_follows_the_oldest_priced_row_only() -> None:
    data = table_data()
    data["prices"][-1]["seen"] = "2020-01-01"  # a missing (null) price: its age is irrelevant
    data["prices"][3]["seen"] = "2026-12-01"
    assert cost.parse_table(data, today=date(2027, 2, 9)).stale is None
    data["prices"][3]["seen"] = "2026-10-01"
    stale = cost.parse_table(data, today=date(2027, 2, 9)).stale
    assert stale is not None and "vm/Standard_NC4as_T4_v3" in stale and "131 days" in stale


def test_loader_reports_bad_json(tmp_path: Any) -> None:
    bad = tmp_path / "p.json"
    bad.write_text("{")
    with pytest.raises(cost.PriceTableError, match="not valid JSON"):
        cost.load_table(bad, today=TODAY)


def test_packaged_table_loads_and_every_price_has_a_source() -> None:
    t = cost.load_table(today=TODAY)
    for p in t.prices:
        assert p.source.strip() and (p.price is None or p.source != "-"), p.key
        assert p.price is not None or p.missing, p.key
    round_trip = cost.parse_table(json.loads(json.dumps(t.to_json())), today=TODAY)
    assert round_trip.prices == t.prices


def test_shipped_stacks_estimate(dev_plan: dict[str, Any], prod_plan: dict[str, Any]) -> None:
    t = cost.load_table(today=TODAY)
    prod = cost.estimate(prod_plan, t, cost.region_of(prod_plan))
    keys = {line.item.key for line in prod.lines}
    assert "aks/tier/Standard" in keys
    tasks = [line for line in prod.lines if line.item.name.startswith("pool tasks")]
    assert tasks and all(line.idle == 0 for line in tasks)  # prod's task pool idles at zero
    assert prod.loaded > prod.idle
    dev = cost.estimate(dev_plan, t, cost.region_of(dev_plan))
    assert dev.region == "westeurope"
    assert dev.unpriced == []


def test_docs_cost_table_is_what_the_plan_prints(
    dev_plan: dict[str, Any], prod_plan: dict[str, Any]
) -> None:
    """docs/cost.md's dev/prod rows are the estimates of the shipped stacks (idle, the default
    load, 96 task-pod hours a day): a price or shape change must update them."""
    from tests.conftest import ROOT

    text = (ROOT / "docs" / "cost.md").read_text()
    t = cost.load_table()
    for stack, export in (("dev", dev_plan), ("prod", prod_plan)):
        region = cost.region_of(export)
        idle = cost.estimate(export, t, region)
        busy = cost.estimate(export, t, region, cost.Load(task_pod_hours_per_day=96))
        asleep = (
            "always on"
            if idle.awake_hours is None
            else f"{idle.idle_hibernated:,.2f} ({idle.awake_hours:.1f} h awake)"
        )
        row = f"| {stack} | {idle.idle:,.2f} | {idle.loaded:,.2f} | {busy.loaded:,.2f} | {asleep} |"
        assert row in text, f"docs/cost.md row for {stack} should read: {row}"


def _workflows(days: list[str], wake: str, sleep: str) -> list[tuple[str, dict[str, Any]]]:
    from airflow_aks.components import hibernation as h

    cid = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c"
    sid = "/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/p"
    out = []
    for op, trig in (
        ("start", h.wake_recurrence(days, wake, "UTC")),
        ("stop", h.sleep_recurrence(sleep, "UTC")),
    ):
        definition = h.workflow_definition(
            trig,
            op,
            h.operation_uri(cid, op, h.AKS_API_VERSION),
            h.operation_uri(sid, op, h.POSTGRES_API_VERSION),
            "/id",
        )
        out.append(("azure-native:logic:Workflow", {"definition": definition}))
    return out


PG = "azure-native:dbforpostgresql:Server"
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def test_hibernation_bills_cluster_and_postgres_compute_while_awake_only() -> None:
    # 60 h a week awake = 260.714 h of 730. D2 0.1 + B1ms 0.02 sleep; LB, IP and the
    # Postgres storage (32 GB x 0.5) bill all month.
    pg = (
        PG,
        {"sku": {"tier": "Burstable", "name": "Standard_B1ms"}, "storage": {"storageSizeGB": 32}},
    )
    export = plan(cluster(), pg, *_workflows(WEEKDAYS, "07:00", "19:00"))
    est = cost.estimate(export, table(), "r1")
    awake = 60 * 730 / 168
    assert est.awake_hours == pytest.approx(awake)
    always = (0.1 + 0.02 + 0.01 + 0.02) * 730 + 16
    assert est.idle == pytest.approx(always)
    assert est.idle_hibernated == pytest.approx((0.1 + 0.02) * awake + (0.02 + 0.01) * 730 + 16)
    assert est.export()["hibernation"]["awakeHoursPerMonth"] == pytest.approx(awake, abs=0.05)
    text = cost.format_estimate(est)
    assert "with the hibernation schedule (260.7 h awake of 730 a month)" in text
    # the schedule's own executions are listed as missing (no rate found), not guessed
    assert any(m.startswith("r1 logic/consumption-action") for m in est.missing)


def test_no_schedule_means_always_on() -> None:
    est = cost.estimate(plan(cluster()), table(), "r1")
    assert est.awake_hours is None and est.idle_hibernated == est.idle
    assert est.export()["hibernation"] is None
    assert "hibernation" not in cost.format_estimate(est)


def test_load_runs_in_full_while_awake() -> None:
    tasks = pool("tasks", "Standard_D4ds_v5", 0, 4, nodeLabels={"airflow-aks/pool": "tasks"})
    export = plan((AP, tasks), *_workflows(WEEKDAYS, "07:00", "19:00"))
    est = cost.estimate(export, table(), "r1", cost.Load(task_pod_hours_per_day=8))
    extra = est.loaded - est.idle
    assert extra > 0
    assert est.loaded_hibernated - est.idle_hibernated == pytest.approx(extra)


def test_geo_backup_and_private_endpoint_data_are_listed() -> None:
    pg = (
        PG,
        {
            "sku": {"tier": "Burstable", "name": "Standard_B1ms"},
            "storage": {"storageSizeGB": 64},
            "backup": {"geoRedundantBackup": "Enabled"},
        },
    )
    pe = ("azure-native:network:PrivateEndpoint", {})
    est = cost.estimate(plan(pg, pe), table(), "r1")
    keys = {line.item.key: line for line in est.lines}
    assert keys["postgres/backup-geo"].item.idle_qty == 64
    assert "r1 postgres/backup-geo" in est.missing  # no price in the test table: listed
    assert keys["network/private-endpoint-data"].item.usage
