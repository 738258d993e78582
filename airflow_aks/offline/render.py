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

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml

HELM_CHART = "kubernetes:helm.sh/v4:Chart"
SECRET = "[secret]"
CACHE_ENV = "AIRFLOW_AKS_CHART_CACHE"
NO_SOURCE = "no chart source"
HOOK_ANNOTATION = "helm.sh/hook"
# Probing one values key costs one render; a chart's probes stop here (reported).
MAX_PROBES = 600

Level = Literal["error", "warning"]
Manifests = dict[str, str]
"""Template path (``<chart>/templates/x.yaml``, ``<chart>/crds/y.yaml``) -> rendered text."""


class RenderError(Exception):
    """The chart did not render; the message is Helm's."""


class Renderer(Protocol):
    """One loaded chart, rendered any number of times."""

    def render(self, values: Mapping[str, Any]) -> Manifests: ...

    def close(self) -> None: ...


class Helm(Protocol):
    """A real Helm implementation."""

    name: str

    def open(
        self, chart: Path, *, release: str, namespace: str, include_crds: bool
    ) -> Renderer: ...

    def pull(self, chart: str, *, repo: str | None, version: str, dest: Path) -> Path: ...


# ------------------------------------------------------------------ Helm implementations


class SdkHelm:
    """The Helm v4 SDK through helm-python-sdk (libhelm_c, Helm's Go SDK behind a C ABI)."""

    name = "helm-python-sdk"

    def __init__(self) -> None:
        import helm_python

        self._helm = helm_python
        self.name = f"helm-python-sdk {helm_python.__version__} (Helm SDK {self._sdk_version()})"

    def _sdk_version(self) -> str:
        try:
            return str(self._helm.helm_sdk_version())
        except Exception:  # pragma: no cover - version probe only
            return "?"

    def open(self, chart: Path, *, release: str, namespace: str, include_crds: bool) -> Renderer:
        helm = self._helm
        try:
            loaded = helm.Chart.load(chart)
        except helm.HelmError as exc:
            raise RenderError(str(exc)) from None
        return _SdkRenderer(helm, loaded, release, namespace, include_crds)

    def pull(self, chart: str, *, repo: str | None, version: str, dest: Path) -> Path:
        helm = self._helm
        dest.mkdir(parents=True, exist_ok=True)
        try:
            if chart.startswith("oci://"):
                helm.pull(chart, destination=dest, version=version)
            else:
                helm.pull(chart, repo_url=repo, destination=dest, version=version)
        except helm.HelmError as exc:
            raise RenderError(f"pull failed: {exc}") from None
        return dest / f"{chart.rstrip('/').rsplit('/', 1)[-1]}-{version}.tgz"


@dataclass
class _SdkRenderer:
    helm: Any
    chart: Any
    release: str
    namespace: str
    include_crds: bool

    def render(self, values: Mapping[str, Any]) -> Manifests:
        try:
            out = dict(
                self.chart.render(
                    dict(values), name=self.release, namespace=self.namespace, is_install=True
                )
            )
            if self.include_crds:
                out.update({c["filename"]: c["data"] for c in self.chart.crds})
        except self.helm.HelmError as exc:
            raise RenderError(str(exc)) from None
        return out

    def close(self) -> None:
        self.chart.close()


class BinaryHelm:
    """The ``helm`` command line (``helm template`` / ``helm pull``)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.name = f"helm binary ({path})"

    def open(self, chart: Path, *, release: str, namespace: str, include_crds: bool) -> Renderer:
        return _BinaryRenderer(self.path, chart, release, namespace, include_crds)

    def pull(self, chart: str, *, repo: str | None, version: str, dest: Path) -> Path:
        dest.mkdir(parents=True, exist_ok=True)
        argv = [self.path, "pull", chart, "--version", version, "--destination", str(dest)]
        if repo and not chart.startswith("oci://"):
            argv += ["--repo", repo]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode:
            raise RenderError(f"pull failed: {proc.stderr.strip()}")
        return dest / f"{chart.rstrip('/').rsplit('/', 1)[-1]}-{version}.tgz"


def template_argv(
    helm: str, chart: Path, values_file: Path, *, release: str, namespace: str, include_crds: bool
) -> list[str]:
    """``helm template`` as pulumi-kubernetes runs it: hooks off, CRDs unless skipped."""
    argv = [helm, "template", release, str(chart), "--namespace", namespace]
    argv += ["--values", str(values_file), "--no-hooks"]
    if include_crds:
        argv.append("--include-crds")
    return argv


_SOURCE = re.compile(r"^# Source: (.+)$", re.M)


def split_template_output(text: str) -> Manifests:
    """``helm template`` stdout -> {template path: text}, by its ``# Source:`` comments."""
    out: Manifests = {}
    for doc in re.split(r"^---\s*$", text, flags=re.M):
        m = _SOURCE.search(doc)
        if not m:
            continue
        src = m.group(1).strip()
        out[src] = (out[src] + "---\n" + doc) if src in out else doc
    return out


@dataclass
class _BinaryRenderer:
    helm: str
    chart: Path
    release: str
    namespace: str
    include_crds: bool

    def render(self, values: Mapping[str, Any]) -> Manifests:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(values, f)  # JSON is YAML
        try:
            argv = template_argv(
                self.helm,
                self.chart,
                Path(f.name),
                release=self.release,
                namespace=self.namespace,
                include_crds=self.include_crds,
            )
            proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        finally:
            os.unlink(f.name)
        if proc.returncode:
            raise RenderError(proc.stderr.strip() or f"helm exited {proc.returncode}")
        return split_template_output(proc.stdout)

    def close(self) -> None:
        return None


def find_helm() -> tuple[Helm | None, str]:
    """The Helm implementation to use, or None and why there is none."""
    path = shutil.which("helm")
    if path:
        return BinaryHelm(path), ""
    try:
        return SdkHelm(), ""
    except ImportError:
        return None, (
            "no Helm implementation: put the helm binary on PATH or install the extra "
            "'airflow-aks[render]' (helm-python-sdk)"
        )
    except Exception as exc:  # the native library failed to load
        return None, f"helm-python-sdk is installed but failed to load: {exc}"


# ------------------------------------------------------------------ which chart, from where


@dataclass(frozen=True)
class ChartRequest:
    """One Chart of the plan, as pulumi-kubernetes would render it."""

    urn: str
    resource_name: str
    chart: str
    version: str
    repo: str | None
    namespace: str
    release: str
    values: dict[str, Any]
    include_crds: bool
    provider: str | None = None
    unreadable: str = ""
    """Why the exact values cannot be known offline (e.g. ``valueYamlFiles`` assets)."""

    @property
    def label(self) -> str:
        return f"{self.chart} {self.version}".strip()

    @classmethod
    def from_resource(cls, r: Mapping[str, Any]) -> ChartRequest:
        inputs = r.get("inputs") or {}
        name = str(r.get("name", ""))
        repo = (inputs.get("repositoryOpts") or {}).get("repo")
        unreadable = ""
        if inputs.get("valueYamlFiles"):
            unreadable = "valueYamlFiles are assets the offline plan does not read"
        elif inputs.get("postRenderer"):
            unreadable = "a postRenderer runs a local command the plan does not run"
        return cls(
            urn=str(r.get("urn", "")),
            resource_name=name,
            chart=str(inputs.get("chart", "")),
            version=str(inputs.get("version", "")),
            repo=repo if isinstance(repo, str) else None,
            namespace=str(inputs.get("namespace") or "default"),
            release=str(inputs.get("name") or name),
            values=copy.deepcopy(inputs.get("values") or {}),
            include_crds=not inputs.get("skipCrds"),
            provider=r.get("provider"),
            unreadable=unreadable,
        )


def default_cache() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "airflow-aks" / "charts"


def repo_slug(repo: str | None, chart: str) -> str:
    """Cache sub-directory of a repository: ``https://helm.linkerd.io/edge`` ->
    ``helm.linkerd.io/edge``; an OCI chart's registry path likewise."""
    src = chart.rsplit("/", 1)[0] if chart.startswith("oci://") else (repo or "local")
    src = re.sub(r"^[a-z]+://", "", src).strip("/")
    return re.sub(r"[^A-Za-z0-9._/-]", "_", src)


def chart_basename(chart: str) -> str:
    return chart.rstrip("/").rsplit("/", 1)[-1]


def _chart_yaml_version(path: Path) -> str | None:
    try:
        meta = yaml.safe_load((path / "Chart.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return None
    return str(meta.get("version")) if isinstance(meta, dict) else None


def _archive_version(path: Path) -> str | None:
    try:
        with tarfile.open(path) as tar:
            for member in tar.getmembers():
                parts = member.name.split("/")
                if len(parts) == 2 and parts[1] == "Chart.yaml":
                    f = tar.extractfile(member)
                    meta = yaml.safe_load(f.read()) if f else {}
                    return str((meta or {}).get("version"))
    except (OSError, tarfile.TarError, yaml.YAMLError):
        return None
    return None


def locate(req: ChartRequest, chart_dirs: Sequence[Path], cache: Path) -> tuple[Path | None, str]:
    """Where the chart's source is, or None and what was looked at."""
    base = chart_basename(req.chart)
    local = Path(req.chart).expanduser()
    if not req.repo and not req.chart.startswith("oci://") and local.exists():
        return local, ""
    candidates: list[Path] = []
    for d in [*chart_dirs, cache / repo_slug(req.repo, req.chart)]:
        candidates += [d / f"{base}-{req.version}.tgz", d / f"{base}-{req.version}", d / base]
    wrong: list[str] = []
    for c in candidates:
        if c.is_file():
            v = _archive_version(c)
        elif (c / "Chart.yaml").is_file():
            v = _chart_yaml_version(c)
        else:
            continue
        if v == req.version or not req.version:
            return c, ""
        wrong.append(f"{c} is version {v}")
    where = ", ".join(str(d) for d in [*chart_dirs, cache / repo_slug(req.repo, req.chart)])
    msg = f"{NO_SOURCE}: no {base}-{req.version}.tgz, {base}-{req.version}/ or {base}/ in {where}"
    if wrong:
        msg += f" ({'; '.join(wrong)}, the plan pins {req.version})"
    return None, msg


# ------------------------------------------------------------------ manifests -> objects

# Cluster-scoped kinds of Kubernetes itself (everything else is namespaced unless a CRD in the
# same render says otherwise): kubectl api-resources --namespaced=false, Kubernetes 1.3x.
CLUSTER_SCOPED = {
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "APIService",
    "PriorityClass",
    "StorageClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "RuntimeClass",
    "IngressClass",
    "GatewayClass",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "CertificateSigningRequest",
    "ComponentStatus",
    "IPAddress",
    "ServiceCIDR",
    "DeviceClass",
}


@dataclass
class Rendered:
    """One object of a render."""

    template: str
    obj: dict[str, Any]

    @property
    def key(self) -> str:
        meta = self.obj.get("metadata") or {}
        ns = meta.get("namespace")
        name = meta.get("name", "?")
        return f"{self.obj.get('kind', '?')} {ns + '/' if ns else ''}{name}"


# Helm splits each template's output on this before anything parses it (releaseutil
# SplitManifests, helm.sh/helm pkg/releaseutil/manifest.go): "---" needs no newline after
# it, so cert-manager v1.21.1's rbac.yaml "---# Permission to ..." is a separator there.
_HELM_SEPARATOR = re.compile(r"(?:^|\s*\n)---\s*")


def _docs(text: str) -> Iterator[Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for part in _HELM_SEPARATOR.split(text):
        if part.strip():
            yield yaml.load(part, Loader=loader)


def parse_manifests(
    manifests: Manifests, namespace: str, crd_scopes: Mapping[str, Any] | None = None
) -> list[Rendered]:
    """Rendered templates -> objects as pulumi-kubernetes registers them (see module doc).

    ``crd_scopes`` (kind -> scope of CRDs rendered alongside) defaults to the CRDs found here.
    """
    objs: list[Rendered] = []
    for template in sorted(manifests):
        if not template.endswith((".yaml", ".yml", ".json")):
            continue  # NOTES.txt and other text
        try:
            docs = list(_docs(manifests[template]))
        except yaml.YAMLError as exc:
            raise RenderError(f"{template}: rendered YAML does not parse: {exc}") from None
        stack = [d for d in docs if isinstance(d, dict) and d]
        while stack:
            doc = stack.pop(0)
            if str(doc.get("kind", "")).endswith("List") and isinstance(doc.get("items"), list):
                stack = [i for i in doc["items"] if isinstance(i, dict)] + stack
                continue
            annotations = (doc.get("metadata") or {}).get("annotations") or {}
            if HOOK_ANNOTATION in annotations:
                continue  # hooks are not rendered by Chart v4
            objs.append(Rendered(template, doc))
    if crd_scopes is None:
        crd_scopes = crd_scope_table(objs)
    for o in objs:
        kind = str(o.obj.get("kind", ""))
        namespaced = kind not in CLUSTER_SCOPED and crd_scopes.get(kind) != "Cluster"
        meta = o.obj.setdefault("metadata", {})
        if isinstance(meta, dict) and namespaced and not meta.get("namespace"):
            meta["namespace"] = namespace
    return objs


def crd_scope_table(objs: Sequence[Rendered]) -> dict[str, Any]:
    """Kind -> ``spec.scope`` of every CustomResourceDefinition among ``objs``."""
    out: dict[str, Any] = {}
    for o in objs:
        if o.obj.get("kind") == "CustomResourceDefinition":
            spec = o.obj.get("spec") or {}
            out[str((spec.get("names") or {}).get("kind"))] = spec.get("scope")
    return out


def type_token(obj: Mapping[str, Any]) -> str:
    """``apps/v1`` + ``Deployment`` -> ``kubernetes:apps/v1:Deployment``; ``v1`` -> core/v1."""
    api = str(obj.get("apiVersion", ""))
    if "/" not in api:
        api = f"core/{api}"
    return f"kubernetes:{api}:{obj.get('kind', '')}"


def mask_secret(obj: dict[str, Any]) -> dict[str, Any]:
    """A Secret's data and stringData values -> ``"[secret]"`` (pulumi-kubernetes marks them
    secret); keys stay visible."""
    if obj.get("apiVersion") == "v1" and obj.get("kind") == "Secret":
        obj = dict(obj)
        for k in ("data", "stringData"):
            if isinstance(obj.get(k), dict):
                obj[k] = dict.fromkeys(obj[k], SECRET)
    return obj


def child_resources(req: ChartRequest, objs: Sequence[Rendered]) -> list[dict[str, Any]]:
    """Rendered objects as plan-export resources under the Chart."""
    parent_types = req.urn.split("::")[2] if req.urn.count("::") >= 3 else ""
    prefix = req.urn.rsplit("::", 2)[0] if req.urn.count("::") >= 3 else ""
    out = []
    for o in objs:
        meta = o.obj.get("metadata") or {}
        ns, name = meta.get("namespace"), str(meta.get("name", ""))
        rname = f"{req.resource_name}:{ns + '/' if ns else ''}{name}"
        typ = type_token(o.obj)
        out.append(
            {
                "urn": f"{prefix}::{parent_types}${typ}::{rname}",
                "type": typ,
                "name": rname,
                "custom": True,
                "parent": req.urn,
                "provider": req.provider,
                "dependencies": [req.urn],
                "propertyDependencies": {},
                "protect": False,
                "inputs": mask_secret(o.obj),
                "renderedFrom": {"chart": req.urn, "template": o.template},
            }
        )
    return out


# ------------------------------------------------------------------ findings


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


# ------------------------------------------------------------------ the plan hook


@dataclass
class Options:
    enabled: bool = True
    chart_dirs: tuple[Path, ...] = ()
    cache: Path | None = None
    pull: bool = False
    probe_keys: bool = True


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
        default=True,
        help="render every helm.v4.Chart with its values (default: on where charts are found)",
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
        enabled=bool(getattr(args, "render", True)),
        chart_dirs=tuple(Path(d) for d in getattr(args, "chart_dir", []) or []),
        cache=Path(args.chart_cache) if getattr(args, "chart_cache", None) else None,
        pull=bool(getattr(args, "pull", False)),
        probe_keys=bool(getattr(args, "probe_keys", True)),
    )
