"""Stack outputs: the docs/components.md table lists exactly what the dev and prod stacks export,
ARM-id outputs are ARM ids, and nothing exported is a secret in clear."""

import re

from tests.conftest import ROOT

# Entra ids (GUIDs of apps, service principals, groups) end in ...ClientId / ...GroupId.
ENTRA_SUFFIXES = ("ClientId", "GroupId")
ROW = re.compile(r"^\| `([A-Za-z]+)` \|", re.MULTILINE)


def documented_outputs() -> list[str]:
    text = (ROOT / "docs" / "components.md").read_text()
    block = text.split("<!-- outputs:start -->", 1)[1].split("<!-- outputs:end -->", 1)[0]
    return ROW.findall(block)


def test_docs_table_matches_the_exports(dev_plan, prod_plan) -> None:
    documented = documented_outputs()
    assert len(documented) == len(set(documented)), "an output is listed twice"
    exported = set(dev_plan["outputs"]) | set(prod_plan["outputs"])
    assert sorted(exported - set(documented)) == [], "exported but not in the docs table"
    assert sorted(set(documented) - exported) == [], "in the docs table but not exported"


def test_id_outputs_are_arm_ids(dev_plan, prod_plan) -> None:
    for plan in (dev_plan, prod_plan):
        for key, value in plan["outputs"].items():
            if key.endswith("Id") and not key.endswith(ENTRA_SUFFIXES):
                assert isinstance(value, str) and value.startswith("/subscriptions/"), (key, value)
                assert "/providers/" in value, (key, value)


def test_kubeconfig_is_the_only_secret_output(dev_plan) -> None:
    secret = [k for k, v in dev_plan["outputs"].items() if v == "[secret]"]
    assert secret == ["kubeconfig"]
