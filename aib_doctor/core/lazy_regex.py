"""Module-level regular expressions (Python's re) compiled on first use, not on import. No I/O.

Compiling costs up to milliseconds a pattern, and a short run (a one-line `analyze`, `--help`) needs few of
the patterns its modules define: the rest are compiled only by the runs that use them. A `LazyRegex` is
written where `re.compile` would be and used the same way (`search`, `match`, `sub`, ...).
"""

from __future__ import annotations

import re

_METHODS = ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split")


class LazyRegex:
    """re.compile(pattern, flags) on the first method call; the compiled pattern's methods are then kept on the
    instance, so later calls cost what calls of the compiled pattern cost."""

    def __init__(self, pattern: str | bytes, flags: int = 0) -> None:
        self.pattern = pattern
        self._flags = flags

    def __getattr__(self, name: str):  # only for what the instance does not hold yet: the first call compiles
        compiled = re.compile(self.pattern, self._flags)
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"LazyRegex({self.pattern!r}, {self._flags!r})"
