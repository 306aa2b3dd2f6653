"""The literal text a pattern cannot match without: a prefilter that lets a short text skip most patterns. No I/O.

Compiling an RE2 set of every catalog pattern costs more than the rest of a one-line `analyze`. A pattern
requires literals in groups: each literal run it must match, and for each part it must match (an alternation,
a repeated group) one of that part's literals. A text that lacks every literal of one group cannot match it,
so a short text is matched with a set of only the patterns whose every group it holds a literal of
(patterns.PatternTable): the same answers, from a set a few patterns large.

Literals are ASCII and lower-cased, and a text is compared lower-cased, so a literal holds under any case
flag. Only ASCII texts are prefiltered: under a case flag RE2 also folds some letters into non-ASCII ones
(k into the Kelvin sign), which lower-casing ASCII bytes cannot see.
"""

from __future__ import annotations

try:  # Python 3.11+: the parser behind `re`; 3.10 has it under its old public name
    from re import _constants as _sre
    from re import _parser
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _sre  # type: ignore[no-redef]
    import sre_parse as _parser  # type: ignore[no-redef]

Literals = tuple[tuple[bytes, ...], ...]
"""Groups of lower-cased literals: a text the pattern matches contains one literal of each group; None where no
such literal is known."""
MIN_LITERAL = 3
"""Shorter literal runs ("at", "::") are in nearly every text: no use as a filter."""
_REPEATS = (_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", _sre.MAX_REPEAT))


def required_literals(pattern: str) -> Literals | None:
    """One literal of each group is in every text the pattern matches; None when the pattern requires none."""
    try:
        return _sequence(_parser.parse(pattern))
    except Exception:  # a syntax Python's parser reads otherwise than RE2: no filter, never a wrong one
        return None


def may_match(literals: Literals | None, lowered: bytes) -> bool:
    """Whether a pattern with these literals may match somewhere in a text (ASCII, lower-cased)."""
    return literals is None or all(any(literal in lowered for literal in group) for group in literals)


def _sequence(items) -> Literals | None:
    """What a sequence of parsed items requires: each of its literal runs, everything each item that must appear
    requires (a group, a repeat at least once), and for an alternation every branch of which requires something,
    one group: each branch's most selective group (longest shortest literal, then fewest)."""
    found: list[tuple[bytes, ...]] = []
    run: list[int] = []

    def end_run() -> None:
        if len(run) >= MIN_LITERAL:
            found.append((bytes(run).lower(),))
        run.clear()

    for op, value in items:
        if op is _sre.LITERAL and value < 128:
            run.append(value)
            continue
        end_run()
        if op is _sre.SUBPATTERN:
            found += _sequence(value[-1]) or ()
        elif op is _sre.BRANCH:
            branches = [_sequence(branch) for branch in value[1]]
            if all(branches):
                found.append(tuple(literal for branch in branches for literal in _most_selective(branch)))
        elif op in _REPEATS and value[0] >= 1:
            found += _sequence(value[2]) or ()
    end_run()
    return tuple(dict.fromkeys(found)) or None


def _most_selective(groups: Literals) -> tuple[bytes, ...]:
    return max(groups, key=lambda group: (min(map(len, group)), -len(group)))
