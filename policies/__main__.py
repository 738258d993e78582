"""The airflow-aks CrossGuard policy pack: only assembles the PolicyPack.

Run with ``pulumi preview --policy-pack policies``. Pulumi starts this file with
``policies/`` as the working directory, so the rules import as the top-level ``rules``
package. Tests never import this module: constructing a PolicyPack starts a gRPC server.
"""

from pulumi_policy import PolicyPack
from rules import build_policies

PolicyPack(
    name="airflow-aks",
    policies=build_policies(),
    description="Security (mandatory) and cost/ops (advisory) rules for Airflow on AKS.",
)
