"""Chart values that break a first deploy or make every deploy differ (Kuma, Linkerd).

Checked against the charts at their pinned tags (read 2026-12-02): linkerd2 edge-26.8.3
``charts/linkerd-control-plane`` and kumahq/kuma v2.14.3 ``deployments/charts/kuma``. Both
rules look at values only, so they hold offline and in ``pulumi preview`` alike; with chart
sources, ``airflow-aks plan --render`` shows the rendered effect (non-deterministic objects,
failed renders).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._core import (
    HELM_TYPES,
    MANDATORY,
    NAMESPACE,
    SECRET,
    UNKNOWN,
    Context,
    Rule,
    as_dict,
    get,
    is_true,
    resource_rule,
    stack_rule,
    walk,
)
from .kubernetes import is_helm

RULES: list[Rule] = []

LINKERD_WEBHOOKS = ("proxyInjector", "profileValidator", "policyValidator")
KUMA_SYSTEM_LABEL = "kuma.io/sidecar-injection"


def _chart(props: Mapping[str, Any]) -> str:
    return str(props.get("chart", "")).rsplit("/", 1)[-1]


def _values(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return as_dict(props.get("values"))


@resource_rule(
    RULES,
    name="mesh-webhook-certs-stable",
    level=MANDATORY,
    mirrors="linkerd.io webhook TLS with cert-manager; kuma chart certManager option",
    types=HELM_TYPES,
    description="""Mesh control-plane charts must not generate webhook certificates in
    their templates: linkerd-control-plane calls genSelfSignedCert for each webhook unless
    externalSecret is set with injectCaFrom/injectCaFromSecret/caBundle (and hashes the
    result into checksum/config), kuma calls genCA whenever its lookup finds no Secret
    unless controlPlane.tls.general sets certManager or secretName, and Linkerd's heartbeat
    CronJob is scheduled from the render time. Each render then differs: every pulumi up
    replaces the Secrets and restarts injector and destination pods.""",
)
def webhook_certs_stable(props: Mapping[str, Any], ctx: Context) -> list[str]:
    chart, values = _chart(props), _values(props)
    out: list[str] = []
    if chart == "linkerd-control-plane":
        for key in LINKERD_WEBHOOKS:
            hook = as_dict(values.get(key))
            external = is_true(hook.get("externalSecret"))
            ca = any(hook.get(k) for k in ("injectCaFrom", "injectCaFromSecret", "caBundle"))
            if not (external and ca):
                out.append(
                    f"values.{key}: the chart generates its webhook certificate on every "
                    "render; set externalSecret: true and injectCaFrom: <ns>/<Certificate>"
                )
        if not is_true(values.get("disableHeartBeat")) and not values.get("heartbeatSchedule"):
            out.append(
                "values.disableHeartBeat: the heartbeat CronJob's schedule is the render time; "
                "set disableHeartBeat: true or a fixed heartbeatSchedule"
            )
    elif chart == "kuma":
        tls = as_dict(get(values, "controlPlane.tls.general"))
        if not is_true(get(tls, "certManager.enabled")) and not tls.get("secretName"):
            out.append(
                "values.controlPlane.tls.general: the chart makes a new CA (genCA) whenever "
                "its lookup sees no Secret; set certManager.enabled: true (or secretName)"
            )
    return out


@stack_rule(
    RULES,
    name="kuma-system-namespace-ready",
    level=MANDATORY,
    mirrors="kuma chart pre-install-patch-namespace-job.yaml",
    description="""The kuma chart's namespace must be created by the stack with
    kuma.io/sidecar-injection: "false" (what the chart checks; kuma.io/system-namespace is
    used nowhere), and noHelmHooks must stay off: with it the chart lookups that namespace
    and fails the render wherever no cluster answers -- every pulumi preview of a new
    cluster -- while Pulumi's helm.v4.Chart drops hook objects anyway.""",
)
def kuma_system_namespace_ready(
    resources: list[dict[str, Any]], ctx: Context
) -> list[tuple[str, str]]:
    namespaces = {
        str(get(r.get("inputs"), "metadata.name")): r
        for r in resources
        if r.get("type") == NAMESPACE
    }
    out: list[tuple[str, str]] = []
    for r in resources:
        props = as_dict(r.get("inputs"))
        if r.get("type") not in HELM_TYPES or _chart(props) != "kuma":
            continue
        urn, ns = str(r.get("urn")), str(props.get("namespace") or "default")
        if is_true(_values(props).get("noHelmHooks")):
            out.append(
                (
                    urn,
                    "values.noHelmHooks: true makes the chart fail every render without a "
                    "cluster (namespace lookup); helm.v4.Chart drops hooks anyway",
                )
            )
        if ns == UNKNOWN:
            continue  # a preview of a Namespace not created yet: its name is known later
        target = namespaces.get(ns)
        label = get(target.get("inputs"), "metadata.labels", {}) if target else {}
        if target is None:
            out.append((urn, f"namespace {ns!r} of the kuma chart is not created by the stack"))
        elif as_dict(label).get(KUMA_SYSTEM_LABEL) != "false":
            out.append(
                (
                    str(target.get("urn")),
                    f'namespace {ns!r} lacks {KUMA_SYSTEM_LABEL}: "false" (the chart needs it)',
                )
            )
    return out


# ------------------------------------------------------------------ secret literals

SECRET_WORDS = {
    "password",
    "passwd",
    "pwd",
    "pass",
    "secret",
    "token",
    "apikey",
    "connection",
    "conn",
    "credential",
    "credentials",
    "fernet",
    "privatekey",
}
# "key" alone is everywhere in Kubernetes values (topologyKey, tolerations, selectors);
# it counts only next to one of these qualifiers (keyPEM, secret_key, accountKey, ...).
KEY_QUALIFIERS = {
    "pem",
    "private",
    "secret",
    "api",
    "fernet",
    "access",
    "account",
    "storage",
    "shared",
    "signing",
    "encryption",
    "master",
    "client",
    "ssh",
}
# Keys naming or pointing at a secret (not holding one).
REFERENCE_SUFFIXES = {
    "name",
    "names",
    "ref",
    "id",
    "ids",
    "path",
    "file",
    "mount",
    "volume",  # names a pod volume (kuma.io/service-account-token-volume)
    "cmd",
    "class",
    "url",
    "endpoint",
    "host",
    "hosts",
    "port",
    "enabled",
    "type",
    "kind",
    "expiration",
    "ttl",
    "duration",
    "audience",
    "audiences",
    "length",
    "size",
    "version",
    "algorithm",
    "scheme",
    "namespace",
    "selector",
    "annotations",
    "labels",
}
PLACEHOLDERS = {SECRET, UNKNOWN, ""}


def _key_words(key: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def is_secret_key(key: str) -> bool:
    """Whether a value under ``key`` would be a secret (``password``, ``keyPEM``,
    ``AIRFLOW__CORE__FERNET_KEY``) rather than a reference to one (``fernetKeySecretName``,
    ``existingSecret``, ``AIRFLOW__CORE__FERNET_KEY_CMD``, ``secretProviderClass``)."""
    words = _key_words(key)
    if not words or words[-1] in REFERENCE_SUFFIXES or words[0] == "existing":
        return False
    if key.startswith("AIRFLOW__") and key.upper().endswith("_SECRET"):
        # AIRFLOW__S__OPT_SECRET names a secrets-backend entry when OPT itself is secret
        # (FERNET_KEY_SECRET, JWT_SECRET_SECRET); AIRFLOW__API_AUTH__JWT_SECRET is a value.
        return not is_secret_key(key[: -len("_SECRET")])
    if any(w in SECRET_WORDS for w in words):
        return True
    return "key" in words and any(w in KEY_QUALIFIERS for w in words)


def _literal(value: Any) -> bool:
    if not isinstance(value, str) or value.strip() in PLACEHOLDERS:
        return False
    return not (value.startswith(("{{", "$(", "${")) or value.lower().startswith("secretref:"))


def secret_literals(values: Any) -> list[str]:
    """Paths of Helm values that hold a literal secret instead of a reference."""
    out = []
    for path, key, value in walk(values):
        if "secretKeyRef" in path or "valueFrom" in path or "existingSecret" in path:
            continue
        if is_secret_key(key) and _literal(value):
            out.append(path)
        elif (
            isinstance(value, Mapping)
            and isinstance(value.get("name"), str)
            and is_secret_key(value["name"])
            and _literal(value.get("value"))
        ):
            # env-style {name: AIRFLOW__CORE__FERNET_KEY, value: "..."}
            out.append(f"{path}.value ({value['name']})")
    return out


@resource_rule(
    RULES,
    name="helm-no-secret-literals",
    level=MANDATORY,
    mirrors="CKV_SECRET_* (secrets in configuration)",
    types=HELM_TYPES,
    description="""Helm values must not hold secret literals (keys such as password, secret,
    key, token, connection): values end up in the Pulumi state and in rendered manifests.
    Reference a Kubernetes Secret synced from Key Vault (…SecretName, existingSecret,
    secretKeyRef) or pass a Pulumi secret.""",
)
def no_secret_literals(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not is_helm(props):
        return []
    return [f"values.{p} holds a literal secret" for p in secret_literals(props.get("values"))]
