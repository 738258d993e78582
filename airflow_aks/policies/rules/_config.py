"""Policy-pack configuration: prod-ness and exceptions from CrossGuard policy config.

``pulumi preview --policy-pack policies --policy-pack-config pack-config.json`` hands every
policy its own entry of that file. Each of our policies accepts the same schema
(:data:`CONFIG_SCHEMA`); ``airflow-aks policies --pack-config prod`` writes a file with
the same settings for every rule (and the exceptions of ``policies/exceptions/prod.yaml``
under their rules). Pure: no pulumi_policy import, so the offline tools share it.

Which stack is production, in order: the policy config's ``production`` (bool), else its
``environment`` (``prod``/``production``/``prod-*`` is production), else the
``AIRFLOW_AKS_PRODUCTION`` environment variable (``true``/``false``), else the stack
name by the same rule (the fallback for runs without a config file).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any

from ._core import PolicyException, is_production
from ._exceptions import ExceptionsFileError, parse_exceptions

CONFIG_PROPERTIES: dict[str, dict[str, Any]] = {
    "production": {
        "type": "boolean",
        "description": "Treat the stack as production (production-only rules apply). "
        "Overrides 'environment' and the stack-name rule.",
    },
    "environment": {
        "type": "string",
        "description": "The stack's environment; prod, production or prod-* is production.",
    },
    "exceptions": {
        "type": "array",
        "description": "Reviewed exceptions to this rule (same fields as "
        "policies/exceptions/<stack>.yaml, without 'rule').",
        "items": {
            "type": "object",
            "properties": {
                "urn": {"type": "string", "description": "URN or glob of the resource."},
                "reason": {"type": "string", "description": "Why the exception is acceptable."},
                "expires": {"type": "string", "format": "date", "description": "YYYY-MM-DD."},
                "approvedBy": {"type": "string", "description": "Who reviewed it."},
            },
            "required": ["urn", "reason", "expires", "approvedBy"],
            "additionalProperties": False,
        },
    },
}
"""JSON schema properties of every policy's config (all optional)."""

_KEYS = frozenset(CONFIG_PROPERTIES)


class PolicyConfigError(ValueError):
    """A policy config entry that does not match :data:`CONFIG_PROPERTIES`."""


def production_from(config: Mapping[str, Any], stack: str, env_override: str | None = None) -> bool:
    """Prod-ness by the documented precedence (see the module docstring)."""
    unknown = sorted(set(config) - _KEYS - {"enforcementLevel"})
    if unknown:
        raise PolicyConfigError(
            f"policy config: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_KEYS))})"
        )
    if "production" in config:
        if not isinstance(config["production"], bool):
            raise PolicyConfigError("policy config: production must be true or false")
        return config["production"]
    if "environment" in config:
        return is_production(str(config["environment"]))
    if env_override is not None:
        return env_override.strip().lower() == "true"
    return is_production(stack)


def exceptions_from(rule: str, config: Mapping[str, Any]) -> tuple[PolicyException, ...]:
    """The config's exceptions of ``rule`` (validated like the exceptions file)."""
    items = config.get("exceptions") or []
    if not isinstance(items, list):
        raise PolicyConfigError(f"policy config of {rule}: exceptions must be a list")
    try:
        return parse_exceptions(
            [{"rule": rule, **dict(i)} if isinstance(i, Mapping) else i for i in items],
            source=f"policy config of {rule}",
        )
    except ExceptionsFileError as e:
        raise PolicyConfigError(str(e)) from None


def pack_config(
    rules: Iterable[str],
    *,
    production: bool | None = None,
    environment: str | None = None,
    exceptions: Iterable[PolicyException] = (),
) -> dict[str, dict[str, Any]]:
    """A ``--policy-pack-config`` file: the same settings under every rule, and each
    exception under its rule."""
    out: dict[str, dict[str, Any]] = {}
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for e in exceptions:
        by_rule.setdefault(e.rule, []).append(
            {
                "urn": e.urn,
                "reason": e.reason,
                "expires": e.expires.isoformat(),
                "approvedBy": e.approved_by,
            }
        )
    for name in rules:
        entry: dict[str, Any] = {}
        if production is not None:
            entry["production"] = production
        if environment is not None:
            entry["environment"] = environment
        if name in by_rule:
            entry["exceptions"] = by_rule[name]
        out[name] = entry
    return out


def today() -> _dt.date:
    return _dt.date.today()
