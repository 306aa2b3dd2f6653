"""`aib-doctor rules`: the catalog's AIB rules and the TPL / PRE template checks, listed or one by one, as text, JSON or Markdown."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from aib_doctor.model import Check, Rule, TimelineCondition

Described = Rule | Check
"""An AIB rule (a log signature) or a template check (TPL offline, PRE online)."""


def _where_checked(check: Check) -> str:
    return "online: lint --online, template --preflight" if check.id.startswith("PRE") else "offline: lint, and every template diagnosis"


def rule_dict(item: Described) -> dict:
    if isinstance(item, Rule):
        return {
            "id": item.id,
            "name": item.name,
            "category": item.category,
            "severity": item.severity,
            "priority": item.priority,
            "where": list(item.where),
            "title": item.title,
            "cause": item.cause,
            "fix": item.fix,
            "patterns": [{"role": p.role, "regex": p.regex} for p in item.patterns],
            **({"timeline": _conditions(item.timeline)} if item.timeline else {}),
            "docs": list(item.docs),
        }
    return {
        "id": item.id,
        "name": item.name,
        "category": item.category,
        "severity": item.severity,
        "checked": _where_checked(item),
        "title": item.title,
        "cause": item.cause,
        "fix": item.fix,
        "explains": list(item.explains),
    }


def rule_text(item: Described) -> str:
    if isinstance(item, Rule):
        lines = [
            f"{item.id} {item.name}",
            item.title,
            f"category: {item.category}   severity: {item.severity}   priority: {item.priority}",
            f"matches in: {', '.join(item.where)}",
            "",
            f"Cause: {item.cause}",
            "",
            f"Fix: {item.fix}",
            "",
            "Patterns:",
            *(f"  {p.role:<5} {p.regex}" for p in item.patterns),
        ]
        if item.unless:
            lines.append(f"  unless a line matches {item.unless}")
        if item.timeline:
            lines += ["Timeline:", *(f"  {key}: {value}" for key, value in _conditions(item.timeline).items())]
        lines += [f"Docs: {url}" for url in item.docs]
        return "\n".join(lines) + "\n"
    lines = [
        f"{item.id} {item.name}",
        item.title,
        f"category: {item.category}   severity: {item.severity}   checked {_where_checked(item)}",
        "",
        f"Cause: {item.cause}",
        "",
        f"Fix: {item.fix}",
    ]
    if item.explains:
        lines += ["", f"Explains: {', '.join(item.explains)}"]
    return "\n".join(lines) + "\n"


def _conditions(condition: TimelineCondition) -> dict:
    """The conditions a timeline rule states, without the ones it leaves unset."""
    return {key: value for key, value in dataclasses.asdict(condition).items() if value is not None}


def rule_markdown(item: Described) -> str:
    return f"### {item.id} `{item.name}`: {item.title}\n\n**Cause.** {item.cause}\n\n**Fix.** {item.fix}\n"


def rule_json(item: Described) -> str:
    return json.dumps(rule_dict(item), indent=2) + "\n"


def rules_json(items: Sequence[Described]) -> str:
    return json.dumps([rule_dict(i) for i in items], indent=2) + "\n"


def rules_markdown(items: Sequence[Described]) -> str:
    rows = [f"| {i.id} | `{i.name}` | {i.category} | {i.severity} | {i.title} |" for i in items]
    return "\n".join(["| ID | Name | Category | Severity | Title |", "|---|---|---|---|---|", *rows]) + "\n"


def rules_text(items: Sequence[Described]) -> str:
    return "".join(f"{i.id}  {i.name:<45} {i.category:<20} {i.title}\n" for i in items)
