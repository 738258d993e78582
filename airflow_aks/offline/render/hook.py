"""The plan hook: options, the report, ``attach`` to a plan export and the CLI arguments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import CACHE_ENV, HELM_CHART, NO_SOURCE, Helm, RenderError
from .findings import ChartResult, Finding, analyse
from .helm import find_helm
from .manifests import child_resources
from .source import ChartRequest, default_cache, locate, repo_slug


@dataclass
class Options:
    enabled: bool = True
    chart_dirs: tuple[Path, ...] = ()
    cache: Path | None = None
    pull: bool = False
    probe_keys: bool = True
    required: bool = False
    """Rendering was asked for (``--render`` given, or ``--pull``): a chart left unrendered
    fails the plan instead of passing with the pack blind to its objects."""


@dataclass
class Report:
    helm: str
    results: list[ChartResult]
    reason: str = ""
    """Why nothing was rendered at all (rendering off, no Helm implementation)."""

    @property
    def failed(self) -> list[ChartResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def unrendered(self) -> list[ChartResult]:
        return [r for r in self.results if r.status == "not-rendered"]

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "helm": self.helm,
            "reason": self.reason,
            "rendered": sum(r.status == "rendered" for r in self.results),
            "notRendered": sum(r.status == "not-rendered" for r in self.results),
            "failed": len(self.failed),
            "charts": [r.to_dict() for r in self.results],
        }


def attach(
    export: dict[str, Any],
    options: Options | None = None,
    *,
    helm_factory: Callable[[], tuple[Helm | None, str]] = find_helm,
) -> Report:
    """Render every Chart of ``export``; rendered objects are appended to its resources and
    the report is stored under ``export["charts"]``."""
    options = options or Options()
    charts = [
        ChartRequest.from_resource(r)
        for r in export.get("resources", [])
        if r["type"] == HELM_CHART
    ]
    cache = options.cache or default_cache()

    def none_rendered(reason: str, helm_name: str = "") -> Report:
        results = [ChartResult(c.urn, c.label, "not-rendered", reason) for c in charts]
        report = Report(helm_name, results, reason)
        export["charts"] = report.to_dict()
        return report

    if not charts:
        return none_rendered("the plan has no helm.v4.Chart")
    if not options.enabled:
        return none_rendered("rendering is off (--no-render)")
    found = {req.urn: locate(req, options.chart_dirs, cache) for req in charts}
    pullable = options.pull and any(r.repo or r.chart.startswith("oci://") for r in charts)
    if not pullable and all(path is None for path, _ in found.values()):
        # No source anywhere: say where each was looked for (Helm itself is not loaded).
        results = [
            ChartResult(r.urn, r.label, "not-rendered", r.unreadable or found[r.urn][1])
            for r in charts
        ]
        report = Report("", results)
        export["charts"] = report.to_dict()
        return report
    helm, why = helm_factory()
    if helm is None:
        return none_rendered(why)
    results: list[ChartResult] = []
    added: list[dict[str, Any]] = []
    for req in charts:
        if req.unreadable:
            results.append(ChartResult(req.urn, req.label, "not-rendered", req.unreadable))
            continue
        path, where = found[req.urn]
        if path is None and options.pull and (req.repo or req.chart.startswith("oci://")):
            try:
                helm.pull(
                    req.chart,
                    repo=req.repo,
                    version=req.version,
                    dest=cache / repo_slug(req.repo, req.chart),
                )
            except RenderError as exc:
                where = f"{where}; {exc}"
            path, _ = locate(req, options.chart_dirs, cache)
        if path is None:
            results.append(ChartResult(req.urn, req.label, "not-rendered", where))
            continue
        try:
            renderer = helm.open(
                path, release=req.release, namespace=req.namespace, include_crds=req.include_crds
            )
        except RenderError as exc:
            res = ChartResult(req.urn, req.label, "failed", str(exc), str(path))
            res.findings.append(
                Finding("render-failed", "error", req.label, req.urn, "", f"{req.label}: {exc}")
            )
            results.append(res)
            continue
        try:
            res, objs = analyse(req, renderer, probe_keys=options.probe_keys)
        finally:
            renderer.close()
        res.source = str(path)
        results.append(res)
        added += child_resources(req, objs)
    export["resources"] = list(export["resources"]) + added
    report = Report(helm.name, results)
    export["charts"] = report.to_dict()
    return report


def format_report(report: Report) -> str:
    """The plan's chart section."""
    rendered = [r for r in report.results if r.status == "rendered"]
    if not report.results:
        return "Charts: none in this plan."
    lines = []
    if not rendered and not report.failed:
        lines.append(
            f"Charts NOT rendered ({len(report.results)}): rendered objects are not in this "
            "plan and the policy pack did not see them."
        )
        if report.reason:
            lines.append(f"  why: {report.reason}")
    else:
        lines.append(
            f"Charts rendered with {report.helm}: {len(rendered)} rendered, "
            f"{len(report.failed)} failed, "
            f"{len(report.results) - len(rendered) - len(report.failed)} not rendered"
        )
    for r in report.results:
        if r.status == "rendered":
            lines.append(f"  rendered      {r.chart}: {r.objects} objects ({r.probes} key probes)")
        elif r.status == "failed":
            lines.append(f"  FAILED        {r.chart}: {r.reason}")
        elif not report.reason:
            lines.append(f"  not rendered  {r.chart}: {r.reason}")
        if r.status == "rendered" and r.reason:
            lines.append(f"                {r.reason}")
    for f in report.findings:
        if f.kind == "render-failed":
            continue
        lines.append(f"  {f.level.upper():<8} {f.kind}  {f.message}")
    if not rendered and not report.failed and report.reason and report.results:
        lines.append("  charts: " + ", ".join(r.chart for r in report.results))
    if any(r.status == "not-rendered" and r.reason.startswith(NO_SOURCE) for r in report.results):
        lines.append(
            "  to render them: run once online with --pull (fills the chart cache), or point "
            f"--chart-dir at unpacked charts / .tgz archives (cache: ${CACHE_ENV})"
        )
    return "\n".join(lines)


def add_arguments(p: Any) -> None:
    """``plan`` options for rendering."""
    import argparse

    p.add_argument(
        "--render",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="render every helm.v4.Chart with its values (default: on where charts are "
        "found; given explicitly, or with --pull, a chart not rendered fails the plan)",
    )
    p.add_argument(
        "--chart-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="look for charts here first (<chart>/, <chart>-<version>/ or <chart>-<version>.tgz)",
    )
    p.add_argument(
        "--chart-cache",
        metavar="DIR",
        help=f"chart cache (default: ${CACHE_ENV} or ~/.cache/airflow-aks/charts)",
    )
    p.add_argument(
        "--pull",
        action="store_true",
        help="pull charts missing from the cache from their repository (needs network)",
    )
    p.add_argument(
        "--no-key-probes",
        dest="probe_keys",
        action="store_false",
        help="skip the ignored-values-key probes (one render per key)",
    )


def options_from_args(args: Any) -> Options:
    return Options(
        enabled=getattr(args, "render", None) is not False,
        chart_dirs=tuple(Path(d) for d in getattr(args, "chart_dir", []) or []),
        cache=Path(args.chart_cache) if getattr(args, "chart_cache", None) else None,
        pull=bool(getattr(args, "pull", False)),
        probe_keys=bool(getattr(args, "probe_keys", True)),
        required=getattr(args, "render", None) is True or bool(getattr(args, "pull", False)),
    )
