"""Pure builder of the official Apache Airflow Helm chart's values.

Nothing here talks to Pulumi or a cluster: :func:`build_values` turns a plain, typed
:class:`AirflowValuesInput` into the ``values`` dict the chart renders, and every decision
lives in a small function tested table-driven (``tests/test_airflow_values.py``) and
validated against the chart's own JSON schema.

How secrets reach Airflow — and why not through chart Secrets
-------------------------------------------------------------
The chart normally injects the metadata connection, fernet key, API secret key and JWT
secret as env vars read from Kubernetes Secrets (``enableBuiltInSecretEnvVars``). The
Secrets Store CSI driver *can* materialise those Secrets (``secretObjects``), but only while
some pod mounts the volume: the first pod of a fresh install (the migration Job) would start
before the Secret exists, the Secret disappears when the last mounting pod goes away, every
value gets a second copy in etcd, and env vars never see a rotated value without a restart.

So this builder takes the other route, which has none of those failure modes:

* ``enableBuiltInSecretEnvVars.*: false`` — the chart injects no secret env var;
* every control-plane pod (scheduler, API server, DAG processor, triggerer, the migration
  and user Jobs, and their ``wait-for-airflow-migrations`` init containers) mounts the
  control plane's ``SecretProviderClass`` read-only at :data:`SECRETS_MOUNT_PATH`;
* Airflow reads each value with its ``*_CMD`` mechanism (supported for sensitive options:
  ``[database] sql_alchemy_conn``, ``[core] fernet_key``, ``[api] secret_key``,
  ``[api_auth] jwt_secret``), e.g. ``AIRFLOW__CORE__FERNET_KEY_CMD=cat
  /mnt/secrets-store/airflow-fernet-key`` — the file exists as soon as the volume is
  mounted (the kubelet mounts volumes before starting any container), and it follows
  Key Vault rotation (``rotationPollInterval``) without a Secret in between;
* ``data.metadataSecretName``, ``fernetKeySecretName``, ``apiSecretKeySecretName`` and
  ``jwtSecretName`` are still set (:data:`CHART_SECRET_NAMES`): when they are empty the
  chart renders its own Secrets with ``randAlphaNum`` (or the default
  ``postgres:postgres`` connection) on every render — into the Pulumi state. With the names
  set it renders none, and with the built-in env vars off nothing references them.
* Task pods get none of these: Airflow 3 task pods talk to the API server's execution API,
  not to the database, so they neither mount the control-plane secrets nor hold its
  identity (least privilege).

Identity
--------
Chart-created ServiceAccounts are disabled; each component runs as a ServiceAccount we
create with its own federated credential (``identity.WorkloadIdentity``). Every
pod that needs a token — control plane, Jobs and task pods — carries
``azure.workload.identity/use: "true"``. Remote logs go to Blob storage through a WASB
connection defined by an ``AIRFLOW_CONN_WASB_LOGS`` env var with no secret in it: its extras
name the pod's identity (``managed_identity_client_id`` + ``workload_identity_tenant_id``),
so the WASB hook falls back to ``DefaultAzureCredential`` = workload identity. Control-plane
pods and task pods get the same connection id with their own client id.

Mesh
----
Labels/annotations come in as plain dicts from the mesh interface (``Mesh.pod_labels`` /
``pod_annotations`` for ``service`` and ``job`` pods); this module does not know which mesh
runs. Long-running components get the ``service`` settings; task pods and the migration /
user Jobs get the ``job`` (run-to-completion) settings.

Metrics lined up with DAG runs: StatsD is on, with DogStatsD tags (the exporter turns
``dag_id``/``task_id`` tags into Prometheus labels); the KubernetesExecutor labels each task
pod with ``dag_id``, ``task_id``, ``run_id``, ``try_number`` (and ``map_index`` when mapped),
and KubernetesPodOperator pods get the same labels — mesh proxy metrics scraped with a
``labelmap`` on those pod labels join the Airflow metrics on ``dag_id``/``task_id``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_aks.components.merge import deep_merge
from airflow_aks.components.scheduling import PodPlacement

from .signin_config import SignInSettings, airflow_auth_config, sign_in_env, webserver_config

# Pins (checked 2026-11-23). Chart 1.22.0 (2026-06-01) is the newest release of the official
# chart; the tests validate against the schema in ../shared/charts/airflow (main after 1.22,
# a superset for the keys used here) — see README "## Airflow".
CHART_NAME = "airflow"
CHART_REPO = "https://airflow.apache.org"
# renovate: datasource=helm depName=airflow registryUrl=https://airflow.apache.org
CHART_VERSION = "1.22.0"
AIRFLOW_IMAGE_REPOSITORY = "apache/airflow"
AIRFLOW_VERSION = "3.3.2"  # same version the DAG tests load (pyproject dev extra)
# renovate: datasource=docker depName=apache/airflow
AIRFLOW_IMAGE_TAG = "3.3.2"
GIT_SYNC_IMAGE = ("registry.k8s.io/git-sync/git-sync", "v4.4.2")
STATSD_IMAGE = ("quay.io/prometheus/statsd-exporter", "v0.30.0")
PINS_CHECKED = "2026-11-23"

Environment = Literal["dev", "prod"]

WORKLOAD_IDENTITY_LABEL = "azure.workload.identity/use"
SECRETS_VOLUME = "airflow-kv"
SECRETS_MOUNT_PATH = "/mnt/secrets-store"
CSI_DRIVER = "secrets-store.csi.k8s.io"
LOG_CONN_ID = "wasb_logs"
REMOTE_LOG_PREFIX = "task-logs"
AIRFLOW_UID = 50000

KEY_VAULT_BACKEND = "airflow.providers.microsoft.azure.secrets.key_vault.AzureKeyVaultBackend"

# Names handed to the chart so it renders no Secret of its own (see module docstring).
CHART_SECRET_NAMES = {
    "metadata": "{release}-metadata-from-key-vault",
    "fernet": "{release}-fernet-key-from-key-vault",
    "api": "{release}-api-secret-key-from-key-vault",
    "jwt": "{release}-jwt-secret-from-key-vault",
}

TASK_PLACEMENT_ENV = "AIRFLOW_AKS_TASK_POD_PLACEMENT"
GPU_PLACEMENT_ENV = "AIRFLOW_AKS_GPU_POD_PLACEMENT"

CONTROL_PLANE = ("scheduler", "apiServer", "dagProcessor", "triggerer")
JOBS = ("migrateDatabaseJob", "createUserJob")


# ---------------------------------------------------------------- typed input


@dataclass(frozen=True)
class ServiceAccountNames:
    """Our ServiceAccounts (created outside the chart), one per component."""

    scheduler: str = "airflow-scheduler"
    api_server: str = "airflow-api-server"
    dag_processor: str = "airflow-dag-processor"
    triggerer: str = "airflow-triggerer"
    migrate_database_job: str = "airflow-migrate-database"
    create_user_job: str = "airflow-create-user"
    tasks: str = "airflow-tasks"
    """KubernetesExecutor task pods (and KubernetesPodOperator pods)."""

    def by_chart_key(self) -> dict[str, str]:
        """Chart section -> ServiceAccount name (``workers`` = task pods)."""
        return {
            "scheduler": self.scheduler,
            "apiServer": self.api_server,
            "dagProcessor": self.dag_processor,
            "triggerer": self.triggerer,
            "migrateDatabaseJob": self.migrate_database_job,
            "createUserJob": self.create_user_job,
            "workers": self.tasks,
        }

    def control_plane(self) -> list[str]:
        """Every ServiceAccount that gets the control-plane identity."""
        keys = self.by_chart_key()
        return [keys[k] for k in (*CONTROL_PLANE, *JOBS)]


@dataclass(frozen=True)
class KeyVaultObjects:
    """Key Vault secret names (= file names under :data:`SECRETS_MOUNT_PATH`)."""

    metadata_connection: str = "airflow-metadata-connection"
    fernet_key: str = "airflow-fernet-key"
    api_secret_key: str = "airflow-api-secret-key"
    jwt_secret: str = "airflow-jwt-secret"
    admin_password: str | None = None
    """Initial admin password; without it the user Job creates the admin with a random
    password nobody knows (log in through SSO or reset it)."""
    git_token: str | None = None
    """Token for git-sync / the gitops DAG (mounted into control plane and task pods)."""

    def control_plane_objects(self) -> list[str]:
        objs = [self.metadata_connection, self.fernet_key, self.api_secret_key, self.jwt_secret]
        return objs + [o for o in (self.admin_password, self.git_token) if o]

    def task_objects(self) -> list[str]:
        return [self.git_token] if self.git_token else []


@dataclass(frozen=True)
class MeshPodSettings:
    """What the mesh interface hands in; empty dicts for ``mesh: none``."""

    service_labels: Mapping[str, str] = field(default_factory=dict)
    service_annotations: Mapping[str, str] = field(default_factory=dict)
    job_labels: Mapping[str, str] = field(default_factory=dict)
    job_annotations: Mapping[str, str] = field(default_factory=dict)
    token_annotations: Mapping[str, str] = field(default_factory=dict)
    """``Mesh.sidecar_token().annotations()``: on every chart pod that can carry the volume."""
    token_volume: Mapping[str, Any] | None = None
    """``Mesh.sidecar_token().volume()``: a token volume only the sidecar mounts, for pods
    whose ServiceAccount mounts none (``None``: the mesh needs nothing)."""


def sidecar_token_volumes(mesh: MeshPodSettings) -> list[dict[str, Any]]:
    """The mesh's sidecar-token volume as a one-element ``extraVolumes`` list (or none).

    Added to every chart pod that has ``extraVolumes`` (the control plane, the Jobs), with
    the annotation naming it: those ServiceAccounts mount no token of their own, the app
    containers still get none, and only the injected sidecar mounts it."""
    return [dict(mesh.token_volume)] if mesh.token_volume else []


@dataclass(frozen=True)
class GitSync:
    """DAGs from Git (``None`` in :class:`AirflowValuesInput` = DAGs baked in the image)."""

    repo: str
    branch: str = "main"
    sub_path: str = "dags"
    period: str = "60s"
    username: str | None = None
    """With a username, the password is the Key Vault object ``git_token`` (as a file)."""


@dataclass(frozen=True)
class Resources:
    cpu: str
    memory: str
    cpu_limit: str
    memory_limit: str

    def as_dict(self) -> dict[str, dict[str, str]]:
        return {
            "requests": {"cpu": self.cpu, "memory": self.memory},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


@dataclass(frozen=True)
class AirflowValuesInput:
    """Everything the chart values depend on; plain data, no Pulumi outputs."""

    environment: Environment
    namespace: str
    tenant_id: str
    control_plane_client_id: str
    """Client id of the control plane's user-assigned identity."""
    tasks_client_id: str
    """Client id of the task pods' user-assigned identity."""
    secret_provider_class: str
    """SecretProviderClass (control-plane identity) holding the control-plane objects."""
    key_vault_name: str
    storage_account: str
    logs_container: str
    tasks_secret_provider_class: str | None = None
    """SecretProviderClass for task pods (tasks identity); needed only for ``git_token``."""
    release_name: str = "airflow"
    service_accounts: ServiceAccountNames = field(default_factory=ServiceAccountNames)
    key_vault_objects: KeyVaultObjects = field(default_factory=KeyVaultObjects)
    mesh: MeshPodSettings = field(default_factory=MeshPodSettings)
    image_repository: str = AIRFLOW_IMAGE_REPOSITORY
    image_tag: str = AIRFLOW_IMAGE_TAG
    airflow_version: str = AIRFLOW_VERSION
    git_sync: GitSync | None = None
    key_vault_secrets_backend: bool = True
    """Airflow connections/variables from Key Vault (prefixes ``airflow-connections``/
    ``airflow-variables``) through the pods' workload identity."""
    resources: Mapping[str, Resources] = field(default_factory=dict)
    """Overrides per chart key (``scheduler``, ``workers``, ``gitSync``, ...)."""
    replicas: Mapping[str, int] = field(default_factory=dict)
    """Overrides per control-plane chart key."""
    task_placement: PodPlacement = field(default_factory=PodPlacement)
    """Node selection + tolerations of the task pool (``scheduling.pool_placement``): the
    KubernetesExecutor pod template gets them, and DAGs read them for their pods."""
    gpu_placement: PodPlacement | None = None
    """The GPU pool's, when there is one (handed to DAGs for GPU tasks)."""
    helm_values: Mapping[str, Any] = field(default_factory=dict)
    """Escape hatch, deep-merged last."""
    sign_in: SignInSettings | None = None
    """Entra ID single sign-on (FAB auth manager); None keeps the chart's built-in admin."""
    task_namespaces: tuple[str, ...] = ()
    """Data-domain namespaces task pods may also run in (KubernetesExecutor
    ``multi_namespace_mode`` with exactly these namespaces plus Airflow's own)."""
    domains: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Per data domain, the pod settings DAGs use (``AIRFLOW_AKS_DOMAINS``)."""
    tasks_namespace: str | None = None
    """Namespace of the default task pods and of the pods DAGs launch (KubernetesPodOperator):
    no user code runs in the control plane's namespace (see :func:`tasks_namespace`)."""
    secrets_checksum: str | None = None
    """Digest of the versions of the secrets the control plane reads once per process
    (pod annotation :data:`SECRETS_CHECKSUM_ANNOTATION`): a rotated value restarts them."""


# ---------------------------------------------------------------- decisions


def validate_image_tag(tag: str, what: str = "image") -> str:
    """Pinned tags only: non-empty, well-formed, never ``latest``."""
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag or ""):
        raise ValueError(f"{what} tag {tag!r} is not a valid image tag")
    if tag == "latest" or tag.endswith("-latest"):
        raise ValueError(f"{what} tag {tag!r}: pin a version, never 'latest'")
    return tag


def replicas(environment: Environment, component: str, overrides: Mapping[str, int]) -> int:
    """Prod: two of each control-plane component (HA); dev: one."""
    if component in overrides:
        n = overrides[component]
        if n < 1:
            raise ValueError(f"{component} replicas must be >= 1, got {n}")
        return n
    return 2 if environment == "prod" else 1


def pod_disruption_budget(environment: Environment, replica_count: int) -> dict[str, Any]:
    """PDBs in prod (at most one pod down at a time), none in dev."""
    enabled = environment == "prod" and replica_count > 1
    return {"enabled": enabled, "config": {"maxUnavailable": 1}}


_DEFAULT_RESOURCES: dict[Environment, dict[str, Resources]] = {
    "dev": {
        "scheduler": Resources("250m", "512Mi", "1", "1Gi"),
        "apiServer": Resources("250m", "512Mi", "1", "1Gi"),
        "dagProcessor": Resources("100m", "384Mi", "500m", "768Mi"),
        "triggerer": Resources("100m", "256Mi", "500m", "512Mi"),
        "workers": Resources("100m", "256Mi", "1", "1Gi"),
        "migrateDatabaseJob": Resources("100m", "256Mi", "500m", "512Mi"),
        "createUserJob": Resources("100m", "256Mi", "500m", "512Mi"),
        "gitSync": Resources("25m", "64Mi", "100m", "128Mi"),
        "logGroomer": Resources("10m", "32Mi", "100m", "64Mi"),
        "statsd": Resources("25m", "64Mi", "100m", "128Mi"),
    },
    "prod": {
        "scheduler": Resources("1", "2Gi", "2", "4Gi"),
        "apiServer": Resources("500m", "1Gi", "2", "2Gi"),
        "dagProcessor": Resources("500m", "1Gi", "1", "2Gi"),
        "triggerer": Resources("250m", "512Mi", "1", "1Gi"),
        "workers": Resources("250m", "512Mi", "2", "2Gi"),
        "migrateDatabaseJob": Resources("250m", "512Mi", "1", "1Gi"),
        "createUserJob": Resources("250m", "512Mi", "1", "1Gi"),
        "gitSync": Resources("50m", "64Mi", "200m", "256Mi"),
        "logGroomer": Resources("10m", "32Mi", "100m", "64Mi"),
        "statsd": Resources("50m", "128Mi", "200m", "256Mi"),
    },
}


def resources_for(inp: AirflowValuesInput, key: str) -> dict[str, dict[str, str]]:
    """Requests and limits for a container group, overridable per key."""
    res = inp.resources.get(key) or _DEFAULT_RESOURCES[inp.environment][key]
    return res.as_dict()


def pod_security_context() -> dict[str, Any]:
    """Restricted pod security context (the image's airflow user, uid 50000, gid 0)."""
    return {
        "runAsNonRoot": True,
        "runAsUser": AIRFLOW_UID,
        "runAsGroup": 0,
        "fsGroup": 0,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security_context() -> dict[str, Any]:
    """Restricted container security context (root filesystem stays writable: Airflow
    writes caches under its home)."""
    return {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def identity_labels(mesh_labels: Mapping[str, str]) -> dict[str, str]:
    """Mesh labels plus the workload-identity label, which nothing may override."""
    return {**mesh_labels, WORKLOAD_IDENTITY_LABEL: "true"}


def csi_volume(secret_provider_class: str) -> dict[str, Any]:
    """The Key Vault CSI volume (read-only) for a SecretProviderClass."""
    return {
        "name": SECRETS_VOLUME,
        "csi": {
            "driver": CSI_DRIVER,
            "readOnly": True,
            "volumeAttributes": {"secretProviderClass": secret_provider_class},
        },
    }


def csi_mount() -> dict[str, Any]:
    return {"name": SECRETS_VOLUME, "mountPath": SECRETS_MOUNT_PATH, "readOnly": True}


def secret_file(obj: str) -> str:
    return f"{SECRETS_MOUNT_PATH}/{obj}"


def secret_cmd_env(objects: KeyVaultObjects) -> list[dict[str, str]]:
    """``*_CMD`` env vars reading each Airflow secret from its mounted file."""
    pairs = [
        ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD", objects.metadata_connection),
        ("AIRFLOW__CORE__FERNET_KEY_CMD", objects.fernet_key),
        ("AIRFLOW__API__SECRET_KEY_CMD", objects.api_secret_key),
        ("AIRFLOW__API_AUTH__JWT_SECRET_CMD", objects.jwt_secret),
    ]
    return [{"name": name, "value": f"cat {secret_file(obj)}"} for name, obj in pairs]


def disabled_builtin_secret_env() -> dict[str, bool]:
    """Switch off every chart-injected secret env var we replace with ``*_CMD``."""
    return {
        "AIRFLOW__CORE__FERNET_KEY": False,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": False,
        "AIRFLOW_CONN_AIRFLOW_DB": False,
        "AIRFLOW__API__SECRET_KEY": False,
        "AIRFLOW__API_AUTH__JWT_SECRET": False,
    }


def chart_secret_names(release: str) -> dict[str, str]:
    return {k: v.format(release=release) for k, v in CHART_SECRET_NAMES.items()}


def blob_account_url(account: str) -> str:
    return f"https://{account}.blob.core.windows.net"


def log_connection_env(inp: AirflowValuesInput, client_id: str) -> dict[str, str]:
    """The WASB connection for remote logs: no secret, the pod's identity in the extras."""
    conn = {
        "conn_type": "wasb",
        "host": blob_account_url(inp.storage_account),
        "extra": {
            "managed_identity_client_id": client_id,
            "workload_identity_tenant_id": inp.tenant_id,
        },
    }
    return {"name": f"AIRFLOW_CONN_{LOG_CONN_ID.upper()}", "value": json.dumps(conn)}


def platform_env(inp: AirflowValuesInput) -> list[dict[str, str]]:
    """Non-secret settings the DAGs read (``dags/_platform.py``), on every Airflow pod."""
    env = {
        # pods DAGs launch go to the tasks namespace, never the control plane's
        "AIRFLOW_AKS_NAMESPACE": tasks_namespace(inp),
        "AIRFLOW_AKS_TASK_SERVICE_ACCOUNT": inp.service_accounts.tasks,
        "AIRFLOW_AKS_TASK_POD_LABELS": json.dumps(identity_labels(inp.mesh.job_labels)),
        "AIRFLOW_AKS_TASK_POD_ANNOTATIONS": json.dumps(dict(inp.mesh.job_annotations)),
        "AIRFLOW_AKS_KEY_VAULT_URL": f"https://{inp.key_vault_name}.vault.azure.net/",
        "AIRFLOW_AKS_STORAGE_ACCOUNT": inp.storage_account,
    }
    if inp.key_vault_objects.git_token:
        env["AIRFLOW_AKS_GIT_TOKEN_FILE"] = secret_file(inp.key_vault_objects.git_token)
    # Node selection + tolerations for the pods DAGs launch (KubernetesPodOperator): the
    # same placement as the executor's pod template (``dags/_platform.py`` reads them).
    env[TASK_PLACEMENT_ENV] = json.dumps(inp.task_placement.as_pod_spec(), sort_keys=True)
    if inp.gpu_placement is not None:
        env[GPU_PLACEMENT_ENV] = json.dumps(inp.gpu_placement.as_pod_spec(), sort_keys=True)
    if inp.domains:
        env["AIRFLOW_AKS_DOMAINS"] = json.dumps(inp.domains, sort_keys=True, separators=(",", ":"))
    return [{"name": k, "value": v} for k, v in env.items()]


def tasks_namespace(inp: AirflowValuesInput) -> str:
    """Where default task pods (and the pods DAGs launch) run: never the control plane's
    namespace. The chart's ``pod-launcher`` RoleBinding (``templates/rbac/pod-launcher-
    rolebinding.yaml``, apache/airflow stored commit 4ff4f33a, read 2026-12-07) binds the
    scheduler, the worker and the triggerer ServiceAccounts to pods create/patch/delete and
    ``pods/exec`` in the release namespace when the executor is KubernetesExecutor: task code
    could exec into the scheduler or start a pod as a control-plane ServiceAccount. So the
    chart renders no pod-launching RBAC (``allowPodLaunching: false``) and the task pods'
    rights live in their own namespace."""
    ns = inp.tasks_namespace or f"{inp.namespace}-tasks"
    if ns == inp.namespace:
        raise ValueError(
            f"tasks namespace {ns!r} is the Airflow control plane's namespace: task code must "
            "not run beside the scheduler (choose another airflow.tasksNamespace)"
        )
    return ns


def multi_namespace_config(inp: AirflowValuesInput) -> dict[str, str]:
    """KubernetesExecutor namespaces: default task pods in :func:`tasks_namespace`; with data
    domains, multi-namespace mode restricted to exactly those namespaces (the scheduler
    watches and launches pods only there, with namespaced Roles, no ClusterRole: the chart's
    ``multiNamespaceMode`` stays false). The executor puts a pod in ``[kubernetes_executor]
    namespace`` unless its ``pod_override`` names another (cncf.kubernetes 10.25.0
    ``kubernetes_executor.py`` ``_get_pod_namespace``, ``pod_generator.py``
    ``construct_pod``; keys from ``get_provider_info.py``), read 2026-12-07."""
    tasks = tasks_namespace(inp)
    namespaces = list(dict.fromkeys([tasks, *inp.task_namespaces]))
    if len(namespaces) == 1:
        return {"namespace": tasks, "multi_namespace_mode": "False"}
    return {
        "namespace": tasks,
        "multi_namespace_mode": "True",
        "multi_namespace_mode_namespace_list": ",".join(namespaces),
    }


def task_pod_namespaces(inp: AirflowValuesInput) -> list[str]:
    """Every namespace the executor's pod template is placed in."""
    return list(dict.fromkeys([tasks_namespace(inp), *inp.task_namespaces]))


def airflow_config(inp: AirflowValuesInput) -> dict[str, dict[str, Any]]:
    """``airflow.cfg`` sections (the chart's ``config``): remote logging, metrics, secrets."""
    config: dict[str, dict[str, Any]] = {
        "logging": {
            "remote_logging": "True",
            "remote_base_log_folder": f"wasb://{REMOTE_LOG_PREFIX}",
            "remote_log_conn_id": LOG_CONN_ID,
            "delete_local_logs": "True",
        },
        "azure_remote_logging": {"remote_wasb_log_container": inp.logs_container},
        "core": {
            "load_examples": "False",
            # Task pods run in other namespaces: the chart's defaults are short Service
            # names that resolve only inside the release namespace.
            "execution_api_server_url": execution_api_url(inp.release_name, inp.namespace),
        },
        "metrics": {
            "statsd_on": "True",
            # DogStatsD tags: statsd-exporter turns dag_id/task_id tags into labels.
            "statsd_datadog_enabled": "True",
            "statsd_host": statsd_host(inp.release_name, inp.namespace),
        },
        "kubernetes_executor": {
            "delete_worker_pods": "True",
            "delete_worker_pods_on_failure": "False" if inp.environment == "dev" else "True",
            **multi_namespace_config(inp),
        },
    }
    if inp.key_vault_secrets_backend:
        config["secrets"] = {
            "backend": KEY_VAULT_BACKEND,
            "backend_kwargs": json.dumps(
                {
                    "vault_url": f"https://{inp.key_vault_name}.vault.azure.net/",
                    "connections_prefix": "airflow-connections",
                    "variables_prefix": "airflow-variables",
                    "sep": "-",
                }
            ),
        }
    return config


def git_sync_values(inp: AirflowValuesInput) -> dict[str, Any]:
    """``dags`` section: git-sync (optionally with a Key Vault token file) or baked DAGs."""
    gs = inp.git_sync
    if gs is None:
        return {"persistence": {"enabled": False}, "gitSync": {"enabled": False}}
    if not gs.repo.startswith(("https://", "ssh://", "git@")):
        raise ValueError(f"git-sync repo {gs.repo!r} must be an https or ssh URL")
    if "@" in gs.repo.removeprefix("git@").split("/", 3)[2 if "://" in gs.repo else 0]:
        raise ValueError("git-sync repo URL must not carry credentials")
    env: list[dict[str, str]] = []
    mounts: list[dict[str, Any]] = []
    if gs.username:
        token = inp.key_vault_objects.git_token
        if not token:
            raise ValueError("git-sync with a username needs key_vault_objects.git_token")
        if not inp.tasks_secret_provider_class:
            raise ValueError(
                "git-sync with a token needs tasks_secret_provider_class: task pods run "
                "git-sync too and must mount the token with the tasks identity"
            )
        env = [
            {"name": "GITSYNC_USERNAME", "value": gs.username},
            {"name": "GITSYNC_PASSWORD_FILE", "value": secret_file(token)},
        ]
        mounts = [csi_mount()]
    return {
        "persistence": {"enabled": False},
        "gitSync": {
            "enabled": True,
            "repo": gs.repo,
            "branch": gs.branch,
            "rev": "HEAD",
            "subPath": gs.sub_path,
            "period": gs.period,
            "env": env,
            "extraVolumeMounts": mounts,
            "resources": resources_for(inp, "gitSync"),
            "securityContexts": {"container": container_security_context()},
        },
    }


def control_plane_component(inp: AirflowValuesInput, key: str) -> dict[str, Any]:
    """Values for scheduler / apiServer / dagProcessor / triggerer."""
    sa = inp.service_accounts.by_chart_key()[key]
    n = replicas(inp.environment, key, inp.replicas)
    env = [
        *secret_cmd_env(inp.key_vault_objects),
        log_connection_env(inp, inp.control_plane_client_id),
    ]
    values: dict[str, Any] = {
        "enabled": True,
        "replicas": n,
        "serviceAccount": {"create": False, "name": sa},
        "labels": identity_labels(inp.mesh.service_labels),
        "podAnnotations": {
            **inp.mesh.service_annotations,
            **secrets_checksum_annotation(inp),
            **inp.mesh.token_annotations,
        },
        "env": env,
        "extraVolumes": [
            csi_volume(inp.secret_provider_class),
            *sidecar_token_volumes(inp.mesh),
        ],
        "extraVolumeMounts": [csi_mount()],
        "resources": resources_for(inp, key),
        "securityContexts": {
            "pod": pod_security_context(),
            "container": container_security_context(),
        },
        "waitForMigrations": {
            "enabled": True,
            "env": secret_cmd_env(inp.key_vault_objects),
            "securityContexts": {"container": container_security_context()},
        },
        "podDisruptionBudget": pod_disruption_budget(inp.environment, n),
    }
    if inp.environment == "prod":
        values["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"component": _component_label(key)}},
            }
        ]
    if key != "apiServer":
        values["logGroomerSidecar"] = {
            "enabled": True,
            "resources": resources_for(inp, "logGroomer"),
            "securityContexts": {"container": container_security_context()},
        }
    if key == "triggerer":
        values["persistence"] = {"enabled": False}  # logs go to Blob; no PVC needed
    if key == "apiServer":
        values["service"] = {"type": "ClusterIP"}
        # the chart's pod-log-reader RoleBinding covers only the release namespace, where no
        # task runs; the component binds the API server where task pods run.
        values["allowPodLogReading"] = False
    return values


SECRETS_CHECKSUM_ANNOTATION = "airflow-aks.io/secret-versions"
"""Pod annotation: digest of the Key Vault secret versions the pod reads once per process.

Airflow reads ``sql_alchemy_conn``, ``fernet_key``, ``[api] secret_key`` and
``[api_auth] jwt_secret`` once when a process starts (``*_CMD`` run at configuration load),
so a rotated value (``secretsIssuedOn`` moved: new Postgres password, new JWT secret) would
leave running pods with the old one. A changed annotation in a Deployment's pod template
makes Kubernetes roll its pods (Deployment "Updating a Deployment": a rollout is triggered
if and only if ``.spec.template`` changes) — the same mechanism as the chart's own
``checksum/metadata-secret`` annotations (``dag-processor-deployment.yaml``, stored commit
01d5bb62), which cannot see Key Vault values."""


def secrets_checksum_annotation(inp: AirflowValuesInput) -> dict[str, str]:
    return {SECRETS_CHECKSUM_ANNOTATION: inp.secrets_checksum} if inp.secrets_checksum else {}


def _component_label(key: str) -> str:
    return {
        "scheduler": "scheduler",
        "apiServer": "api-server",
        "dagProcessor": "dag-processor",
        "triggerer": "triggerer",
    }[key]


def job_component(inp: AirflowValuesInput, key: str) -> dict[str, Any]:
    """Values for migrateDatabaseJob / createUserJob: plain Jobs (no Helm hooks), run to
    completion under the mesh, mount the control-plane secrets."""
    sa = inp.service_accounts.by_chart_key()[key]
    values: dict[str, Any] = {
        "enabled": True,
        "useHelmHooks": False,  # Pulumi's Chart v4 renders templates, it runs no hooks
        "applyCustomEnv": True,
        "serviceAccount": {"create": False, "name": sa},
        "labels": identity_labels(inp.mesh.job_labels),
        "annotations": {**inp.mesh.job_annotations, **inp.mesh.token_annotations},
        "env": secret_cmd_env(inp.key_vault_objects),
        "extraVolumes": [
            csi_volume(inp.secret_provider_class),
            *sidecar_token_volumes(inp.mesh),
        ],
        "extraVolumeMounts": [csi_mount()],
        "resources": resources_for(inp, key),
        "securityContexts": {
            "pod": pod_security_context(),
            "container": container_security_context(),
        },
        "ttlSecondsAfterFinished": 3600,
    }
    if key == "createUserJob":
        values["defaultUser"] = {"enabled": True, "password": ""}
        values["args"] = create_user_args(inp.key_vault_objects.admin_password)
    return values


def create_user_args(admin_password_object: str | None) -> list[str]:
    """``airflow users create`` reading the password from its mounted file, or with a
    random password when no Key Vault object is configured — never a literal."""
    password = (
        f'-p "$(cat {secret_file(admin_password_object)})"'
        if admin_password_object
        else "--use-random-password"
    )
    return [
        "bash",
        "-c",
        "exec airflow users create -r Admin -u admin -e admin@example.invalid "
        f"-f Airflow -l Admin {password}",
    ]


WORKER_LEVEL_KEYS = (
    "serviceAccount",
    "labels",
    "podAnnotations",
    "nodeSelector",
    "tolerations",
    "env",
    "extraVolumes",
    "extraVolumeMounts",
    "resources",
    "securityContexts",
)
"""Pod-template keys set identically at ``workers.X`` and ``workers.kubernetes.X``.

Which level the KubernetesExecutor pod template reads moved key by key across chart
releases (apache/airflow ``chart/files/pod-template-file.kubernetes-helm-yaml``, read
2026-12-02): at stored commit 00c4d758 every key is ``workers.X``; at 0c201d75
(Miretpl/airflow, mid-migration) ``securityContexts``/``command`` read
``workers.kubernetes.X`` first while ``resources``, ``env``, ``extraVolumes*``,
``nodeSelector``, ``tolerations`` still read ``workers.X`` only; PR #64976 (merged
2026-04-11) resolves tolerations as ``workers.kubernetes.X or workers.X or X``, and the 1.20
/ 1.21 release notes deprecate ``workers.nodeSelector`` / ``workers.affinity``. Every step
uses first-non-empty (``or`` / ``default``). The 1.22.0 template itself could not be read
(the repository snapshot is too large to fetch), so each key is set at both levels with the
same value: right whichever level 1.22.0 reads (``tests/test_airflow_values.py``)."""


def workers_values(inp: AirflowValuesInput) -> dict[str, Any]:
    """Task pods (KubernetesExecutor pod template): tasks identity, run-to-completion mesh
    settings, the task pool's placement, no control-plane secrets."""
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    if inp.tasks_secret_provider_class and inp.key_vault_objects.task_objects():
        volumes = [csi_volume(inp.tasks_secret_provider_class)]
        mounts = [csi_mount()]

    def template() -> dict[str, Any]:
        sa = inp.service_accounts.tasks
        out: dict[str, Any] = {
            # workers.serviceAccount also decides whether the chart creates a worker SA.
            "serviceAccount": {"create": False, "name": sa},
            "labels": identity_labels(inp.mesh.job_labels),
            "podAnnotations": dict(inp.mesh.job_annotations),
            **({} if inp.task_placement.empty else inp.task_placement.as_pod_spec()),
            "env": [log_connection_env(inp, inp.tasks_client_id)],
            "extraVolumes": [dict(v) for v in volumes],
            "extraVolumeMounts": [dict(m) for m in mounts],
            "resources": resources_for(inp, "workers"),
            "securityContexts": {
                "pod": pod_security_context(),
                "container": container_security_context(),
            },
        }
        return out

    return {**template(), "kubernetes": template()}


def images(inp: AirflowValuesInput) -> dict[str, Any]:
    tag = validate_image_tag(inp.image_tag, "airflow")
    validate_image_tag(GIT_SYNC_IMAGE[1], "git-sync")
    validate_image_tag(STATSD_IMAGE[1], "statsd")
    return {
        "airflow": {"repository": inp.image_repository, "tag": tag, "pullPolicy": "IfNotPresent"},
        "gitSync": {"repository": GIT_SYNC_IMAGE[0], "tag": GIT_SYNC_IMAGE[1]},
        "statsd": {"repository": STATSD_IMAGE[0], "tag": STATSD_IMAGE[1]},
        "useDefaultImageForMigration": False,
    }


def build_values(inp: AirflowValuesInput) -> dict[str, Any]:
    """The chart values for one Airflow installation (``helm_values`` merged last)."""
    if inp.environment not in ("dev", "prod"):
        raise ValueError(f"environment must be dev or prod, got {inp.environment!r}")
    names = chart_secret_names(inp.release_name)
    values: dict[str, Any] = {
        "airflowVersion": inp.airflow_version,
        "defaultAirflowRepository": inp.image_repository,
        "defaultAirflowTag": validate_image_tag(inp.image_tag, "airflow"),
        "images": images(inp),
        "executor": "KubernetesExecutor",
        # No chart pod-launcher / pod-log-reader RBAC in the control plane's namespace: the
        # component grants launch and log-read rights only where task pods run.
        "allowPodLaunching": False,
        # The workload-identity label on every pod: the chart's dag-processor Deployment
        # puts only the global labels on its pod (templates/dag-processor/dag-processor-
        # deployment.yaml, stored commit 01d5bb62, read 2026-12-07).
        "labels": identity_labels({"app.kubernetes.io/part-of": "airflow-aks"}),
        "uid": AIRFLOW_UID,
        "gid": 0,
        "securityContexts": {
            "pod": pod_security_context(),
            "containers": container_security_context(),
        },
        # secrets: files from Key Vault via CSI + *_CMD; the chart renders no Secret
        "enableBuiltInSecretEnvVars": disabled_builtin_secret_env(),
        "data": {"metadataSecretName": names["metadata"]},
        "fernetKeySecretName": names["fernet"],
        "apiSecretKeySecretName": names["api"],
        "jwtSecretName": names["jwt"],
        "env": platform_env(inp),
        "config": airflow_config(inp),
        "dags": git_sync_values(inp),
        "logs": {"persistence": {"enabled": False}},
        "workers": workers_values(inp),
        "statsd": {
            "enabled": True,
            "resources": resources_for(inp, "statsd"),
            "securityContexts": {
                "pod": {
                    "runAsNonRoot": True,
                    "runAsUser": 65534,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "container": container_security_context(),
            },
            # The chart has no statsd.extraVolumes (values.schema.json 1.22.0), so a mesh
            # sidecar that needs the pod's token (Mesh.sidecar_token) gets it the only
            # way left: the ServiceAccount mounts it. statsd runs no user code and no Role
            # names its ServiceAccount.
            "serviceAccount": {"automountServiceAccountToken": inp.mesh.token_volume is not None},
            "labels": dict(inp.mesh.service_labels),
            "podAnnotations": dict(inp.mesh.service_annotations),
        },
        # external Postgres flexible server; no in-cluster database, broker or pooler
        "postgresql": {"enabled": False},
        "redis": {"enabled": False},
        "pgbouncer": {"enabled": False},
        "flower": {"enabled": False},
        "cleanup": {"enabled": False},
        "databaseCleanup": {"enabled": False},
    }
    for key in CONTROL_PLANE:
        values[key] = control_plane_component(inp, key)
    for key in JOBS:
        values[key] = job_component(inp, key)
    if inp.sign_in is not None:
        values = sign_in_values(values, inp.sign_in)
    return deep_merge(values, inp.helm_values)


def sign_in_values(values: dict[str, Any], s: SignInSettings) -> dict[str, Any]:
    """Single sign-on on: the FAB auth manager with the generated ``webserver_config.py``
    (``apiServer.apiServerConfig``), the public base URL, and no built-in admin user (the
    user-creation Job is off; people get roles from Entra app roles only). The API server
    trusts ``X-Forwarded-*`` (the chart's ``FORWARDED_ALLOW_IPS`` advice): the gateway
    terminates TLS, and under default deny only the gateway and Airflow's own pods reach
    the port, so OAuth redirect URLs come out as ``https://<host>/...``.

    ``[core] execution_api_server_url`` defaults to ``{[api] base_url}/execution/``
    (Airflow 3.3 config reference): with the public base URL, task pods would call the
    execution API through the public entrance. :func:`airflow_config` pins it to the
    in-cluster Service, the path the mesh allows (tasks -> API server :8080)."""
    out = deep_merge(values, {"config": airflow_auth_config(s)})
    api = dict(out["apiServer"])
    api["apiServerConfig"] = webserver_config(s)
    api["env"] = [*api["env"], *sign_in_env(s), {"name": "FORWARDED_ALLOW_IPS", "value": "*"}]
    out["apiServer"] = api
    out["createUserJob"] = {**out["createUserJob"], "enabled": False}
    return out


def chart_fullname(release: str) -> str:
    """The chart's ``airflow.fullname``: the release name when it contains ``airflow``, else
    ``<release>-airflow`` (``templates/_helpers.yaml``, apache/airflow stored commit
    002843d6, read 2026-12-07). Services are named after it."""
    return release if "airflow" in release else f"{release}-airflow"


def service_fqdn(service: str, namespace: str) -> str:
    """A Service's cluster DNS name: short names resolve only in the pod's own namespace
    (Kubernetes "DNS for Services and Pods": the search path starts with the pod's
    namespace)."""
    return f"{service}.{namespace}.svc.cluster.local"


def chart_config_map_name(release: str) -> str:
    """The chart's ConfigMap (airflow.cfg, pod template) that the executor's pod template
    mounts: ``{{ template "airflow_config" . }}`` = ``<release>-airflow-config``
    (``templates/_helpers.yaml``, apache/airflow stored commit 002843d6, read 2026-12-07;
    the 1.22.0 tag itself could not be read)."""
    return f"{release}-airflow-config"


def execution_api_url(release: str, namespace: str) -> str:
    """The execution API on the chart's API server Service (``<fullname>-api-server``,
    ``ports.apiServer`` 8080), fully qualified: task pods run in other namespaces."""
    return (
        f"http://{service_fqdn(f'{chart_fullname(release)}-api-server', namespace)}:8080/execution/"
    )


def statsd_host(release: str, namespace: str) -> str:
    """The chart's statsd Service (default ``config.metrics.statsd_host`` is the short name
    ``<fullname>-statsd``, chart values.yaml), fully qualified for task pods elsewhere."""
    return service_fqdn(f"{chart_fullname(release)}-statsd", namespace)
