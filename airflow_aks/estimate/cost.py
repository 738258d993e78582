"""Monthly cost of a planned stack, idle and under load, from a dated price table.

The estimate reads the plan export (what the program actually registers, not the config),
prices each billable item from ``airflow_aks/estimate/data/prices.json`` and sums two scenarios:

- **idle**: every pool at its minimum (autoscaler ``minCount``, else ``count``), nothing
  running on the task or GPU pools, no usage-based charges;
- **loaded**: idle plus ``task_pod_hours`` a day on the task pool (packed
  ``task_pods_per_node`` to a node) and ``gpu_hours`` GPU-node hours a day.

Every price carries its source and the date it was seen; a price the table lacks is
reported as *missing* and left out of the sums (never guessed). Usage-based charges (Log
Analytics ingestion, Key Vault operations) are listed with their unit price.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from airflow_aks.config.base import ConfigError
from airflow_aks.config.yamlfile import read_json

DEFAULT_TABLE = Path(__file__).resolve().parent / "data" / "prices.json"
SCHEMA = 1
UNITS = frozenset({"hour", "month", "GB-month", "GB", "10K", "vcore-hour", "execution"})

# Premium SSD tiers by size (GiB), for Managed OS disks (Azure managed disk tiers).
PREMIUM_TIERS: tuple[tuple[int, str], ...] = ((32, "P4"), (64, "P6"), (128, "P10"), (256, "P15"))

# Types that carry no charge of their own (control-plane objects, or billed through
# another line: a DiagnosticSetting's data is Log Analytics ingestion). Anything that is
# neither priced nor listed here shows up as "unpriced" so a new billable type is seen.
FREE_TYPES = frozenset(
    {
        "azure-native:resources:ResourceGroup",
        "azure-native:network:VirtualNetwork",
        "azure-native:network:Subnet",
        "azure-native:network:NetworkSecurityGroup",
        "azure-native:network:PrivateDnsZoneGroup",
        "azure-native:privatedns:VirtualNetworkLink",
        "azure-native:authorization:RoleAssignment",
        "azure-native:authorization:RoleDefinition",
        "azure-native:managedidentity:UserAssignedIdentity",
        "azure-native:managedidentity:FederatedIdentityCredential",
        "azure-native:containerservice:MaintenanceConfiguration",
        "azure-native:dbforpostgresql:Database",
        "azure-native:dbforpostgresql:Configuration",
        "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra",
        "azure-native:dbforpostgresql:Administrator",
        "azure-native:keyvault:Secret",
        "azure-native:storage:BlobContainer",
        "azure-native:storage:ManagementPolicy",
        "azure-native:insights:DiagnosticSetting",
        "azure-native:monitor:DiagnosticSetting",
        "azure-native:insights:DataCollectionRule",
        "azure-native:insights:DataCollectionRuleAssociation",
        "azure-native:monitor:DataCollectionRule",
        "azure-native:monitor:DataCollectionRuleAssociation",
        "azure-native:kubernetesconfiguration:Extension",
        "azure-native:kubernetesconfiguration:FluxConfiguration",
    }
)
FREE_PREFIXES = ("kubernetes:", "random:", "azuread:", "tls:", "pulumi:", "command:")


class PriceTableError(ValueError):
    """The price table is malformed (an old table is a warning, not an error)."""


@dataclass(frozen=True)
class Price:
    """One row of the price table."""

    region: str
    key: str
    price: float | None
    unit: str
    source: str
    seen: date
    missing: str | None = None
    meter: Mapping[str, Any] | None = None


@dataclass
class PriceTable:
    """The dated price table: look-ups by region, falling back to region ``*``."""

    currency: str
    hours_per_month: float
    max_age_days: int
    assumptions: dict[str, str]
    prices: list[Price]
    path: str = "<memory>"
    stale: str | None = None
    """Set when a priced row is older than ``maxAgeDays``: the warning to print.

    A stale table still prices the plan: stopping every ``plan`` (and with it ``make plan``,
    the PR checks and the deploy job) because list prices are a year old would block work
    that has nothing to do with prices."""

    def lookup(self, region: str, key: str) -> Price | None:
        for want in (region, "*"):
            for p in self.prices:
                if p.region == want and p.key == key:
                    return p
        return None

    @property
    def oldest_seen(self) -> date:
        return min(p.seen for p in self.prices if p.price is not None)

    def to_json(self) -> dict[str, Any]:
        rows = []
        for p in self.prices:
            row: dict[str, Any] = {"region": p.region, "key": p.key, "price": p.price}
            row["unit"] = p.unit
            if p.meter:
                row["meter"] = dict(p.meter)
            if p.missing:
                row["missing"] = p.missing
            row["source"] = p.source
            row["seen"] = p.seen.isoformat()
            rows.append(row)
        return {
            "schema": SCHEMA,
            "currency": self.currency,
            "hoursPerMonth": self.hours_per_month,
            "maxAgeDays": self.max_age_days,
            "assumptions": self.assumptions,
            "prices": rows,
        }


def _err(path: str, where: str, msg: str) -> PriceTableError:
    return PriceTableError(f"price table {path}: {where}: {msg}")


def staleness(prices: Iterable[Price], max_age_days: int, today: date, path: str) -> str | None:
    """The warning for a table whose oldest priced row is older than ``max_age_days`` (pure).

    Names the oldest row, its age and how to refresh; None while every row is fresh enough.
    """
    priced = [p for p in prices if p.price is not None]
    if not priced:
        return None
    oldest = min(priced, key=lambda p: (p.seen, p.region, p.key))
    days = (today - oldest.seen).days
    if days <= max_age_days:
        return None
    return (
        f"price table {path} is {days} days old (oldest price {oldest.region} {oldest.key} "
        f"seen {oldest.seen}, limit maxAgeDays={max_age_days}): the figures may be out of date; "
        "run `airflow-aks prices --refresh` where the network is available"
    )


def parse_table(data: Any, path: str = "<memory>", today: date | None = None) -> PriceTable:
    """Validate a decoded price table; refuse it when malformed.

    Stale = a priced row seen more than ``maxAgeDays`` before ``today`` (default: the real
    date): the table still loads, with :attr:`PriceTable.stale` set to the warning.
    """
    if not isinstance(data, dict):
        raise _err(path, "top level", "must be an object")
    if data.get("schema") != SCHEMA:
        raise _err(path, "schema", f"expected {SCHEMA}, got {data.get('schema')!r}")
    if data.get("currency") != "USD":
        raise _err(path, "currency", f"expected 'USD', got {data.get('currency')!r}")
    hours, age = data.get("hoursPerMonth"), data.get("maxAgeDays")
    if not isinstance(hours, (int, float)) or not 600 <= hours <= 800:
        raise _err(path, "hoursPerMonth", f"expected a number of hours near 730, got {hours!r}")
    if not isinstance(age, int) or age <= 0:
        raise _err(path, "maxAgeDays", f"expected a positive integer, got {age!r}")
    assumptions = data.get("assumptions", {})
    if not isinstance(assumptions, dict) or "spot" not in assumptions:
        raise _err(path, "assumptions", "must be an object stating at least the 'spot' assumption")
    rows = data.get("prices")
    if not isinstance(rows, list) or not rows:
        raise _err(path, "prices", "must be a non-empty list")
    prices: list[Price] = []
    seen_keys: set[tuple[str, str]] = set()
    for i, row in enumerate(rows):
        where = f"prices[{i}]"
        if not isinstance(row, dict):
            raise _err(path, where, "must be an object")
        region, key, unit = row.get("region"), row.get("key"), row.get("unit")
        if not isinstance(region, str) or not region:
            raise _err(path, where, "region must be a region name or '*'")
        if not isinstance(key, str) or not key:
            raise _err(path, where, "key must be a non-empty string")
        where = f"{where} ({region} {key})"
        if (region, key) in seen_keys:
            raise _err(path, where, "duplicate region/key")
        seen_keys.add((region, key))
        if unit not in UNITS:
            raise _err(path, where, f"unit {unit!r} not one of {sorted(UNITS)}")
        price, missing = row.get("price"), row.get("missing")
        if price is None:
            if not isinstance(missing, str) or not missing.strip():
                raise _err(path, where, "a null price needs a 'missing' reason")
        elif isinstance(price, bool) or not isinstance(price, (int, float)) or price < 0:
            raise _err(path, where, f"price must be a number >= 0 or null, got {price!r}")
        source = row.get("source")
        if not isinstance(source, str) or not source.strip():
            raise _err(path, where, "every price needs its source")
        if price is not None and source.strip() == "-":
            raise _err(path, where, "a price needs a real source, not '-'")
        try:
            seen = date.fromisoformat(str(row.get("seen")))
        except ValueError:
            raise _err(path, where, f"seen must be an ISO date, got {row.get('seen')!r}") from None
        meter = row.get("meter")
        if meter is not None and not (isinstance(meter, dict) and "serviceName" in meter):
            raise _err(path, where, "meter must be an object with at least serviceName")
        prices.append(
            Price(
                region,
                key,
                None if price is None else float(price),
                unit,
                source,
                seen,
                missing,
                meter,
            )
        )
    table = PriceTable("USD", float(hours), age, dict(assumptions), prices, path)
    table.stale = staleness(prices, age, today or date.today(), path)
    return table


def load_table(path: Path | None = None, today: date | None = None) -> PriceTable:
    """Read and validate the price table at ``path`` (default: the packaged one)."""
    p = path or DEFAULT_TABLE
    if not p.is_file():
        raise PriceTableError(f"price table {p} not found")
    try:
        data = read_json(p)  # UTF-8, repeated keys refused
    except ConfigError as err:
        raise PriceTableError("; ".join(str(i) for i in err.issues)) from None
    return parse_table(data, str(p), today)


# ---------------------------------------------------------------------------------------
# Billable items found in a plan


@dataclass(frozen=True)
class Item:
    """One billable thing: ``idle_qty`` / ``loaded_qty`` units of ``key`` a month."""

    name: str
    key: str
    region: str
    idle_qty: float
    loaded_qty: float
    unit: str
    usage: bool = False
    """Usage-based: shown with its unit price, summed only when a usage was given."""
    sleeps: bool = False
    """Billed only while awake: a hibernation schedule scales its idle hours."""


@dataclass(frozen=True)
class Load:
    """The loaded scenario: task-pod hours and GPU-node hours per day."""

    task_pod_hours_per_day: float = 8.0
    task_pods_per_node: int | None = None
    """None: one pod per vCPU of the task VM (parsed from its size name)."""
    gpu_hours_per_day: float = 0.0
    log_gb_per_day: float | None = None
    """Log Analytics ingestion; None leaves it as a usage-based line."""


def vm_vcpus(vm_size: str) -> int | None:
    """vCPUs of an Azure size from its name: Standard_D4ds_v5 -> 4, Standard_NC4as_T4_v3 -> 4."""
    m = re.match(r"^Standard_[A-Z]+(\d+)", vm_size)
    return int(m.group(1)) if m else None


def premium_tier(size_gb: int) -> str | None:
    for limit, tier in PREMIUM_TIERS:
        if size_gb <= limit:
            return tier
    return None


@dataclass(frozen=True)
class Pool:
    """A node pool as registered (inline in the ManagedCluster or an AgentPool)."""

    name: str
    vm_size: str
    min_nodes: int
    max_nodes: int
    spot: bool
    os_disk: str
    os_disk_gb: int
    role: str
    """system / workload / tasks / gpu (from the pool's labels and mode)."""


def _pool(p: Mapping[str, Any], name: str) -> Pool:
    auto = bool(p.get("enableAutoScaling"))
    count = int(p.get("count") or 0)
    lo = int(p.get("minCount") or 0) if auto else count
    hi = int(p.get("maxCount") or count) if auto else count
    labels = p.get("nodeLabels") or {}
    if p.get("mode") == "System":
        role = "system"
    else:
        role = str(labels.get("airflow-aks/pool", "workload"))
    return Pool(
        name=name,
        vm_size=str(p.get("vmSize", "")),
        min_nodes=lo,
        max_nodes=hi,
        spot=p.get("scaleSetPriority") == "Spot",
        os_disk=str(p.get("osDiskType", "Managed")),
        os_disk_gb=int(p.get("osDiskSizeGB") or 0),
        role=role,
    )


def pools(export: Mapping[str, Any]) -> list[Pool]:
    out: list[Pool] = []
    for r in export["resources"]:
        if r["type"] == "azure-native:containerservice:ManagedCluster":
            for p in r["inputs"].get("agentPoolProfiles") or []:
                out.append(_pool(p, str(p.get("name"))))
        elif r["type"] == "azure-native:containerservice:AgentPool":
            out.append(_pool(r["inputs"], str(r["inputs"].get("agentPoolName", r["name"]))))
    return out


def items(export: Mapping[str, Any], region: str, load: Load, hours: float) -> list[Item]:
    """Billable items of a plan, with monthly quantities for both scenarios (pure)."""
    days = hours / 24
    out: list[Item] = []
    for p in pools(export):
        key = ("vm-spot/" if p.spot else "vm/") + p.vm_size
        idle = p.min_nodes * hours
        extra = 0.0
        if p.role == "tasks":
            per_node = load.task_pods_per_node or vm_vcpus(p.vm_size) or 1
            node_hours = load.task_pod_hours_per_day / per_node
            extra = min(node_hours, p.max_nodes * 24) * days
        elif p.role == "gpu":
            extra = min(load.gpu_hours_per_day, p.max_nodes * 24) * days
        label = f"pool {p.name} ({p.vm_size}{', spot' if p.spot else ''})"
        out.append(Item(label, key, region, idle, idle + extra, "hour", sleeps=True))
        if p.os_disk == "Managed":
            tier = premium_tier(p.os_disk_gb)
            dkey = f"disk/premium-ssd/{tier or p.os_disk_gb}"
            n_idle, n_loaded = idle / hours, (idle + extra) / hours
            out.append(Item(f"pool {p.name} OS disks", dkey, region, n_idle, n_loaded, "month"))
    for r in export["resources"]:
        t, inp = r["type"], r["inputs"]
        if t == "azure-native:containerservice:ManagedCluster":
            tier = (inp.get("sku") or {}).get("tier", "Free")
            tier_key = f"aks/tier/{tier}"
            out.append(
                Item(f"AKS {tier} tier", tier_key, region, hours, hours, "hour", sleeps=True)
            )
            net = inp.get("networkProfile") or {}
            if net.get("outboundType", "loadBalancer") == "loadBalancer":
                lb, ip = "network/lb-standard", "network/public-ip-standard"
                out.append(Item("egress load balancer", lb, region, hours, hours, "hour"))
                out.append(Item("egress public IP", ip, region, hours, hours, "hour"))
            if (
                ((inp.get("securityProfile") or {}).get("defender") or {})
                .get("securityMonitoring", {})
                .get("enabled")
            ):
                vcpus = sum(
                    p.min_nodes * (vm_vcpus(p.vm_size) or 0) for p in pools(export) if p.min_nodes
                )
                q = vcpus * hours
                out.append(
                    Item(
                        "Defender for Containers",
                        "defender/containers",
                        region,
                        q,
                        q,
                        "vcore-hour",
                        sleeps=True,
                    )
                )
        elif t == "azure-native:dbforpostgresql:Server":
            sku = inp.get("sku") or {}
            ha = (inp.get("highAvailability") or {}).get("mode", "Disabled") != "Disabled"
            n = 2 if ha else 1
            key = f"postgres/{sku.get('tier')}/{sku.get('name')}"
            label = f"PostgreSQL {sku.get('name')}{' + HA standby' if ha else ''}"
            out.append(Item(label, key, region, n * hours, n * hours, "hour", sleeps=True))
            gb = float((inp.get("storage") or {}).get("storageSizeGB") or 0) * n
            out.append(
                Item(
                    f"PostgreSQL storage {gb:g} GB", "postgres/storage", region, gb, gb, "GB-month"
                )
            )
            if (inp.get("backup") or {}).get("geoRedundantBackup") == "Enabled":
                # Backup size taken as the provisioned size (a full backup of the disk).
                out.append(
                    Item(
                        f"PostgreSQL geo-redundant backup {gb:g} GB",
                        "postgres/backup-geo",
                        region,
                        gb,
                        gb,
                        "GB-month",
                    )
                )
        elif t == "azure-native:network:PrivateEndpoint":
            pe = "network/private-endpoint"
            out.append(Item(f"private endpoint {r['name']}", pe, region, hours, hours, "hour"))
            data = "network/private-endpoint-data"
            label = f"private endpoint {r['name']} data processed"
            out.append(Item(label, data, region, 0, 0, "GB", usage=True))
        elif t == "azure-native:logic:Workflow":
            runs = _workflow_actions_per_month(inp.get("definition"), hours)
            out.append(
                Item(
                    f"Logic App {r['name']} action executions",
                    "logic/consumption-action",
                    region,
                    runs,
                    runs,
                    "execution",
                )
            )
        elif t == "azure-native:privatedns:PrivateZone":
            z = "network/private-dns-zone"
            out.append(
                Item(
                    f"private DNS zone {inp.get('privateZoneName', r['name'])}",
                    z,
                    region,
                    1,
                    1,
                    "month",
                )
            )
        elif t == "azure-native:operationalinsights:Workspace":
            gb = 0.0 if load.log_gb_per_day is None else load.log_gb_per_day * days
            out.append(
                Item(
                    "Log Analytics ingestion",
                    "loganalytics/ingestion",
                    region,
                    0,
                    gb,
                    "GB",
                    usage=load.log_gb_per_day is None,
                )
            )
        elif t == "azure-native:keyvault:Vault":
            out.append(
                Item("Key Vault operations", "keyvault/operations", region, 0, 0, "10K", usage=True)
            )
        elif t == "azure-native:storage:StorageAccount":
            sku = (inp.get("sku") or {}).get("name", "Standard_LRS")
            out.append(
                Item(
                    f"task logs in Blob ({sku}, hot)",
                    f"blob/hot/{sku}",
                    region,
                    0,
                    0,
                    "GB-month",
                    usage=True,
                )
            )
    return out


def _recurrence(definition: Any) -> Mapping[str, Any] | None:
    triggers = definition.get("triggers") if isinstance(definition, Mapping) else None
    for trig in (triggers or {}).values():
        if isinstance(trig, Mapping) and trig.get("type") == "Recurrence":
            rec = trig.get("recurrence")
            return rec if isinstance(rec, Mapping) else None
    return None


def _workflow_actions_per_month(definition: Any, hours: float) -> float:
    """Trigger + action executions a month of a weekly Recurrence workflow (pure)."""
    rec = _recurrence(definition)
    if rec is None or rec.get("frequency") != "Week":
        return 0.0
    sched = rec.get("schedule") or {}
    per_week = len(sched.get("weekDays") or []) * len(sched.get("hours") or [0])
    actions = len((definition or {}).get("actions") or {})
    return per_week * (1 + actions) * hours / (7 * 24)


def awake_hours_per_week(export: Mapping[str, Any]) -> float | None:
    """Hours a week the cluster and Postgres run under the plan's hibernation schedule.

    Read from the wake (``.../start?``) and sleep (``.../stop?``) Logic App workflows the
    plan registers: each wake day from the wake time to the sleep time. None: no schedule
    (always on), or one the estimate cannot read."""
    from airflow_aks.components.hibernation import awake_from_recurrences

    found: dict[str, Mapping[str, Any]] = {}
    for r in export["resources"]:
        if r["type"] != "azure-native:logic:Workflow":
            continue
        definition = r["inputs"].get("definition")
        rec = _recurrence(definition)
        uris = json.dumps((definition or {}).get("actions") or {})
        if rec is None:
            continue
        if "/start?" in uris:
            found["wake"] = rec
        elif "/stop?" in uris:
            found["sleep"] = rec
    if set(found) != {"wake", "sleep"}:
        return None
    try:
        return awake_from_recurrences(found["wake"], found["sleep"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def unpriced_types(export: Mapping[str, Any]) -> list[str]:
    """Custom resource types the estimate neither prices nor knows to be free."""
    priced = {
        "azure-native:containerservice:ManagedCluster",
        "azure-native:containerservice:AgentPool",
        "azure-native:dbforpostgresql:Server",
        "azure-native:network:PrivateEndpoint",
        "azure-native:privatedns:PrivateZone",
        "azure-native:operationalinsights:Workspace",
        "azure-native:keyvault:Vault",
        "azure-native:storage:StorageAccount",
        "azure-native:logic:Workflow",
    }
    seen = {r["type"] for r in export["resources"] if r["custom"]}
    return sorted(
        t
        for t in seen
        if t not in priced and t not in FREE_TYPES and not t.startswith(FREE_PREFIXES)
    )


@dataclass
class Line:
    item: Item
    unit_price: float | None
    source: str
    seen: str
    awake: float = 1.0
    """Share of the month the environment is awake (1.0: always on)."""

    @property
    def idle(self) -> float:
        if self.unit_price is None or self.item.usage:
            return 0.0
        return self.item.idle_qty * self.unit_price

    @property
    def loaded(self) -> float:
        if self.unit_price is None or self.item.usage:
            return 0.0
        return self.item.loaded_qty * self.unit_price

    @property
    def idle_hibernated(self) -> float:
        """Idle cost under the schedule: sleeping items bill their awake share only."""
        return self.idle * self.awake if self.item.sleeps else self.idle

    @property
    def loaded_hibernated(self) -> float:
        """Loaded cost under the schedule: the load itself runs while awake, in full."""
        return self.idle_hibernated + (self.loaded - self.idle)


@dataclass
class Estimate:
    stack: str
    region: str
    load: Load
    lines: list[Line]
    unpriced: list[str]
    assumptions: dict[str, str]
    table: str
    oldest_seen: str
    missing: list[str] = field(default_factory=list)
    stale: str | None = None
    awake_hours: float | None = None
    """Hours a month awake under the plan's hibernation schedule (None: always on)."""
    hours_per_month: float = 730.0

    @property
    def idle(self) -> float:
        return sum(line.idle for line in self.lines)

    @property
    def loaded(self) -> float:
        return sum(line.loaded for line in self.lines)

    @property
    def idle_hibernated(self) -> float:
        return sum(line.idle_hibernated for line in self.lines)

    @property
    def loaded_hibernated(self) -> float:
        return sum(line.loaded_hibernated for line in self.lines)

    def top(self, n: int = 5, scenario: str = "idle") -> list[Line]:
        def cost(line: Line) -> float:
            return line.idle if scenario == "idle" else line.loaded

        ranked = sorted(
            (line for line in self.lines if cost(line) > 0), key=lambda x: (-cost(x), x.item.name)
        )
        return ranked[:n]

    def export(self) -> dict[str, Any]:
        return {
            "currency": "USD",
            "region": self.region,
            "monthlyIdle": round(self.idle, 2),
            "monthlyLoaded": round(self.loaded, 2),
            "hibernation": None
            if self.awake_hours is None
            else {
                "awakeHoursPerMonth": round(self.awake_hours, 1),
                "monthlyIdle": round(self.idle_hibernated, 2),
                "monthlyLoaded": round(self.loaded_hibernated, 2),
            },
            "load": {
                "taskPodHoursPerDay": self.load.task_pod_hours_per_day,
                "taskPodsPerNode": self.load.task_pods_per_node,
                "gpuHoursPerDay": self.load.gpu_hours_per_day,
                "logGbPerDay": self.load.log_gb_per_day,
            },
            "lines": [
                {
                    "name": line.item.name,
                    "key": line.item.key,
                    "unit": line.item.unit,
                    "idleQuantity": round(line.item.idle_qty, 4),
                    "loadedQuantity": round(line.item.loaded_qty, 4),
                    "unitPrice": line.unit_price,
                    "usageBased": line.item.usage,
                    "stopsWhenAsleep": line.item.sleeps,
                    "monthlyIdle": round(line.idle, 2),
                    "monthlyLoaded": round(line.loaded, 2),
                    "source": line.source,
                    "seen": line.seen,
                }
                for line in self.lines
            ],
            "missingPrices": self.missing,
            "unpricedTypes": self.unpriced,
            "priceTable": {
                "path": self.table,
                "oldestSeen": self.oldest_seen,
                "staleWarning": self.stale,
            },
            "assumptions": self.assumptions,
        }


def estimate(
    export: Mapping[str, Any],
    table: PriceTable,
    region: str,
    load: Load | None = None,
) -> Estimate:
    """Price every billable item of ``export`` from ``table`` (pure)."""
    load = load or Load()
    lines: list[Line] = []
    missing: set[str] = set()
    week = awake_hours_per_week(export)
    awake = 1.0 if week is None else min(week / (7 * 24), 1.0)
    for it in items(export, region, load, table.hours_per_month):
        p = table.lookup(region, it.key)
        if p is None or p.price is None:
            missing.add(f"{region} {it.key}" + (f": {p.missing}" if p and p.missing else ""))
            lines.append(Line(it, None, "-", "-", awake))
            continue
        if p.unit != it.unit:
            raise PriceTableError(
                f"{p.region} {p.key}: unit {p.unit!r}, the estimate needs {it.unit!r}"
            )
        lines.append(Line(it, p.price, p.source, p.seen.isoformat(), awake))
    return Estimate(
        stack=str(export.get("stack", "")),
        region=region,
        load=load,
        lines=lines,
        unpriced=unpriced_types(export),
        assumptions=table.assumptions,
        table=Path(table.path).name,
        oldest_seen=table.oldest_seen.isoformat(),
        missing=sorted(missing),
        stale=table.stale,
        awake_hours=None if week is None else awake * table.hours_per_month,
        hours_per_month=table.hours_per_month,
    )


def region_of(export: Mapping[str, Any]) -> str:
    """The stack's region: the ManagedCluster's location (else the first one seen)."""
    first = ""
    for r in export["resources"]:
        loc = r["inputs"].get("location") if isinstance(r.get("inputs"), dict) else None
        if isinstance(loc, str):
            if r["type"] == "azure-native:containerservice:ManagedCluster":
                return loc
            first = first or loc
    return first


def _money(x: float) -> str:
    return f"${x:,.2f}"


def format_estimate(est: Estimate, top: int = 5) -> str:
    ld = est.load
    lines = [
        f"Monthly cost estimate ({est.region}, USD list prices, table {est.table}, "
        f"oldest price seen {est.oldest_seen}):",
        f"  idle:   {_money(est.idle):>10}  (always on; pools at their minimum, no task or GPU "
        "nodes)",
        f"  loaded: {_money(est.loaded):>10}  ({ld.task_pod_hours_per_day:g} task-pod h/day"
        + (f" at {ld.task_pods_per_node}/node" if ld.task_pods_per_node else " at 1 pod/vCPU")
        + f", {ld.gpu_hours_per_day:g} GPU h/day)",
    ]
    if est.awake_hours is not None:
        lines += [
            f"  with the hibernation schedule ({est.awake_hours:.1f} h awake of "
            f"{est.hours_per_month:g} a month):",
            f"    idle:   {_money(est.idle_hibernated):>10}  (cluster and Postgres compute "
            "billed while awake only)",
            f"    loaded: {_money(est.loaded_hibernated):>10}",
        ]
    lines.append("  top items (idle, always on):")
    if est.stale:
        lines.insert(1, f"  WARNING: {est.stale}")
    for line in est.top(top):
        share = line.idle / est.idle * 100 if est.idle else 0
        lines.append(f"    {_money(line.idle):>10}  {share:4.1f}%  {line.item.name}")
    usage = [line for line in est.lines if line.item.usage and line.unit_price is not None]
    if usage:
        lines.append("  usage-based, not included:")
        for line in usage:
            lines.append(f"    ${line.unit_price:g} per {line.item.unit}  {line.item.name}")
    if est.missing:
        lines.append(f"  MISSING prices (not in the totals, {len(est.missing)}):")
        lines.extend(f"    {m}" for m in est.missing)
    if est.unpriced:
        lines.append(f"  unpriced resource types: {', '.join(est.unpriced)}")
    return "\n".join(lines)
