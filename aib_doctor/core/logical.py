"""Physical lines -> logical messages: the text a user meant before a terminal, an e-mail, PowerShell,
Markdown or JSON escaping broke it into lines. No I/O.

Real reports arrive hard-wrapped at any width (at a space, or mid-word at a terminal's edge), behind
PowerShell 7's `     | ` continuation bars, Markdown quotes and indented code blocks, log prefixes on
every line, and JSON-escaped (`\\"`, `\\n`, `\\u0026`). A message's distinctive phrase is then spread
over several lines and no line-by-line pattern sees it.

`LogicalText` strips the decorations, undoes the escapes and joins the lines that look wrapped, twice:
once with a space (a wrap at a word boundary lost its space) and once with nothing (a wrap inside a
word). Patterns are loosened (`loosen`) to tolerate whitespace, case, quotes and a missing colon, and
matched on both texts; every match maps back to the physical line numbers it came from.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from aib_doctor.core.lazy_regex import LazyRegex

# A line that starts a new record: never joined to the line before it.
_RECORD_START = LazyRegex(
    r"^\s*(?:\[?[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}\]?\*{0,2}\s*PACKER|PACKER (?:OUT|ERR)|\d{4}[-/]\d\d[-/]\d\d[T ]\d\d:\d\d|##\[|[{}\[\]]\s*$|\"[\w.$-]+\"\s*:)"
)
# What is in front of the message on a line: log prefixes, PowerShell's error view bars, Markdown quotes.
_PREFIXES = (
    LazyRegex(r"^\s*\[?[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}\]?\*{0,2}\s*"),  # [operation id]
    LazyRegex(r"^\s*PACKER (?:OUT|ERR)\s*"),
    LazyRegex(r"^\s*\d{4}[-/]\d\d[-/]\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?Z?\s*"),  # timestamps
    LazyRegex(r"^\s*(?:ui(?: error)?:\s*)?(?:==>\s*)?(?:[\w-]+-(?:arm|iso|vhd|chroot)|azure-arm|file):\s"),  # Packer's builder name
    LazyRegex(r"^\s*##\[(?:error|warning|debug|section|command)\]\s*"),  # Azure DevOps
    LazyRegex(r"^\s*(?:\d+\s*)?\|\s?"),  # PowerShell 7 error view: "     | text", "   3 |  code"
    LazyRegex(r"^\s*(?:>\s?)+"),  # Markdown quotes
    LazyRegex(r"^\s*[+]\s+(?=[A-Z~])"),  # Windows PowerShell: "+ CategoryInfo", "+ ~~~"
)
# Markdown's bold around words of a message ("perl: **warning**: Setting locale failed"); not a lone * (a
# glob, a product) nor __ (Python's __init__)
_EMPHASIS = LazyRegex(r"(?<![\w*])\*\*(?=[^\s*])(.+?)(?<=[^\s*])\*\*(?![\w*])")
_ESCAPED = LazyRegex(r'"\s*:\s*".*\\n|\\"|\\u00[0-9a-fA-F]{2}|\\r\\n|\\\\')
_ESCAPE = LazyRegex(r"\\(u[0-9a-fA-F]{4}|[\"\\/nrt])")
_SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "r": "", "t": " "}
_WRAP_SHARE = 0.6
"""A line at least this share of its paragraph's widest line may have been wrapped."""
MIN_WRAP_WIDTH = 30


def strip_prefixes(text: str) -> str:
    """The message part of one line: log prefixes, error-view bars and quotes removed (in any order), and
    Markdown's bold around its words."""
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            m = prefix.match(text)
            if m and m.end() > 0:
                text = text[m.end() :]
                changed = True
    return _EMPHASIS.sub(r"\1", text).strip() if "**" in text else text.strip()


def unescape(text: str) -> str:
    """JSON string escapes undone left to right, twice (ARM nests JSON in JSON), `\\n` made a real line break."""
    for _ in range(2):
        # Only text that shows JSON escaping: a Windows path (C:\\new\\temp) is not escaped text.
        if not _ESCAPED.search(text):
            break
        text = _ESCAPE.sub(_unescaped, text)
    return text


def _unescaped(m: re.Match) -> str:
    token = m.group(1)
    if token[0] == "u":
        return chr(int(token[1:], 16))
    return _SIMPLE_ESCAPES[token]


@dataclass(frozen=True)
class Piece:
    """One physical line's message part (or one part of it, when it held escaped line breaks)."""

    line: int
    text: str
    record_start: bool
    width: int
    """Length of the physical line before its prefixes were removed: what a wrap is measured on."""


def pieces(lines: list[tuple[int, str]]) -> list[Piece]:
    """Physical (line number, text) -> message pieces, each still carrying its physical line number."""
    out: list[Piece] = []
    for lineno, raw in lines:
        for part in unescape(raw.rstrip("\r")).split("\n"):
            start = not part.strip() or bool(_RECORD_START.match(part))
            out.append(Piece(lineno, strip_prefixes(part), start, len(part.rstrip())))
    return out


class LogicalText:
    """The joined forms of a short text, with a map from their offsets back to physical lines."""

    def __init__(self, lines: list[tuple[int, str]]) -> None:
        parts = pieces(lines)
        self.forms = tuple(self._join(parts, glue) for glue in (" ", ""))

    @staticmethod
    def _join(parts: list[Piece], glue: str) -> tuple[str, list[int], list[int]]:
        text: list[str] = []
        starts: list[int] = []
        numbers: list[int] = []
        offset = 0
        widest = max((p.width for p in parts), default=0)
        for index, piece in enumerate(parts):
            if index:
                previous = parts[index - 1]
                wrapped = (
                    not piece.record_start
                    and bool(piece.text)
                    and widest >= MIN_WRAP_WIDTH
                    and previous.width >= _WRAP_SHARE * widest
                    and not previous.text.endswith((".", ":", "{", "[", ","))
                )
                separator = glue if wrapped else "\n"
                text.append(separator)
                offset += len(separator)
            starts.append(offset)
            numbers.append(piece.line)
            text.append(piece.text)
            offset += len(piece.text)
        return "".join(text), starts, numbers

    @staticmethod
    def lines_of(form: tuple[str, list[int], list[int]], start: int, end: int) -> tuple[int, int]:
        """First and last physical line of a match at [start, end) in one form."""
        _, starts, numbers = form
        first = numbers[max(bisect.bisect_right(starts, start) - 1, 0)]
        last = numbers[max(bisect.bisect_right(starts, max(end - 1, start)) - 1, 0)]
        return first, last

    @staticmethod
    def message_span(form: tuple[str, list[int], list[int]], start: int, end: int) -> tuple[int, int]:
        """Start and end offsets of the logical line around a match at [start, end) in one form."""
        text = form[0]
        right = text.find("\n", end)
        return text.rfind("\n", 0, start) + 1, right if right >= 0 else len(text)

    @staticmethod
    def message_at(form: tuple[str, list[int], list[int]], start: int, end: int) -> str:
        """The logical line around a match: what evidence shows when the match spans physical lines."""
        left, right = LogicalText.message_span(form, start, end)
        return form[0][left:right]


_QUOTES = "[\"'\u2018\u2019\u201c\u201d`]"


_FLAG_GROUP = LazyRegex(r"\(\?[imsU]*(?:-[imsU]+)?:")


def loosen(regex: str, split_camel_case: bool = True) -> str:
    """A catalog pattern made tolerant of how people paste: any case, any (or no) whitespace where the
    pattern has a space or between camelCase words, any quote character (or none), an optional colon.

    Character classes, escapes and group syntax are copied as they are; only literal text is loosened.
    Error codes keep their camelCase: "InternalError" is a code, "internal error" is prose.
    """
    out: list[str] = []
    i, n = 0, len(regex)
    if regex.startswith("(?i)"):
        i = 4
    previous_literal = ""
    while i < n:
        c = regex[i]
        if c == "\\" and i + 1 < n:
            out.append(regex[i : i + 2])
            i += 2
            previous_literal = ""
            continue
        if c == "[":
            end = _class_end(regex, i)
            out.append(regex[i:end])
            i = end
            previous_literal = ""
            continue
        if c == "(" and regex.startswith("(?", i):
            if regex.startswith("(?P<", i):
                end = regex.find(">", i) + 1
            elif regex.startswith(("(?<=", "(?<!"), i):
                end = i + 4
            elif flags := _FLAG_GROUP.match(regex, i):  # (?i:  (?-i:  a group with its own flags
                end = flags.end()
            else:  # (?:  (?=  (?!
                end = min(j for j in (regex.find(":", i + 2), regex.find(")", i + 2), i + 3) if j >= 0) + 1
            out.append(regex[i:end])
            i = end
            previous_literal = ""
            continue
        if c == " ":
            # one or more spaces (with their quantifier) -> any whitespace, or none
            while i < n and regex[i] == " ":
                i += 1
            if i < n and regex[i] in "?*+":
                i += 1
            out.append(r"\s*")
            previous_literal = ""
            continue
        if c in "'\"":
            out.append(f"(?:{_QUOTES})?")
            i += 1
            if i < n and regex[i] == "?":
                i += 1
            previous_literal = ""
            continue
        if c == ":" and not (i + 1 < n and regex[i + 1] in "?*+"):
            out.append(":?")
            i += 1
            previous_literal = ""
            continue
        if split_camel_case and c.isupper() and previous_literal.islower():
            out.append(r"\s*")  # camelCase boundary: AuthorizationFailed ~ Authorization Failed
        out.append(c)
        previous_literal = c if c.isalpha() else ""
        i += 1
    return "(?i)" + "".join(out)


def _class_end(regex: str, start: int) -> int:
    i = start + 1
    if i < len(regex) and regex[i] == "^":
        i += 1
    if i < len(regex) and regex[i] == "]":
        i += 1
    while i < len(regex) and regex[i] != "]":
        i += 2 if regex[i] == "\\" else 1
    return i + 1
