"""The airflow-aks CrossGuard policy pack: only assembles the PolicyPack.

Two ways in, one set of rules:
- ``pulumi preview --policy-pack policies`` runs this file with ``policies/`` as the
  working directory (no package), so the rules import as the top-level ``rules``;
- ``python -m airflow_aks.policies`` from an installed wheel imports them relatively.
Tests never import this module: constructing a PolicyPack starts a gRPC server.
"""

if __package__:
    from .rules import build_policies
else:  # run as a directory by the Pulumi CLI
    from rules import build_policies

from pulumi_policy import PolicyPack

PolicyPack(
    name="airflow-aks",
    policies=build_policies(),
    description="Security (mandatory) and cost/ops (advisory) rules for Airflow on AKS.",
)
