"""What a change does to the platform: the difference between two offline plan exports.

``airflow-aks plan --stack S --diff BASE.json`` plans the working tree and compares it with
``BASE.json`` (the plan of the pull request's base), printed as Markdown for the pull-request
comment. No cloud account is needed, so every contributor's change is reviewable.

Resources are matched by URN (a URN change is a delete plus a create, as in the engine).
A changed input is *replace* when the engine would replace the resource rather than update
it. Offline we know that for:

- inputs the resource's own ``replaceOnChanges`` option names (when the export carries
  resource options);
- the ARM path of an Azure resource: the inputs its resource id is built from
  (``resourceGroupName``, the resource's name, its parent's name) — another id is another
  resource — and ``location``, which ARM does not change in place (moving a resource to
  another region means recreating it: Azure "move resources across regions" docs);
- ``metadata.name`` / ``metadata.namespace`` of a Kubernetes object (the object's identity
  on the API server) and the immutable ``spec.selector`` of Deployments, StatefulSets and
  DaemonSets (Kubernetes API reference: "immutable after creation").

Anything else is an update. Secrets stay ``[secret]`` because the exports already hide them.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_aks.offline.plan import ARM_IDS

_K8S_IDENTITY = ("metadata.name", "metadata.namespace")
_K8S_IMMUTABLE: dict[str, tuple[str, ...]] = {
    "kubernetes:apps/v1:Deployment": ("spec.selector",),
    "kubernetes:apps/v1:StatefulSet": ("spec.selector",),
    "kubernetes:apps/v1:DaemonSet": ("spec.selector",),
}
_MAX_VALUE = 60  # characters of a value shown in the Markdown table


@dataclass(frozen=True)
class Change:
    """One input that differs; ``path`` is dotted (``spec.replicas``, ``tags.env``)."""

    path: str
    before: Any
    after: Any
    forces_replace: bool


@dataclass
class ResourceChange:
    urn: str
    type: str
    changes: list[Change] = field(default_factory=list)
    protected: bool = False
    """The resource is protected (``protect``): ``pulumi up`` refuses to replace it."""

    @property
    def replace(self) -> bool:
        return any(c.forces_replace for c in self.changes)


@dataclass
class PlanDiff:
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[ResourceChange] = field(default_factory=list)
    outputs: list[Change] = field(default_factory=list)

    @property
    def replaced(self) -> list[ResourceChange]:
        return [c for c in self.changed if c.replace]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.outputs)

    @property
    def blocked(self) -> list[str]:
        """URNs of protected resources this change would replace or delete: ``pulumi up``
        stops on them (protect), so the change cannot deploy as it stands."""
        return [c.urn for c in self.replaced if c.protected] + [
            r["urn"] for r in self.removed if r.get("protect")
        ]


_MISSING = object()
ABSENT = "(absent)"
"""Shown for a side of a change where the input is not set."""


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Leaves of nested dicts as (dotted path, value); lists are compared whole."""
    if isinstance(value, Mapping) and value:
        for key in sorted(value):
            yield from _flatten(value[key], f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def replace_paths(resource: Mapping[str, Any]) -> tuple[str, ...]:
    """Input paths whose change replaces ``resource`` (see the module doc)."""
    typ = str(resource.get("type", ""))
    paths: list[str] = []
    options = resource.get("options") or {}
    paths += [str(p) for p in options.get("replaceOnChanges") or ()]
    template = ARM_IDS.get(typ)
    if template:
        keys = [f for _, f, _, _ in string.Formatter().parse(template) if f and f != "sub"]
        paths += [*keys, "location"]
    if typ.startswith("kubernetes:"):
        paths += [*_K8S_IDENTITY, *_K8S_IMMUTABLE.get(typ, ())]
    return tuple(dict.fromkeys(paths))


def _forces(path: str, replace: tuple[str, ...]) -> bool:
    # "*" in replaceOnChanges means any input; a prefix covers everything below it.
    return any(r == "*" or path == r or path.startswith(r + ".") for r in replace)


def _diff_values(before: Any, after: Any, replace: tuple[str, ...]) -> list[Change]:
    old, new = dict(_flatten(before)), dict(_flatten(after))
    changes = []
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path, _MISSING), new.get(path, _MISSING)
        if a != b:
            changes.append(
                Change(
                    path or "(value)",
                    ABSENT if a is _MISSING else a,
                    ABSENT if b is _MISSING else b,
                    _forces(path, replace),
                )
            )
    return changes


def diff(base: Mapping[str, Any], head: Mapping[str, Any]) -> PlanDiff:
    """Compare two plan exports (``airflow-aks plan --json``) of the same stack."""
    for name, export in (("base", base), ("head", head)):
        if not isinstance(export.get("resources"), list):
            raise ValueError(f"{name} plan is not a plan export: no 'resources' list")
    if base.get("stack") != head.get("stack"):
        raise ValueError(
            f"plans are of different stacks: base {base.get('stack')!r}, head {head.get('stack')!r}"
        )
    old = {r["urn"]: r for r in base["resources"]}
    new = {r["urn"]: r for r in head["resources"]}
    result = PlanDiff(
        added=[new[u] for u in sorted(set(new) - set(old))],
        removed=[old[u] for u in sorted(set(old) - set(new))],
    )
    for urn in sorted(set(old) & set(new)):
        changes = _diff_values(
            old[urn].get("inputs", {}), new[urn].get("inputs", {}), replace_paths(new[urn])
        )
        if changes:
            protected = bool(old[urn].get("protect") or new[urn].get("protect"))
            result.changed.append(ResourceChange(urn, new[urn]["type"], changes, protected))
    result.outputs = _diff_values(base.get("outputs", {}), head.get("outputs", {}), ())
    return result


def _short(urn: str) -> str:
    """``type::name`` of a URN, without project and stack."""
    typ = urn.split("::")[2].rsplit("$", 1)[-1] if urn.count("::") >= 3 else ""
    return f"{urn.rsplit('::', 1)[-1]} ({typ})" if typ else urn


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _window(text: str, start: int) -> str:
    """At most ``_MAX_VALUE`` characters of ``text`` from ``start``, "…" where cut."""
    body = text[start : start + _MAX_VALUE - 2]
    return ("…" if start else "") + body + ("…" if start + len(body) < len(text) else "")


def _code(text: str) -> str:
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def _cells(before: Any, after: Any) -> tuple[str, str]:
    """Before and after cells of a change. A long value is cut around where the two first
    differ, so two different values never look the same."""
    a, b = _text(before), _text(after)
    if max(len(a), len(b)) <= _MAX_VALUE:
        return _code(a), _code(b)
    same = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    start = max(0, same - _MAX_VALUE // 3)
    left, right = _window(a, start), _window(b, start)
    if left == right:  # pragma: no cover - differing texts differ inside the window
        left, right = a, b
    return _code(left), _code(right)


def markdown(d: PlanDiff, stack: str) -> str:
    """The pull-request comment: counts, then each added / removed / changed resource."""
    n_upd = len(d.changed) - len(d.replaced)
    lines = [
        f"### Offline plan diff: stack `{stack}`",
        "",
        f"**{len(d.added)} to add, {n_upd} to update, {len(d.replaced)} to replace, "
        f"{len(d.removed)} to delete**"
        + (f", {len(d.outputs)} output change(s)" if d.outputs else ""),
    ]
    if d.empty:
        lines += ["", "No change to the platform."]
        return "\n".join(lines) + "\n"
    if d.blocked:
        lines += [
            "",
            "> [!CAUTION]",
            "> Protected resources would be replaced or deleted; `pulumi up` refuses while "
            "they are protected (and their data would be lost):",
        ]
        lines += [f"> - {_short(u)}" for u in d.blocked]
    if d.replaced:
        lines += ["", "> [!WARNING]", "> Replacements delete and recreate these resources:"]
        lines += [f"> - {_short(c.urn)}" for c in d.replaced]
    for title, items, mark in (("Added", d.added, "+"), ("Deleted", d.removed, "-")):
        if items:
            lines += ["", f"#### {title} ({len(items)})", ""]
            lines += [f"- `{mark}` {_short(r['urn'])}" for r in items]
    if d.changed:
        lines += ["", f"#### Changed ({len(d.changed)})", ""]
        for c in d.changed:
            verb = "replace" if c.replace else "update"
            lines += [f"**{_short(c.urn)}**: {verb}", "", "| input | before | after | |"]
            lines += ["|---|---|---|---|"]
            for ch in c.changes:
                flag = "forces replacement" if ch.forces_replace else ""
                before, after = _cells(ch.before, ch.after)
                lines.append(f"| `{ch.path}` | {before} | {after} | {flag} |")
            lines.append("")
    if d.outputs:
        lines += ["", "#### Stack outputs", "", "| output | before | after |", "|---|---|---|"]
        for o in d.outputs:
            before, after = _cells(o.before, o.after)
            lines.append(f"| `{o.path}` | {before} | {after} |")
    return "\n".join(lines).rstrip() + "\n"
