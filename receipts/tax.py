"""The Israeli checks on stored receipts: worked out when a receipt is stored and when a person
corrects it (``copy_of_stored`` is set where duplicates are decided)."""
from __future__ import annotations

from dataclasses import fields
from typing import Any

from .israeli import CHECK_CODES, TaxValues, tax_checks

TAX_FIELDS = tuple(f.name for f in fields(TaxValues))  # what the checks read of a receipt
KEPT = ("copy_of_stored",)  # not the amounts' business: it stays until the duplicate is undone


def checked(values: dict[str, Any], earlier: dict[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
    """The ``checks`` codes (in CHECK_CODES' order) and ``check_reasons`` of a receipt's values;
    ``earlier`` reasons of the KEPT codes carry over."""
    given: dict[str, Any] = {name: values[name] for name in TAX_FIELDS if values.get(name) is not None}
    reasons = tax_checks(TaxValues(**given))  # the rest at TaxValues' defaults: "" or None
    for code in KEPT:
        if earlier and code in earlier:
            reasons[code] = earlier[code]
    codes = [code for code in CHECK_CODES if code in reasons]
    return codes, {code: reasons[code] for code in codes}
