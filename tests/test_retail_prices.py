"""``airflow-aks prices --refresh`` against recorded Retail Prices API answers (no network).

The answers below have the API's documented item shape (currencyCode, tierMinimumUnits,
retailPrice, unitPrice, armRegionName, location, effectiveStartDate, meterId, meterName,
productId, skuId, productName, skuName, serviceName, serviceFamily, unitOfMeasure, type,
isPrimaryMeterRegion, armSkuName) and the neighbours a real query returns with the meter
we want: the Windows, Spot, Low Priority and Cloud Services meters of the same size.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from airflow_aks.cli import main as cli
from airflow_aks.estimate import cost, retail_prices

TODAY = date(2026, 12, 2)


def item(meter: str, product: str, price: float, **extra: Any) -> dict[str, Any]:
    return {
        "currencyCode": "USD",
        "tierMinimumUnits": 0.0,
        "retailPrice": price,
        "unitPrice": price,
        "armRegionName": "westeurope",
        "location": "EU West",
        "effectiveStartDate": "2024-05-01T00:00:00Z",
        "meterId": f"meter-{meter}-{product}",
        "meterName": meter,
        "productId": "DZH318Z08MC6",
        "skuId": f"DZH318Z08MC6/{meter}/{product}",
        "productName": product,
        "skuName": meter,
        "serviceName": "Virtual Machines",
        "serviceFamily": "Compute",
        "unitOfMeasure": "1 Hour",
        "type": "Consumption",
        "isPrimaryMeterRegion": True,
        "armSkuName": "Standard_D4ds_v5",
        **extra,
    }


D4 = [
    item("D4ds v5", "Virtual Machines Ddsv5 Series Windows", 0.456),
    item("D4ds v5 Spot", "Virtual Machines Ddsv5 Series", 0.049),
    item("D4ds v5 Low Priority", "Virtual Machines Ddsv5 Series", 0.0544),
]
D4_PAGE2 = [
    item("D4ds v5", "Ddsv5 Series Cloud Services", 0.3),
    item(
        "D4ds v5", "Virtual Machines Ddsv5 Series", 0.281, effectiveStartDate="2026-11-01T00:00:00Z"
    ),
]


class Recorded:
    """Answers by the query's $filter; records every URL asked for."""

    def __init__(self, pages: Mapping[str, list[list[dict[str, Any]]]]) -> None:
        self.pages = pages
        self.urls: list[str] = []

    def __call__(self, url: str) -> Mapping[str, Any]:
        self.urls.append(url)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        flt, page = q["$filter"][0], int(q.get("page", ["0"])[0])
        pages = self.pages.get(flt, [[]])
        nxt = None
        if page + 1 < len(pages):
            nxt = f"{url.split('&page=')[0]}&page={page + 1}"
        return {"BillingCurrency": "USD", "Items": pages[page], "NextPageLink": nxt, "Count": 1}


def one_row_table(**row: Any) -> cost.PriceTable:
    base = {
        "region": "westeurope",
        "key": "vm/Standard_D4ds_v5",
        "price": 0.272,
        "unit": "hour",
        "meter": {
            "serviceName": "Virtual Machines",
            "armSkuName": "Standard_D4ds_v5",
            "productName": "Virtual Machines Ddsv5 Series",
            "meterName": "D4ds v5",
        },
        "source": "old snapshot",
        "seen": "2026-08-22",
    }
    base.update(row)
    data = {
        "schema": 1,
        "currency": "USD",
        "hoursPerMonth": 730,
        "maxAgeDays": 400,
        "assumptions": {"spot": "s"},
        "prices": [base],
    }
    return cost.parse_table(data, today=TODAY)


FILTER = (
    "serviceName eq 'Virtual Machines' and armRegionName eq 'westeurope' and "
    "priceType eq 'Consumption' and armSkuName eq 'Standard_D4ds_v5' and "
    "productName eq 'Virtual Machines Ddsv5 Series'"
)


def test_filter_is_the_documented_odata_form() -> None:
    t = one_row_table()
    assert retail_prices.odata_filter(t.prices[0].meter or {}, "westeurope") == FILTER
    url = retail_prices.query_url(t.prices[0].meter or {}, "westeurope")
    assert url.startswith(
        "https://prices.azure.com/api/retail/prices?api-version=2023-01-01-preview&"
    )
    assert "%24filter=serviceName%20eq%20%27Virtual%20Machines%27" in url
    assert retail_prices.odata_filter({"serviceName": "O'Brien"}, "*") == (
        "serviceName eq 'O''Brien' and priceType eq 'Consumption'"
    )


def test_refresh_follows_pages_and_picks_the_linux_pay_as_you_go_meter() -> None:
    fetch = Recorded({FILTER: [D4, D4_PAGE2]})
    new, outcomes = retail_prices.refresh(one_row_table(), fetch, today=TODAY)
    assert len(fetch.urls) == 2  # followed NextPageLink
    p = new.prices[0]
    assert p.price == 0.281
    assert p.seen == TODAY
    assert "prices.azure.com" in p.source and "2026-11-01" in p.source
    assert outcomes[0].status == "updated"


def test_refresh_spot_row_takes_only_the_spot_meter() -> None:
    t = one_row_table(
        key="vm-spot/Standard_D4ds_v5",
        meter={
            "serviceName": "Virtual Machines",
            "armSkuName": "Standard_D4ds_v5",
            "productName": "Virtual Machines Ddsv5 Series",
            "meterName": "D4ds v5 Spot",
        },
    )
    new, _ = retail_prices.refresh(t, Recorded({FILTER: [D4, D4_PAGE2]}), today=TODAY)
    assert new.prices[0].price == 0.049


def test_refresh_keeps_the_old_row_when_nothing_or_too_much_matches() -> None:
    t = one_row_table()
    new, out = retail_prices.refresh(t, Recorded({}), today=TODAY)
    assert new.prices[0] == t.prices[0] and out[0].status == "not-found"
    twice = [*D4_PAGE2, dict(D4_PAGE2[1], skuId="other")]
    new, out = retail_prices.refresh(t, Recorded({FILTER: [twice]}), today=TODAY)
    assert new.prices[0] == t.prices[0] and out[0].status == "ambiguous"


def test_refresh_fills_a_missing_price_and_multiplies_per_vcore_meters() -> None:
    t = one_row_table(
        key="postgres/GeneralPurpose/Standard_D2ds_v5",
        price=None,
        missing="not found",
        source="-",
        meter={
            "serviceName": "Azure Database for PostgreSQL",
            "meterName": "vCore",
            "productName": "Azure Database for PostgreSQL Flexible Server General "
            "Purpose Ddsv5 Series Compute",
            "quantity": 2,
        },
    )
    flt = retail_prices.odata_filter(t.prices[0].meter or {}, "westeurope")
    vcore = item("vCore", (t.prices[0].meter or {})["productName"], 0.1, skuName="vCore")
    new, out = retail_prices.refresh(t, Recorded({flt: [[vcore]]}), today=TODAY)
    assert new.prices[0].price == 0.2 and new.prices[0].missing is None
    assert out[0].status == "updated"


def test_http_fetch_refuses_other_hosts() -> None:
    with pytest.raises(ValueError, match="not the Retail Prices API"):
        retail_prices.http_fetch("https://example.com/api")


def test_prices_command_refresh_writes_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "prices.json"
    src.write_text(json.dumps(one_row_table().to_json()))
    monkeypatch.setattr(retail_prices, "http_fetch", Recorded({FILTER: [D4, D4_PAGE2]}))
    out = tmp_path / "new.json"
    assert cli.main(["prices", "--refresh", "--table", str(src), "--output", str(out)]) == 0
    written = cost.load_table(out, today=date.today())
    assert written.prices[0].price == 0.281
    assert "updated" in capsys.readouterr().out
    assert cli.main(["prices", "--table", str(out)]) == 0
