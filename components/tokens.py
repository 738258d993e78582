"""Type tokens of the components: ``airflow-aks:<module>:<Type>``.

Inside the component provider (``provider/``, :mod:`airflow_aks.provider`) the schema the
SDK's analyzer generates puts every type in the ``index`` module, so the hosted
components register as ``airflow-aks:index:<Type>`` — the token the engine asked to
construct. Python stacks (and the offline plan) keep the module tokens.
"""

PACKAGE = "airflow-aks"
_index_tokens = False


def type_token(module: str, name: str) -> str:
    """The token a component registers with."""
    return f"{PACKAGE}:{'index' if _index_tokens else module}:{name}"


def use_index_tokens(enabled: bool = True) -> None:
    """Switch to ``index`` tokens (called once by the provider host)."""
    global _index_tokens
    _index_tokens = enabled
