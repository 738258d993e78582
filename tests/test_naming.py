import pytest

from airflow_aks.components import naming


@pytest.mark.parametrize(
    ("location", "short"),
    [("westeurope", "weu"), ("East US", "eus"), ("eastus2", "eus2"), ("brazilsouth", "brzlst")],
)
def test_region_short(location, short):
    assert naming.region_short(location) == short


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("rg", "airflow", "dev", "westeurope"), "rg-airflow-dev-weu"),
        (("aks", "data", "prod", "northeurope"), "aks-data-prod-neu"),
        (("id", "airflow", "dev", "westeurope", "tasks"), "id-airflow-dev-weu-tasks"),
    ],
)
def test_resource_name(args, expected):
    assert naming.resource_name(*args) == expected


@pytest.mark.parametrize(
    ("prefix", "env", "loc"),
    [("airflow", "dev", "westeurope"), ("averyveryverylongprefix", "staging", "australiaeast")],
)
def test_storage_and_vault_names_respect_azure_limits(prefix, env, loc):
    st = naming.storage_account_name(prefix, env, loc)
    kv = naming.key_vault_name(prefix, env, loc)
    assert 3 <= len(st) <= 24 and st.isalnum() and st.islower()
    assert 3 <= len(kv) <= 24 and kv[0].isalpha() and "--" not in kv and not kv.endswith("-")
    # Stable: the same inputs give the same names on every run.
    assert st == naming.storage_account_name(prefix, env, loc)
    assert kv == naming.key_vault_name(prefix, env, loc)


def test_names_differ_between_environments():
    assert naming.storage_account_name("a", "dev", "westeurope") != naming.storage_account_name(
        "a", "prod", "westeurope"
    )


@pytest.mark.parametrize(
    ("ns", "sa", "subject"),
    [
        ("airflow", "airflow-worker", "system:serviceaccount:airflow:airflow-worker"),
        ("data-team", "etl.v2", "system:serviceaccount:data-team:etl.v2"),
    ],
)
def test_federated_subject_round_trip(ns, sa, subject):
    assert naming.federated_subject(ns, sa) == subject
    assert naming.parse_subject(subject) == (ns, sa)


@pytest.mark.parametrize(
    ("ns", "sa"),
    [("Airflow", "sa"), ("airflow", "SA"), ("-bad", "sa"), ("ns", ""), ("a" * 64, "sa")],
)
def test_federated_subject_rejects_invalid_names(ns, sa):
    with pytest.raises(ValueError):
        naming.federated_subject(ns, sa)


@pytest.mark.parametrize(
    "subject", ["repo:org/repo:ref:refs/heads/main", "system:serviceaccount:ns", "x:y:z:w"]
)
def test_parse_subject_other_shapes(subject):
    assert naming.parse_subject(subject) is None
