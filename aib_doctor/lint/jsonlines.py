"""JSON pointer -> line number in the original text, so SARIF and text output can point at the line."""

from __future__ import annotations

import json
import re

_WS = re.compile(r"[ \t\r\n]*")
_SCALAR = re.compile(r'"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null')


def pointer_lines(text: str) -> dict[str, int]:
    """Every value's pointer in a JSON document and the line its value starts on."""
    lines: dict[str, int] = {}
    newlines = [m.start() for m in re.finditer("\n", text)]

    def line_of(offset: int) -> int:
        low, high = 0, len(newlines)
        while low < high:
            middle = (low + high) // 2
            if newlines[middle] < offset:
                low = middle + 1
            else:
                high = middle
        return low + 1

    def skip(i: int) -> int:
        return _WS.match(text, i).end()

    def value(i: int, pointer: str) -> int:
        i = skip(i)
        lines[pointer] = line_of(i)
        if text.startswith("{", i):
            i = skip(i + 1)
            if text.startswith("}", i):
                return i + 1
            while True:
                key = _SCALAR.match(text, i)
                name = json.loads(key.group(0))
                i = skip(key.end())
                i = value(i + 1, f"{pointer}/{str(name).replace('~', '~0').replace('/', '~1')}")  # past ':'
                i = skip(i)
                if text.startswith("}", i):
                    return i + 1
                i = skip(i + 1)  # past ','
        if text.startswith("[", i):
            i = skip(i + 1)
            index = 0
            if text.startswith("]", i):
                return i + 1
            while True:
                i = skip(value(i, f"{pointer}/{index}"))
                index += 1
                if text.startswith("]", i):
                    return i + 1
                i += 1
        return _SCALAR.match(text, i).end()

    try:
        value(0, "")
    except (AttributeError, ValueError, IndexError):
        return lines  # only well-formed JSON gets here; keep what was mapped
    return lines
