"""LazyRegex: a module-level pattern compiled on first use answers as re.compile's does."""

from __future__ import annotations

import re

from aib_doctor.core.lazy_regex import LazyRegex


def test_it_answers_as_the_compiled_pattern_and_compiles_once():
    lazy, compiled = LazyRegex(r"(?P<word>err\w*)", re.I), re.compile(r"(?P<word>err\w*)", re.I)
    assert "search" not in vars(lazy)  # nothing compiled on creation
    text = "Errors: 2, ERRORED once"
    assert lazy.search(text).group("word") == compiled.search(text).group("word") == "Errors"
    assert lazy.findall(text) == compiled.findall(text) and lazy.sub("x", text) == compiled.sub("x", text)
    assert lazy.groupindex == compiled.groupindex
    search = lazy.search
    assert lazy.search is search  # kept on the instance after the first call
