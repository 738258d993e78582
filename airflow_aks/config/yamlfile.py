"""A strict YAML reader for the files a person writes: stack files and ``delivery.yaml``.

PyYAML's ``safe_load`` reads YAML 1.1 and forgives things that change what a file says:

- a repeated key keeps the last value silently (a second ``repository:`` in
  ``delivery.yaml`` re-targets the workflows and the OIDC trust);
- unquoted ``10:30`` is the base-60 number 630, ``1.30`` the number 1.3, ``2026-11-23`` a
  date, ``on``/``off``/``yes``/``no`` booleans (YAML 1.2, and the Pulumi CLI's Go reader,
  read them differently: ``10:30`` and ``on`` stay text);
- aliases expand without bound (a 1 kB "billion laughs" file is gigabytes once the plan
  serialises it) and deep nesting ends in a RecursionError.

:func:`read_yaml` refuses each of these with the file, the line and what to write instead,
all problems at once, as a :class:`~airflow_aks.config.base.ConfigError`. A file that is
not UTF-8 is refused before parsing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .base import ConfigError, ConfigIssue

MAX_DEPTH = 64
"""Nesting levels a stack file may use (the deepest shipped one uses 8; Helm values 12)."""
MAX_NODES = 200_000
"""Values after alias expansion (a 300-domain stack file has about 20 000)."""

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
# A float written with a trailing zero after two or more decimals (1.30, 3.10): the text
# looks like a version and the number loses the zero.
_LOSSY_FLOAT = re.compile(r"^[-+]?\d+\.\d*0$")


class _Refused(yaml.YAMLError):
    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.mark, self.message = mark, message


class _Loader(yaml.SafeLoader):
    """SafeLoader that bounds nesting while composing (before Python recursion does)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    self.peek_event().start_mark,
                    f"nested deeper than {MAX_DEPTH} levels; no configuration needs that",
                )
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._depth -= 1


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _key_text(node: Node) -> str:
    return node.value if isinstance(node, ScalarNode) else f"<{node.tag.rsplit(':', 1)[-1]}>"


def _path(keys: list[str]) -> str:
    out = ""
    for k in keys:
        out += k if k.startswith("[") else ("." if out else "") + k
    return out or "(top level)"


def _scalar_problem(node: ScalarNode) -> str | None:
    """What an unquoted scalar turns into that its text did not say, or None."""
    if node.style is not None:  # quoted or block text: a string, as written
        return None
    text, tag = node.value, node.tag
    if tag == _BOOL and text.lower() not in ("true", "false"):
        return (
            f"unquoted {text} is read as the boolean {text.lower() in ('yes', 'on', 'y')}: "
            f"write true or false, or quote it ('{text}') to mean the text"
        )
    if tag in (_INT, _FLOAT) and ":" in text:
        value = yaml.safe_load(text)
        return f"unquoted {text} is read as the base-60 number {value}: quote it ('{text}')"
    if tag == _INT and re.match(r"^[-+]?0[0-7_]+$", text):
        return f"unquoted {text} is read as the octal number {int(text, 8)}: quote it ('{text}')"
    if tag == _FLOAT and _LOSSY_FLOAT.match(text) and len(text.split(".")[1]) > 1:
        return (
            f"unquoted {text} is read as the number {float(text)!r}: quote it ('{text}') "
            "if it is a version or a name"
        )
    if tag == _TIMESTAMP:
        return f"unquoted {text} is read as a date/time, not text: quote it ('{text}')"
    return None


def _check(root: Node) -> list[tuple[int, str, str]]:
    """(line, key path, message) for every problem in a composed document."""
    problems: list[tuple[int, str, str]] = []
    sizes: dict[int, int] = {}

    def size(node: Node) -> int:
        # Values after alias expansion: a node reached twice counts twice (memoised by id,
        # so a billion laughs is counted, not expanded).
        if id(node) in sizes:
            return sizes[id(node)]
        sizes[id(node)] = 1  # a cycle (recursive alias) counts once
        n = 1
        if isinstance(node, SequenceNode):
            n += sum(size(c) for c in node.value)
        elif isinstance(node, MappingNode):
            n += sum(size(k) + size(v) for k, v in node.value)
        sizes[id(node)] = n
        return n

    seen: set[int] = set()

    def walk(node: Node, keys: list[str]) -> None:
        if id(node) in seen:  # an alias: checked where its anchor is
            return
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            if message := _scalar_problem(node):
                problems.append((_line(node), _path(keys), message))
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, [*keys, f"[{i}]"])
        elif isinstance(node, MappingNode):
            first: dict[tuple[str, str], int] = {}
            for k, v in node.value:
                if k.tag == "tag:yaml.org,2002:merge":
                    walk(v, keys)
                    continue
                name = _key_text(k)
                where = first.setdefault((k.tag, name), _line(k))
                if where != _line(k):
                    problems.append(
                        (
                            _line(k),
                            _path([*keys, name]),
                            f"key {name!r} appears twice (lines {where} and {_line(k)}); YAML "
                            "would keep only the last: remove one",
                        )
                    )
                walk(v, [*keys, name])

    walk(root, [])
    if (total := size(root)) > MAX_NODES:
        problems.append(
            (1, "(whole file)", f"expands to {total} values through aliases (at most {MAX_NODES})")
        )
    return problems


def parse_yaml(text: str, source: str) -> Any:
    """The one document in ``text``, refused (ConfigError) on any problem above;
    ``source`` names the file in messages."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        if problems := _check(root):
            raise ConfigError(
                ConfigIssue(f"{source}:{line} ({path})", message)
                for line, path, message in sorted(problems)
            )
        return loader.construct_document(root)
    except _Refused as exc:
        raise ConfigError([ConfigIssue(f"{source}:{exc.mark.line + 1}", exc.message)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        what = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([ConfigIssue(where, f"not valid YAML: {what}")]) from None
    finally:
        loader.dispose()


def read_text(path: Path) -> str:
    """A text file that must be UTF-8 (ConfigError naming the first bad byte otherwise)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError([ConfigIssue(str(path), f"cannot read: {exc.strerror}")]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            [
                ConfigIssue(
                    f"{path}:{line}",
                    f"not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}): "
                    "save the file as UTF-8",
                )
            ]
        ) from None


def read_yaml(path: Path) -> Any:
    """A strict read of a YAML file a person wrote (see the module docstring)."""
    return parse_yaml(read_text(path), str(path))


def read_json(path: Path) -> Any:
    """A JSON file (price tables) with repeated keys refused, UTF-8 only."""
    text = read_text(path)

    def no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise ValueError(f"key {key!r} appears twice in one object")
            out[key] = value
        return out

    try:
        return json.loads(text, object_pairs_hook=no_repeats)
    except ValueError as exc:  # JSONDecodeError is a ValueError
        raise ConfigError([ConfigIssue(str(path), f"not valid JSON: {exc}")]) from None
