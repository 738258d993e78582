"""Two registrations under one URN: the engine refuses the second, so the offline plan
does too (for every resource, whatever list produced it), naming both registrations; the
config boundary refuses the repeated list entries that would cause it, at their key."""

from __future__ import annotations

import pulumi
import pytest

from airflow_aks.cli import main as cli
from airflow_aks.config.stack import load, read_stack_file
from airflow_aks.offline import plan
from airflow_aks.program import stack as program
from tests.conftest import ROOT


def test_monitor_refuses_a_second_registration_naming_both():
    def twice() -> None:
        parent = pulumi.ComponentResource("test:index:Box", "box")
        pulumi.ComponentResource(
            "test:index:Item", "item", opts=pulumi.ResourceOptions(parent=parent)
        )
        pulumi.ComponentResource(
            "test:index:Item", "item", opts=pulumi.ResourceOptions(parent=parent)
        )

    with pytest.raises(plan.DuplicateUrnError) as err:
        plan.run(twice, stack="dev", config={})
    message = str(err.value)
    assert err.value.urn.endswith("test:index:Box$test:index:Item::item")
    assert message.count("test:index:Item 'item' (parent box)") == 2
    assert "first" in message and "again" in message


def test_a_urn_carries_the_parents_type_not_its_name():
    """Why children derive their names from the parent's: the same child name under two
    parents of one type is one URN."""

    def children(name_of) -> None:
        for p in ("a", "b"):
            parent = pulumi.ComponentResource("test:index:Box", p)
            opts = pulumi.ResourceOptions(parent=parent)
            pulumi.ComponentResource("test:index:Item", name_of(p), opts=opts)

    assert (
        len(plan.run(lambda: children(lambda p: f"{p}-item"), stack="dev", config={}).resources)
        == 4
    )
    with pytest.raises(plan.DuplicateUrnError) as err:
        plan.run(lambda: children(lambda p: "item"), stack="dev", config={})
    assert "(parent a)" in str(err.value) and "(parent b)" in str(err.value)


def test_repeated_backend_secret_fails_the_real_program(monkeypatch):
    """Past the config boundary (the model copied without validation), the plan itself
    refuses the second role assignment of the repeated secret."""
    real_load = program.load

    def load_with_repeat(raw, stack):
        cfg = real_load(raw, stack)
        names = ["airflow-connections-warehouse"] * 2
        airflow = cfg.airflow.model_copy(update={"backend_secret_names": names})
        return cfg.model_copy(update={"airflow": airflow})

    monkeypatch.setattr(program, "load", load_with_repeat)
    raw = read_stack_file(ROOT / "Pulumi.dev.yaml")
    with pytest.raises(plan.DuplicateUrnError, match="airflow-connections-warehouse"):
        plan.run(program.main, stack="dev", config=raw, plan_mocks=plan.PlanMocks())


@pytest.mark.parametrize("key", ["backendSecretNames", "taskSecretNames"])
def test_repeated_secret_name_is_a_config_error(key, tmp_path, capsys):
    name = "airflow-variables-region" if key == "backendSecretNames" else "warehouse-dsn"
    stack = tmp_path / "Pulumi.dev.yaml"
    text = (ROOT / "Pulumi.dev.yaml").read_text()
    stack.write_text(text + f"  airflow-aks:airflow:\n    {key}: [{name}, other-x, {name}]\n")
    out = tmp_path / "plan.json"
    code = cli.main(["plan", "--stack", "dev", "--config", str(stack), "--json", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert f"airflow-aks:airflow.{key}: '{name}' is listed twice: [0] and [2]" in err


def test_load_reports_every_repeated_list():
    raw = read_stack_file(ROOT / "Pulumi.dev.yaml")
    raw["airflow-aks:aks"] = {
        **raw["airflow-aks:aks"],
        "authorizedIpRanges": ["203.0.113.0/24"] * 2,
    }
    with pytest.raises(Exception, match=r"aks\.authorizedIpRanges: '203\.0\.113\.0/24' is listed"):
        load(raw, "dev")
