"""No credential in clear: refused at the boundary, before anything is printed or written,
and never echoed in a message."""

from __future__ import annotations

import json

import pytest

from airflow_aks.cli import main as cli
from airflow_aks.config.credentials import credential_issues, credential_shape
from tests.conftest import ROOT

GH_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


@pytest.mark.parametrize(
    ("value", "shape"),
    [
        ("https://user:hunter2@github.com/org/repo", "user name or password"),
        (f"https://{GH_TOKEN}@github.com/org/repo", "user name or password"),
        ("https://github.com/org/repo?access_token=abc123", "token or signature in its query"),
        ("azblob://state?sv=2024&sig=abcdef", "token or signature in its query"),
        ("Server=db;User Id=a;Password=hunter2;", "connection string"),
        ("DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc==", "connection string"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nabc", "a private key"),
        (GH_TOKEN, "a GitHub token"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig", "a JSON Web Token"),
    ],
)
def test_credential_shapes(value, shape):
    assert shape in (credential_shape(value) or "")


@pytest.mark.parametrize(
    "value",
    [
        "git@github.com:org/repo.git",
        "ssh://git@github.com/org/repo",
        "https://github.com/org/repo",
        "azblob://state",
        "{{ .Values.password }}",
        "airflow-connections-warehouse",
        "7f3c2a9e-1b4d-4c8e-9f0a-2d6e5b8c1a47",
    ],
)
def test_not_credentials(value):
    assert credential_shape(value) is None


def test_secure_values_and_secret_names_pass():
    raw = {
        "azure-native:clientSecret": {"secure": "v1:abc"},
        "airflow-aks:airflow": {
            "gitTokenSecret": "git-token",
            "adminPasswordSecret": "admin-pw",
            "taskSecretNames": ["warehouse-dsn"],
            "helmValues": {"webserver": {"defaultUser": {"enabled": False}}},
        },
        "airflow-aks:keyVault": {"secretRotationDays": 90},
    }
    assert credential_issues(raw) == []


SECRET = "Sup3rS3cretValue!"

CASES = {
    "tag value named password": ("airflow-aks:tags", {"dbPassword": SECRET}, "tags.dbPassword"),
    "token in tag value": ("airflow-aks:tags", {"owner": f"x {GH_TOKEN}"}, "tags.owner"),
    "helm values password": (
        "airflow-aks:airflow",
        {"helmValues": {"postgresql": {"auth": {"password": SECRET}}}},
        "airflow.helmValues.postgresql.auth.password",
    ),
    "git url token query": (
        "airflow-aks:airflow",
        {"gitSync": {"repo": f"https://github.com/o/r?access_token={SECRET}"}},
        "airflow.gitSync.repo",
    ),
    "unknown password key": ("airflow-aks:database", {"password": SECRET}, "database.password"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_cli_refuses_before_printing_or_writing(case, tmp_path, capsys):
    key, value, path = CASES[case]
    secret = GH_TOKEN if "owner" in value else SECRET
    stack = tmp_path / "Pulumi.dev.yaml"
    text = (ROOT / "Pulumi.dev.yaml").read_text()
    stack.write_text(text + f"  {key}: {json.dumps(value)}\n")
    base = tmp_path / "base.json"
    base.write_text(json.dumps({"project": "airflow-aks", "stack": "dev", "resources": []}))
    out, md = tmp_path / "plan.json", tmp_path / "diff.md"
    argv = ["plan", "--stack", "dev", "--config", str(stack), "--json", str(out)]
    code = cli.main([*argv, "--diff", str(base), "--diff-markdown", str(md)])
    captured = capsys.readouterr()
    assert code == 2
    assert f"airflow-aks:{path}" in captured.err
    assert secret not in captured.err + captured.out
    assert captured.out == "" and not out.exists() and not md.exists()
