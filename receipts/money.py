"""Amounts and currencies as they are written in Hebrew and English mail."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from price_parser import Price

# Symbols and words that name a currency, mapped to ISO 4217.
CURRENCY_TOKENS: dict[str, str] = {
    "₪": "ILS", 'ש"ח': "ILS", "ש״ח": "ILS", "ש''ח": "ILS", "שח": "ILS", "שקל": "ILS", "שקלים": "ILS",
    "nis": "ILS", "ils": "ILS",
    "$": "USD", "us$": "USD", "usd": "USD",
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR",
    "£": "GBP", "gbp": "GBP",
    "¥": "JPY", "jpy": "JPY", "₹": "INR", "inr": "INR", "rs.": "INR", "chf": "CHF", "cad": "CAD",
    "c$": "CAD", "aud": "AUD", "a$": "AUD", "pln": "PLN", "zł": "PLN", "sek": "SEK", "nok": "NOK",
    "dkk": "DKK", "czk": "CZK", "huf": "HUF", "rub": "RUB", "₽": "RUB", "try": "TRY", "₺": "TRY",
    "brl": "BRL", "r$": "BRL", "mxn": "MXN", "cny": "CNY", "hkd": "HKD", "sgd": "SGD", "nzd": "NZD",
    "zar": "ZAR", "aed": "AED",
}
_WORD_TOKENS = sorted((t for t in CURRENCY_TOKENS if t[0].isalpha() or t[0] in "ש"), key=len, reverse=True)
_SYMBOL_TOKENS = sorted((t for t in CURRENCY_TOKENS if t not in _WORD_TOKENS), key=len, reverse=True)
_CURRENCY_RE = "|".join(
    [re.escape(t) for t in _SYMBOL_TOKENS]
    + [r"(?<![A-Za-z\u0590-\u05FF])" + re.escape(t) + r"(?![A-Za-z\u0590-\u05FF])" for t in _WORD_TOKENS]
)
_NUMBER_RE = r"\d{1,3}(?:[,.\u202f\u00a0 ]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
# A currency before or after a number: "₪ 99.90", "99.90 ₪", "USD 12", "350.00 ש\"ח", "-$5.00".
MONEY_RE = re.compile(
    rf"(?P<pre>{_CURRENCY_RE})\s?-?\s?(?P<num1>{_NUMBER_RE})|(?P<num2>{_NUMBER_RE})\s?(?P<post>{_CURRENCY_RE})",
    re.IGNORECASE,
)
BARE_NUMBER_RE = re.compile(rf"(?<![\d/.,:-])(?:{_NUMBER_RE})(?![\d/%:])")


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str  # ISO 4217, or "" when the text names none
    start: int = 0


def currency_code(token: str) -> str:
    return CURRENCY_TOKENS.get(token.strip().lower(), CURRENCY_TOKENS.get(token.strip(), ""))


def parse_number(text: str) -> Decimal | None:
    """``1,234.56``, ``1.234,56``, ``1 234,56``, ``99.90`` -> Decimal, or None."""
    price = Price.fromstring(text.replace("\u202f", " ").replace("\u00a0", " "))
    if price.amount is None:
        return None
    try:
        return Decimal(price.amount).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def find_money(text: str) -> list[Money]:
    """Every amount written with a currency, in order."""
    found = []
    for match in MONEY_RE.finditer(text):
        number = match.group("num1") or match.group("num2")
        token = match.group("pre") or match.group("post")
        amount = parse_number(number)
        if amount is None or amount > Decimal("9999999999.99"):
            continue
        found.append(Money(amount, currency_code(token), match.start()))
    return found


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
    return [currency_code(m.group(0)) for m in re.finditer(_CURRENCY_RE, text, re.IGNORECASE)]
