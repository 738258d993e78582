"""The pipeline bootstrap program (``delivery/``): identities for one stage of the pipeline.

The stack name is the platform stack it prepares. Everything comes from files the platform
repository already holds: ``delivery.yaml`` (subjects), ``Pulumi.<stack>.yaml`` (resource
group, region, name prefix) and ``delivery/grants/<stack>.json`` (the grants derived from
the platform stack's offline plan by ``airflow-aks pipeline --write``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi

from airflow_aks.components.delivery import CustomRoleArgs, GrantArgs, PipelineIdentity
from airflow_aks.config.delivery import load_pipeline
from airflow_aks.config.stack import load, read_stack_file
from airflow_aks.delivery.grants import GRAPH_APP_ROLES
from airflow_aks.delivery.pipeline import subjects

ROOT = Path(__file__).resolve().parents[2]


def grants_path(root: Path, stack: str) -> Path:
    return root / "delivery" / "grants" / f"{stack}.json"


def _grant_args(items: list[dict[str, Any]]) -> list[GrantArgs]:
    out: list[GrantArgs] = []
    for g in items:
        a: GrantArgs = {"role": g["role"]}
        if g.get("role_guid"):
            a["role_guid"] = g["role_guid"]
        if g.get("condition"):
            a["condition"] = g["condition"]
        a["scope"] = g.get("scope") or "resourceGroup"
        out.append(a)
    return out


def _custom_role_args(roles: dict[str, dict[str, Any]]) -> list[CustomRoleArgs]:
    return [
        {
            "name": name,
            "actions": list(c.get("actions", ())),
            "data_actions": list(c.get("data_actions", ())),
            "not_data_actions": list(c.get("not_data_actions", ())),
            "scope": c.get("scope", "resourceGroup"),
        }
        for name, c in sorted(roles.items())
    ]


def main(root: Path = ROOT) -> None:
    stack = pulumi.get_stack()
    pipeline = load_pipeline(root / "delivery.yaml")
    stage = pipeline.stage(stack)
    cfg = load(read_stack_file(root / f"Pulumi.{stack}.yaml"), stack)
    if not (cfg.resource_group.existing and cfg.resource_group.name):
        raise ValueError(
            f"Pulumi.{stack}.yaml: a pipeline stack names the resource group the bootstrap "
            "creates: set airflow-aks:resourceGroup {name: ..., existing: true}"
        )
    path = grants_path(root, stack)
    if not path.is_file():
        raise ValueError(f"{path} is missing: run `airflow-aks pipeline --write`")
    grants = json.loads(path.read_text())
    subs = subjects(pipeline, stage)
    identity = PipelineIdentity(
        f"pipeline-{stack}",
        {
            "stack": stack,
            "name_prefix": f"{cfg.name_prefix}-{cfg.environment}",
            "resource_group_name": cfg.resource_group.name,
            "location": cfg.location,
            "deploy_subjects": subs["deploy"],
            "preview_subjects": subs["preview"],
            "deploy_grants": _grant_args(grants["deploy"]),
            "preview_grants": _grant_args(grants["preview"]),
            "custom_roles": _custom_role_args(grants.get("custom_roles", {})),
            "graph_app_roles": [GRAPH_APP_ROLES[p] for p in grants["graph_app_roles"]["deploy"]],
            "preview_graph_app_roles": [
                GRAPH_APP_ROLES[p] for p in grants["graph_app_roles"]["preview"]
            ],
            "tags": dict(cfg.tags),
        },
    )
    pulumi.export("resourceGroupName", identity.resource_group_name)
    pulumi.export("deployEnvironment", stage.deploy_env)
    pulumi.export("deployClientId", identity.deploy_client_id)
    pulumi.export("previewEnvironment", stage.preview_env)
    pulumi.export("previewClientId", identity.preview_client_id)
