"""Pure naming rules: Azure resource names, federated-credential subjects, short regions.

Names follow the Cloud Adoption Framework pattern ``<kind>-<prefix>-<env>-<region>`` and
respect each service's own limits, so a stack never fails at deploy time on a name that
the plan accepted.
"""

from __future__ import annotations

import hashlib
import re

# Short codes for the regions people actually use; anything else is squeezed.
REGION_SHORT = {
    "westeurope": "weu",
    "northeurope": "neu",
    "swedencentral": "sdc",
    "germanywestcentral": "gwc",
    "francecentral": "frc",
    "uksouth": "uks",
    "eastus": "eus",
    "eastus2": "eus2",
    "westus2": "wus2",
    "westus3": "wus3",
    "centralus": "cus",
    "canadacentral": "cac",
    "australiaeast": "aue",
    "japaneast": "jpe",
    "southeastasia": "sea",
}

FEDERATED_AUDIENCE = "api://AzureADTokenExchange"
CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
TENANT_ID_ANNOTATION = "azure.workload.identity/tenant-id"
USE_LABEL = "azure.workload.identity/use"

_SA_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_NS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def region_short(location: str) -> str:
    """Short code for an Azure region (``westeurope`` -> ``weu``)."""
    loc = location.lower().replace(" ", "")
    return REGION_SHORT.get(loc, re.sub(r"[aeiou]", "", loc)[:6] or loc[:6])


def resource_name(kind: str, prefix: str, env: str, location: str, *extra: str) -> str:
    """CAF-style name ``kind-prefix-env-region[-extra...]`` in lower case."""
    parts = [kind, prefix, env, region_short(location), *extra]
    return "-".join(p for p in parts if p).lower()


def _digest(*parts: str, length: int = 4) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def storage_account_name(prefix: str, env: str, location: str) -> str:
    """3-24 lower-case alphanumerics, globally unique-ish through a stable digest."""
    base = re.sub(r"[^a-z0-9]", "", f"st{prefix}{env}{region_short(location)}".lower())
    suffix = _digest(prefix, env, location)
    return (base[: 24 - len(suffix)] + suffix)[:24]


KEY_VAULT_SUFFIX = 4


def key_vault_base(prefix: str, env: str, location: str) -> str:
    """``kv-<prefix>-<env>-<region>`` cut so that ``-`` + a 4-character suffix fits in 24."""
    base = re.sub(r"[^a-z0-9-]", "", f"kv-{prefix}-{env}-{region_short(location)}".lower())
    base = re.sub(r"-+", "-", base)
    return base[: 24 - KEY_VAULT_SUFFIX - 1].rstrip("-")


def key_vault_name(prefix: str, env: str, location: str, suffix: str | None = None) -> str:
    """3-24 chars, letters/digits/dashes, starts with a letter, no double dash.

    The suffix is a stable digest of the inputs unless given (a random one keeps a dev
    vault recreatable: a destroyed vault stays soft-deleted under its name).
    """
    suffix = _digest(prefix, env, location) if suffix is None else suffix
    if not re.fullmatch(rf"[a-z0-9]{{{KEY_VAULT_SUFFIX}}}", suffix):
        raise ValueError(f"key vault name suffix {suffix!r}: {KEY_VAULT_SUFFIX} of [a-z0-9]")
    return f"{key_vault_base(prefix, env, location)}-{suffix}"


def federated_subject(namespace: str, service_account: str) -> str:
    """The token subject Kubernetes issues for a ServiceAccount.

    Derived, never typed: a federated credential and the ServiceAccount it trusts are
    built from the same two values, so they cannot drift apart.
    """
    if not _NS_NAME.match(namespace):
        raise ValueError(f"namespace {namespace!r} is not a valid Kubernetes namespace name")
    if not _SA_NAME.match(service_account):
        raise ValueError(f"service account {service_account!r} is not a valid Kubernetes name")
    return f"system:serviceaccount:{namespace}:{service_account}"


def parse_subject(subject: str) -> tuple[str, str] | None:
    """Inverse of :func:`federated_subject`; None for a subject of another shape."""
    parts = subject.split(":")
    if len(parts) != 4 or parts[:2] != ["system", "serviceaccount"]:
        return None
    return parts[2], parts[3]
