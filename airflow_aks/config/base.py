"""Shared base for the stack's pydantic models and the error report they produce.

Every model is strict (unknown keys are errors) and speaks camelCase, the convention of
Pulumi stack files. Validation errors are collected into one report whose lines name the
full key path (``airflow-aks:aks.systemPool.nodeCount``) and, for a misspelt key, the
closest valid one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from airflow_aks.components.merge import deep_merge as deep_merge  # re-exported for the config

NAMESPACE = "airflow-aks"


class StrictModel(BaseModel):
    """Base for every config model: camelCase keys, unknown keys rejected, frozen."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a stack file: where it is and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ConfigError(ValueError):
    """Raised with *all* problems of a stack configuration at once."""

    def __init__(self, issues: Iterable[ConfigIssue]) -> None:
        self.issues = list(issues)
        lines = "\n".join(f"  - {i}" for i in self.issues)
        super().__init__(f"invalid stack configuration ({len(self.issues)} problem(s)):\n{lines}")


def _field_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _submodel(model: type[BaseModel] | None, key: str | int) -> type[BaseModel] | None:
    """Follow one step of an error location through the model tree (best effort)."""
    if model is None or isinstance(key, int):
        return model
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            ann = field.annotation
            candidates = [ann, *getattr(ann, "__args__", ())]
            for c in candidates:
                if isinstance(c, type) and issubclass(c, BaseModel):
                    return c
                # dict[str, Model] / list[Model]
                for inner in getattr(c, "__args__", ()):
                    if isinstance(inner, type) and issubclass(inner, BaseModel):
                        return inner
            return None
    return None


def format_path(loc: Iterable[str | int], prefix: str = NAMESPACE) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return f"{prefix}:{out}" if out else prefix


def suggest(key: str, valid: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The closest valid key to a misspelt one, or None when nothing is close."""
    lowered = {v.lower(): v for v in valid}
    match = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[match[0]] if match else None


def issues_from_validation(root: type[BaseModel], err: ValidationError) -> list[ConfigIssue]:
    """Turn pydantic errors into key-path issues, with a suggestion for unknown keys."""
    issues: list[ConfigIssue] = []
    for e in err.errors():
        loc = [p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        path = format_path(loc)
        if e["type"] == "extra_forbidden":
            parent: type[BaseModel] | None = root
            for part in loc[:-1]:
                parent = _submodel(parent, part)
            valid = _field_keys(parent) if parent else []
            key = str(loc[-1])
            hint = suggest(key, valid)
            msg = f"unknown key '{key}'"
            msg += f"; did you mean '{hint}'?" if hint else ""
            if valid:
                msg += f" (valid keys: {', '.join(sorted(valid))})"
            issues.append(ConfigIssue(path, msg))
        elif e["type"] == "missing":
            issues.append(ConfigIssue(path, "required key is missing"))
        else:
            msg = e["msg"].removeprefix("Value error, ")
            issues.append(ConfigIssue(path, msg))
    return issues


def repeated(values: Iterable[object]) -> list[str]:
    """One message per value listed more than once, naming every index it appears at
    (``"'x' is listed twice: [0] and [2]"``); empty when all values are distinct."""
    where: dict[object, list[int]] = {}
    for i, v in enumerate(values):
        where.setdefault(v, []).append(i)
    return [
        f"{v!r} is listed {_times(len(ix))}: " + " and ".join(f"[{i}]" for i in ix)
        for v, ix in where.items()
        if len(ix) > 1
    ]


def _times(n: int) -> str:
    return "twice" if n == 2 else f"{n} times"


def unique_list(values: list[Any]) -> list[Any]:
    if problems := repeated(values):
        raise problems_error(problems)
    return values


UniqueStrs = Annotated[list[str], AfterValidator(unique_list)]
"""A list key whose entries each create or grant something (a role assignment, a secret
grant, a firewall rule): a repeated entry would register one resource twice."""

# Model validators report several findings in one ValueError, one per line; the loader
# splits them again (a "; " inside one finding's sentence stays in it).
PROBLEM_SEP = "\n"


def problems_error(problems: Iterable[str]) -> ValueError:
    """One ValueError carrying several findings, each reported on its own."""
    return ValueError(PROBLEM_SEP.join(problems))


_LEADING_KEY = re.compile(r"^([a-z][A-Za-z0-9]*(?:\.[a-z][A-Za-z0-9]*|\[\d+\])*): (.+)$", re.S)


def split_problems(issues: Iterable[ConfigIssue]) -> list[ConfigIssue]:
    """One issue per finding (see :func:`problems_error`). A finding of the whole stack's
    validator names its section first (``aks.tier: prod needs ...``): it is reported at
    that key (``airflow-aks:aks.tier``)."""
    out: list[ConfigIssue] = []
    for issue in issues:
        for message in filter(None, (m.strip() for m in issue.message.split(PROBLEM_SEP))):
            m = _LEADING_KEY.match(message) if issue.path == NAMESPACE else None
            if m:
                out.append(ConfigIssue(f"{NAMESPACE}:{m.group(1)}", m.group(2)))
            else:
                out.append(ConfigIssue(issue.path, message))
    return out
