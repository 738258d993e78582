"""Per-stack policy exceptions: ``policies/exceptions/<stack>.yaml``.

Format (a list, or a mapping with an ``exceptions`` list)::

    - rule: aks-paid-tier-in-prod
      urn: "urn:pulumi:prod::airflow-aks::*ManagedCluster::*"   # exact URN or glob
      reason: SLA not needed during the pilot
      expires: 2027-03-31
      approvedBy: jane.doe@example.com

A malformed file is an error naming the key; an expired entry no longer applies and is
reported by the ``policy-exception-not-expired`` rule.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from ._core import PolicyException

EXCEPTIONS_DIR = Path(__file__).resolve().parent.parent / "exceptions"
REQUIRED_KEYS = ("rule", "urn", "reason", "expires", "approvedBy")


class ExceptionsFileError(ValueError):
    """A malformed exceptions file; the message names the file and the key."""


def _date(value: Any, where: str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ExceptionsFileError(f"{where}: expected a date YYYY-MM-DD, got {value!r}")


def parse_exceptions(
    data: Any, source: str = "<exceptions>", known_rules: Collection[str] | None = None
) -> tuple[PolicyException, ...]:
    """Validate parsed YAML into exceptions; raises :class:`ExceptionsFileError`."""
    if data is None:
        return ()
    if isinstance(data, dict):
        extra = sorted(set(data) - {"exceptions"})
        if extra:
            raise ExceptionsFileError(
                f"{source}: unknown top-level key {extra[0]!r} (expected 'exceptions')"
            )
        data = data.get("exceptions") or []
    if not isinstance(data, list):
        raise ExceptionsFileError(f"{source}: expected a list of exceptions")
    out = []
    for i, item in enumerate(data):
        where = f"{source}: exceptions[{i}]"
        if not isinstance(item, dict):
            raise ExceptionsFileError(
                f"{where}: expected a mapping with keys {', '.join(REQUIRED_KEYS)}"
            )
        unknown = sorted(set(item) - set(REQUIRED_KEYS))
        if unknown:
            raise ExceptionsFileError(
                f"{where}.{unknown[0]}: unknown key (allowed: {', '.join(REQUIRED_KEYS)})"
            )
        for key in REQUIRED_KEYS:
            value = item.get(key)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise ExceptionsFileError(f"{where}.{key}: required")
        for key in ("rule", "urn", "reason", "approvedBy"):
            if not isinstance(item[key], str):
                raise ExceptionsFileError(f"{where}.{key}: expected a string, got {item[key]!r}")
        if known_rules is not None and item["rule"] not in known_rules:
            raise ExceptionsFileError(f"{where}.rule: unknown rule {item['rule']!r}")
        out.append(
            PolicyException(
                rule=item["rule"],
                urn=item["urn"],
                reason=item["reason"].strip(),
                expires=_date(item["expires"], f"{where}.expires"),
                approved_by=item["approvedBy"],
            )
        )
    return tuple(out)


def load_exceptions(
    stack: str, directory: Path | None = None, known_rules: Collection[str] | None = None
) -> tuple[PolicyException, ...]:
    """The exceptions of ``stack`` (none when its file does not exist)."""
    import yaml

    path = (directory or EXCEPTIONS_DIR) / f"{stack}.yaml"
    if not path.exists():
        return ()
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ExceptionsFileError(f"{path}: not valid YAML: {e}") from e
    return parse_exceptions(data, str(path), known_rules)


def matching_exception(
    rule: str, urn: str, exceptions: Iterable[PolicyException], today: _dt.date
) -> PolicyException | None:
    """The unexpired exception covering ``rule`` on ``urn``, if any."""
    for e in exceptions:
        if (
            e.rule == rule
            and e.expires >= today
            and (e.urn == urn or fnmatch.fnmatchcase(urn, e.urn))
        ):
            return e
    return None
