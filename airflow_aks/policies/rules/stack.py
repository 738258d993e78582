"""Stack-level rules: properties that only hold across resources.

A federated credential is only safe when its subject names a ServiceAccount the stack
itself creates, and that ServiceAccount announces the same identity's client id; a
subject pointing at a ServiceAccount nobody manages is an open invitation to whoever
creates it first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._core import (
    FEDERATED_CREDENTIAL,
    HELM_TYPES,
    KV_KEY,
    MANDATORY,
    PG_SERVER,
    SERVICE_ACCOUNT,
    STORAGE_ACCOUNT,
    UNKNOWN,
    USER_ASSIGNED_IDENTITY,
    VAULT,
    Context,
    Rule,
    as_dict,
    dependency_urns,
    depends_on,
    get,
    is_false,
    stack_rule,
    walk,
)

RULES: list[Rule] = []
CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"


@dataclass(frozen=True)
class ServiceAccountRef:
    """A ServiceAccount the stack creates: a resource or one rendered by a Helm chart."""

    namespace: str
    name: str
    annotations: Mapping[str, Any]
    resource: Mapping[str, Any]
    """The ServiceAccount resource, or the chart that renders it."""


def service_accounts(resources: list[dict[str, Any]]) -> dict[tuple[str, str], ServiceAccountRef]:
    """Every ServiceAccount of the stack by ``(namespace, name)``, including the ones a
    chart creates from a recognisable ``serviceAccount: {create, name, annotations}`` value."""
    out: dict[tuple[str, str], ServiceAccountRef] = {}
    for r in resources:
        t, props = r.get("type"), as_dict(r.get("inputs"))
        if t == SERVICE_ACCOUNT:
            ns = str(get(props, "metadata.namespace") or "default")
            name = str(get(props, "metadata.name") or r.get("name"))
            ann = as_dict(get(props, "metadata.annotations"))
            out[(ns, name)] = ServiceAccountRef(ns, name, ann, r)
        elif t in HELM_TYPES:
            ns = str(props.get("namespace") or "default")
            for _, key, value in walk(props.get("values")):
                sa = as_dict(value)
                if key == "serviceAccount" and isinstance(sa.get("name"), str):
                    if is_false(sa.get("create")):
                        continue
                    ref = ServiceAccountRef(ns, sa["name"], as_dict(sa.get("annotations")), r)
                    out.setdefault((ns, sa["name"]), ref)
    return out


def parse_subject(subject: Any) -> tuple[str, str] | None:
    parts = str(subject).split(":")
    if len(parts) == 4 and parts[:2] == ["system", "serviceaccount"]:
        return parts[2], parts[3]
    return None


@dataclass(frozen=True)
class Identities:
    """The stack's user-assigned identities, indexed once per rule run: a lookup per
    credential must not scan every resource (that made the rule quadratic in domains)."""

    by_urn: Mapping[str, list[dict[str, Any]]]
    by_name: Mapping[str, list[dict[str, Any]]]
    """By ``resourceName`` input and by resource name, each list in plan order."""


def identities(resources: list[dict[str, Any]]) -> Identities:
    by_urn: dict[str, list[dict[str, Any]]] = {}
    by_name: dict[str, list[dict[str, Any]]] = {}
    for r in resources:
        if r.get("type") != USER_ASSIGNED_IDENTITY:
            continue
        by_urn.setdefault(str(r.get("urn")), []).append(r)
        for key in dict.fromkeys((get(r.get("inputs"), "resourceName"), r.get("name"))):
            if isinstance(key, str):
                by_name.setdefault(key, []).append(r)
    return Identities(by_urn, by_name)


def identity_of(cred: Mapping[str, Any], ids: Identities) -> dict[str, Any] | None:
    """The user-assigned identity a credential hangs off: by ``resourceName`` or dependency."""
    deps = dependency_urns(cred)
    by_dep = [i for urn in deps for i in ids.by_urn.get(urn, ())]
    wanted = get(cred.get("inputs"), "resourceName")
    if isinstance(wanted, str) and wanted not in ("", UNKNOWN):
        by_name = ids.by_name.get(wanted, [])
        both = [i for i in by_name if str(i.get("urn")) in deps]
        if both or by_name:
            return (both or by_name)[0]
    return by_dep[0] if len(by_dep) == 1 else None


def _client_id(identity: Mapping[str, Any]) -> Any:
    return get(identity.get("outputs"), "clientId") or get(identity.get("inputs"), "clientId")


def _creds(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in resources if r.get("type") == FEDERATED_CREDENTIAL]


@stack_rule(
    RULES,
    name="stack-federated-subject-has-serviceaccount",
    level=MANDATORY,
    mirrors="AKS workload identity (subject <-> ServiceAccount)",
    description="""Every federated credential's subject system:serviceaccount:<ns>:<sa> must
    name a ServiceAccount this stack creates (directly or through a chart's serviceAccount
    values): otherwise whoever can create that ServiceAccount later inherits the Azure
    identity.""",
)
def subject_has_serviceaccount(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    sas = service_accounts(resources)
    sa_urns = {str(s.resource.get("urn")) for s in sas.values()}
    out = []
    for cred in _creds(resources):
        subject = get(cred.get("inputs"), "subject")
        urn = str(cred.get("urn"))
        if subject == UNKNOWN:
            if not dependency_urns(cred) & sa_urns:
                out.append((urn, "subject is unknown and not derived from a ServiceAccount"))
            continue
        key = parse_subject(subject)
        if key is None:
            out.append((urn, f"subject {subject!r} does not name a ServiceAccount"))
        elif key not in sas:
            out.append(
                (urn, f"subject {subject!r}: the stack creates no ServiceAccount {key[0]}/{key[1]}")
            )
    return out


@stack_rule(
    RULES,
    name="stack-serviceaccount-client-id",
    level=MANDATORY,
    mirrors="AKS workload identity (azure.workload.identity/client-id)",
    description="""The ServiceAccount a federated credential trusts must carry the annotation
    azure.workload.identity/client-id with that same identity's clientId (equal, or derived
    from the identity output, i.e. the ServiceAccount depends on the identity): a mismatch
    makes pods fail token exchange or, worse, use another identity.""",
)
def serviceaccount_client_id(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    sas = service_accounts(resources)
    ids = identities(resources)
    out = []
    for cred in _creds(resources):
        key = parse_subject(get(cred.get("inputs"), "subject"))
        sa = sas.get(key) if key else None
        if sa is None:
            continue  # reported by stack-federated-subject-has-serviceaccount
        sa_urn = str(sa.resource.get("urn"))
        where = f"ServiceAccount {sa.namespace}/{sa.name}"
        identity = identity_of(cred, ids)
        if identity is None:
            out.append((str(cred.get("urn")), "credential hangs off no identity of this stack"))
            continue
        annotation = sa.annotations.get(CLIENT_ID_ANNOTATION)
        client_id = _client_id(identity)
        derived = depends_on(sa.resource, str(identity.get("urn")))
        if annotation in (None, ""):
            out.append((sa_urn, f"{where} lacks the {CLIENT_ID_ANNOTATION} annotation"))
        elif annotation != UNKNOWN and client_id not in (None, "", UNKNOWN):
            if annotation != client_id:
                out.append(
                    (
                        sa_urn,
                        f"{where}: {CLIENT_ID_ANNOTATION} {annotation!r} is not the clientId "
                        f"of {identity.get('name')}",
                    )
                )
        elif not derived:
            out.append(
                (
                    sa_urn,
                    f"{where}: {CLIENT_ID_ANNOTATION} is not derived from identity "
                    f"{identity.get('name')} (no dependency on it)",
                )
            )
    return out


@stack_rule(
    RULES,
    name="policy-exception-not-expired",
    level=MANDATORY,
    mirrors="policies/exceptions/<stack>.yaml review process",
    description="""Policy exceptions carry an expiry date; once it has passed the exception
    no longer applies and is itself a violation, so temporary waivers cannot quietly
    become permanent.""",
)
def exception_not_expired(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    return [
        (
            e.urn,
            f"exception for {e.rule} on {e.urn} expired on {e.expires.isoformat()} "
            f"(approved by {e.approved_by}: {e.reason})",
        )
        for e in ctx.exceptions
        if e.expires < ctx.today
    ]


# Resources whose deletion loses data that no redeploy brings back.
STATEFUL = {
    VAULT: "the Key Vault (every Airflow secret)",
    KV_KEY: "a Key Vault key",
    PG_SERVER: "the metadata database",
    STORAGE_ACCOUNT: "the task-log storage",
}


@stack_rule(
    RULES,
    name="stack-protect-stateful-in-prod",
    level=MANDATORY,
    mirrors="Pulumi resource option protect; Azure Well-Architected (resource locks)",
    description="""On production stacks the Key Vault (and its keys), the PostgreSQL server
    and the log storage account must be created with protect: true, so a refactor that
    renames or drops them makes `pulumi up` fail instead of deleting the data. Dev stacks
    stay unprotected so they can be torn down.""",
)
def protect_stateful_in_prod(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    if not ctx.production:
        return []
    return [
        (
            str(r.get("urn")),
            f"{STATEFUL[str(r.get('type'))]} is not protected on a production stack; fix: "
            "create it with ResourceOptions(protect=True) (the component's protect arg)",
        )
        for r in resources
        if r.get("type") in STATEFUL and r.get("protect") is not True
    ]
