"""What Azure and Kubernetes will validate, checked at the config boundary instead.

A value the mocks accept and the cloud refuses fails a real ``pulumi up`` minutes in (or,
worse, silently does less). Each check below is a pure function returning the problem in
words (or None) and cites where the rule was read (all read 2026-12-07):

- Kubernetes names: "Object Names and IDs" (kubernetes.io/docs/concepts/overview/
  working-with-objects/names) and k8s.io/apimachinery ``validation.IsDNS1123Label`` /
  ``IsDNS1123Subdomain`` / ``IsQualifiedName`` / ``IsValidLabelValue`` (DNS-1123 label: at
  most 63 lower-case alphanumerics or '-', starting and ending alphanumeric; subdomain: such
  labels joined by '.', at most 253; qualified name / label value: at most 63 of
  ``[-A-Za-z0-9_.]`` starting and ending alphanumeric, a label value may be empty; a label
  key may carry a DNS-subdomain prefix and '/').
- Namespaces: Kubernetes "Namespaces" (initial namespaces default, kube-node-lease,
  kube-public, kube-system; the ``kube-`` prefix is the system's) plus the namespaces this
  platform installs into (mesh, cert-manager, Flux, GPU plugin, AKS add-ons).
- Taints: effect one of NoSchedule, PreferNoSchedule, NoExecute (Kubernetes "Taints and
  Tolerations"); key and value follow the label syntax.
- Azure tags: at most 50 per resource, name at most 512 characters, value at most 256,
  names may not contain ``< > % & \\ ? /`` and are case-insensitive (Azure "Use tags to
  organize your Azure resources", Limitations, as read in MicrosoftDocs/azure-docs commit
  f2953db and the @azure/arm-* ``tags`` property docs).
- Azure locations: the dated table :data:`AZURE_LOCATIONS`.
- Spot: ``spotMaxPrice`` is -1 or a decimal greater than zero with at most five decimals
  (AKS "Add an Azure Spot node pool", Limitations; ManagedClusterAgentPoolProfileProperties
  .SpotMaxPrice API doc).
- Git branches: ``git check-ref-format`` rules (no component starting with '.' or ending
  '.lock', no '..', no control characters, space, ``~ ^ : ? * [ \\``, no '@{', not
  starting or ending with '/', no '//', not ending '.', not '@'; ``--branch`` also refuses
  a leading '-'). A branch is also written into generated GitHub workflows, so ``${{``
  (an Actions expression) is refused too.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterable, Mapping

# ----------------------------------------------------------------------------- Kubernetes

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def dns_label_problem(value: str, what: str = "name") -> str | None:
    """A DNS-1123 label (namespace, most object names)."""
    if len(value) > 63:
        return f"{what} {value!r} is longer than 63 characters"
    if not _DNS_LABEL.match(value):
        return (
            f"{what} {value!r} must be lower-case letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return None


def dns_subdomain_problem(value: str, what: str = "name") -> str | None:
    if len(value) > 253:
        return f"{what} {value!r} is longer than 253 characters"
    if not all(_DNS_LABEL.match(p) and len(p) <= 63 for p in value.split(".")):
        return (
            f"{what} {value!r} must be DNS labels (lower-case letters, digits, '-') joined by '.'"
        )
    return None


def label_key_problem(key: str) -> str | None:
    prefix, sep, name = key.rpartition("/")
    if sep and (not prefix or dns_subdomain_problem(prefix)):
        return f"label key {key!r}: the prefix before '/' must be a DNS subdomain"
    if not name or len(name) > 63 or not _QUALIFIED.match(name):
        return (
            f"label key {key!r}: the name must be 1-63 letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    return None


def label_value_problem(value: str) -> str | None:
    if value == "":
        return None
    if len(value) > 63 or not _QUALIFIED.match(value):
        return (
            f"label value {value!r} must be at most 63 letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    return None


def label_problems(labels: Mapping[str, str]) -> list[str]:
    out: list[str] = []
    for k, v in labels.items():
        if p := label_key_problem(k):
            out.append(p)
        if p := label_value_problem(v):
            out.append(f"{k}: {p}")
    return out


TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def taint_problem(taint: str) -> str | None:
    """``key=value:Effect`` (AKS node taints), checked as Kubernetes will."""
    kv, sep, effect = taint.rpartition(":")
    key, eq, value = kv.partition("=")
    if not sep or not eq:
        return f"taint {taint!r} must look like key=value:NoSchedule"
    if effect not in TAINT_EFFECTS:
        return f"taint {taint!r}: the effect must be one of {', '.join(TAINT_EFFECTS)}"
    return label_key_problem(key) or label_value_problem(value)


# Namespaces Kubernetes starts with, and any kube-* (the system's).
KUBERNETES_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
# Namespaces this platform or AKS install into (sources: components/mesh/{linkerd,kuma}.py,
# components/gitops.py flux-system, components/gpu.py, components/entrance.py
# aks-istio-system; AKS add-ons: gatekeeper-system, app-routing-system, aks-command,
# calico-system, tigera-operator).
PLATFORM_NAMESPACES = KUBERNETES_NAMESPACES | frozenset(
    {
        "linkerd",
        "linkerd-viz",
        "linkerd-cni",
        "cert-manager",
        "kuma-system",
        "flux-system",
        "gatekeeper-system",
        "app-routing-system",
        "aks-istio-system",
        "aks-command",
        "calico-system",
        "tigera-operator",
        "gpu-resources",
    }
)


def namespace_problem(value: str) -> str | None:
    """A namespace this stack may create and own."""
    if problem := dns_label_problem(value, "namespace"):
        return problem
    if value in PLATFORM_NAMESPACES or value.startswith("kube-"):
        return (
            f"namespace {value!r} belongs to Kubernetes or the platform (its default-deny "
            "network policy and system pods are there); choose another"
        )
    return None


# ----------------------------------------------------------------------------- Azure

MAX_TAGS = 50
_TAG_FORBIDDEN = set("<>%&\\?/")


def tag_problems(tags: Mapping[str, str], added: Iterable[str] = ()) -> list[str]:
    """Azure tag limits for ``tags`` plus the tag names the platform adds (``added``)."""
    out: list[str] = []
    seen: dict[str, str] = {}
    for k, v in tags.items():
        if (other := seen.setdefault(k.lower(), k)) != k:
            out.append(f"tag names {other!r} and {k!r} are the same to Azure (case-insensitive)")
        if not k.strip():
            out.append("a tag name must not be empty")
        if bad := sorted(set(k) & _TAG_FORBIDDEN):
            out.append(f"tag name {k!r} contains {' '.join(bad)} (Azure refuses < > % & \\ ? /)")
        if len(k) > 512:
            out.append(f"tag name {k[:20]!r}... is longer than 512 characters")
        if len(v) > 256:
            out.append(f"tag {k!r}: the value is longer than 256 characters")
    total = len({k.lower() for k in tags} | {a.lower() for a in added})
    if total > MAX_TAGS:
        out.append(
            f"{total} tags per resource with the platform's own; Azure allows at most {MAX_TAGS}"
        )
    return out


# Azure region names. Sources (read 2026-12-07): `az account list-locations` table in
# labdocx/beta-scripts azure-cli/list-of-azure-regions.md (commit 912841be), and the region
# pairs / regions without a pair of learn.microsoft.com/azure/reliability/
# cross-region-replication-azure (components/database.py, checked 2026-11-23). A region
# opened since is missing: add it here with its source.
AZURE_LOCATIONS = frozenset(
    {
        "australiacentral",
        "australiacentral2",
        "australiaeast",
        "australiasoutheast",
        "brazilsouth",
        "canadacentral",
        "canadaeast",
        "centralindia",
        "centralus",
        "eastasia",
        "eastus",
        "eastus2",
        "francecentral",
        "francesouth",
        "germanynorth",
        "germanywestcentral",
        "israelcentral",
        "italynorth",
        "japaneast",
        "japanwest",
        "koreacentral",
        "koreasouth",
        "mexicocentral",
        "newzealandnorth",
        "northcentralus",
        "northeurope",
        "norwayeast",
        "norwaywest",
        "polandcentral",
        "qatarcentral",
        "southafricanorth",
        "southafricawest",
        "southcentralus",
        "southeastasia",
        "southindia",
        "spaincentral",
        "swedencentral",
        "swedensouth",
        "switzerlandnorth",
        "switzerlandwest",
        "uaecentral",
        "uaenorth",
        "uksouth",
        "ukwest",
        "westcentralus",
        "westeurope",
        "westindia",
        "westus",
        "westus2",
        "westus3",
    }
)


def location_problem(value: str) -> str | None:
    if value in AZURE_LOCATIONS:
        return None
    near = difflib.get_close_matches(value.lower().replace(" ", ""), sorted(AZURE_LOCATIONS), 1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    return f"{value!r} is not an Azure region name (table of 2026-12-07 in config/kinds.py){hint}"


_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def guid_problem(value: str, what: str = "object id") -> str | None:
    """Entra tenant and object ids are GUIDs (8-4-4-4-12 hexadecimal digits)."""
    if _GUID.match(value):
        return None
    return f"{value!r} is not an Entra {what} (a GUID like 7f3c2a9e-1b4d-4c8e-9f0a-2d6e5b8c1a47)"


def ip_or_cidr_problem(value: str) -> str | None:
    """Key Vault / storage firewall rules: an IPv4 address or an IPv4 CIDR block."""
    try:
        ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        return f"{value!r} is not an IPv4 address or CIDR block (e.g. 203.0.113.0/24)"
    return None


def spot_price_problem(value: float) -> str | None:
    if value == -1:
        return None
    if value <= 0:
        return f"{value} is neither -1 (pay up to the on-demand price) nor a price above 0"
    if round(value, 5) != value:
        return f"{value}: AKS takes at most five decimals"
    return None


# ----------------------------------------------------------------------------- Git

_REF_BAD = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def branch_problem(value: str) -> str | None:
    """A branch name git (``check-ref-format --branch``) and a workflow accept."""
    if "${{" in value:
        return f"branch {value!r} contains '${{{{', a GitHub Actions expression"
    reasons = [
        (bool(_REF_BAD.search(value)), "a space, control character or one of ~ ^ : ? * [ \\"),
        (".." in value or "@{" in value, "'..' or '@{'"),
        (
            value.startswith(("-", "/")) or value.endswith(("/", ".")),
            "a leading '-' or '/', or a trailing '/' or '.'",
        ),
        ("//" in value or value == "@" or not value, "an empty component or '@' alone"),
        (
            any(p.startswith(".") or p.endswith(".lock") for p in value.split("/")),
            "a component starting with '.' or ending with '.lock'",
        ),
    ]
    for bad, what in reasons:
        if bad:
            return f"branch {value!r} is not a git branch name: it has {what}"
    return None


# ----------------------------------------------------------------------------- quantities

_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")
_FACTORS = {
    None: 1.0,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
}


def quantity(value: str) -> float:
    """A Kubernetes quantity (``100m``, ``1Gi``) as a number; ValueError if not one."""
    m = _QUANTITY.match(value)
    if not m:
        raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 500m, 2, 1Gi)")
    return float(m.group(1)) * _FACTORS[m.group(2)]


# ----------------------------------------------------------------------------- graphs


def cycle(depends_on: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A dependency loop (``[a, b, a]``) among known names, or None; unknown names ignored."""
    done: set[str] = set()
    for start in sorted(depends_on):
        path: list[str] = []
        stack: list[tuple[str, list[str]]] = [(start, sorted(depends_on[start]))]
        on_path = {start}
        path.append(start)
        while stack:
            node, todo = stack[-1]
            nxt = next((d for d in todo if d in depends_on and d not in done), None)
            if nxt is None:
                stack.pop()
                done.add(node)
                on_path.discard(path.pop())
                continue
            todo.remove(nxt)
            if nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            stack.append((nxt, sorted(depends_on[nxt])))
            on_path.add(nxt)
            path.append(nxt)
    return None
