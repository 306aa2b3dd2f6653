"""The lint registry: each offline check is a small pure function over one image template, registered with its description."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from aib_doctor.errors import CatalogError
from aib_doctor.lint.views import TemplateView
from aib_doctor.model import CATEGORIES, SEVERITIES, Check, Evidence, Finding, TemplateLocation

CheckFn = Callable[[TemplateView], Iterator[tuple[str, str]]]
"""Yields (JSON pointer relative to the template, what is wrong there)."""


@dataclass(frozen=True)
class RegisteredCheck:
    check: Check
    run: CheckFn


REGISTRY: dict[str, RegisteredCheck] = {}
"""Offline checks (TPL###), run by `lint` on every template."""


def describe(id: str, name: str, severity: str, category: str, title: str, cause: str, fix: str, explains: tuple[str, ...] = ()) -> Check:
    """A check's description; its severity and category are checked here, once."""
    if severity not in SEVERITIES or category not in CATEGORIES:
        raise CatalogError(f"{id}: unknown severity {severity!r} or category {category!r}")
    return Check(id, name, severity, category, title, " ".join(cause.split()), " ".join(fix.split()), explains)


def check(id: str, name: str, severity: str, category: str, title: str, cause: str, fix: str, explains: tuple[str, ...] = ()):
    """Register the decorated function as the offline check `id`."""
    described = describe(id, name, severity, category, title, cause, fix, explains)

    def register(fn: CheckFn) -> CheckFn:
        REGISTRY[id] = RegisteredCheck(described, fn)
        return fn

    return register


def finding(check: Check, pointer: str, message: str, template: str = "", line: int | None = None, fix: str | None = None) -> Finding:
    """A check's problem at one place of a template. `fix` replaces the check's own when the problem names its command."""
    return Finding(
        rule=check.id,
        name=check.name,
        category=check.category,
        severity=check.severity,
        title=check.title,
        cause=f"{check.cause} Here: {message}.",
        fix=check.fix if fix is None else fix,
        evidence=(Evidence("template", line, f"{pointer}: {message}"),),
        docs=(),
        basis="template",
        location=TemplateLocation(pointer, message, template, line),
    )
