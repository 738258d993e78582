"""The airflow-aks rules: metadata + pure checks, and the offline evaluator.

``evaluate(resources, stack, exceptions)`` runs every rule over plan resources (dicts with
``urn``, ``type``, ``name``, ``inputs``, ``dependencies``, ``parent``) exactly as the
policy pack does inside ``pulumi preview`` (see :func:`build_policies`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from . import (
    airflow,
    aks,
    charts,
    domains,
    entrance,
    gitops,
    identity,
    keyvault,
    kubernetes,
    mesh,
    network,
    postgres,
    scheduling,
    stack,
    storage,
)
from ._core import (
    ADVISORY,
    MANDATORY,
    Context,
    Level,
    PolicyException,
    Rule,
    is_production,
)
from ._exceptions import (
    EXCEPTIONS_DIR,
    ExceptionsFileError,
    load_exceptions,
    matching_exception,
    parse_exceptions,
)

ALL_RULES: tuple[Rule, ...] = tuple(
    aks.RULES
    + keyvault.RULES
    + storage.RULES
    + postgres.RULES
    + identity.RULES
    + kubernetes.RULES
    + mesh.RULES
    + airflow.RULES
    + charts.RULES
    + scheduling.RULES
    + stack.RULES
    + gitops.RULES
    + entrance.RULES
    + domains.RULES
    + network.RULES
)
RULES_BY_NAME: dict[str, Rule] = {r.name: r for r in ALL_RULES}
if len(RULES_BY_NAME) != len(ALL_RULES):  # pragma: no cover - guarded by tests
    raise RuntimeError("duplicate rule names in the policy pack")

__all__ = [
    "ADVISORY",
    "ALL_RULES",
    "EXCEPTIONS_DIR",
    "MANDATORY",
    "RULES_BY_NAME",
    "Context",
    "ExceptionsFileError",
    "PolicyException",
    "Results",
    "Rule",
    "Violation",
    "build_policies",
    "evaluate",
    "is_production",
    "load_exceptions",
    "parse_exceptions",
]


@dataclass(frozen=True)
class Violation:
    rule: str
    level: Level
    urn: str
    message: str
    excepted: bool = False
    exception_reason: str | None = None


@dataclass
class Results:
    """Outcome of one evaluation; ``passed`` counts rules without an open violation."""

    stack: str
    production: bool
    rules: int
    checks: int
    violations: list[Violation] = field(default_factory=list)

    @property
    def open(self) -> list[Violation]:
        return [v for v in self.violations if not v.excepted]

    @property
    def mandatory(self) -> int:
        return sum(1 for v in self.open if v.level == MANDATORY)

    @property
    def advisory(self) -> int:
        return sum(1 for v in self.open if v.level == ADVISORY)

    @property
    def excepted(self) -> int:
        return sum(1 for v in self.violations if v.excepted)

    @property
    def passed(self) -> int:
        return self.rules - len({v.rule for v in self.open})

    @property
    def ok(self) -> bool:
        return self.mandatory == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "production": self.production,
            "rules": self.rules,
            "checks": self.checks,
            "passed": self.passed,
            "advisory": self.advisory,
            "mandatory": self.mandatory,
            "excepted": self.excepted,
            "violations": [asdict(v) for v in self.violations],
        }


def evaluate(
    resources: Sequence[Mapping[str, Any]],
    stack: str,
    exceptions: Iterable[PolicyException] | None = None,
    *,
    today: _dt.date | None = None,
    production: bool | None = None,
    rules: Sequence[Rule] = ALL_RULES,
) -> Results:
    """Run every resource and stack rule over plan resources.

    ``exceptions=None`` loads ``policies/exceptions/<stack>.yaml`` (if present); pass ``[]``
    for none. ``today`` decides which exceptions have expired.
    """
    today = today or _dt.date.today()
    prod = is_production(stack) if production is None else production
    excs = tuple(
        load_exceptions(stack, known_rules=RULES_BY_NAME) if exceptions is None else exceptions
    )
    plain = [dict(r) for r in resources]
    results = Results(stack=stack, production=prod, rules=len(rules), checks=0)

    def add(rule: Rule, urn: str, message: str) -> None:
        exc = None
        if rule.name != "policy-exception-not-expired":
            exc = matching_exception(rule.name, urn, excs, today)
        results.violations.append(
            Violation(rule.name, rule.level, urn, message, exc is not None, exc and exc.reason)
        )

    base = Context(stack=stack, production=prod, today=today, exceptions=excs)
    for rule in rules:
        if rule.stack_check is not None:
            results.checks += 1
            for urn, message in rule.stack_check(plain, base):
                add(rule, urn, message)
            continue
        assert rule.check is not None
        for r in plain:
            props = r.get("inputs") or {}
            if not rule.applies_to(str(r.get("type", "")), props):
                continue
            results.checks += 1
            urn = str(r.get("urn", ""))
            ctx = Context(stack, prod, urn, str(r.get("name", "")), today, excs)
            for message in rule.check(props, ctx):
                add(rule, urn, message)
    return results


def build_policies() -> list[Any]:
    """The CrossGuard policies (imports pulumi_policy; used by ``policies/__main__.py``)."""
    from .pack import build_policies as _build

    return _build(ALL_RULES)
