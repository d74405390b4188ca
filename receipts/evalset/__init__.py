"""The evaluation set: receipt and hard-negative templates in families, rendered into mail.

``templates()`` lists every template; ``render_set()`` renders each a few times with its labels.
The families are what leave-one-family-out holds out (see ``receipts.evaluation``).
"""
from __future__ import annotations

from dataclasses import replace

from . import fresh, negatives, receipts_en, receipts_he
from .render import Rendered, Renderer, Template

__all__ = ["Rendered", "Template", "render_set", "templates"]


def _by_key(key: str) -> Template:
    for template in [*receipts_en.TEMPLATES, *receipts_he.TEMPLATES]:
        if template.key == key:
            return template
    raise KeyError(key)


def _forward(key: str, lang: str, style: str, sender: tuple[str, str], notes: tuple[str, ...], inner: str) -> Template:
    original = _by_key(inner)
    return Template(key=key, family="forwards", lang=lang, receipt=True, vendor=original.vendor, sender=sender,
                    subject="", lead=notes, currency=original.currency, forward=style,
                    inner=replace(original, key=f"{key}-inner"))


FORWARDS = [
    _forward("fwd_gmail_uber", "en", "gmail", ("Dana Levi", "dana.levi@gmail.com"), ("FYI for the books", "for expenses"), "uber_trip"),
    _forward("fwd_outlook_aws", "en", "outlook", ("Tom Baker", "tom@bakerdesign.io"), ("Please file this one.",), "aws_invoice"),
    _forward("fwd_apple_airbnb", "en", "apple", ("Sarah Miller", "sarah.miller@outlook.com"), ("Sent from my iPhone",), "airbnb"),
    _forward("fwd_gmail_stripe", "en", "gmail", ("Avi Mizrahi", "avi@mizrahi-law.co.il"), ("",), "stripe_merchant"),
    _forward("fwd_he_bezeq", "he", "gmail_he", ("נועה כץ", "noa.katz@gmail.com"), ("לתיק הוצאות", "מעביר לך"), "bezeq"),
    _forward("fwd_he_pango", "he", "gmail", ("יוסי כהן", "yossi.c@walla.co.il"), ("חניה של אתמול",), "pango"),
    _forward("fwd_he_wolt", "he", "gmail_he", ("מיכל לוי", "michal.levi@gmail.com"), ("ארוחת צוות",), "wolt"),
    _forward("fwd_he_green", "he", "outlook", ("הנהלת חשבונות", "books@example.co.il"), ("",), "green_invoice"),
]


def templates() -> list[Template]:
    return [*receipts_en.TEMPLATES, *receipts_he.TEMPLATES, *FORWARDS, *negatives.TEMPLATES, *fresh.TEMPLATES,
            *fresh.SECOND_BATCH, *fresh.THIRD_BATCH, *fresh.FOURTH_BATCH,
            *fresh.FIFTH_BATCH, *fresh.SIXTH_BATCH, *fresh.SEVENTH_BATCH]


def render_set(*, seed: int = 2026, per_template: int = 4) -> list[Rendered]:
    """Every template rendered ``per_template`` times; the same seed gives the same mail."""
    renderer = Renderer(seed)
    return [renderer.render(template, index) for template in templates() for index in range(per_template)]
