"""One matching layer for the recogniser: RE2 where it is installed, Python's ``re`` where not.

RE2 matches a whole set of patterns in one linear pass over a text; Python's ``re`` tries each
pattern in turn. google-re2 has no wheel for every platform (musl, for one), so without it the
same sets and patterns run on ``re``: slower on long mail, the same answers
(tests/test_recognition.py runs both on the same texts).
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from .textcase import require_lower

try:
    import re2
except ImportError:  # pragma: no cover - exercised by forcing HAVE_RE2 off in the tests
    re2 = None

HAVE_RE2 = re2 is not None


class PatternSet:
    """Patterns written for lower-cased text, looked for together; ``found`` gives the indexes
    of those that occur, in the order they were given.

    RE2's ``\\b`` and ``\\w`` are ASCII-only: an English word written against a Hebrew letter
    still counts as a word. The ``re`` fallback is compiled with ``re.ASCII`` to agree."""

    def __init__(self, patterns: Sequence[str], *, use_re2: bool | None = None) -> None:
        self.patterns = [require_lower(p, f"pattern {p[:40]!r}") for p in patterns]
        self.uses_re2 = HAVE_RE2 if use_re2 is None else use_re2 and HAVE_RE2
        if self.uses_re2:
            options = re2.Options()
            options.max_mem = 32 << 20  # room for the DFA of a large set
            self._set = re2.Set.SearchSet(options)
            for pattern in self.patterns:
                self._set.Add(pattern)
            self._set.Compile()
        else:
            self._compiled = [re.compile(p, re.ASCII) for p in self.patterns]

    def found(self, text: str) -> list[int]:
        if not text:
            return []
        if self.uses_re2:
            return sorted(self._set.Match(text) or ())
        return [i for i, pattern in enumerate(self._compiled) if pattern.search(text)]
