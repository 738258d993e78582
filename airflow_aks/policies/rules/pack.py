"""Adapters from the pure rules to CrossGuard policy objects.

Inside ``pulumi preview`` the props arrive wrapped in pulumi-policy's unknown-checking
proxy; :func:`plain` unwraps them and turns unknown sentinels into ``"[unknown]"`` so the
checks see exactly what the offline plan shows. Exceptions from
``policies/exceptions/<stack>.yaml`` apply here as well (an excepted violation is not
reported; an expired exception is reported by ``policy-exception-not-expired``).

Known difference: pulumi-policy hands secret values to the pack unwrapped (the offline
plan shows ``"[secret]"``), so ``helm-no-secret-literals`` also flags a Pulumi secret
passed in chart values during a real preview. Reference a Kubernetes Secret instead.
"""

from __future__ import annotations

import datetime as _dt
import functools
import os
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

from ._config import CONFIG_PROPERTIES, exceptions_from, production_from
from ._core import MANDATORY, UNKNOWN, Context, PolicyException, Rule
from ._exceptions import load_exceptions, matching_exception

__all__ = ["UNKNOWN_STRING_VALUE", "build_policies", "plain", "to_plan_resource"]


# pulumi-policy's public unknown sentinels (its proxy raises UnknownValueError on them).
_UNKNOWN_SENTINELS = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)


def _item(container: Any, key: Any) -> Any:
    try:
        return container[key]
    except UnknownValueError:
        return UNKNOWN


def plain(value: Any) -> Any:
    """Deep copy of policy props as plain dicts/lists; unknowns become ``"[unknown]"``.

    Only public pulumi-policy API: the unknown-checking proxy is a ``Mapping`` /
    ``Sequence`` whose item access raises ``UnknownValueError``.
    """
    if isinstance(value, Mapping):
        return {str(k): plain(_item(value, k)) for k in value}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(_item(value, i)) for i in range(len(value))]
    if isinstance(value, str) and value in _UNKNOWN_SENTINELS:
        return UNKNOWN
    return value


def _stack_name() -> str:
    """The stack under preview: the engine exports PULUMI_STACK to analyzer plugins."""
    if os.environ.get("PULUMI_STACK"):
        return os.environ["PULUMI_STACK"]
    try:
        import pulumi

        return pulumi.get_stack() or ""
    except Exception:
        return ""


@functools.lru_cache(maxsize=8)
def _exceptions(stack: str, known_rules: frozenset[str]) -> tuple[PolicyException, ...]:
    return load_exceptions(stack, known_rules=known_rules) if stack else ()


def runtime_context(
    urn: str = "",
    name: str = "",
    config: Mapping[str, Any] | None = None,
    rule: str = "",
    known_rules: frozenset[str] = frozenset(),
) -> Context:
    """The rule's context in a real preview: prod-ness and exceptions from the policy
    config (``--policy-pack-config``), then ``AIRFLOW_AKS_PRODUCTION``, then the stack
    name; exceptions from the config plus ``policies/exceptions/<stack>.yaml`` (checked
    against ``known_rules``, the pack's rule names)."""
    stack = _stack_name()
    cfg = dict(config or {})
    prod = production_from(cfg, stack, os.environ.get("AIRFLOW_AKS_PRODUCTION"))
    excs = _exceptions(stack, known_rules) + exceptions_from(rule, cfg)
    return Context(stack, prod, urn, name, _dt.date.today(), excs)


CONFIG_SCHEMA = PolicyConfigSchema(properties=CONFIG_PROPERTIES)
"""Every policy's config schema (production / environment / exceptions)."""


def policy_options(r: Any) -> dict[str, Any]:
    """Resource options in the offline plan's ``options`` shape, from what CrossGuard passes.

    pulumi-policy exposes ignoreChanges, deleteBeforeReplace and customTimeouts (not
    replaceOnChanges / retainOnDelete, which stay ``None`` here: unknown, not false).
    """
    opts = getattr(r, "opts", None)
    timeouts = getattr(opts, "custom_timeouts", None)
    prop_deps = getattr(r, "property_dependencies", None) or {}
    via_inputs = {d.urn for deps in prop_deps.values() for d in deps}
    limits = None
    if timeouts is not None:
        limits = {
            "create": _timeout(timeouts.create_seconds),
            "update": _timeout(timeouts.update_seconds),
            "delete": _timeout(timeouts.delete_seconds),
        }
        if not any(limits.values()):
            limits = None  # CrossGuard reports "no timeouts" as zeros
    return {
        "ignoreChanges": list(getattr(opts, "ignore_changes", None) or []),
        "replaceOnChanges": None,
        "deleteBeforeReplace": getattr(opts, "delete_before_replace", None),
        "retainOnDelete": None,
        "customTimeouts": limits,
        "dependsOn": [
            d.urn for d in (getattr(r, "dependencies", None) or []) if d.urn not in via_inputs
        ],
    }


def _timeout(seconds: float | None) -> str | None:
    return f"{int(seconds)}s" if seconds else None


def to_plan_resource(r: PolicyResource) -> dict[str, Any]:
    """A stack-policy resource in the offline plan's shape (props are outputs here)."""
    props = plain(r.props)
    return {
        "urn": r.urn,
        "type": r.resource_type,
        "name": r.name,
        "inputs": props,
        "outputs": props,
        "parent": r.parent.urn if r.parent is not None else None,
        "protect": bool(getattr(r.opts, "protect", False)),
        "dependencies": [d.urn for d in r.dependencies],
        "propertyDependencies": {k: [d.urn for d in v] for k, v in r.property_dependencies.items()},
        "options": policy_options(r),
    }


def _level(rule: Rule) -> EnforcementLevel:
    return EnforcementLevel.MANDATORY if rule.level == MANDATORY else EnforcementLevel.ADVISORY


def _resource_validate(rule: Rule, known_rules: frozenset[str]) -> Any:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        props = plain(args.props)
        if not rule.applies_to(args.resource_type, props):
            return
        ctx = runtime_context(args.urn, args.name, args.get_config(), rule.name, known_rules)
        assert rule.check is not None
        for message in rule.check(props, ctx):
            if matching_exception(rule.name, args.urn, ctx.exceptions, ctx.today) is None:
                report_violation(message, args.urn)

    return validate


def _stack_validate(rule: Rule, known_rules: frozenset[str]) -> Any:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [to_plan_resource(r) for r in args.resources]
        known = {r["urn"] for r in resources}
        ctx = runtime_context(config=args.get_config(), rule=rule.name, known_rules=known_rules)
        assert rule.stack_check is not None
        for urn, message in rule.stack_check(resources, ctx):
            exc = None
            if rule.name != "policy-exception-not-expired":
                exc = matching_exception(rule.name, urn, ctx.exceptions, ctx.today)
            if exc is None:
                # Only real URNs go to the engine (an exception's URN may be a glob).
                report_violation(message, urn if urn in known else None)

    return validate


def build_policies(rules: Sequence[Rule]) -> list[Any]:
    """One ResourceValidationPolicy / StackValidationPolicy per rule."""
    out: list[Any] = []
    known = frozenset(r.name for r in rules)  # a stack's exceptions may name only these
    for rule in rules:
        description = (
            f"{rule.description} (mirrors {rule.mirrors})" if rule.mirrors else rule.description
        )
        if rule.stack_check is not None:
            out.append(
                StackValidationPolicy(
                    name=rule.name,
                    description=description,
                    validate=_stack_validate(rule, known),
                    enforcement_level=_level(rule),
                    config_schema=CONFIG_SCHEMA,
                )
            )
        else:
            out.append(
                ResourceValidationPolicy(
                    name=rule.name,
                    description=description,
                    validate=_resource_validate(rule, known),
                    enforcement_level=_level(rule),
                    config_schema=CONFIG_SCHEMA,
                )
            )
    return out
