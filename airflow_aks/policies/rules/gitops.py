"""GitOps rules: what Flux on AKS needs to reconcile."""

from __future__ import annotations

from typing import Any

from ._core import (
    MANDATORY,
    Context,
    Rule,
    as_dict,
    is_true,
    stack_rule,
)
from ._plan import _inputs, _of_type

RULES: list[Rule] = []

K8S_EXTENSION = "azure-native:kubernetesconfiguration:Extension"
FLUX_WI_SUBJECTS = (
    "system:serviceaccount:flux-system:source-controller",
    "system:serviceaccount:flux-system:kustomize-controller",
)


@stack_rule(
    RULES,
    name="flux-workload-identity-complete",
    level=MANDATORY,
    mirrors="Azure Arc/AKS GitOps (Flux v2) tutorial: workload identity",
    description="""A microsoft.flux extension with workloadIdentity.enable true needs
    workloadIdentity.azureClientId and federated credentials for the flux-system
    source-controller and kustomize-controller ServiceAccounts; half set, Flux's Azure
    token exchange fails and the sources it was enabled for never reconcile.""",
)
def flux_workload_identity_complete(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    subjects = {
        str(_inputs(r).get("subject"))
        for r in _of_type(resources, "azure-native:managedidentity:FederatedIdentityCredential")
    }
    out = []
    for ext in _of_type(resources, K8S_EXTENSION):
        props = _inputs(ext)
        if str(props.get("extensionType", "")).lower() != "microsoft.flux":
            continue
        settings = as_dict(props.get("configurationSettings"))
        if not is_true(settings.get("workloadIdentity.enable")):
            continue
        problems = []
        if settings.get("workloadIdentity.azureClientId") in (None, ""):
            problems.append("workloadIdentity.azureClientId is not set")
        missing = [s for s in FLUX_WI_SUBJECTS if s not in subjects]
        if missing:
            problems.append(f"no federated credential for {missing}")
        if problems:
            out.append(
                (str(ext.get("urn")), "Flux workload identity is on but " + "; ".join(problems))
            )
    return out
