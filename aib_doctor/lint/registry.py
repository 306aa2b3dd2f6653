"""The lint registry: each check is a small pure function over one image template, registered with its metadata."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

CheckFn = Callable[["TemplateView"], Iterator[tuple[str, str]]]
"""Yields (JSON pointer relative to the template, what is wrong there)."""


@dataclass(frozen=True)
class Check:
    id: str
    name: str
    severity: str
    category: str
    title: str
    cause: str
    fix: str
    explains: tuple[str, ...]
    """AIB rules whose failure this problem causes: a diagnosis names the check when both appear."""
    fn: CheckFn


@dataclass(frozen=True)
class LintIssue:
    check: str
    name: str
    severity: str
    category: str
    title: str
    message: str
    fix: str
    pointer: str
    """JSON pointer into the file that was linted."""
    template: str = ""
    line: int | None = None


REGISTRY: dict[str, Check] = {}
"""Offline checks, run by `lint` on every template."""
PREFLIGHT: dict[str, Check] = {}
"""Online checks (PRE###), run by preflight against Azure; here for their prose."""


def check(id: str, name: str, severity: str, category: str, title: str, cause: str, fix: str, explains: tuple[str, ...] = (), online: bool = False):
    def register(fn: CheckFn) -> CheckFn:
        (PREFLIGHT if online else REGISTRY)[id] = Check(id, name, severity, category, title, " ".join(cause.split()), " ".join(fix.split()), explains, fn)
        return fn

    return register


def check_info(check_id: str) -> Check:
    return REGISTRY.get(check_id) or PREFLIGHT[check_id]


@dataclass
class TemplateView:
    """One image template's properties, wherever they sit in the file, with pointers back into it."""

    properties: dict
    base: str
    """Pointer to the properties object ("/properties", "/resources/0/properties", or "" for az CLI's flat shape)."""
    root: dict
    """The resource itself (identity lives here, beside properties)."""
    root_pointer: str
    name: str = ""
    unresolved: set[str] = field(default_factory=set)

    def at(self, *parts) -> str:
        return self.base + "".join(f"/{str(p).replace('~', '~0').replace('/', '~1')}" for p in parts)

    def customizers(self) -> Iterator[tuple[int, dict]]:
        for index, customizer in enumerate(self.properties.get("customize") or []):
            if isinstance(customizer, dict):
                yield index, customizer

    def distributors(self) -> Iterator[tuple[int, dict]]:
        for index, target in enumerate(self.properties.get("distribute") or []):
            if isinstance(target, dict):
                yield index, target

    def is_windows(self) -> bool:
        source = self.properties.get("source") or {}
        text = " ".join(str(source.get(k, "")) for k in ("publisher", "offer", "sku", "imageId", "imageVersionId")).lower()
        if "windows" in text or "win" in str(source.get("offer", "")).lower():
            return True
        kinds = {str(c.get("type", "")).lower() for _, c in self.customizers()}
        return bool(kinds & {"powershell", "windowsrestart", "windowsupdate"}) and "shell" not in kinds
