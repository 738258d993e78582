"""Chart rendering for the offline plan: what each ``helm.v4.Chart`` really puts in the cluster.

Every ``kubernetes:helm.sh/v4:Chart`` of a plan export is rendered with its exact values by a
real Helm implementation -- the ``helm`` binary when it is on ``PATH``, else the Helm v4 SDK
through ``helm-python-sdk`` (extra ``airflow-aks[render]``). Nothing here interprets a
template. The chart comes from a local path (the Chart's ``chart`` input), a ``--chart-dir``,
or the chart cache, which ``--pull`` fills from the chart's repository (or OCI registry)
through the same Helm implementation.

Rendered objects are added to the export as the Chart's children, named and typed as
pulumi-kubernetes registers them, so the policy pack evaluates them like any other
Kubernetes object. What pulumi-kubernetes does and we mirror (provider/pkg/provider/helm/v4/
chart.go and yaml/v2/yaml.go, pulumi/pulumi-kubernetes, read 2026-12): release name =
``name`` input or the Chart's resource name; CRDs included unless ``skipCrds``; hooks
dropped (``DisableHooks``); objects without a namespace get the Chart's namespace when
their kind is namespaced; child name ``<chart name>:<namespace>/<name>``; a Secret's
``data``/``stringData`` are secret (``"[secret]"`` here).

Findings, each naming the chart and the key:

- ``render-failed``: the chart does not render with these values (Helm's own message);
- ``non-deterministic``: two renders with the same values differ (a diff on every ``up``);
- ``ignored-key``: a values key whose change alters no rendered object.

Known limits: ``lookup`` returns nothing and ``.Capabilities`` are Helm's defaults (no
cluster); values the cloud computes are the string ``"[unknown]"``, secrets ``"[secret]"``.
"""

from .base import (
    CACHE_ENV,
    HELM_CHART,
    HOOK_ANNOTATION,
    MAX_PROBES,
    NO_SOURCE,
    SECRET,
    Helm,
    Level,
    Manifests,
    Renderer,
    RenderError,
)
from .findings import (
    ChartResult,
    Finding,
    analyse,
    diff_paths,
    leaf_paths,
    object_diffs,
    values_echoes,
)
from .helm import BinaryHelm, SdkHelm, find_helm, split_template_output, template_argv
from .hook import Options, Report, add_arguments, attach, format_report, options_from_args
from .manifests import (
    CLUSTER_SCOPED,
    Rendered,
    child_resources,
    crd_scope_table,
    mask_secret,
    parse_manifests,
    type_token,
)
from .source import ChartRequest, chart_basename, default_cache, locate, repo_slug

__all__ = [
    "CACHE_ENV",
    "CLUSTER_SCOPED",
    "HELM_CHART",
    "HOOK_ANNOTATION",
    "MAX_PROBES",
    "NO_SOURCE",
    "SECRET",
    "BinaryHelm",
    "ChartRequest",
    "ChartResult",
    "Finding",
    "Helm",
    "Level",
    "Manifests",
    "Options",
    "RenderError",
    "Rendered",
    "Renderer",
    "Report",
    "SdkHelm",
    "add_arguments",
    "analyse",
    "attach",
    "chart_basename",
    "child_resources",
    "crd_scope_table",
    "default_cache",
    "diff_paths",
    "find_helm",
    "format_report",
    "leaf_paths",
    "locate",
    "mask_secret",
    "object_diffs",
    "options_from_args",
    "parse_manifests",
    "repo_slug",
    "split_template_output",
    "template_argv",
    "type_token",
    "values_echoes",
]
