"""Python regexes tried only where RE2 says they may match.

Some patterns need what only Python's ``re`` has (lookbehinds, lookaheads), but ``re`` tries
them at every position of a text: 30 to 200 ns a character for the money and date patterns,
milliseconds for a long HTML receipt. RE2 scans in one linear pass. So each such pattern gets
an RE2 twin that matches wherever it can match (it may match in a few more places): the
pattern without its lookarounds, with Python's Unicode classes spelled out for RE2. RE2 finds
the next place the twin matches, the Python pattern is tried there, and the scan goes on.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from .matching import HAVE_RE2

if HAVE_RE2:
    import re2
    import re2._re2 as _re2  # RE2's C++ binding, beneath the module's Python wrapper

# Python's \s and \d on str, for RE2 (whose own are ASCII): Unicode spaces (Z), the ASCII
# controls Python counts as space, and decimal digits (Nd). tests/test_recognition.py checks them
# against every code point.
SPACE = r"[\s\p{Z}\x0b\x1c-\x1f\x85]"
DIGIT = r"\p{Nd}"


# Below this many characters Python's ``re`` is quicker than a pass of RE2 (each pattern can
# name its own: one that ``re`` can skip through by its first character gains little from RE2).
DIRECT_BELOW = 40
_UNANCHORED = _re2.RE2.Anchor.UNANCHORED if HAVE_RE2 else None


class Prefiltered:
    """``pattern.finditer`` for a pattern that never matches the empty string, searched
    through ``twin``, an RE2 pattern matching at every position where ``pattern`` matches.
    Without google-re2 every search goes to ``pattern`` directly."""

    def __init__(self, pattern: re.Pattern[str], twin: str, *, direct_below: int = DIRECT_BELOW) -> None:
        self.pattern = pattern
        if not HAVE_RE2:
            self.direct_below = 1 << 62
            return
        # RE2's own matcher, called directly: the module's Python wrapper makes a generator and
        # a match object for every search, which cost more than the search on a short text.
        compiled = _re2.RE2(twin.encode("utf-8"), re2.Options())
        if not compiled.ok():
            reason = compiled.error().decode(errors="replace")
            raise re2.error(f"the RE2 twin of {pattern.pattern[:60]!r} does not compile: {reason}")
        self._twin_match = compiled.Match
        self.direct_below = direct_below

    def finditer(self, text: str, pos: int = 0, endpos: int | None = None) -> Iterator[re.Match[str]]:
        """What ``pattern.finditer(text, pos, endpos)`` yields.

        From the cursor on, the first place the twin matches is the first place the pattern
        can; the pattern is tried there (its lookbehinds still see the text before it) and the
        scan goes on after its match, or one character further when it does not match. RE2
        reads UTF-8, so it gets the text encoded once and byte offsets, kept in step with the
        character offsets. Only the searched stretch is encoded: the twin has no lookarounds, so
        it matches the same there as in the whole text. Short stretches go to ``re`` directly."""
        endpos = len(text) if endpos is None else min(endpos, len(text))
        pos = min(pos, endpos)
        if endpos - pos < self.direct_below:
            yield from self.pattern.finditer(text, pos, endpos)
            return
        data = text[pos:endpos].encode("utf-8", "surrogatepass")
        size = len(data)
        ascii_only = size == endpos - pos
        twin_match, pattern_match = self._twin_match, self.pattern.match
        char, byte = pos, 0  # the cursor: characters into text, bytes into data
        while byte <= size:
            found = twin_match(_UNANCHORED, data, byte, size)[0][0]
            if found < 0:
                return
            if ascii_only:
                char = pos + found
            else:
                char += len(data[byte:found].decode("utf-8", "surrogatepass"))
            byte = found
            match = pattern_match(text, char, endpos)
            following = max(match.end(), char + 1) if match else char + 1
            if match:
                yield match
            byte += following - char if ascii_only else len(text[char:following].encode("utf-8", "surrogatepass"))
            char = following
