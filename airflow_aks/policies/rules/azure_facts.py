"""Dated Azure facts, one table each, with the source and the date it was read.

Refreshing a fact is one edit here: the stack config (``airflow_aks.config``), the AKS
component and the policy pack all read these tables. Pure data and pure functions only
(no Pulumi import), so the policy pack can use them standalone.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

# --------------------------------------------------------------------------- AKS versions

AKS_CALENDAR_SOURCE = (
    "https://learn.microsoft.com/azure/aks/supported-kubernetes-versions "
    "(AKS Kubernetes release calendar; MicrosoftDocs/azure-aks-docs "
    "articles/aks/supported-kubernetes-versions.md, ms.date 2026-08-05)"
)
AKS_CALENDAR_PUBLISHED = date(2026, 8, 5)
"""Date of the page the table was copied from: GA months after it are plans."""
AKS_CALENDAR_READ = date(2026, 12, 2)
"""When the table was last checked against the page."""


def _month_end(year: int, month: int) -> date:
    # The page: "Unless an explicit date is provided, the End of Life (EOL) date is the
    # last day of the specified month." GA months are read the same way (conservative:
    # a version counts as creatable only once its whole GA month has passed).
    return date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class AksMinor:
    """One row of the AKS release calendar."""

    minor: str
    """``MAJOR.MINOR``."""
    ga: date
    """End of the AKS GA month."""
    end_of_life: date
    """End of AKS community support: after it the version is in platform support (N-3)
    or removed, and AKS refuses new clusters on it."""
    lts_end: date
    """End of long-term support (Premium tier + ``AKSLongTermSupport`` plan only)."""


AKS_MINORS: tuple[AksMinor, ...] = (
    AksMinor("1.32", _month_end(2025, 4), _month_end(2026, 3), _month_end(2027, 3)),
    AksMinor("1.33", _month_end(2025, 6), _month_end(2026, 7), _month_end(2027, 7)),
    AksMinor("1.34", _month_end(2025, 11), _month_end(2026, 11), _month_end(2027, 11)),
    AksMinor("1.35", _month_end(2026, 3), _month_end(2027, 3), _month_end(2028, 3)),
    AksMinor("1.36", _month_end(2026, 6), _month_end(2027, 6), _month_end(2028, 6)),
    AksMinor("1.37", _month_end(2026, 10), _month_end(2027, 10), _month_end(2028, 10)),
)
_BY_MINOR = {m.minor: m for m in AKS_MINORS}


def _key(minor: str) -> tuple[int, int]:
    major, _, rest = minor.partition(".")
    return int(major), int(rest)


def creatable_minors(on: date) -> list[str]:
    """Minors a new cluster (or node pool) can be created on, on ``on``, oldest first."""
    return [m.minor for m in AKS_MINORS if m.ga <= on <= m.end_of_life]


def version_problem(version: str, on: date) -> str | None:
    """Why ``version`` (``MAJOR.MINOR``) cannot create a cluster on ``on``, or None."""
    allowed = creatable_minors(on)
    row = _BY_MINOR.get(version)
    where = f"(AKS calendar read {AKS_CALENDAR_READ.isoformat()}: {AKS_CALENDAR_SOURCE})"
    if row is None:
        newer = allowed and _key(version) > _key(allowed[-1])
        what = "is newer than the dated table" if newer else "is not in the dated table"
        return (
            f"Kubernetes {version} {what}; allowed on {on.isoformat()}: {allowed} {where}. "
            "Add its row to policies/rules/azure_facts.py once AKS lists it as GA."
        )
    if on > row.end_of_life:
        return (
            f"Kubernetes {version} reached AKS end of life on {row.end_of_life.isoformat()}: "
            f"AKS no longer creates clusters on it; allowed on {on.isoformat()}: {allowed} "
            f"{where}"
        )
    if on < row.ga:
        return (
            f"Kubernetes {version} is not GA on AKS before {row.ga.isoformat()}; allowed on "
            f"{on.isoformat()}: {allowed} {where}"
        )
    return None


def default_minor() -> str:
    """The default ``kubernetesVersion``: the newest minor that was already GA when the
    calendar page was published (later GA months are only plans) and still creatable when
    the table was read."""
    seen = [
        m.minor
        for m in AKS_MINORS
        if m.ga <= AKS_CALENDAR_PUBLISHED and m.minor in creatable_minors(AKS_CALENDAR_READ)
    ]
    if not seen:  # pragma: no cover - guarded by tests
        raise RuntimeError("the AKS calendar has no creatable minor: refresh azure_facts.py")
    return seen[-1]


# --------------------------------------------------------------------------- add-ons


@dataclass(frozen=True)
class RetiredAddon:
    """An ``addonProfiles`` key AKS no longer accepts (or ignores): never send it."""

    key: str
    """The ARM add-on key as spelled in the API."""
    retired: str
    """What happened and when."""
    source: str
    """Where it was read (2026-12-02)."""


RETIRED_ADDONS: tuple[RetiredAddon, ...] = (
    RetiredAddon(
        "kubeDashboard",
        "refused for Kubernetes >= 1.19 (AddonInvalid: 'Kubernetes Dashboard addon is "
        "deprecated for Kubernetes version >= 1.19.0')",
        "old aks-docs articles/aks/kubernetes-dashboard.md; "
        "hashicorp/terraform-provider-azurerm#13119 (read 2026-12-02)",
    ),
    RetiredAddon(
        "httpApplicationRouting",
        "retired 2025-03-03 (use the application routing add-on)",
        "aks-docs articles/aks/http-application-routing.md '(retired)'; "
        "azure.microsoft.com/updates retirement-http-application-routing-addon (read 2026-12-02)",
    ),
)


def retired_addon(key: str) -> RetiredAddon | None:
    """The retired add-on a (case-insensitive) ``addonProfiles`` key names, if any."""
    for addon in RETIRED_ADDONS:
        if addon.key.lower() == key.lower():
            return addon
    return None


# --------------------------------------------------------------------------- AKS RBAC roles

# Azure built-in role ids (Azure built-in roles page, Containers table; read 2026-12-02).
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
AKS_RBAC_ADMIN = "3498e952-d568-435e-9b2c-8d77e338d7f7"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
KEY_VAULT_SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
KEY_VAULT_ADMINISTRATOR = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
KEY_VAULT_READ_ROLES = {
    KEY_VAULT_SECRETS_USER: "Key Vault Secrets User",
    KEY_VAULT_SECRETS_OFFICER: "Key Vault Secrets Officer",
    KEY_VAULT_ADMINISTRATOR: "Key Vault Administrator",
}
"""Roles that can read secret values (data plane)."""
