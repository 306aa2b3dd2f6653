"""JSON a user hands in, checked before anything reads it: how deep it nests, and the types of the template fields read.

A template whose `provisioningError` is a string or whose `inline` is not a list is the user's input
being wrong, not aib-doctor: it gets one line naming the field and exit 2, for `analyze` and `lint` alike.
"""

from __future__ import annotations

from aib_doctor.errors import InputError

MAX_DEPTH = 64
"""Deeper than any image template or ARM template (they nest about 10 levels); deeper input is refused, not recursed into."""

_STRINGS = ("type", "name")
_SHAPE: dict[tuple[str, ...], type | tuple[type, ...]] = {
    ("provisioningError",): dict,
    ("provisioningError", "message"): str,
    ("provisioningError", "provisioningErrorCode"): str,
    ("lastRunStatus",): dict,
    **{("lastRunStatus", key): str for key in ("runState", "runSubState", "message", "startTime", "endTime")},
    ("provisioningState",): str,
    ("source",): dict,
    **{("source", key): str for key in ("type", "publisher", "offer", "sku", "version", "imageId", "imageVersionId")},
    ("customize",): list,
    ("customize", "*"): dict,
    **{("customize", "*", key): str for key in (*_STRINGS, "scriptUri", "sourceUri", "destination", "sha256Checksum")},
    ("customize", "*", "inline"): list,
    ("customize", "*", "inline", "*"): str,
    ("distribute",): list,
    ("distribute", "*"): dict,
    **{("distribute", "*", key): str for key in (*_STRINGS, "runOutputName", "imageId", "galleryImageId")},
    ("validate",): dict,
    ("vmProfile",): dict,
    ("vmProfile", "vmSize"): str,
    ("vmProfile", "vnetConfig"): dict,
    ("buildTimeoutInMinutes",): (int, float),
}
"""The fields aib-doctor reads, relative to the template's properties, and the JSON type each must have ("*": every item)."""

_KINDS = {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number", bool: "true or false"}


def parse_json(text: str, name: str) -> object:
    """json.loads, with nesting deeper than MAX_DEPTH refused; invalid JSON still raises ValueError for the caller to word."""
    import json  # only JSON inputs need the parser: a pasted error text starts without it

    try:
        document = json.loads(text)
    except RecursionError:
        raise InputError(f"{name}: the JSON nests deeper than any template (over {MAX_DEPTH} levels)") from None
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputError(f"{name}: the JSON nests deeper than any template (over {MAX_DEPTH} levels)")
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return document


def check_template_shape(properties: object, name: str, base: str = "properties", arm: bool = False) -> None:
    """Raise InputError naming the first field of the wrong type; a null field is absent (a null list item is wrong).

    `arm`: the properties come from an ARM template, where an expression left unresolved offline ("[parameters('p')]")
    may stand for an object or a list: such a field is removed (the checks see it absent; lint lists it as unresolved)."""
    if not isinstance(properties, dict):
        raise InputError(f"{name}: {base} is {_kind(properties)}; an image template has an object there")
    _check(properties, (), name, base, arm)


def _check(value: object, path: tuple[str, ...], name: str, where: str, arm: bool) -> None:
    if isinstance(value, dict):
        items = [(str(key), str(key), item) for key, item in value.items()]
    elif isinstance(value, list):
        items = [("*", f"[{index}]", item) for index, item in enumerate(value)]
    else:
        return
    for key, label, item in list(items):
        child = (*path, key)
        expected = _SHAPE.get(child)
        if expected is None or (item is None and key != "*"):
            continue
        here = f"{where}[{label[1:-1]}]" if key == "*" else f"{where}.{label}"
        if arm and isinstance(item, str) and item.startswith("[") and expected is not str:
            value[int(label[1:-1]) if key == "*" else key] = None  # type: ignore[index]
            continue
        if not isinstance(item, expected) or (isinstance(item, bool) and expected is not bool):
            wanted = _KINDS[expected[0] if isinstance(expected, tuple) else expected]
            raise InputError(f"{name}: {here} is {_kind(item)}; an image template has {wanted} there")
        _check(item, child, name, here, arm)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return _KINDS.get(type(value), type(value).__name__)
