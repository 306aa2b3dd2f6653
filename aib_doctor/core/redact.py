"""Remove secrets from any text before it reaches an output, with the one table of shapes in secret_shapes.py.

Everything aib-doctor writes goes through here: reports in every format (the cli package redacts the result
before rendering), bundles and evidence archives (`redact_chunks`), webhook payloads, lint messages;
lint's TPL020 asks `find_secrets` the same question. The text is read as a whole, not line by line,
so a PEM key over several lines or an ARM parameter object split across lines is still seen.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import re2

from aib_doctor.core.lazy_regex import LazyRegex
from aib_doctor.core.logstream import iter_blocks
from aib_doctor.core.secret_shapes import MASK, SHAPES, TRIGGER, Shape

__all__ = ["MASK", "Found", "find_secrets", "redact", "redact_chunks", "redact_line", "redacted"]

WHOLE = 16 << 10
"""Texts up to this size are searched whole; longer ones (log blocks) only in windows around a trigger."""
WINDOW_AFTER = 12
"""Lines after a trigger a secret may still be on (`az keyvault secret show` puts the value 10 lines below the id)."""
_PEM_END = LazyRegex(r"-----END [A-Z0-9 ]*PRIVATE KEY")
_PEM_OPEN = LazyRegex(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:(?!-----END [A-Z0-9 ]*PRIVATE KEY).)*\Z", re.S)


@dataclass(frozen=True)
class Found:
    """A secret's value in a text: which shape saw it, and where."""

    shape: Shape
    start: int
    end: int


@functools.cache
def _anchors() -> re2.Set:
    """Every shape's anchor in one RE2 set, positions in table order: which shapes a text may hold."""
    anchors = re2.Set.SearchSet(re2.Options())
    for position, shape in enumerate(SHAPES):
        if anchors.Add(f"(?i){shape.anchor}") != position:
            raise RuntimeError(f"RE2 set position for shape {shape.name}")
    anchors.Compile()
    return anchors


@functools.cache
def _trigger() -> re2._Regexp:
    """Any shape's anchor, where it stands: a long text is searched only around these."""
    return re2.compile(TRIGGER)


def find_secrets(text: str) -> list[Found]:
    """Every secret value in text, without overlaps (the earlier shape of the table wins), in text order.

    Only the shapes whose anchor the text holds are tried (and so compiled): every match holds its anchor."""
    present = _anchors().Match(text)
    if not present:
        return []
    taken: list[Found] = []
    for shape in (SHAPES[position] for position in sorted(present)):
        for m in shape.regex.finditer(text):
            for group, value in m.groupdict().items():
                if not group.startswith("secret") or value is None or not shape.accept(value):
                    continue
                start, end = m.span(group)
                if all(end <= f.start or start >= f.end for f in taken):
                    taken.append(Found(shape, start, end))
    return sorted(taken, key=lambda f: f.start)


def redact(text: str) -> str:
    if len(text) <= WHOLE:
        return _redact_whole(text)
    parts, at = [], 0
    for start, end in _windows(text):
        parts += [text[at:start], _redact_whole(text[start:end])]
        at = end
    parts.append(text[at:])
    return "".join(parts)


def redact_line(line: str, before: str = "") -> str:
    """One line redacted as it reads in its text: `before` is the text above it, where a private key's BEGIN line or
    the id of a Key Vault secret may be. Masks never add or remove a line break, so the last line is the line."""
    if not before:
        return redact(line)
    text = redact(before + line)
    return text[text.rfind("\n") + 1 :]


def _windows(text: str) -> Iterator[tuple[int, int]]:
    """Spans of whole lines around each trigger: from the line before to WINDOW_AFTER lines after, overlapping ones merged."""
    current: tuple[int, int] | None = None
    for m in _trigger().finditer(text):
        if current is not None and m.start() < current[1] and current[1] == len(text):
            break
        start = text.rfind("\n", 0, max(text.rfind("\n", 0, m.start()), 0)) + 1
        end = m.end()
        for _ in range(WINDOW_AFTER + 1):
            end = text.find("\n", end) + 1
            if end == 0:
                end = len(text)
                break
        if current is not None and start <= current[1]:
            current = (current[0], max(current[1], end))
            continue
        if current is not None:
            yield current
        current = (start, end)
    if current is not None:
        yield current


def _redact_whole(text: str) -> str:
    found = find_secrets(text)
    if not found:
        return text
    parts, at = [], 0
    for f in found:
        parts += [text[at : f.start], f.shape.mask(text[f.start : f.end])]
        at = f.end
    parts.append(text[at:])
    return "".join(parts)


def redact_chunks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """A log's bytes with secrets masked, block by block (bounded memory), line numbers kept.

    Each block is read with the last lines of the one before it, so a secret whose name ended the previous
    block is still seen; a private key longer than that stays masked until its END line."""
    inside_key = False
    context = ""
    for block in iter_blocks(chunks):
        text = block.data.decode("utf-8", "replace")
        head = ""
        if inside_key:
            end = _PEM_END.search(text)
            cut = end.start() if end else len(text)
            head, text = re.sub(r"[^\r\n]+", MASK, text[:cut]), text[cut:]
            inside_key = end is None
        if not inside_key:
            inside_key = bool(_PEM_OPEN.search(text))
            whole = redact(context + text)
            skip = 0
            for _ in range(context.count("\n")):
                skip = whole.index("\n", skip) + 1
            text = whole[skip:]
        yield (head + text).encode("utf-8")
        context = _last_lines(context + block.data.decode("utf-8", "replace"), WINDOW_AFTER)


def _last_lines(text: str, count: int) -> str:
    at = len(text) - 1  # text ends with a line break
    for _ in range(count):
        at = text.rfind("\n", 0, at)
        if at < 0:
            return text
    return text[at + 1 :]


T = TypeVar("T")


def redacted(value: T) -> T:
    """A result (report, lint result, check result) with every string in it redacted: what every renderer is handed."""
    if isinstance(value, str):
        return redact(value)  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: redacted(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)  # type: ignore[return-value]
    if isinstance(value, tuple | list):
        return type(value)(redacted(item) for item in value)  # type: ignore[return-value]
    if isinstance(value, dict):
        return {key: redacted(item) for key, item in value.items()}  # type: ignore[return-value]
    return value
