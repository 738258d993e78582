"""render.values_echoes: a rendered field that dumps the values is left out of the
ignored-key probe (linkerd-config data.values); other string fields are not."""

import yaml

from airflow_aks.offline.render import Rendered, values_echoes

VALUES = {"proxy": {"nativeSidecar": True}, "disableHeartBeat": True}


def _cm(name: str, data: dict[str, str]) -> Rendered:
    obj = {"kind": "ConfigMap", "metadata": {"name": name, "namespace": "linkerd"}, "data": data}
    return Rendered("t/config.yaml", obj)


def test_a_dump_of_the_values_is_an_echo() -> None:
    merged = {**VALUES, "controllerReplicas": 1, "proxy": {"nativeSidecar": True, "x": 1}}
    objs = [_cm("linkerd-config", {"values": yaml.safe_dump(merged)})]
    assert values_echoes(objs, VALUES) == {"ConfigMap linkerd/linkerd-config": ["data.values"]}


def test_yaml_that_misses_a_values_leaf_is_not_an_echo() -> None:
    partial = yaml.safe_dump({"proxy": {"nativeSidecar": False}, "disableHeartBeat": True})
    objs = [_cm("other", {"values": partial, "plain": "a\nb\n"})]
    assert values_echoes(objs, VALUES) == {}
