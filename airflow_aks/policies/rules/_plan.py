"""Helpers over plan resources (dicts with ``type``, ``urn``, ``inputs``, ``options``,
``propertyDependencies``) shared by the stack rules of several areas."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._core import (
    as_dict,
    as_list,
)


def _of_type(resources: list[dict[str, Any]], *types: str) -> list[dict[str, Any]]:
    return [r for r in resources if r.get("type") in types]


def _inputs(r: Mapping[str, Any]) -> Mapping[str, Any]:
    return as_dict(r.get("inputs"))


def options(r: Mapping[str, Any]) -> Mapping[str, Any]:
    """The resource options a plan resource carries (empty when the source had none)."""
    return as_dict(r.get("options"))


def _deps(r: Mapping[str, Any], key: str) -> list[str]:
    return [str(u) for u in as_list(as_dict(r.get("propertyDependencies")).get(key))]


def refers_to(r: Mapping[str, Any], key: str, target: Mapping[str, Any], id_suffix: str) -> bool:
    """Whether input ``key`` of ``r`` is (derived from) ``target``: by property dependency
    (always recorded, known or not), or by an ARM id ending in ``id_suffix``."""
    if str(target.get("urn")) in _deps(r, key):
        return True
    value = _inputs(r).get(key)
    return isinstance(value, str) and value.lower().endswith(id_suffix.lower())


def _role_guid(assignment: Mapping[str, Any]) -> str:
    return (
        str(_inputs(assignment).get("roleDefinitionId", "")).lower().rstrip("/").rsplit("/", 1)[-1]
    )
