"""The suite never skips silently: skipped tests are listed in the terminal summary with
their reason, and a reason that does not say how to enable the test is flagged."""

from types import SimpleNamespace

from tests.conftest import skip_report


def rep(nodeid: str, reason: str) -> SimpleNamespace:
    return SimpleNamespace(nodeid=nodeid, longrepr=("file.py", 1, f"Skipped: {reason}"))


def test_reasons_are_grouped_with_their_tests() -> None:
    reason = "chart schema not found; enable: check out ../shared"
    lines = skip_report(
        [rep("tests/a.py::test_x[dev]", reason), rep("tests/a.py::test_x[prod]", reason)]
    )
    assert lines == [f"2 not run: {reason}", "    tests/a.py::test_x"]


def test_a_reason_without_an_enable_hint_is_flagged() -> None:
    (line, _) = skip_report([rep("tests/b.py::test_y", "no network")])
    assert line.startswith("1 not run: no network") and "no 'enable:' hint" in line


def test_every_skip_in_the_suite_says_how_to_enable_it() -> None:
    import re
    from pathlib import Path

    here = Path(__file__).parent
    calls = []
    for path in here.glob("test_*.py"):
        text = path.read_text()
        for m in re.finditer(r"pytest\.skip\((.*?)\)\n", text, re.S):
            calls.append((path.name, m.group(1)))
    assert calls, "expected the suite's known skips (chart schema, git)"
    missing = [(f, c[:60]) for f, c in calls if "enable:" not in c]
    assert missing == []
