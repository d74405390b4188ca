"""Amounts and currencies as they are written in Hebrew and English mail."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from price_parser import Price

from .prefilter import DIGIT, SPACE, Prefiltered

# Symbols, ISO codes and words that name a currency, mapped to ISO 4217.
SYMBOLS = {"₪": "ILS", "$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "c$": "CAD",
           "a$": "AUD", "r$": "BRL", "zł": "PLN", "₽": "RUB", "₺": "TRY", "kč": "CZK"}
CODES = {code: code for code in (
    "ILS USD EUR GBP JPY INR CHF CAD AUD PLN SEK NOK DKK CZK HUF RUB TRY BRL MXN CNY HKD SGD NZD ZAR AED "
    "RON BGN THB KRW TWD PHP IDR MYR SAR QAR KWD EGP JOD").split()}
CODES["NIS"] = "ILS"
# Words, matched in any case; ISO codes are matched only in capitals ("try" is not the lira).
WORDS = {'ש"ח': "ILS", "ש״ח": "ILS", "ש''ח": "ILS", "ש'ח": "ILS", "שקל": "ILS", "שקלים": "ILS", "nis": "ILS", "euro": "EUR",
         "euros": "EUR", "rs.": "INR", "rs": "INR", "dollars": "USD", "pounds": "GBP"}
CURRENCY_TOKENS: dict[str, str] = {**{k.lower(): v for k, v in SYMBOLS.items()}, **CODES,
                                   **{k.lower(): v for k, v in WORDS.items()}}
_LETTER = r"A-Za-z\u0590-\u05FF"


def _standalone(token: str, *, any_case: bool) -> str:
    """``token`` not inside a longer word (the check on the character before it is a lookbehind
    placed after the token, so the token is tried first)."""
    body = f"(?i:{re.escape(token)})" if any_case else re.escape(token)
    return rf"{body}(?<![{_LETTER}](?s:.{{{len(token)}}}))(?![{_LETTER}])"


def _first_character(plain: set[str], exact: set[str], any_case: set[str]) -> str:
    """A lookahead for the characters a currency can start with. Checked once per position,
    it spares the regex engine the sixty-odd alternatives wherever none can start, which is
    nearly everywhere (the alternatives' own inline flags keep it from seeing that itself)."""
    def characters(chars: set[str]) -> str:
        return "".join(re.escape(c) for c in sorted(chars))
    return rf"(?=[{characters(plain | exact)}]|(?i:[{characters(any_case)}]))"


_CURRENCY_FIRST = _first_character(
    plain={t[0] for t in SYMBOLS if not t[0].isalpha()},
    exact={code[0] for code in CODES},
    any_case={t[0] for t in [*SYMBOLS, *WORDS] if t[0].isalpha()},
)
_CURRENCY_RE = _CURRENCY_FIRST + "(?:" + "|".join(
    [re.escape(t) for t in sorted(SYMBOLS, key=len, reverse=True) if not t[0].isalpha()]
    + [_standalone(t, any_case=True) for t in sorted(
        [t for t in SYMBOLS if t[0].isalpha()] + list(WORDS), key=len, reverse=True)]
    + [_standalone(code, any_case=False) for code in sorted(CODES, key=len, reverse=True)]
) + ")"
# Bounded: no amount the database can hold has more than six thousands groups or fifteen digits,
# and a bound keeps each try short (RE2's twin below is bounded to match).
_NUMBER_RE = r"(?:\d{1,3}(?:[,.\u202f\u00a0 ]\d{3}){1,6}(?:[.,]\d{1,2})?|\d{1,15}(?:[.,]\d{1,2})?)(?![\d])"
# A currency before or after a number: "₪ 99.90", "99.90 ₪", "USD 12", "350.00 ש\"ח", "-$5.00". A symbol
# directly followed by a number belongs to that number, not to the one before it ("2014 $4.11").
MONEY_RE = re.compile(
    rf"(?P<pre>{_CURRENCY_RE})\s?-?\s?(?P<num1>{_NUMBER_RE})|(?P<num2>{_NUMBER_RE})\s?(?P<post>{_CURRENCY_RE})(?!\s?-?\d)",
)

# MONEY_RE's RE2 twin (see prefilter). Python's IGNORECASE takes a few letters as one that
# RE2's (?i) does not; they are added by hand (tests/test_recognition.py checks every code point).
_PYTHON_FOLDS = {"i": "ıİ", "s": "ſ", "k": "\u212a"}


def _re2_any_case(token: str) -> str:
    parts = []
    for char in token:
        extras = _PYTHON_FOLDS.get(char.lower(), "")
        literal = re.escape(char)
        parts.append(f"(?:(?i:{literal})|[{extras}])" if extras else f"(?i:{literal})" if char.isalpha() else literal)
    return "".join(parts)


def _re2_currency(any_case: Iterable[str], exact: Iterable[str]) -> str:
    return "|".join([_re2_any_case(t) for t in any_case] + [re.escape(t) for t in exact])


_RE2_CURRENCY = _re2_currency(
    any_case=[t for t in [*SYMBOLS, *WORDS] if t[0].isalpha()],
    exact=[*[t for t in SYMBOLS if not t[0].isalpha()], *CODES],
)
MONEY = Prefiltered(
    MONEY_RE,
    # A number of MONEY_RE is at most 30 characters: the twin's run is bounded too. Unbounded, a
    # long run of digits and commas before a currency made every failed try rescan it to the
    # currency (quadratic in the run).
    rf"(?:{_RE2_CURRENCY}){SPACE}?-?{SPACE}?{DIGIT}|{DIGIT}[{DIGIT},.\x{{202f}}\x{{a0}} ]{{0,32}}{SPACE}?(?:{_RE2_CURRENCY})",
    direct_below=10,  # sixty-odd alternatives at every character: RE2 is quicker from about ten on
)


BARE_NUMBER_RE = re.compile(rf"(?<![\d/.,:-])(?:{_NUMBER_RE})(?![/%:])")


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str  # ISO 4217, or "" when the text names none
    start: int = 0


def currency_code(token: str) -> str:
    token = token.strip()
    return CODES.get(token) or CURRENCY_TOKENS.get(token.lower(), "")


@lru_cache(maxsize=4096)
def parse_number(text: str) -> Decimal | None:
    """``1,234.56``, ``1.234,56``, ``1 234,56``, ``99.90`` -> Decimal, or None.

    Remembered: a receipt's amounts are read several times over (total, VAT, evidence)."""
    price = Price.fromstring(text.replace("\u202f", " ").replace("\u00a0", " "))
    if price.amount is None:
        return None
    try:
        return Decimal(price.amount).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


MAX_AMOUNT = Decimal("9999999999.99")


def _money_in(text: str) -> Iterator[Money]:
    for match in MONEY.finditer(text):
        amount = parse_number(match.group("num1") or match.group("num2"))
        if amount is not None and amount <= MAX_AMOUNT:
            yield Money(amount, currency_code(match.group("pre") or match.group("post")), match.start())


def find_money(text: str) -> list[Money]:
    """Every amount written with a currency, in order."""
    return list(_money_in(text))


def has_money(text: str) -> bool:
    """Whether ``text`` names any amount with a currency; stops at the first."""
    return next(_money_in(text), None) is not None


def find_bare_amounts(text: str) -> list[Money]:
    """Numbers that look like money (with decimals) but carry no currency."""
    found = []
    for match in BARE_NUMBER_RE.finditer(text):
        raw = match.group(0)
        if not re.search(r"[.,]\d{2}$", raw):
            continue
        amount = parse_number(raw)
        if amount is not None:
            found.append(Money(amount, "", match.start()))
    return found


def currencies_in(text: str) -> list[str]:
    return [currency_code(m.group(0)) for m in re.finditer(_CURRENCY_RE, text)]
