"""Every tracked markdown file renders as written: code fences closed, relative links (and
images) pointing at files that exist, and no "issue N" reference to a tracker that is not in
the repository (docs/research is dated research and CHANGELOG keeps its history)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

# A fence opens with >= 3 backticks or tildes (up to 3 spaces of indent, or inside a list
# item); it closes with the same character, at least as many, and nothing after it
# (CommonMark 0.31 "Fenced code blocks").
FENCE = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
ISSUE_REF = re.compile(r"\bissues?\s+#?\d+\b", re.IGNORECASE)
ISSUE_REF_ALLOWED = ("docs/research/", "CHANGELOG.md")


def tracked_markdown() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--", "*.md"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [ROOT / p for p in out.split("\0") if p]


def unclosed_fence(text: str) -> int | None:
    """Line number (1-based) of a fence that is never closed, or None."""
    open_char, open_len, open_line = "", 0, 0
    for n, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if not m:
            continue
        run, rest = m.group(1), m.group(2)
        if not open_char:
            if run[0] == "`" and "`" in rest:
                continue  # inline code such as ```foo``` is not a fence
            open_char, open_len, open_line = run[0], len(run), n
        elif run[0] == open_char and len(run) >= open_len and not rest.strip():
            open_char = ""
    return open_line if open_char else None


def outside_fences(text: str) -> str:
    """The text with fenced code blocks blanked out (line numbers kept)."""
    lines, inside = [], ""
    for line in text.splitlines():
        m = FENCE.match(line)
        if m and not inside:
            inside = m.group(1)[0] * len(m.group(1))
            lines.append("")
        elif inside and m and m.group(1).startswith(inside) and not m.group(2).strip():
            inside = ""
            lines.append("")
        else:
            lines.append("" if inside else line)
    return "\n".join(lines)


def broken_links(path: Path) -> list[str]:
    text = outside_fences(path.read_text())
    text = re.sub(r"`[^`\n]*`", "", text)  # links inside inline code are examples
    bad = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # external URL, mailto:, or an anchor in the same file
        file_part = target.split("#", 1)[0]
        if not (path.parent / file_part).exists():
            bad.append(target)
    return bad


MARKDOWN = tracked_markdown()
IDS = [str(p.relative_to(ROOT)) for p in MARKDOWN]
CURRENT = [p for p, i in zip(MARKDOWN, IDS, strict=True) if not i.startswith(ISSUE_REF_ALLOWED)]


def test_the_markdown_files_are_found() -> None:
    assert {"README.md", "CONTRIBUTING.md", "CHANGELOG.md", "docs/policies.md"} <= set(IDS)


@pytest.mark.parametrize("path", MARKDOWN, ids=IDS)
def test_code_fences_are_closed(path: Path) -> None:
    line = unclosed_fence(path.read_text())
    assert line is None, f"{path.relative_to(ROOT)}:{line}: code fence never closed"


@pytest.mark.parametrize("path", MARKDOWN, ids=IDS)
def test_relative_links_point_at_files(path: Path) -> None:
    assert broken_links(path) == [], f"{path.relative_to(ROOT)}: links to missing files"


@pytest.mark.parametrize("path", CURRENT, ids=[str(p.relative_to(ROOT)) for p in CURRENT])
def test_no_issue_tracker_references(path: Path) -> None:
    rel = str(path.relative_to(ROOT))
    found = [
        f"{rel}:{n}: {m.group(0)}"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        for m in ISSUE_REF.finditer(line)
    ]
    assert found == [], "say the decision instead of the tracker number"


def test_no_issue_tracker_references_in_code_or_config() -> None:
    """Comments, docstrings and messages say the decision, not a number of a tracker that is
    not in the repository (the Markdown test above covers the docs)."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--", "*.py", "*.yaml", "*.yml", "*.toml", "Makefile"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    this = str(Path(__file__).relative_to(ROOT))
    found = [
        f"{rel}:{n}: {m.group(0)}"
        for rel in out.split("\0")
        if rel and rel != this and not rel.startswith(ISSUE_REF_ALLOWED)
        for n, line in enumerate((ROOT / rel).read_text().splitlines(), 1)
        for m in ISSUE_REF.finditer(line)
    ]
    assert found == [], "say the decision instead of the tracker number"


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """Each check catches the mistake it is for: the fence the README once left open (a
    closing fence followed by text), a link to a missing file, an issue number."""
    assert unclosed_fence("```bash\nx\n``` Stack outputs are names,\n") == 1
    assert unclosed_fence("~~~\n```\n~~~\n") is None
    assert unclosed_fence("- item\n\n   ```yaml\n   a: 1\n   ```\n") is None
    doc = tmp_path / "a.md"
    (tmp_path / "there.md").write_text("")
    doc.write_text("[ok](there.md#x) [gone](missing.md) [web](https://x.org) `[no](nope.md)`\n")
    assert broken_links(doc) == ["missing.md"]
    assert ISSUE_REF.search("Target (issue 12): 100 domains")
    assert ISSUE_REF.search("see issue #7")
    assert not ISSUE_REF.search("issues show 20 is a tool; tissue 3")
