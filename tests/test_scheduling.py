"""Pool taints -> pod placement (components/scheduling.py), table-driven, no Pulumi."""

from __future__ import annotations

import pytest

from airflow_aks.components import scheduling as S

TASKS_TAINT = "airflow-aks/pool=tasks:NoSchedule"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (TASKS_TAINT, S.Taint("airflow-aks/pool", "tasks", "NoSchedule")),
        ("nvidia.com/gpu:NoExecute", S.Taint("nvidia.com/gpu", "", "NoExecute")),
        ("a=b=c:PreferNoSchedule", S.Taint("a", "b=c", "PreferNoSchedule")),
    ],
)
def test_parse_taint(text: str, expected: S.Taint) -> None:
    assert S.parse_taint(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize("text", ["nokey", "a=b:Sometimes", "=b:NoSchedule", ":NoSchedule"])
def test_parse_taint_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="taint"):
        S.parse_taint(text)


@pytest.mark.parametrize(
    ("taints", "spot", "system", "expected"),
    [
        ([], False, False, []),
        ([TASKS_TAINT], True, False, [TASKS_TAINT, S.SPOT_TAINT]),
        ([S.SPOT_TAINT], True, False, [S.SPOT_TAINT]),  # not twice
        ([], False, True, [S.SYSTEM_TAINT]),
    ],
)
def test_effective_taints(taints: list[str], spot: bool, system: bool, expected: list[str]) -> None:
    assert S.effective_taints(taints, spot=spot, system=system) == expected


def test_spot_task_pool_placement() -> None:
    p = S.pool_placement("tasks", [TASKS_TAINT], {"airflow-aks/pool": "tasks"}, spot=True)
    assert p.node_selector == {"airflow-aks/pool": "tasks"}
    assert p.tolerations == [
        {"key": "airflow-aks/pool", "operator": "Equal", "value": "tasks", "effect": "NoSchedule"},
        {
            "key": "kubernetes.azure.com/scalesetpriority",
            "operator": "Equal",
            "value": "spot",
            "effect": "NoSchedule",
        },
    ]


def test_regular_pool_no_spot_toleration_and_prefer_is_skipped() -> None:
    p = S.pool_placement("gpu", ["nvidia.com/gpu:NoSchedule", "x=y:PreferNoSchedule"], {"p": "g"})
    assert p.tolerations == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]


def test_untainted_pool_only_selects() -> None:
    p = S.pool_placement("workload", [], {"airflow-aks/pool": "workload"})
    assert p.as_pod_spec() == {"nodeSelector": {"airflow-aks/pool": "workload"}, "tolerations": []}


def test_pool_without_labels_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ValueError, match=r"airflow-aks:aks\.gpuPool\.labels"):
        S.pool_placement("gpu", [], {}, config_key="aks.gpuPool")


def test_args_round_trip() -> None:
    p = S.pool_placement("tasks", [TASKS_TAINT], {"airflow-aks/pool": "tasks"})
    assert S.from_args(p.as_args()) == p
    assert S.from_args(None).empty
