"""No credential in clear: refuse a credential-shaped value anywhere in a configuration.

Runs on the raw config map before anything else (before validation messages, the plan,
``--diff`` Markdown or the ``--json`` export), and reports *where* a credential was found,
never the value. A real secret goes into Key Vault and the config names it
(``airflow.gitTokenSecret``, ``airflow.taskSecretNames``, ``domains[].secrets``): see
docs/configuration-safety.md.

What counts as credential-shaped:

- by key: in the free-form maps (``tags``, ``airflow.helmValues``, pool and selector
  ``labels``) a key the policy pack's mandatory ``helm-no-secret-literals`` rule calls a
  secret (``password``, ``clientSecret``, ``apiKey``, ``token`` ...) holding a literal;
  for ``helmValues`` exactly that rule's finding; an unknown key of that shape anywhere;
  another provider's secret-named key holding plain text (``azure-native:clientSecret``:
  set it with ``pulumi config set --secret``, which stores ``secure:`` ciphertext);
- by value, anywhere: a URL with user-info (``https://user:pass@host``,
  ``https://<token>@github.com``), a token in a URL query (``?access_token=``, ``sig=``),
  a connection string with a password or account key, a PEM private key, a GitHub token
  (prefixes ``ghp_ gho_ ghu_ ghs_ ghr_ github_pat_``: GitHub changelog 2021-03-31
  "Authentication token format updates are generally available", read 2026-12-07) and a
  JSON Web Token (base64url of ``{"`` is ``eyJ``: RFC 7519 JOSE header).

Azure stores tags in plain text and shows them in cost reports, templates and logs
(Azure "Use tags to organize your Azure resources", warning "Tags are stored as plain
text", read 2026-12-07 through its copies): a tag is never a place for a credential.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from airflow_aks.policies.rules.charts import is_secret_key, secret_literals

from .base import NAMESPACE, ConfigIssue

HOW = "store it in Key Vault and give the secret's name (docs/configuration-safety.md)"

# Git/ssh user names that are not credentials (``git@github.com``, ``ssh://git@host``).
_SAFE_USERS = {"git"}
_URL_USERINFO = re.compile(r"^[a-z][a-z0-9+.-]*://([^/?#@\s]+)@", re.I)
_QUERY_SECRET = re.compile(
    r"[?&;](access_token|token|private_token|api[_-]?key|apikey|password|passwd|pwd|sig|"
    r"client_secret|secret|code)=[^&#\s]+",
    re.I,
)
_CONN_STRING = re.compile(
    r"(^|;)\s*(password|pwd|accountkey|sharedaccesskey|sharedaccesssignature)\s*=\s*[^;\s]",
    re.I,
)
_PEM_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
_GITHUB_TOKEN = re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.")
_PLACEHOLDER = re.compile(r"^(\$\{.*\}|\{\{.*\}\}|\$\(.*\)|\[secret\]|\[unknown\])$")


def credential_shape(value: str) -> str | None:
    """What credential ``value`` looks like (for the message), or None."""
    if _PLACEHOLDER.match(value.strip()):
        return None
    if (m := _URL_USERINFO.match(value)) and m.group(1).split(":", 1)[0] not in _SAFE_USERS:
        return "a URL carrying a user name or password (user-info before '@')"
    if (m := _URL_USERINFO.match(value)) and ":" in m.group(1):
        return "a URL carrying a password"
    if _CONN_STRING.search(value):
        return "a connection string with a password or key"
    if _QUERY_SECRET.search(value):
        return "a URL carrying a token or signature in its query"
    if _PEM_KEY.search(value):
        return "a private key"
    if _GITHUB_TOKEN.search(value):
        return "a GitHub token"
    if _JWT.search(value):
        return "a JSON Web Token"
    return None


def _literal(value: Any) -> bool:
    return (
        isinstance(value, str | int | float)
        and not isinstance(value, bool)
        and (str(value).strip() != "" and not _PLACEHOLDER.match(str(value).strip()))
    )


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield path + f".{k}", str(k)  # a key can hold a credential too (tags)
            yield from _strings(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")


# Free-form maps of our config, where any key may appear: (path pattern, what it is).
_FREE_FORM = re.compile(
    r"^(tags|airflow\.helmValues|aks\.\w+Pool\.labels|domains\[\d+\]\.meshCalls\[\d+\]\.labels)$"
)
# Keys of our own schema that *name* a Key Vault secret (the right way) or configure one.
_NAMING_KEYS = {
    "adminPasswordSecret",
    "gitTokenSecret",
    "localAuthSecret",
    "taskSecretNames",
    "backendSecretNames",
    "secrets",
    "secretRotationInterval",
    "secretRotationDays",
    "secretsIssuedOn",
    "keyVaultSecretsBackend",
}


def credential_issues(raw: Mapping[str, Any]) -> list[ConfigIssue]:
    """Every place in a config map (``{"airflow-aks:aks": ..., "azure-native:...": ...}``)
    holding something credential-shaped; the messages never include the value."""
    issues: list[ConfigIssue] = []
    for key, value in raw.items():
        ns, _, name = str(key).partition(":")
        if ns == NAMESPACE:
            _ours(name, value, issues)
        elif isinstance(value, Mapping) and set(value) == {"secure"}:
            continue  # `pulumi config set --secret`: ciphertext
        else:
            if name and is_secret_key(name) and _literal(value):
                issues.append(
                    ConfigIssue(
                        str(key),
                        "a credential in plain text: set it with `pulumi config set --secret "
                        f"{key}` (stored encrypted) or {HOW}",
                    )
                )
                continue
            for path, text in _strings(value, str(key)):
                if shape := credential_shape(text):
                    issues.append(ConfigIssue(path, f"looks like {shape}: {HOW}"))
    return issues


def _ours(name: str, value: Any, issues: list[ConfigIssue]) -> None:
    flagged: set[str] = set()  # found by the Helm rule: not reported again by shape

    def add(path: str, message: str) -> None:
        issues.append(ConfigIssue(f"{NAMESPACE}:{path}", message))

    def visit(node: Any, path: str) -> None:
        if isinstance(node, str):
            if path not in flagged and (shape := credential_shape(node)):
                add(path, f"looks like {shape}: {HOW}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                visit(item, f"{path}[{i}]")
        elif isinstance(node, Mapping):
            if path == "airflow.helmValues":
                for found in secret_literals(node):
                    at = f"{path}.{found.split(' ')[0]}"
                    flagged.add(at)
                    add(
                        at,
                        "a credential in Helm values (the policy pack's mandatory "
                        f"helm-no-secret-literals rule refuses it): {HOW}, then reference "
                        "it from the values (existingSecret, secretKeyRef)",
                    )
            free = bool(_FREE_FORM.match(path))
            # Helm values: the pack's own rule above decides by key, shapes below by value.
            in_helm = path.startswith("airflow.helmValues")
            for k, v in node.items():
                key, sub = str(k), f"{path}.{k}" if path else str(k)
                if free and credential_shape(key):
                    add(f"{path}.<key>", f"a key looks like a credential: {HOW}")
                elif not in_helm and _secret_holder(key, free) and _literal(v):
                    add(sub, f"a credential-named key with a value: {HOW}")
                else:
                    visit(v, sub)

    visit({name: value}, "")


def _secret_holder(key: str, free_form: bool) -> bool:
    """A key whose value would be a credential (our own secret-naming keys are not)."""
    return is_secret_key(key) and (free_form or key not in _NAMING_KEYS)


def file_credential_issues(data: Any, source: str) -> list[ConfigIssue]:
    """Credential-shaped values anywhere in a file of our own (``delivery.yaml``)."""
    return [
        ConfigIssue(f"{source}:{path.lstrip('.')}", f"looks like {shape}: {HOW}")
        for path, text in _strings(data, "")
        if (shape := credential_shape(text))
    ]
