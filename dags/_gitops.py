"""GitOps promotion helpers for the ``gitops_promote`` DAG.

The decision logic (which line of which manifest changes, what the commit says, how the
token reaches git) is pure and unit-tested; :func:`promote` is the thin part that runs
``git``. The token never appears in a URL, an argument list or a log line: git reads it from
``GIT_CONFIG_*`` environment variables of its own process as an HTTP ``Authorization``
header, and error output is scrubbed before it is raised.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_IMAGE = re.compile(r"^[a-z0-9]+([._/:-][a-z0-9]+)*$")
_BRANCH = re.compile(r"^[A-Za-z0-9._/-]{1,200}$")


class PromotionError(ValueError):
    """The promotion request or the manifest is not usable; the message says why."""


@dataclass(frozen=True)
class Promotion:
    """What to promote: an image (as named in the kustomization) to a new tag."""

    image: str
    tag: str


def validate_promotion(image: str, tag: str) -> Promotion:
    """Reject empty images, malformed tags and the mutable ``latest`` tag."""
    image, tag = image.strip(), tag.strip()
    if not image or not _IMAGE.match(image):
        raise PromotionError(f"image {image!r} is not a valid image name")
    if not _TAG.match(tag):
        raise PromotionError(f"tag {tag!r} is not a valid image tag")
    if tag == "latest":
        raise PromotionError("refusing to promote the mutable tag 'latest'; pin a version")
    return Promotion(image=image, tag=tag)


def validate_repo_url(url: str) -> str:
    """Only https remotes without credentials in them (the token travels separately)."""
    url = url.strip()
    if not url.startswith("https://"):
        raise PromotionError(f"repository URL {url!r} must use https://")
    if "@" in url.split("/", 3)[2]:
        raise PromotionError("repository URL must not contain credentials")
    return url


def validate_branch(branch: str) -> str:
    branch = branch.strip()
    if not _BRANCH.match(branch) or ".." in branch or branch.startswith("-"):
        raise PromotionError(f"branch {branch!r} is not a valid branch name")
    return branch


def bump_image_tag(kustomization: str, promotion: Promotion) -> tuple[str, str | None]:
    """Set ``images[name=image].newTag`` in a kustomization; returns (new text, old tag).

    Adds the ``images`` entry when missing; drops a ``digest`` on that entry (a digest
    would override the tag). Comments in the file are not preserved (YAML round trip).
    """
    try:
        doc = yaml.safe_load(kustomization) or {}
    except yaml.YAMLError as exc:
        raise PromotionError(f"kustomization is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise PromotionError("kustomization must be a YAML mapping")
    kind = doc.get("kind", "Kustomization")
    if kind != "Kustomization":
        raise PromotionError(f"expected kind Kustomization, found {kind!r}")
    images = doc.setdefault("images", [])
    if not isinstance(images, list):
        raise PromotionError("'images' in the kustomization must be a list")
    old: str | None = None
    for entry in images:
        if isinstance(entry, dict) and entry.get("name") == promotion.image:
            old = entry.get("newTag")
            entry.pop("digest", None)
            entry["newTag"] = promotion.tag
            break
    else:
        images.append({"name": promotion.image, "newTag": promotion.tag})
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False), old


def commit_message(promotion: Promotion, old_tag: str | None, run_id: str) -> str:
    """Conventional, traceable commit message (links back to the DAG run)."""
    frm = old_tag or "(unset)"
    return (
        f"deploy: promote {promotion.image} {frm} -> {promotion.tag}\n\n"
        f"Committed by Airflow DAG gitops_promote, run {run_id}.\n"
    )


def git_auth_env(token: str, username: str = "x-access-token") -> dict[str, str]:
    """Environment giving git an HTTP Basic auth header, without touching argv or URLs.

    Works for GitHub (``x-access-token``) and Azure DevOps (any user name + PAT).
    """
    if not token.strip():
        raise PromotionError("empty Git token")
    basic = base64.b64encode(f"{username}:{token.strip()}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
        "GIT_TERMINAL_PROMPT": "0",
    }


def scrub(text: str, secrets: list[str]) -> str:
    """Remove every secret (and its base64 forms in auth headers) from a text."""
    for s in secrets:
        if s:
            text = text.replace(s, "[secret]")
    return re.sub(r"(Authorization: Basic )\S+", r"\1[secret]", text)


def read_token_file(path: str | os.PathLike[str]) -> str | None:
    """The token from a CSI-mounted file, or None when the file is absent or empty."""
    p = Path(path)
    if not p.is_file():
        return None
    token = p.read_text().strip()
    return token or None


def _git(args: list[str], cwd: str, env: Mapping[str, str], secrets: list[str]) -> str:
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        out = scrub(proc.stderr + proc.stdout, secrets)
        raise PromotionError(f"git {args[0]} failed ({proc.returncode}): {out.strip()}")
    return proc.stdout


def promote(
    *,
    repo_url: str,
    branch: str,
    path: str,
    promotion: Promotion,
    token: str,
    run_id: str,
    author: str = "Airflow GitOps <airflow@users.noreply.local>",
) -> dict[str, Any]:
    """Clone, edit the kustomization at ``path``, commit and push. Idempotent."""
    repo_url, branch = validate_repo_url(repo_url), validate_branch(branch)
    env = git_auth_env(token)
    secrets = [token, env["GIT_CONFIG_VALUE_0"]]
    name, email = author.rsplit(" <", 1)
    identity = ["-c", f"user.name={name}", "-c", f"user.email={email.rstrip('>')}"]
    with tempfile.TemporaryDirectory(prefix="gitops-") as tmp:
        _git(["clone", "--depth", "1", "--branch", branch, repo_url, "repo"], tmp, env, secrets)
        work = str(Path(tmp) / "repo")
        target = (Path(work) / path).resolve()
        if not target.is_relative_to(Path(work).resolve()) or not target.is_file():
            raise PromotionError(f"kustomization {path!r} not found in the repository")
        new_text, old = bump_image_tag(target.read_text(), promotion)
        if old == promotion.tag:
            return {"changed": False, "old_tag": old, "new_tag": promotion.tag}
        target.write_text(new_text)
        _git(["add", path], work, env, secrets)
        _git(
            [*identity, "commit", "-m", commit_message(promotion, old, run_id)], work, env, secrets
        )
        _git(["push", "origin", f"HEAD:{branch}"], work, env, secrets)
        sha = _git(["rev-parse", "HEAD"], work, env, secrets).strip()
    return {"changed": True, "old_tag": old, "new_tag": promotion.tag, "commit": sha}
