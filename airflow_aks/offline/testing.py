"""Test a Pulumi program that uses airflow-aks components, offline, in a few lines.

The project's own plan engine (:mod:`airflow_aks.offline.plan`), offered to consumers::

    from airflow_aks.offline.testing import run_program

    def test_my_stack():
        plan = run_program(my_program.main, project="analytics", stack="test",
                           config={"analytics:clusterStack": "org/airflow-aks/dev"},
                           stack_references={"org/airflow-aks/dev": PLATFORM_OUTPUTS})
        chart = plan.one("kubernetes:helm.sh/v4:Chart")
        assert chart.inputs["namespace"] == "analytics"
        assert plan.policy().mandatory == 0

What it answers that hand-written mocks (as in Pulumi's testing guide) usually do not, and
the components need:

- **ARM ids** for every Azure type the components create, rendered from the inputs
  (``/subscriptions/<sub>/resourceGroups/<rg>/providers/...``): role-assignment scopes
  are checked to sit on a resource, so ``<name>_id`` style ids fail them.
- **ARM output shapes** where they differ from the input (a ManagedCluster's
  ``identity.userAssignedIdentities`` is a list going in and a map coming out).
- **Cloud-computed values** (OIDC issuer URL, identity client/principal ids, tenant, vault
  URI, FQDNs): ``computed="fake"`` (default) answers them with deterministic, obviously
  fake values, so ``apply`` callbacks run and a ServiceAccount's client-id annotation can
  be asserted; ``computed="unknown"`` leaves them unknown, exactly like ``airflow-aks plan``.
- **Invokes**: ``getClientConfig`` and ``listManagedClusterUserCredentials`` (an exec
  kubeconfig); ``calls={token: result}`` adds or overrides others.
- **StackReferences**: ``stack_references={"org/project/stack": {...outputs}}``.

Every run gets a fresh event loop and root stack, so tests can run many programs in one
process. Secrets are ``"[secret]"`` and unknowns ``"[unknown]"`` in
:attr:`Resource.inputs`, as in the plan export.
"""

import base64
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pulumi.runtime import mocks, rpc

from airflow_aks.offline import plan as _plan
from airflow_aks.policies.rules import Results, evaluate

__all__ = [
    "FAKE_SUBSCRIPTION",
    "FAKE_TENANT",
    "HarnessMocks",
    "PlanResult",
    "Resource",
    "fake_kubeconfig",
    "run_program",
]

Resource = _plan.Registration
"""One registered resource: ``urn``, ``type``, ``name``, ``parent``, ``dependencies``,
``property_dependencies``, ``protect`` and the masked ``inputs``."""

FAKE_SUBSCRIPTION = "00000000-0000-0000-0000-00000000c0de"
"""Subscription id in the ARM ids of a ``computed="fake"`` run."""
FAKE_TENANT = "00000000-0000-0000-0000-00000000fa4e"
"""Tenant id answered by ``getClientConfig`` and identities in a ``computed="fake"`` run."""

CLIENT_CONFIG = "azure-native:authorization:getClientConfig"
USER_CREDENTIALS = "azure-native:containerservice:listManagedClusterUserCredentials"
STACK_REFERENCE = "pulumi:pulumi:StackReference"


def _fake_guid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "airflow-aks-testing/" + "/".join(parts)))


def fake_kubeconfig(cluster: str = "aks") -> str:
    """Base64 of an exec-format (kubelogin) user kubeconfig, as AKS returns it."""
    doc = f"""apiVersion: v1
kind: Config
clusters:
- name: {cluster}
  cluster:
    server: https://{cluster}.hcp.test.invalid:443
contexts:
- name: {cluster}
  context: {{cluster: {cluster}, user: clusterUser_{cluster}}}
current-context: {cluster}
users:
- name: clusterUser_{cluster}
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --login, devicecode, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630]
"""
    return base64.b64encode(doc.encode()).decode()


def _fake_computed(typ: str, name: str, inputs: Mapping[str, Any], path: str) -> Any:
    """A deterministic, recognisably fake value for a cloud-computed output."""
    leaf = path.rsplit(".", 1)[-1]
    if leaf == "issuerURL":
        # The AKS issuer's form (policy identity-federated-issuer-aks checks it).
        region = inputs.get("location", "westeurope")
        return f"https://{region}.oic.prod-aks.azure.com/{FAKE_TENANT}/{_fake_guid(typ, name)}/"
    if leaf == "tenantId":
        return FAKE_TENANT
    if leaf.endswith("Id"):
        return _fake_guid(typ, name, leaf)
    if leaf == "vaultUri":
        return f"https://{inputs.get('vaultName', name)}.vault.azure.net/"
    if leaf in ("secretUri", "secretUriWithVersion"):
        return f"https://{inputs.get('vaultName', name)}.vault.azure.net/secrets/{name}"
    if leaf == "fullyQualifiedDomainName":
        return f"{inputs.get('serverName', name)}.postgres.database.azure.com"
    if leaf == "primaryEndpoints":
        return {"blob": f"https://{inputs.get('accountName', name)}.blob.core.windows.net/"}
    if leaf == "fqdn":
        return f"{name}.hcp.test.invalid"
    return f"fake-{name}-{leaf}"


class HarnessMocks(_plan.PlanMocks):
    """The plan engine's mocks, plus test values for what only a cloud computes."""

    def __init__(
        self,
        *,
        computed: Literal["fake", "unknown"] = "fake",
        stack_references: Mapping[str, Mapping[str, Any]] | None = None,
        calls: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        if computed not in ("fake", "unknown"):
            raise ValueError(f"computed must be 'fake' or 'unknown', not {computed!r}")
        fake = computed == "fake"
        super().__init__(subscription=FAKE_SUBSCRIPTION if fake else _plan.SUBSCRIPTION)
        self.fake = fake
        # In a fake run invokes are answered even when they wait for new resources.
        self.gate_invokes = not fake
        self.stack_references = {k: dict(v) for k, v in (stack_references or {}).items()}
        self.calls = {k: dict(v) for k, v in (calls or {}).items()}

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ == STACK_REFERENCE:
            ref = str(args.inputs.get("name") or args.name)
            if ref not in self.stack_references:
                known = ", ".join(sorted(self.stack_references)) or "none"
                raise KeyError(
                    f"StackReference {ref!r} is not answered: pass run_program("
                    f"stack_references={{{ref!r}: {{...outputs}}}}) (answered: {known})"
                )
            outputs = self.stack_references[ref]
            return ref, {"name": ref, "outputs": outputs, "secretOutputNames": []}
        arm_id, state = super().new_resource(args)
        if self.fake:
            for path in _plan.COMPUTED.get(args.typ, ()):
                _replace_unknown(
                    state, path, _fake_computed(args.typ, args.name, args.inputs, path)
                )
            identity = state.get("identity")
            if isinstance(identity, dict) and isinstance(
                identity.get("userAssignedIdentities"), dict
            ):
                identity["userAssignedIdentities"] = {
                    i: {
                        "clientId": _fake_guid(i, "clientId"),
                        "principalId": _fake_guid(i, "principalId"),
                    }
                    for i in identity["userAssignedIdentities"]
                }
        return arm_id, state

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token in self.calls:
            return dict(self.calls[args.token]), []
        if self.fake and args.token == CLIENT_CONFIG:
            return (
                {
                    "subscriptionId": FAKE_SUBSCRIPTION,
                    "tenantId": FAKE_TENANT,
                    "clientId": _fake_guid("deployer", "clientId"),
                    "objectId": _fake_guid("deployer", "objectId"),
                },
                [],
            )
        if self.fake and args.token == USER_CREDENTIALS:
            cluster = str(args.args.get("resourceName") or "aks")
            return (
                {"kubeconfigs": [{"name": "clusterUser", "value": fake_kubeconfig(cluster)}]},
                [],
            )
        return super().call(args)


def _replace_unknown(state: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    node: Any = state
    for k in keys[:-1]:
        node = node.get(k) if isinstance(node, dict) else None
    if isinstance(node, dict) and node.get(keys[-1]) == rpc.UNKNOWN:
        node[keys[-1]] = value


@dataclass
class PlanResult:
    """What a program registered and exported, with finders that explain misses."""

    plan: _plan.Plan

    @property
    def outputs(self) -> dict[str, Any]:
        """Stack outputs (``pulumi.export``), secrets ``"[secret]"``."""
        return self.plan.outputs

    def resources(self, type_: str | None = None) -> list[Resource]:
        """Every registered resource, or those of one type token."""
        return [r for r in self.plan.resources if type_ is None or r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Resource:
        """The single resource of ``type_`` (named ``name``); an error lists the candidates."""
        found = [r for r in self.resources(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = sorted(r.name for r in self.resources(type_))
            want = f"{type_} named {name!r}" if name else type_
            raise LookupError(f"expected one {want}, found {len(found)} (of that type: {names})")
        return found[0]

    def children(self, parent: Resource) -> list[Resource]:
        """Direct children of a (component) resource."""
        return [r for r in self.plan.resources if r.parent == parent.urn]

    def export(self) -> dict[str, Any]:
        """The same JSON ``airflow-aks plan --json`` writes."""
        return self.plan.export()

    def policy(self, *, production: bool | None = None) -> Results:
        """The airflow-aks policy pack over this plan (no exceptions file): ``.mandatory``,
        ``.advisory``, ``.violations``. ``production`` defaults to the stack-name rule."""
        return evaluate(
            [r.export() for r in self.plan.resources],
            self.plan.stack,
            [],
            production=production,
        )


def run_program(
    program: Callable[[], None],
    *,
    project: str = "consumer",
    stack: str = "test",
    config: Mapping[str, Any] | None = None,
    stack_references: Mapping[str, Mapping[str, Any]] | None = None,
    calls: Mapping[str, Mapping[str, Any]] | None = None,
    computed: Literal["fake", "unknown"] = "fake",
) -> PlanResult:
    """Run ``program`` (a function that creates resources and calls ``pulumi.export``)
    under the mock engine and return what it registered.

    ``config`` takes full keys (``"<project>:<key>"``); object values are passed as JSON,
    like the CLI does. A failing program raises its error here.
    """
    harness = HarnessMocks(computed=computed, stack_references=stack_references, calls=calls)
    result = _plan.run(
        program, stack=stack, config=dict(config or {}), project=project, plan_mocks=harness
    )
    return PlanResult(result)
