"""Findings per chart: render failures, non-determinism, values keys that change nothing."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import yaml

from .base import MAX_PROBES, Level, Manifests, Renderer, RenderError
from .manifests import Rendered, crd_scope_table, parse_manifests
from .source import ChartRequest


@dataclass(frozen=True)
class Finding:
    kind: Literal["render-failed", "non-deterministic", "ignored-key"]
    level: Level
    chart: str
    urn: str
    key: str
    message: str


def diff_paths(a: Any, b: Any, path: str = "") -> list[str]:
    """Dotted paths where two JSON-like values differ (values never shown)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in sorted(set(a) | set(b), key=str):
            p = f"{path}.{k}" if path else str(k)
            if k not in a or k not in b:
                out.append(p)
            else:
                out += diff_paths(a[k], b[k], p)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += diff_paths(x, y, f"{path}[{i}]")
        return out
    return [] if a == b else [path or "(whole)"]


def object_diffs(a: Sequence[Rendered], b: Sequence[Rendered]) -> dict[str, list[str]]:
    """``{object key: [differing paths]}`` between two renders (objects added/removed: ``*``)."""
    ma = {o.key: o.obj for o in a}
    mb = {o.key: o.obj for o in b}
    out: dict[str, list[str]] = {}
    for key in sorted(set(ma) | set(mb)):
        if key not in ma or key not in mb:
            out[key] = ["*"]
        else:
            paths = diff_paths(ma[key], mb[key])
            if paths:
                out[key] = paths
    return out


def _contains(big: Any, small: Any) -> bool:
    """Whether every leaf of ``small`` is in ``big`` with the same value."""
    if isinstance(small, dict) and small:
        return isinstance(big, dict) and all(
            k in big and _contains(big[k], v) for k, v in small.items()
        )
    return big == small


def values_echoes(objs: Sequence[Rendered], values: Mapping[str, Any]) -> dict[str, list[str]]:
    """``{object key: [paths]}`` of rendered string fields that are a dump of the values
    (they parse as YAML holding every values leaf): any values change alters them, so the
    ignored-key probe must not count them. Example: linkerd-control-plane
    ``templates/config.yaml:15-16`` writes ``toYaml (deepCopy .Values)`` into ConfigMap
    ``linkerd-config`` ``data.values`` (edge-26.8.3, render check 2026-12-02)."""
    out: dict[str, list[str]] = {}
    if not values:
        return out

    def walk(node: Any, path: str, key: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else str(k), key)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]", key)
        elif isinstance(node, str) and "\n" in node:
            try:
                parsed = yaml.safe_load(node)
            except yaml.YAMLError:
                return
            if isinstance(parsed, dict) and _contains(parsed, dict(values)):
                out.setdefault(key, []).append(path)

    for o in objs:
        walk(o.obj, "", o.key)
    return out


def leaf_paths(values: Any, path: str = "") -> Iterator[str]:
    """Dotted paths of a values tree, top-down (lists and empty maps are leaves)."""
    if isinstance(values, dict) and values:
        for k, v in values.items():
            p = f"{path}.{k}" if path else str(k)
            yield p
            yield from leaf_paths(v, p)


def _perturb(value: Any) -> Any:
    """A different value of the same shape: every leaf under ``value`` changed."""
    if isinstance(value, dict):
        if not value:
            return {"airflow-aks-probe": "x"}
        return {k: _perturb(v) for k, v in value.items()}
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 0.5
    if isinstance(value, str):
        return value + "-probe"
    if isinstance(value, list):
        return [*value, _perturb(value[0]) if value else "probe"]
    return "probe"  # None


def _set(values: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(values)
    node = out
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
    return out


def _get(values: Mapping[str, Any], path: str) -> Any:
    node: Any = values
    for k in path.split("."):
        node = node[k]
    return node


@dataclass
class ChartResult:
    """The outcome for one Chart of the plan."""

    urn: str
    chart: str
    status: Literal["rendered", "not-rendered", "failed"]
    reason: str = ""
    source: str = ""
    objects: int = 0
    probes: int = 0
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["findings"] = [asdict(f) for f in self.findings]
        return d


def analyse(
    req: ChartRequest,
    renderer: Renderer,
    *,
    probe_keys: bool = True,
    max_probes: int = MAX_PROBES,
) -> tuple[ChartResult, list[Rendered]]:
    """Render ``req`` twice (determinism), then probe each values key (is it read?)."""
    result = ChartResult(req.urn, req.label, "rendered")

    def fail(message: str) -> tuple[ChartResult, list[Rendered]]:
        result.status = "failed"
        result.reason = message
        result.findings.append(
            Finding("render-failed", "error", req.label, req.urn, "", f"{req.label}: {message}")
        )
        return result, []

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:  # two independent renders
            first_text, second_text = pool.map(renderer.render, [req.values, req.values])
        first = parse_manifests(first_text, req.namespace)
        second = parse_manifests(second_text, req.namespace)
    except RenderError as exc:
        return fail(str(exc))
    result.objects = len(first)
    unstable = object_diffs(first, second)
    for key, paths in unstable.items():
        shown = ", ".join(paths[:5]) + (f" (+{len(paths) - 5} more)" if len(paths) > 5 else "")
        result.findings.append(
            Finding(
                "non-deterministic",
                "warning",
                req.label,
                req.urn,
                f"{key}: {shown}",
                f"{req.label}: {key} differs between two renders with the same values "
                f"({shown}): every 'pulumi up' would change it",
            )
        )
    if probe_keys:
        result.findings += _ignored_keys(
            req, renderer, first_text, first, unstable, result, max_probes
        )
    return result, first


def _ignored_keys(
    req: ChartRequest,
    renderer: Renderer,
    base_text: Manifests,
    base: Sequence[Rendered],
    unstable: Mapping[str, list[str]],
    result: ChartResult,
    max_probes: int,
) -> list[Finding]:
    """Values keys whose change alters no rendered object (a subtree first, then its keys)."""

    def changes_something(values: dict[str, Any]) -> bool:
        try:
            text = renderer.render(values)
        except RenderError:
            return True  # the chart reacted to it
        # Only templates whose text changed are parsed (CRDs and big charts stay cheap).
        changed = {t for t in set(text) | set(base_text) if text.get(t) != base_text.get(t)}
        if not changed:
            return False
        try:
            objs = parse_manifests(
                {t: text[t] for t in changed if t in text}, req.namespace, scopes
            )
        except RenderError:
            return True
        before = [o for o in base if o.template in changed]
        for key, paths in object_diffs(before, objs).items():
            noise = [*unstable.get(key, []), *echoes.get(key, [])]
            if any(p not in noise for p in paths):
                return True
        return False

    def probe(path: str) -> bool:
        return changes_something(_set(req.values, path, _perturb(_get(req.values, path))))

    scopes = crd_scope_table(base)
    echoes = values_echoes(base, req.values)
    findings: list[Finding] = []
    level = [p for p in leaf_paths(req.values) if "." not in p]
    # Sibling keys are probed concurrently: a render is a call into Go (or a helm process)
    # that releases the GIL, and charts that generate certificates take seconds per render.
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        while level:
            room = max_probes - result.probes
            if room <= 0:
                result.reason = f"stopped probing values keys after {max_probes} renders"
                break
            batch, level = level[:room], level[room:]
            result.probes += len(batch)
            deeper: list[str] = []
            for path, changed in zip(batch, pool.map(probe, batch), strict=True):
                current = _get(req.values, path)
                if not changed:
                    findings.append(
                        Finding(
                            "ignored-key",
                            "warning",
                            req.label,
                            req.urn,
                            path,
                            f"{req.label}: values key '{path}' is not read by the chart "
                            "(changing it alters no rendered object)",
                        )
                    )
                elif isinstance(current, dict) and current:
                    deeper += [f"{path}.{k}" for k in current]
            level = deeper + level
    return sorted(findings, key=lambda f: f.key)
