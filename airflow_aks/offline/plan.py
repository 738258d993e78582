"""The offline plan: the project's real program under Pulumi's mock engine.

No cloud, no CLI, no network. A recording monitor captures every registration exactly as
the engine would receive it (type, name, parent, provider, dependencies, protect, inputs);
mocks answer with the inputs plus what a cloud would compute, left *unknown* (an issuer URL,
a client id) rather than invented. Resource ids of Azure resources are rendered from their
inputs with the subscription shown as ``[unknown]``, so scopes stay checkable offline.

The export replaces every secret by ``"[secret]"`` and every unknown by ``"[unknown]"``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_pulumi_func

from airflow_aks.config.base import NAMESPACE

PROJECT = NAMESPACE
SECRET = "[secret]"
UNKNOWN = "[unknown]"
SUBSCRIPTION = "[unknown]"

# ARM id templates of the Azure types we create: {key} is an input, {sub} the subscription.
_RG = "/subscriptions/{sub}/resourceGroups/{resourceGroupName}"
ARM_IDS: dict[str, str] = {
    "azure-native:resources:ResourceGroup": _RG,
    "azure-native:operationalinsights:Workspace": _RG
    + "/providers/Microsoft.OperationalInsights/workspaces/{workspaceName}",
    "azure-native:network:VirtualNetwork": _RG
    + "/providers/Microsoft.Network/virtualNetworks/{virtualNetworkName}",
    "azure-native:network:Subnet": _RG
    + "/providers/Microsoft.Network/virtualNetworks/{virtualNetworkName}/subnets/{subnetName}",
    "azure-native:network:NetworkSecurityGroup": _RG
    + "/providers/Microsoft.Network/networkSecurityGroups/{networkSecurityGroupName}",
    "azure-native:network:PrivateEndpoint": _RG
    + "/providers/Microsoft.Network/privateEndpoints/{privateEndpointName}",
    "azure-native:privatedns:PrivateZone": _RG
    + "/providers/Microsoft.Network/privateDnsZones/{privateZoneName}",
    "azure-native:privatedns:VirtualNetworkLink": _RG
    + "/providers/Microsoft.Network/privateDnsZones/{privateZoneName}"
    + "/virtualNetworkLinks/{virtualNetworkLinkName}",
    "azure-native:containerservice:ManagedCluster": _RG
    + "/providers/Microsoft.ContainerService/managedClusters/{resourceName}",
    "azure-native:containerservice:AgentPool": _RG
    + "/providers/Microsoft.ContainerService/managedClusters/{resourceName}"
    + "/agentPools/{agentPoolName}",
    "azure-native:containerservice:MaintenanceConfiguration": _RG
    + "/providers/Microsoft.ContainerService/managedClusters/{resourceName}"
    + "/maintenanceConfigurations/{configName}",
    "azure-native:managedidentity:UserAssignedIdentity": _RG
    + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}",
    "azure-native:managedidentity:FederatedIdentityCredential": _RG
    + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}"
    + "/federatedIdentityCredentials/{federatedIdentityCredentialResourceName}",
    "azure-native:keyvault:Vault": _RG + "/providers/Microsoft.KeyVault/vaults/{vaultName}",
    "azure-native:keyvault:Secret": _RG
    + "/providers/Microsoft.KeyVault/vaults/{vaultName}/secrets/{secretName}",
    "azure-native:storage:StorageAccount": _RG
    + "/providers/Microsoft.Storage/storageAccounts/{accountName}",
    "azure-native:storage:BlobContainer": _RG
    + "/providers/Microsoft.Storage/storageAccounts/{accountName}"
    + "/blobServices/default/containers/{containerName}",
    "azure-native:storage:ManagementPolicy": _RG
    + "/providers/Microsoft.Storage/storageAccounts/{accountName}/managementPolicies/default",
    "azure-native:dbforpostgresql:Server": _RG
    + "/providers/Microsoft.DBforPostgreSQL/flexibleServers/{serverName}",
    "azure-native:dbforpostgresql:Database": _RG
    + "/providers/Microsoft.DBforPostgreSQL/flexibleServers/{serverName}"
    + "/databases/{databaseName}",
    "azure-native:dbforpostgresql:Configuration": _RG
    + "/providers/Microsoft.DBforPostgreSQL/flexibleServers/{serverName}"
    + "/configurations/{configurationName}",
    "azure-native:kubernetesconfiguration:Extension": _RG
    + "/providers/Microsoft.ContainerService/managedClusters/{clusterName}"
    + "/providers/Microsoft.KubernetesConfiguration/extensions/{extensionName}",
    "azure-native:kubernetesconfiguration:FluxConfiguration": _RG
    + "/providers/Microsoft.ContainerService/managedClusters/{clusterName}"
    + "/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/{fluxConfigurationName}",
    "azure-native:authorization:RoleAssignment": "{scope}"
    + "/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}",
    "azure-native:authorization:RoleDefinition": "{scope}"
    + "/providers/Microsoft.Authorization/roleDefinitions/{roleDefinitionId}",
    "azure-native:logic:Workflow": _RG + "/providers/Microsoft.Logic/workflows/{workflowName}",
    "azure-native:insights:DiagnosticSetting": "{resourceUri}"
    + "/providers/Microsoft.Insights/diagnosticSettings/{name}",
    "azure-native:monitor:DiagnosticSetting": "{resourceUri}"
    + "/providers/Microsoft.Insights/diagnosticSettings/{name}",
    "azure-native:monitor:DataCollectionRule": _RG
    + "/providers/Microsoft.Insights/dataCollectionRules/{dataCollectionRuleName}",
    "azure-native:monitor:DataCollectionRuleAssociation": "{resourceUri}"
    + "/providers/Microsoft.Insights/dataCollectionRuleAssociations/{associationName}",
    "azure-native:network:PrivateDnsZoneGroup": _RG
    + "/providers/Microsoft.Network/privateEndpoints/{privateEndpointName}"
    + "/privateDnsZoneGroups/{privateDnsZoneGroupName}",
    "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra": _RG
    + "/providers/Microsoft.DBforPostgreSQL/flexibleServers/{serverName}"
    + "/administrators/{objectId}",
}

# Outputs only the cloud knows, per type, as dotted paths: left unknown in the plan.
COMPUTED: dict[str, tuple[str, ...]] = {
    "azure-native:containerservice:ManagedCluster": (
        "oidcIssuerProfile.issuerURL",
        "fqdn",
        "nodeResourceGroup",
        "currentKubernetesVersion",
    ),
    "azure-native:managedidentity:UserAssignedIdentity": ("clientId", "principalId", "tenantId"),
    "azure-native:keyvault:Vault": ("properties.vaultUri",),
    "azure-native:dbforpostgresql:Server": ("fullyQualifiedDomainName",),
    "azure-native:storage:StorageAccount": ("primaryEndpoints",),
    "azure-native:keyvault:Secret": ("properties.secretUri", "properties.secretUriWithVersion"),
}


def _set_path(state: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    node = state
    for k in keys[:-1]:
        nxt = node.get(k)
        if not isinstance(nxt, dict):
            nxt = {}
            node[k] = nxt
        node = nxt
    node.setdefault(keys[-1], value)


def _fmt(template: str, inputs: Mapping[str, Any], subscription: str) -> str | None:
    values: dict[str, str] = {"sub": subscription}
    for key in _template_keys(template):
        if key == "sub":
            continue
        v = inputs.get(key)
        if not isinstance(v, str) or not v:
            return None  # an unknown or missing part makes the whole id unknown
        values[key] = v
    return template.format(**values)


def _template_keys(template: str) -> list[str]:
    import string

    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


class PlanMocks(mocks.Mocks):
    """Answers like a preview: inputs echoed, cloud-computed values unknown."""

    gate_invokes = True
    """Invokes that depend on resources pending creation answer unknown, like a preview
    (:mod:`airflow_aks.offline.testing` turns this off when it answers them with test values)."""

    def __init__(self, subscription: str = SUBSCRIPTION, random_values: bool = True) -> None:
        self.subscription = subscription
        self.random_values = random_values

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        template = ARM_IDS.get(args.typ)
        arm_id = _fmt(template, args.inputs, self.subscription) if template else None
        if template and "name" not in state:
            # An ARM resource's name is the last segment of its id: that input's value.
            last = _template_keys(template)[-1]
            if isinstance(args.inputs.get(last), str):
                state["name"] = args.inputs[last]
        if args.typ.startswith("kubernetes:") and isinstance(args.inputs.get("metadata"), dict):
            meta = dict(args.inputs["metadata"])
            state["metadata"] = meta
        _reshape(state)
        for path in COMPUTED.get(args.typ, ()):
            _set_path(state, path, rpc.UNKNOWN)
        if args.typ.startswith("random:"):
            state.update(_random_outputs(args.typ, args.name, args.inputs))
        return (arm_id or "", state)

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == "azure-native:authorization:getClientConfig":
            return (
                # Typed invoke results reject the engine's unknown sentinel (the SDK checks
                # each field is a str), so the deploy-time values are the marker string.
                {
                    "subscriptionId": self.subscription,
                    "tenantId": UNKNOWN,
                    "clientId": UNKNOWN,
                    "objectId": UNKNOWN,
                },
                [],
            )
        if args.token == "azuread:index/getServicePrincipal:getServicePrincipal":
            # A lookup of a well-known service principal (Microsoft Graph): only its
            # object id in this tenant is the cloud's to know.
            return ({**dict(args.args), "objectId": UNKNOWN, "id": UNKNOWN}, [])
        if args.token == "azuread:index/getGroup:getGroup":
            # A group looked up by object id: its display name is the tenant's to know.
            return ({**dict(args.args), "displayName": UNKNOWN, "id": UNKNOWN}, [])
        if args.token == "azure-native:features:getSubscriptionFeatureRegistration":
            ns, feature = args.args.get("providerNamespace"), args.args.get("featureName")
            return (
                {
                    "id": f"/subscriptions/{self.subscription}/providers/Microsoft.Features"
                    f"/featureProviders/{ns}/subscriptionFeatureRegistrations/{feature}",
                    "name": feature,
                    "type": "Microsoft.Features/featureProviders/subscriptionFeatureRegistrations",
                    "azureApiVersion": "2021-07-01",
                    # Whether the subscription registered it only Azure knows.
                    "properties": {
                        "featureName": feature,
                        "providerNamespace": ns,
                        "subscriptionId": self.subscription,
                        "state": UNKNOWN,
                    },
                },
                [],
            )
        # Everything else a call returns (lookups) only a cloud can know.
        return ({}, [])


def _reshape(state: dict[str, Any]) -> None:
    """Where ARM's output shape differs from the input, answer in the output shape."""
    identity = state.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        ids = identity["userAssignedIdentities"]
        identity = dict(identity)
        if all(isinstance(i, str) for i in ids):
            identity["userAssignedIdentities"] = {
                i: {"clientId": rpc.UNKNOWN, "principalId": rpc.UNKNOWN} for i in ids
            }
        else:
            identity["userAssignedIdentities"] = rpc.UNKNOWN
        state["identity"] = identity


def _random_outputs(typ: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Deterministic stand-ins for pulumi-random results.

    They are marked secret by the provider schema, so they never show in the export; being
    known and distinctive lets the leak tests search the whole plan for them.
    """
    import hashlib

    seed = hashlib.sha256(f"{typ}/{name}".encode()).hexdigest()
    length = int(inputs.get("length", 32) or 32)
    value = (seed * 4)[:length]
    out: dict[str, Any] = {"result": value}
    if typ == "random:index/randomBytes:RandomBytes":
        import base64

        raw = bytes.fromhex((seed * 4)[: 2 * length])
        out = {"base64": base64.b64encode(raw).decode(), "hex": raw.hex()}
    if typ == "random:index/randomPassword:RandomPassword":
        out["bcryptHash"] = rpc.UNKNOWN
    if typ == "random:index/randomUuid:RandomUuid":
        out = {"result": f"{seed[:8]}-{seed[8:12]}-{seed[12:16]}-{seed[16:20]}-{seed[20:32]}"}
    return out


@dataclass
class Registration:
    """One resource as the engine would see it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    provider: str | None
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    inputs: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    """Resource options as registered (see :func:`resource_options`)."""
    raw: dict[str, Any] | None = None
    """Only with ``run(keep_raw=True)``: inputs in wire form, secrets still wrapped (never
    exported; lets tests see a secret's value and that it travels marked secret)."""
    raw_outputs: dict[str, Any] | None = None
    """Only with ``run(keep_raw=True)``: what the mocks answered (e.g. pulumi-random values)."""

    def export(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "custom": self.custom,
            "parent": self.parent,
            "provider": self.provider,
            "dependencies": sorted(self.dependencies),
            "propertyDependencies": self.property_dependencies,
            "protect": self.protect,
            "options": self.options,
            "inputs": self.inputs,
        }


class DuplicateUrnError(RuntimeError):
    """Two registrations under one URN: the engine would refuse the second one."""

    def __init__(self, urn: str, first: str, second: str) -> None:
        self.urn, self.first, self.second = urn, first, second
        super().__init__(
            f"two resources are registered under one URN, {urn} (the Pulumi engine refuses "
            f"the second): first {first}; again {second}"
        )


def _describe(request: Any) -> str:
    """A registration in words: its type and name, and its parent's."""
    parent = request.parent.rsplit("::", 1)[-1] if request.parent else "the stack"
    return f"{request.type} {request.name!r} (parent {parent})"


@dataclass
class PlanMonitor(mocks.MockMonitor):
    """A mock monitor that records the full registration request."""

    mocks_: PlanMocks
    registrations: list[Registration] = field(default_factory=list)
    keep_raw: bool = False
    invokes: list[dict[str, Any]] = field(default_factory=list)
    """Every invoke the program made (token and args), served or not: a deploy makes them
    all once their dependencies exist, so the pipeline's permission check needs each one."""

    def __post_init__(self) -> None:
        super().__init__(self.mocks_)
        self._by_urn: dict[str, str] = {}

    def GetDeploymentInfo(self, request: Any) -> Any:
        info = super().GetDeploymentInfo(request)
        # We implement the engine's invoke gate below, so we may advertise it.
        info.supportedFeatures.append(resource_pb2.RESOURCE_MONITOR_FEATURE_INVOKE_DEPENDS_ON)
        return info

    def Invoke(self, request: Any) -> Any:
        self.invokes.append(
            {"token": request.tok, "args": sanitize(json_format.MessageToDict(request.args))}
        )
        # Like the engine: an invoke that depends on resources pending creation (all of
        # them, in a first-deployment plan) is not serviced; its result is unknown.
        if request.dependsOn and self.mocks_.gate_invokes:
            return resource_pb2.ResourceInvokeResponse(unknown=True)
        return super().Invoke(request)

    def RegisterResource(self, request: Any) -> Any:
        if request.type != "pulumi:pulumi:Stack":
            # The engine refuses a second resource under one URN ("Duplicate resource URN"):
            # refuse it here too, before the mocks answer, naming both registrations.
            urn = self.make_urn(request.parent, request.type, request.name)
            if first := self._by_urn.get(urn):
                raise DuplicateUrnError(urn, first, _describe(request))
            self._by_urn[urn] = _describe(request)
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        deps: list[str] = []
        if request.parent:
            deps.append(request.parent)
        deps.extend(request.dependencies)
        prop_deps: dict[str, list[str]] = {}
        for key, value in request.propertyDependencies.items():
            if value.urns:
                prop_deps[key] = sorted(set(value.urns))
            deps.extend(value.urns)
        # A provider reference is "<urn>::<id>"; the URN is what a reader can follow.
        provider = request.provider.rsplit("::", 1)[0] if request.provider else None
        self.registrations.append(
            Registration(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent or None,
                provider=provider,
                dependencies=list(dict.fromkeys(deps)),
                property_dependencies=prop_deps,
                protect=bool(request.protect),
                inputs=sanitize(json_format.MessageToDict(request.object)),
                options=resource_options(request, prop_deps),
                raw=json_format.MessageToDict(request.object) if self.keep_raw else None,
                raw_outputs=json_format.MessageToDict(response.object) if self.keep_raw else None,
            )
        )
        return response


def resource_options(
    request: Any, property_dependencies: Mapping[str, list[str]]
) -> dict[str, Any]:
    """The options of one registration that decide how a later ``up`` treats it.

    ``dependsOn`` is what the request depends on beyond its parent and its inputs: the
    explicit ``depends_on`` (a target that is also an input reference only shows under
    ``propertyDependencies``, as the engine cannot tell them apart either). Unset options
    are ``None`` / empty, so a reader can rely on every key being present.
    """
    via_inputs = {u for urns in property_dependencies.values() for u in urns}
    timeouts = None
    if request.HasField("customTimeouts"):
        t = request.customTimeouts
        timeouts = {
            "create": t.create or None,
            "update": t.update or None,
            "delete": t.delete or None,
        }
    return {
        "ignoreChanges": list(request.ignoreChanges),
        "replaceOnChanges": list(request.replaceOnChanges),
        "deleteBeforeReplace": (
            bool(request.deleteBeforeReplace) if request.deleteBeforeReplaceDefined else None
        ),
        "retainOnDelete": (
            bool(request.retainOnDelete) if request.HasField("retainOnDelete") else None
        ),
        "customTimeouts": timeouts,
        "dependsOn": sorted({u for u in request.dependencies if u not in via_inputs}),
    }


def sanitize(value: Any) -> Any:
    """Wire format -> export: secrets and unknowns masked, resource refs as URNs."""
    if isinstance(value, dict):
        sig = value.get(rpc._special_sig_key)
        if sig == rpc._special_secret_sig:
            return SECRET
        if sig == rpc._special_resource_sig:
            return value.get("urn")
        if sig == rpc._special_output_value_sig:
            if value.get("secret"):
                return SECRET
            return sanitize(value["value"]) if "value" in value else UNKNOWN
        if sig in (rpc._special_asset_sig, rpc._special_archive_sig):
            return "[asset]"
        return {k: sanitize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [sanitize(v) for v in value]
    if value == rpc.UNKNOWN:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


async def _resolve(value: Any) -> Any:
    """A stack output -> export value (secrets and unknowns masked)."""
    out = pulumi.Output.from_input(value)
    if await out.is_secret():
        return SECRET
    if not await out.is_known():
        return UNKNOWN
    resolved = await out.future()
    return sanitize(json.loads(json.dumps(resolved, default=str)))


@dataclass
class Plan:
    """The result of one offline run."""

    project: str
    stack: str
    resources: list[Registration]
    outputs: dict[str, Any]
    invokes: list[dict[str, Any]] = field(default_factory=list)

    def export(self) -> dict[str, Any]:
        """The plan as data. Deterministic: resources sorted by URN and dependencies
        sorted, so the same code and config give the same export whatever order the
        engine's futures resolved in (written with sorted keys by the CLI)."""
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [r.export() for r in sorted(self.resources, key=lambda r: r.urn)],
            "outputs": self.outputs,
            # One entry per distinct (token, args), sorted: the same program, the same list.
            "invokes": sorted(
                {json.dumps(i, sort_keys=True): i for i in self.invokes}.values(),
                key=lambda i: json.dumps(i, sort_keys=True),
            ),
        }


def flatten_config(raw: Mapping[str, Any]) -> dict[str, str]:
    """Stack-file config -> the engine's string map (objects as JSON, as the CLI does)."""
    out: dict[str, str] = {}
    for key, value in raw.items():
        if isinstance(value, (dict, list)):
            out[key] = json.dumps(value)
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(value)
    return out


def _quiet_duplicates(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    if str(context.get("message", "")).endswith("exception was never retrieved"):
        return
    loop.default_exception_handler(context)


# gc.set_threshold's third value: full collections after this many second-generation ones,
# i.e. never within a plan (the largest measured, 300 domains, makes ~480).
NO_FULL_COLLECTIONS = 2**31 - 1


def freeze_import_heap() -> None:
    """Call once the program and the SDKs are imported, in a plan's own process.

    Moves the objects the imports left (hundreds of thousands: the SDKs' classes, functions
    and docstrings) out of the cyclic collector's reach (``gc.freeze``), so the collections
    a plan triggers scan only what the plan makes, and re-enables the collector if
    :func:`airflow_aks.cli.main.main` paused it for the imports.

    Also stops automatic full (oldest-generation) collections. What survives two young
    collections in a plan is its result (registrations, resources, outputs) and lives to
    the export; a full collection re-walks all of it to free almost nothing (measured at
    300 domains: 19 full collections, 4.9 s of a 17.5 s plan, 4.3k objects freed of
    ~670k; peak memory the same without them). Young collections, which free the plan's
    cyclic garbage (~1M objects at 300 domains), keep their thresholds.
    """
    import gc

    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, NO_FULL_COLLECTIONS)
    gc.enable()


def _version_alias(alias: Any) -> bool:
    """An alias that only renames the type (azure-native's ``.../vYYYYMMDD:Type`` ones)."""
    return (
        isinstance(alias, pulumi.Alias)
        and isinstance(alias.type_, str)
        and all(v is ... for v in (alias.name, alias.parent, alias.stack, alias.project))
    )


def drop_version_aliases(
    args: pulumi.ResourceTransformationArgs,
) -> pulumi.ResourceTransformationResult | None:
    """Stack transformation: drop type-only aliases before the SDK expands them to URNs.

    azure-native gives every resource one alias per API version it ever had (113 on
    ManagedCluster); turning them into URNs is most of a plan's SDK time, and an alias can
    only match a resource already in a state, which a first deployment has none of.
    Aliases a program states itself (name, parent, stack or project) are kept.
    """
    aliases = args.opts.aliases
    if not aliases:
        return None
    kept = [a for a in aliases if not _version_alias(a)]
    if len(kept) == len(aliases):
        return None
    opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions())
    opts.aliases = kept or None
    return pulumi.ResourceTransformationResult(args.props, opts)


def run(
    program: Callable[[], None],
    *,
    stack: str,
    config: Mapping[str, Any],
    project: str = PROJECT,
    subscription: str = SUBSCRIPTION,
    keep_raw: bool = False,
    plan_mocks: PlanMocks | None = None,
    first_deployment: bool = True,
) -> Plan:
    """Run ``program`` under the mock engine with ``config`` and record the plan.

    ``keep_raw`` (tests only) also keeps each registration's wire-form inputs and outputs,
    secrets unmasked, on :attr:`Registration.raw` / :attr:`Registration.raw_outputs`.
    ``plan_mocks`` replaces the default :class:`PlanMocks` (``subscription`` is then ignored).
    ``first_deployment`` (default) plans against an empty state: the SDKs' per-API-version
    type aliases, which only match resources already in a state, are dropped
    (:func:`drop_version_aliases`).
    """
    plan_mocks = plan_mocks or PlanMocks(subscription=subscription)
    monitor = PlanMonitor(plan_mocks, keep_raw=keep_raw)
    # The root Stack is created by set_mocks on the current loop: make ours current first.
    loop = asyncio.new_event_loop()
    # A failing program's error is raised to our caller once; the engine's sibling futures
    # holding the same error would be logged again when collected. Keep other reports.
    loop.set_exception_handler(_quiet_duplicates)
    asyncio.set_event_loop(loop)
    settings.ROOT.set(None)  # a fresh Stack per run, even in one process
    # Drop outputs / RPCs left pending by an earlier mock run in this process (e.g. a
    # component test): run_pulumi_func would otherwise wait on them forever.
    settings._get_rpc_manager().clear()
    pending: set[Any] = getattr(settings.SETTINGS, "outputs")  # noqa: B009 (SDK typing)
    pending.clear()
    mocks.set_mocks(plan_mocks, project=project, stack=stack, preview=True, monitor=monitor)
    set_all_config(flatten_config(config))
    outputs: dict[str, Any] = {}

    async def body() -> None:
        if first_deployment:
            pulumi.runtime.register_stack_transformation(drop_version_aliases)
        program()
        root = settings.get_root_resource()
        exported = dict(getattr(root, "outputs", {}) or {})
        for key, value in exported.items():
            outputs[key] = await _resolve(value)

    try:
        loop.run_until_complete(run_pulumi_func(body))
    finally:
        # A failed program leaves applies pending; cancel them so nothing outlives the loop.
        leftovers = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in leftovers:
            task.cancel()
        if leftovers:
            loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
        asyncio.set_event_loop(None)
        loop.close()
    return Plan(project, stack, list(monitor.registrations), outputs, list(monitor.invokes))
