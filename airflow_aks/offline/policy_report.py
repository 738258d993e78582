"""CLI-facing side of the policy pack: plan files in, reports and tables out.

``airflow-aks policies --list [--json|--markdown]`` prints every rule;
``airflow-aks policies --check PLAN.json`` evaluates a saved plan export (exit 1 on a
mandatory violation); :func:`attach` adds the ``"policy"`` section to a plan export.
The rules themselves live in ``policies/rules`` and import nothing from here.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from airflow_aks.policies.rules import (
    ALL_RULES,
    RULES_BY_NAME,
    ExceptionsFileError,
    PolicyException,
    Results,
    Rule,
    evaluate,
    load_exceptions,
)

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
DOC_START = "<!-- rules:start -->"
DOC_END = "<!-- rules:end -->"


class PolicyInputError(ValueError):
    """A plan file or exceptions file that cannot be evaluated (exit code 2)."""


# ------------------------------------------------------------------ evaluation


def load_plan(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyInputError(f"plan file {p} not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise PolicyInputError(f"plan file {p}: cannot read: {e}") from None
    except json.JSONDecodeError as e:
        raise PolicyInputError(f"{p}: not valid JSON: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("resources"), list):
        raise PolicyInputError(f"{p}: not a plan export (no 'resources' list)")
    for i, r in enumerate(data["resources"]):
        if problem := _resource_shape_problem(r):
            raise PolicyInputError(f"{p}: resources[{i}] {problem}")
    if not isinstance(data.get("stack", ""), str):
        raise PolicyInputError(f"{p}: 'stack' must be a string")
    return data


# What the rules read of each exported resource, and the shape they expect it in.
_SHAPES: dict[str, tuple[type, ...]] = {
    "urn": (str,),
    "type": (str,),
    "name": (str,),
    "parent": (str, type(None)),
    "provider": (str, type(None)),
    "inputs": (dict,),
    "options": (dict,),
    "dependencies": (list,),
    "propertyDependencies": (dict,),
}


_WORDS = {str: "a string", dict: "a mapping", list: "a list", type(None): "null"}


def _resource_shape_problem(r: Any) -> str | None:
    if not isinstance(r, dict) or not {"urn", "type"} <= set(r):
        return "needs at least 'urn' and 'type'"
    for key, kinds in _SHAPES.items():
        if key in r and not isinstance(r[key], kinds):
            names = " or ".join(_WORDS[k] for k in kinds)
            return f"({r['urn'] if isinstance(r['urn'], str) else '?'}): '{key}' must be {names}"
    return None


def evaluate_plan(
    plan: Mapping[str, Any],
    *,
    exceptions: Sequence[PolicyException] | None = None,
    exceptions_dir: Path | None = None,
    today: _dt.date | None = None,
    production: bool | None = None,
) -> Results:
    """Every rule over a plan export; exceptions from ``policies/exceptions/<stack>.yaml``.

    ``production``: the stack config's answer (its profile); when not given, the answer the
    export recorded when it was planned, else the pack's stack-name fallback."""
    if production is None:
        recorded = (plan.get("policy") or {}).get("production")
        production = recorded if isinstance(recorded, bool) else None
    stack = str(plan.get("stack") or "dev")
    if exceptions is None:
        try:
            exceptions = load_exceptions(stack, exceptions_dir, known_rules=RULES_BY_NAME)
        except ExceptionsFileError as e:
            raise PolicyInputError(str(e)) from None
    return evaluate(plan["resources"], stack, exceptions, today=today, production=production)


def attach(export: dict[str, Any], **kwargs: Any) -> Results:
    """Evaluate a fresh plan export and store the results under ``export["policy"]``."""
    results = evaluate_plan(export, **kwargs)
    export["policy"] = results.to_dict()
    return results


def _short(urn: str) -> str:
    """``Type::name`` tail of a URN for compact lines (the full URN is printed too)."""
    return urn or "(stack)"


def format_results(results: Results) -> str:
    lines = [
        f"Policy pack airflow-aks on stack '{results.stack}'"
        f"{' (production)' if results.production else ''}: {results.rules} rules, "
        f"{results.checks} checks",
        f"  passed {results.passed}  advisory {results.advisory}  "
        f"mandatory {results.mandatory}  excepted {results.excepted}",
    ]
    order = {"mandatory": 0, "advisory": 1}
    for v in sorted(results.violations, key=lambda v: (v.excepted, order[v.level], v.rule)):
        tag = "EXCEPTED" if v.excepted else v.level.upper()
        lines.append(f"  {tag:<9} {v.rule}  {_short(v.urn)}")
        lines.append(f"            {v.message}")
        if v.excepted:
            lines.append(f"            exception: {v.exception_reason}")
    if results.mandatory:
        lines.append(f"FAILED: {results.mandatory} mandatory violation(s)")
    return "\n".join(lines)


# ------------------------------------------------------------------ rule listings


def rule_dicts(rules: Sequence[Rule] = ALL_RULES) -> list[dict[str, Any]]:
    return [
        {
            "name": r.name,
            "level": r.level,
            "kind": r.kind,
            "area": r.area,
            "resources": r.type_label(),
            "mirrors": r.mirrors,
            "description": r.description,
        }
        for r in rules
    ]


def text_table(rules: Sequence[Rule] = ALL_RULES) -> str:
    width = max(len(r.name) for r in rules)
    lines = [f"{'RULE':<{width}}  {'LEVEL':<9}  MIRRORS / DESCRIPTION"]
    for r in rules:
        lines.append(f"{r.name:<{width}}  {r.level:<9}  {r.mirrors}")
        lines.append(f"{'':<{width}}  {'':<9}  {r.description}")
    lines.append(
        f"\n{len(rules)} rules: {sum(r.level == 'mandatory' for r in rules)} mandatory, "
        f"{sum(r.level == 'advisory' for r in rules)} advisory"
    )
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(rules: Sequence[Rule] = ALL_RULES) -> str:
    lines = ["| Rule | Level | Applies to | What and why | Mirrors |", "|---|---|---|---|---|"]
    for r in rules:
        lines.append(
            f"| `{r.name}` | {r.level} | {_cell(r.type_label())} | {_cell(r.description)} "
            f"| {_cell(r.mirrors)} |"
        )
    return "\n".join(lines)


def doc_block(rules: Sequence[Rule] = ALL_RULES) -> str:
    """The generated part of docs/policies.md, markers included."""
    counts = (
        f"{len(rules)} rules ({sum(r.level == 'mandatory' for r in rules)} mandatory, "
        f"{sum(r.level == 'advisory' for r in rules)} advisory), generated by "
        "`airflow-aks policies --list --markdown`."
    )
    return f"{DOC_START}\n{counts}\n\n{markdown_table(rules)}\n{DOC_END}"


def doc_table(doc_text: str) -> str | None:
    """The block between the markers (markers included), or None when absent."""
    start, end = doc_text.find(DOC_START), doc_text.find(DOC_END)
    if start < 0 or end < start:
        return None
    return doc_text[start : end + len(DOC_END)]


def update_doc(path: Path) -> bool:
    """Regenerate the rule table in place; True when the file changed."""
    text = path.read_text()
    current = doc_table(text)
    if current is None:
        raise PolicyInputError(f"{path}: markers {DOC_START} / {DOC_END} not found")
    new = text.replace(current, doc_block())
    if new != text:
        path.write_text(new)
    return new != text


# ------------------------------------------------------------------ commands


def list_command(args: argparse.Namespace) -> int:
    if getattr(args, "json", False):
        print(json.dumps(rule_dicts(), indent=2))
    elif getattr(args, "markdown", False):
        print(doc_block())
    else:
        print(text_table())
    return EXIT_OK


def check_command(args: argparse.Namespace) -> int:
    try:
        plan = load_plan(args.check)
        today = _dt.date.fromisoformat(args.today) if getattr(args, "today", None) else None
        exc_dir = Path(args.exceptions) if getattr(args, "exceptions", None) else None
        results = evaluate_plan(plan, exceptions_dir=exc_dir, today=today)
    except (PolicyInputError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if getattr(args, "json", False):
        print(json.dumps(results.to_dict(), indent=2))
    else:
        print(format_results(results))
    return EXIT_OK if results.ok else EXIT_FAIL


def stack_production(stack: str, config: str | None = None) -> bool:
    """The production answer of the program for ``stack``: its config's profile (which
    defaults to the environment, which defaults to the stack name). Raises ConfigError."""
    from airflow_aks.config.base import ConfigError, ConfigIssue
    from airflow_aks.config.files import stack_file
    from airflow_aks.config.stack import load, read_stack_file

    path = stack_file(stack, config)
    if not path.is_file():
        raise ConfigError([ConfigIssue(str(path), "stack file not found (pass --config)")])
    return load(read_stack_file(path), stack).production


def pack_config_command(args: argparse.Namespace) -> int:
    """Print a ``--policy-pack-config`` file for ``stack``: prod-ness (from the stack's
    profile, as the program decides it) and its exceptions."""
    from airflow_aks.config.base import ConfigError
    from airflow_aks.policies.rules._config import pack_config

    stack = args.pack_config
    try:
        production = stack_production(stack, getattr(args, "config", None))
        exc_dir = Path(args.exceptions) if getattr(args, "exceptions", None) else None
        excs = load_exceptions(stack, exc_dir, known_rules=RULES_BY_NAME)
    except (ExceptionsFileError, ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    config = pack_config(
        [r.name for r in ALL_RULES],
        production=production,
        environment=stack,
        exceptions=excs,
    )
    print(json.dumps(config, indent=2))
    return EXIT_OK


def policies_command(args: argparse.Namespace) -> int:
    if getattr(args, "check", None):
        return check_command(args)
    if getattr(args, "pack_config", None):
        return pack_config_command(args)
    if getattr(args, "update_doc", None):
        try:
            changed = update_doc(Path(args.update_doc))
        except (PolicyInputError, OSError) as e:
            print(f"error: {e}", file=sys.stderr)
            return EXIT_USAGE
        print(f"{args.update_doc}: rule table {'updated' if changed else 'up to date'}")
        return EXIT_OK
    return list_command(args)


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``airflow-aks policies`` on the CLI's subparsers."""
    p = sub.add_parser("policies", help="list the policy rules or check a saved plan export")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--list", action="store_true", help="print every rule")
    mode.add_argument(
        "--update-doc",
        metavar="docs/policies.md",
        help="regenerate the rule table between the rules markers of a markdown file",
    )
    mode.add_argument(
        "--check",
        metavar="PLAN.json",
        help="evaluate a plan export (exit 1 on a mandatory violation)",
    )
    mode.add_argument(
        "--pack-config",
        metavar="STACK",
        help="print a --policy-pack-config file for STACK (production by its profile; exceptions)",
    )
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="machine-readable output")
    fmt.add_argument("--markdown", action="store_true", help="README table (with --list)")
    p.add_argument(
        "--exceptions", metavar="DIR", help="exceptions directory (default policies/exceptions)"
    )
    p.add_argument(
        "--config",
        metavar="PATH",
        help="stack file for --pack-config (default: Pulumi.<STACK>.yaml)",
    )
    p.add_argument(
        "--today", metavar="YYYY-MM-DD", help="evaluate exception expiry as of this date"
    )
    p.set_defaults(func=policies_command)
    return p
