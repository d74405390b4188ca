"""Finding the issue date of a receipt or invoice in its text, in the languages our mail comes in.

Dates are written every way: ``2024-01-05``, ``05/01/2024``, ``January 5, 2024``,
``7. Mai 2014``, ``19 april 2014``, ``02 Juillet 2015``, ``5 בינואר 2024``. Every date in the
text is found, then scored by the label beside it (an issue-date label wins; a due date or an
order date loses), and the best one is returned.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .prefilter import DIGIT, SPACE, Prefiltered
from .textcase import compile_lower, lower

MONTHS: dict[str, int] = {}
_NAMES = {
    1: "january jan januar januari janvier janv enero gennaio ינואר",
    2: "february feb februar februari février fevrier févr fevr febrero febbraio פברואר",
    3: "march mar märz maerz mrz maart mrt mars marzo מרץ מרס",
    4: "april apr avril avr abril aprile אפריל",
    5: "may mai mei mayo maggio מאי",
    6: "june jun juni juin junio giugno יוני",
    7: "july jul juli juillet juil julio luglio יולי",
    8: "august aug augustus août aout agosto אוגוסט",
    9: "september sep sept septembre septiembre settembre ספטמבר",
    10: "october oct oktober octobre octubre ottobre okt אוקטובר",
    11: "november nov novembre noviembre נובמבר",
    12: "december dec dezember décembre decembre dez diciembre dicembre דצמבר",
}
for _number, _words in _NAMES.items():
    for _word in _words.split():
        MONTHS[_word] = _number
_MONTH_RE = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))

# Each pattern with its RE2 twin (see prefilter): the pattern without lookarounds, or the start
# every match of it has.
PATTERNS = [
    ("iso", Prefiltered(re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)"),
                        rf"{DIGIT}{{4}}-{DIGIT}{{1,2}}-{DIGIT}{{1,2}}")),
    ("numeric", Prefiltered(re.compile(r"(?<![\d/.-])(?P<a>\d{1,2})[./-](?P<b>\d{1,2})[./-](?P<y>\d{4}|\d{2})(?![\d/])"),
                            rf"{DIGIT}{{1,2}}[./-]{DIGIT}{{1,2}}[./-]{DIGIT}{{2}}")),
    ("day_month", Prefiltered(
        compile_lower(rf"(?<!\d)(?P<d>\d{{1,2}})(?:st|nd|rd|th|er)?\.?\s*(?:de\s+|ב-?|ב)?(?P<mon>{_MONTH_RE})\.?,?\s+(?P<y>\d{{4}})(?!\d)"),
        rf"{DIGIT}{{1,2}}(?:st|nd|rd|th|er)?\.?{SPACE}*(?:de{SPACE}+|ב-?|ב)?(?:{_MONTH_RE})\.?,?{SPACE}+{DIGIT}{{4}}",
        direct_below=20)),
    ("month_day", Prefiltered(
        compile_lower(rf"(?<![\w])(?P<mon>{_MONTH_RE})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*(?P<y>\d{{4}})(?!\d)"),
        rf"(?:{_MONTH_RE})\.?{SPACE}+{DIGIT}{{1,2}}(?:st|nd|rd|th)?{SPACE}*,?{SPACE}*{DIGIT}{{4}}",
        direct_below=20)),
]  # all run on lower-cased text (see textcase)
_ISSUE_LABELS = (
    r"invoice date|receipt date|date of issue|issue date|issued|date paid|payment date|billing date|transaction date|"
    r"rechnungsdatum|belegdatum|factuurdatum|factuur datum|date de facture|date d'émission|fecha de factura|"
    r"data fattura|data wystawienia|תאריך|\bdate\b|\bdatum\b|\bdu\b|\bvom\b|\bfecha\b"
)
_WEAK_LABELS = r"order date|orderdatum|bestelldatum|date de commande|תאריך הזמנה|check.?out|period|from|to\b|bis\b"
_AVOID_LABELS = (
    r"due date|date due|payment due|due by|due|vervaldatum|fälligkeitsdatum|fällig|faellig|échéance|echeance|date limite|expir|valid|until|\bbis\b|תוקף|עד תאריך|"
    r"prélèvement|prelevement|next billing|renews?|birth"
)
# The labels' twins are the labels without \b, which RE2 reads as ASCII-only. Without its \b,
# the weak labels' twin matches every "to" (total, stock): Python's ``re``, which skips ahead
# by the labels' first letters, is quicker on any window a date has.
ISSUE_LABEL = Prefiltered(compile_lower(_ISSUE_LABELS), _ISSUE_LABELS.replace(r"\b", ""), direct_below=20)
WEAK_LABEL = Prefiltered(compile_lower(_WEAK_LABELS), _WEAK_LABELS.replace(r"\b", ""), direct_below=1000)
AVOID_LABEL = Prefiltered(compile_lower(_AVOID_LABELS), _AVOID_LABELS.replace(r"\b", ""), direct_below=20)


@dataclass
class FoundDate:
    value: date
    score: int
    position: int


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


def _candidates(text: str, dayfirst: bool) -> list[tuple[date, int, int]]:
    found: list[tuple[date, int, int]] = []
    for kind, pattern in PATTERNS:
        for match in pattern.finditer(text):
            try:
                if kind == "iso":
                    value = date(int(match["y"]), int(match["m"]), int(match["d"]))
                elif kind == "numeric":
                    a, b, year = int(match["a"]), int(match["b"]), _year(match["y"])
                    day, month = (a, b) if dayfirst else (b, a)
                    if month > 12 and day <= 12:
                        day, month = month, day
                    value = date(year, month, day)
                else:
                    value = date(int(match["y"]), MONTHS[match["mon"]], int(match["d"]))
            except (ValueError, KeyError):
                continue
            if 1990 <= value.year <= 2100:
                found.append((value, match.start(), match.end()))
    return found


def _nearest_label(text: str, start: int, end: int) -> int:
    """The score of the label nearest to a date: before it (on its line or the line above) or after it."""
    line_start = text.rfind("\n", 0, start)
    window_start = max(text.rfind("\n", 0, max(line_start, 0)), start - 60, 0)
    window_end = min(len(text), end + 30)
    line_end = text.find("\n", end)
    if line_end != -1:
        window_end = min(window_end, line_end)
    best: tuple[int, int, int] | None = None  # (distance, -length, score)
    for pattern, score in ((ISSUE_LABEL, 10), (WEAK_LABEL, 2), (AVOID_LABEL, -10)):
        for match in pattern.finditer(text, window_start, window_end):
            if match.end() <= start:
                distance = start - match.end()
            elif match.start() >= end:
                distance = match.start() - end
            else:
                continue
            key = (distance, -(match.end() - match.start()), score)
            if best is None or key < best:
                best = key
    return best[2] if best else 0


def find_issue_date(text: str, *, dayfirst: bool = True) -> date | None:
    text = lower(text)
    best: FoundDate | None = None
    for value, start, end in _candidates(text[:30000], dayfirst):
        candidate = FoundDate(value, _nearest_label(text, start, end), start)
        if best is None or candidate.score > best.score or (
            candidate.score == best.score and candidate.position < best.position
        ):
            best = candidate
    return best.value if best else None
