"""Who may do what in Kubernetes.

Every RoleBinding and ClusterRoleBinding — the plan's and those the Airflow chart renders
(modelled from its values, :mod:`._airflow_chart`) — is checked against the
ServiceAccounts that run user code (DAG task pods of every task namespace, and the pods
DAGs launch). None of them may hold, where platform components run (the namespace of any
chart release, the Kubernetes and add-on system namespaces) or cluster-wide:

* pods create/update/patch (a pod may run as any ServiceAccount of its namespace and take
  its token and workload identity — Kubernetes "Pod Security Standards"/RBAC good practice:
  "Workload creation": "users who can create pods ... can run as any ServiceAccount in the
  namespace"),
* pods/exec or pods/attach (a shell in another pod, reading its mounted secrets),
* secrets get/list/watch, serviceaccounts/token create, or impersonate
  (RBAC good practices, "Privilege escalation risks"),
* anything by wildcard.

And the launcher of every pod holds what it needs where it launches: the scheduler
(KubernetesExecutor) pods create/get/list/watch/delete in every task namespace, the API
server pods list + pods/log get there (live logs: cncf.kubernetes 10.25.0
``kubernetes_executor.py`` ``get_streaming_task_log``), the triggerer pods get/delete +
pods/log get (``triggers/pod.py``), the task ServiceAccount of each task namespace pods
create there (KubernetesPodOperator runs inside the task pod) — each with a mounted token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._airflow_chart import POD_LAUNCHER_RULES, AirflowChart, airflow_charts
from ._core import (
    HELM_TYPES,
    SERVICE_ACCOUNT,
    Context,
    as_dict,
    as_list,
    get,
    is_false,
)

ROLE = "Role"
CLUSTER_ROLE = "ClusterRole"
BINDINGS = ("RoleBinding", "ClusterRoleBinding")

SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease", "default")

DANGEROUS: tuple[tuple[str, str], ...] = (
    ("pods", "create"),
    ("pods", "update"),
    ("pods", "patch"),
    ("pods/exec", "create"),
    ("pods/exec", "get"),
    ("pods/attach", "create"),
    ("secrets", "get"),
    ("secrets", "list"),
    ("secrets", "watch"),
    ("serviceaccounts/token", "create"),
    ("serviceaccounts", "impersonate"),
    ("users", "impersonate"),
    ("groups", "impersonate"),
)

Subject = tuple[str, str]
Grant = tuple[str | None, Subject, tuple[Mapping[str, Any], ...], str]
"""(namespace or None for cluster-wide, subject, rules, URN of the binding)."""


def _kind(r: Mapping[str, Any]) -> str:
    return str(as_dict(r.get("inputs")).get("kind") or str(r.get("type", "")).rsplit(":", 1)[-1])


def allows(rules: tuple[Mapping[str, Any], ...], resource: str, verb: str) -> bool:
    """Whether ``rules`` allow ``verb`` on a core-group (``""``) resource: every resource
    checked here (pods and subresources, secrets, serviceaccounts, users, groups) is core."""
    group = ""
    for rule in rules:
        groups, res, verbs = (as_list(rule.get(k)) for k in ("apiGroups", "resources", "verbs"))
        if (
            (group in groups or "*" in groups)
            and (resource in res or "*" in res)
            and (verb in verbs or "*" in verbs)
        ):
            return True
    return False


def grants(resources: list[dict[str, Any]]) -> list[Grant]:
    """Every (scope, subject, rules) from the plan's bindings and the Airflow chart's."""
    roles: dict[tuple[str | None, str], tuple[Mapping[str, Any], ...]] = {}
    for r in resources:
        kind, props = _kind(r), as_dict(r.get("inputs"))
        if kind in (ROLE, CLUSTER_ROLE):
            ns = get(props, "metadata.namespace") if kind == ROLE else None
            roles[(ns, str(get(props, "metadata.name")))] = tuple(
                map(as_dict, as_list(props.get("rules")))
            )
    out: list[Grant] = []
    for r in resources:
        kind, props = _kind(r), as_dict(r.get("inputs"))
        if kind not in BINDINGS:
            continue
        ref = as_dict(props.get("roleRef"))
        scope = get(props, "metadata.namespace") if kind == "RoleBinding" else None
        role_ns = scope if ref.get("kind") == ROLE else None
        rules = roles.get((role_ns, str(ref.get("name"))))
        if rules is None:
            continue
        for s in map(as_dict, as_list(props.get("subjects"))):
            if s.get("kind") == "ServiceAccount":
                subject = (str(s.get("namespace") or scope or "default"), str(s.get("name")))
                out.append((scope, subject, rules, str(r.get("urn"))))
    for raw in airflow_charts(resources):
        chart = AirflowChart.of(raw)
        binding = chart.pod_launcher_binding()
        if binding is not None:
            scope, sas = binding
            out += [(scope, (chart.namespace, sa), POD_LAUNCHER_RULES, chart.urn) for sa in sas]
    return out


def platform_namespaces(resources: list[dict[str, Any]]) -> set[str]:
    """Namespaces of every chart release (Airflow's control plane, the mesh, cert-manager,
    ...) and the Kubernetes system namespaces."""
    out: set[str] = set(SYSTEM_NAMESPACES)
    for r in resources:
        if r.get("type") in HELM_TYPES:
            out.add(str(as_dict(r.get("inputs")).get("namespace") or "default"))
    return out


def user_code_accounts(charts: list[AirflowChart]) -> set[Subject]:
    """The ServiceAccounts DAG code runs as: task pods of every task namespace."""
    return {launcher for chart in charts for launcher in chart.pod_operator_launchers()}


def rights(
    all_grants: list[Grant], subject: Subject, namespace: str
) -> tuple[Mapping[str, Any], ...]:
    return tuple(
        rule
        for scope, s, rules, _ in all_grants
        if s == subject and scope in (None, namespace)
        for rule in rules
    )


NEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "scheduler": tuple(("pods", v) for v in ("create", "get", "list", "watch", "delete")),
    "apiServer": (("pods", "list"), ("pods/log", "get")),
    "triggerer": (("pods", "get"), ("pods", "delete"), ("pods/log", "get")),
    "launcher": (("pods", "create"), ("pods", "get"), ("pods", "delete"), ("pods/log", "get")),
}


def user_code_rbac(resources: list[dict[str, Any]], ctx: Context) -> list[tuple[str, str]]:
    charts = [AirflowChart.of(r) for r in airflow_charts(resources)]
    if not charts:
        return []
    all_grants = grants(resources)
    platform = platform_namespaces(resources)
    users = user_code_accounts(charts)
    out: list[tuple[str, str]] = []
    for scope, subject, rules, urn in all_grants:
        if subject not in users or (scope is not None and scope not in platform):
            continue
        bad = [f"{res} {verb}" for res, verb in DANGEROUS if allows(rules, res, verb)]
        if bad:
            where = f"namespace {scope!r}" if scope else "the whole cluster"
            out.append(
                (
                    urn,
                    f"ServiceAccount {subject[0]}/{subject[1]} runs DAG code and may "
                    f"{', '.join(bad)} in {where}, where platform components run: task code "
                    "could take over their pods and identities; fix: grant launch rights only "
                    "in task namespaces (for the Airflow chart: allowPodLaunching false)",
                )
            )
    tokens = {
        (
            str(get(r.get("inputs"), "metadata.namespace")),
            str(get(r.get("inputs"), "metadata.name")),
        ): r
        for r in resources
        if r.get("type") == SERVICE_ACCOUNT
    }
    for chart in charts:
        who = {
            "scheduler": (chart.namespace, chart.service_account("scheduler")),
            "apiServer": (chart.namespace, chart.service_account("apiServer")),
        }
        if chart.enabled("triggerer"):
            who["triggerer"] = (chart.namespace, chart.service_account("triggerer"))
        for ns in chart.task_namespaces():
            needs = [(k, s, NEEDS[k]) for k, s in who.items()]
            needs.append(("launcher", (ns, chart.task_service_account(ns)), NEEDS["launcher"]))
            for role, subject, wanted in needs:
                have = rights(all_grants, subject, ns)
                missing = [f"{res} {verb}" for res, verb in wanted if not allows(have, res, verb)]
                if missing:
                    out.append(
                        (
                            chart.urn,
                            f"{role} ServiceAccount {subject[0]}/{subject[1]} lacks "
                            f"{', '.join(missing)} in task namespace {ns!r}; fix: a Role and "
                            "RoleBinding there",
                        )
                    )
                sa = tokens.get(subject)
                if sa is not None and is_false(
                    get(sa.get("inputs"), "automountServiceAccountToken")
                ):
                    out.append(
                        (
                            str(sa.get("urn")),
                            f"{role} ServiceAccount {subject[0]}/{subject[1]} calls the "
                            f"Kubernetes API in {ns!r} but mounts no token; fix: "
                            "automountServiceAccountToken true",
                        )
                    )
    return list(dict.fromkeys(out))
