"""Refresh the price table from the public Azure Retail Prices API.

``GET https://prices.azure.com/api/retail/prices?$filter=...`` is unauthenticated; it
answers ``{"Items": [...], "NextPageLink": ...}`` 100 items a page, and from api-version
2023-01-01-preview filter values are case-sensitive (Microsoft Learn "Azure Retail Prices
REST API overview", seen 2026-12-02 via /work/research/azure.md).

Each table row with a ``meter`` is looked up by ``serviceName``, ``armRegionName`` and
``priceType eq 'Consumption'`` (plus ``armSkuName`` / ``productName`` when given), then
matched on ``productName`` / ``skuName`` / ``meterName``. Windows, Cloud Services and
Low Priority meters never match; a Spot meter matches only a row that names one. Exactly
one first-tier item must remain, else the row is left as it was and reported.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from airflow_aks.estimate.cost import Price, PriceTable

API = "https://prices.azure.com/api/retail/prices"
API_VERSION = "2023-01-01-preview"
UNITS = {"1 Hour": "hour", "1/Month": "month", "1 GB/Month": "GB-month", "1 GB": "GB", "10K": "10K"}
MAX_PAGES = 50

Fetch = Callable[[str], Mapping[str, Any]]


def _quote(v: str) -> str:
    return v.replace("'", "''")


def odata_filter(meter: Mapping[str, Any], region: str) -> str:
    """The ``$filter`` for one table row (pure)."""
    parts = [f"serviceName eq '{_quote(meter['serviceName'])}'"]
    if region != "*":
        parts.append(f"armRegionName eq '{_quote(region)}'")
    parts.append("priceType eq 'Consumption'")
    for field in ("armSkuName", "productName"):
        if field in meter:
            parts.append(f"{field} eq '{_quote(meter[field])}'")
    return " and ".join(parts)


def query_url(meter: Mapping[str, Any], region: str) -> str:
    q = urllib.parse.urlencode(
        {"api-version": API_VERSION, "$filter": odata_filter(meter, region)},
        quote_via=urllib.parse.quote,
    )
    return f"{API}?{q}"


def http_fetch(url: str, timeout: float = 30.0) -> Mapping[str, Any]:
    """One page from the API (the only function here that touches the network)."""
    if not url.startswith("https://prices.azure.com/"):
        raise ValueError(f"refusing to follow {url!r}: not the Retail Prices API")
    req = urllib.request.Request(url, headers={"User-Agent": "airflow-aks-prices"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.load(resp)


def fetch_items(url: str, fetch: Fetch) -> list[dict[str, Any]]:
    """Every item of a query, following ``NextPageLink``."""
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    for _ in range(MAX_PAGES):
        if not next_url:
            return items
        page = fetch(next_url)
        got = page.get("Items")
        if not isinstance(got, list):
            raise ValueError(f"unexpected answer from {next_url}: no Items list")
        items.extend(got)
        next_url = page.get("NextPageLink") or None
    raise ValueError(f"more than {MAX_PAGES} pages for {url}: narrow the meter")


def matches(item: Mapping[str, Any], meter: Mapping[str, Any]) -> bool:
    """Is ``item`` the meter a table row describes (pure)?"""
    product = str(item.get("productName", ""))
    name = str(item.get("meterName", ""))
    if product.endswith(" Windows") or "Cloud Services" in product:
        return False
    if "Low Priority" in name or ("Spot" in name) != ("Spot" in str(meter.get("meterName", ""))):
        return False
    if item.get("type", "Consumption") != "Consumption":
        return False
    if float(item.get("tierMinimumUnits") or 0) != 0:
        return False
    return all(
        item.get(f) == meter[f] for f in ("productName", "skuName", "meterName") if f in meter
    )


@dataclass(frozen=True)
class Outcome:
    key: str
    region: str
    status: str  # updated / unchanged / not-found / ambiguous / skipped
    detail: str


def refresh_row(p: Price, fetch: Fetch, today: date) -> tuple[Price, Outcome]:
    if not p.meter:
        return p, Outcome(p.key, p.region, "skipped", "no meter: kept as sourced")
    url = query_url(p.meter, p.region)
    found = [i for i in fetch_items(url, fetch) if matches(i, p.meter)]
    if not found:
        return p, Outcome(p.key, p.region, "not-found", f"no matching item for {url}")
    if len(found) > 1:
        ids = ", ".join(sorted(str(i.get("skuId")) for i in found))
        return p, Outcome(p.key, p.region, "ambiguous", f"{len(found)} items ({ids})")
    item = found[0]
    unit = UNITS.get(str(item.get("unitOfMeasure")))
    if unit != p.unit:
        detail = f"unit {item.get('unitOfMeasure')!r} does not give {p.unit!r}"
        return p, Outcome(p.key, p.region, "not-found", detail)
    price = round(float(item["retailPrice"]) * float(p.meter.get("quantity", 1)), 6)
    source = (
        f"Azure Retail Prices API, {API} $filter={odata_filter(p.meter, p.region)} "
        f"(skuId {item.get('skuId')}, effectiveStartDate {item.get('effectiveStartDate')})"
    )
    new = replace(p, price=price, source=source, seen=today, missing=None)
    status = "unchanged" if p.price == price else "updated"
    return new, Outcome(p.key, p.region, status, f"{p.price} -> {price}")


def refresh(
    table: PriceTable, fetch: Fetch | None = None, today: date | None = None
) -> tuple[PriceTable, list[Outcome]]:
    """A new table with every metered row re-read from the API; rows that fail keep
    their old value (and their old date, so staleness stays visible)."""
    fetch = fetch or http_fetch
    day = today or date.today()
    rows: list[Price] = []
    outcomes: list[Outcome] = []
    for p in table.prices:
        new, outcome = refresh_row(p, fetch, day)
        rows.append(new)
        outcomes.append(outcome)
    return replace(table, prices=rows), outcomes
