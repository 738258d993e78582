"""Rendered manifests -> Kubernetes objects -> plan children, named as pulumi-kubernetes does."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from .base import HOOK_ANNOTATION, SECRET, Manifests, RenderError
from .source import ChartRequest

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
