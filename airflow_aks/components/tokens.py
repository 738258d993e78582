"""Type tokens of the components: ``airflow-aks:index:<ClassName>``, one scheme everywhere.

The token is part of every URN, so it is chosen once and derived, never typed: Python
stacks, the offline plan and the component provider host all register the same token.
``index`` because Pulumi's component analyzer puts every type of a package in the
``index`` module and refuses any other (pulumi SDK 3.272
``pulumi/provider/experimental/component.py``: "we only support the 'index' module",
read 2026-12-07); pulumi-eks does the same (``eks:index:Cluster``). Renaming a class
changes its token: add an alias (CONTRIBUTING.md, "Renames").
"""

PACKAGE = "airflow-aks"
MODULE = "index"


def type_token(component: type) -> str:
    """The token ``component`` registers with: the schema's token for its class name."""
    return f"{PACKAGE}:{MODULE}:{component.__name__}"
