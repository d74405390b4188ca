"""The recogniser as a model over features: its evaluation set, its honest figure, its weights,
and the values it refuses to hand to the database."""
from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from email.message import EmailMessage

import pytest

from receipts import prefilter
from receipts.evalset import render_set, templates
from receipts.evaluation import Report, evaluation_items, score
from receipts.extraction import pick_total
from receipts.features import FEATURE_NAMES, REASONS
from receipts.money import MONEY, MONEY_RE
from receipts.parsing import parse_email
from receipts.recognition import Recognition, default_model, read, recognise, sanitise
from receipts.training import examples, fit, leave_one_family_out


def _mail(subject: str, body: str, sender: str = "Shop <orders@shop.example>", *, html: str = "") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["Subject"] = subject
    msg["Date"] = "Mon, 04 Mar 2024 10:00:00 +0000"
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


@pytest.fixture(scope="module")
def labelled_examples():
    return examples(evaluation_items())


def test_the_evaluation_set_is_as_broad_as_promised() -> None:
    """At least 150 receipt templates (60 Hebrew) in 25 families, and 50 hard-negative templates."""
    all_templates = templates()
    assert len({t.key for t in all_templates}) == len(all_templates)
    receipts = [t for t in all_templates if t.receipt]
    negatives = [t for t in all_templates if not t.receipt]
    assert len(receipts) >= 150 and sum(t.lang == "he" for t in receipts) >= 60
    assert len({t.family for t in receipts}) >= 25 and len(negatives) >= 50
    assert render_set(seed=1, per_template=1)[5].raw == render_set(seed=1, per_template=1)[5].raw
    first, second = render_set(seed=1, per_template=2)[:2]
    assert first.raw != second.raw and first.name != second.name  # each rendering draws anew


def test_leave_one_family_out_meets_the_bar(labelled_examples) -> None:
    """GIVEN every family scored by a model trained without it
    THEN precision and recall are at least 0.97 in English and in Hebrew, and the fields are right."""
    results = leave_one_family_out(labelled_examples)
    assert len(results) == len(labelled_examples)
    by_lang: dict[str, Report] = defaultdict(Report)
    for ex, result in results:
        score(by_lang[ex.lang], ex.name, result, ex.expected)
    for lang in ("en", "he"):
        figures = by_lang[lang].figures()
        assert figures["receipts"] > 300, figures
        assert figures["precision"] >= 0.97 and figures["recall"] >= 0.97, (lang, figures, by_lang[lang].misses[:10])
        assert figures["amount"] >= 0.97 and figures["currency"] >= 0.99 and figures["vendor"] >= 0.9, (lang, figures)


def test_the_committed_model_is_what_training_gives(labelled_examples) -> None:
    """receipts/model.json is retrained whenever a feature or the evaluation set changes."""
    trained = fit(labelled_examples)
    committed = default_model()
    assert set(committed.weights) == set(FEATURE_NAMES) == set(REASONS)
    assert committed.bias == pytest.approx(trained.bias, abs=0.02)
    for name in FEATURE_NAMES:
        assert committed.weights[name] == pytest.approx(trained.weights[name], abs=0.02), name


def test_weights_point_the_way_a_bookkeeper_would() -> None:
    weights = default_model().weights
    for name in ("payment_done", "body_payment", "subject_document", "total_with_amount"):
        assert weights[name] > 0, name
    for name in ("not_done", "other_purpose", "payment_failed", "shipping"):
        assert weights[name] < 0, name
    assert abs(weights["unsubscribe"]) < 0.5  # a footer is not evidence of a newsletter


@pytest.mark.parametrize("mark", ['"', "״", "'"])
def test_hebrew_payment_words_with_any_abbreviation_mark(mark: str) -> None:
    body = f"שלום,\nהתשלום התקבל בהצלחה.\nמספר אסמכתא 55120\nסה{mark}כ ששולם: 412.30 ₪\nלהסרה מרשימת התפוצה לחצו כאן"
    result = recognise(parse_email(_mail("אישור תשלום", body, "חשמל פלוס <noreply@hashmal-plus.co.il>")))
    assert result.is_receipt, result.reasons
    assert (result.amount, result.currency, result.vendor) == (Decimal("412.30"), "ILS", "חשמל פלוס")


def test_a_charge_notice_that_never_says_receipt_is_one() -> None:
    body = "Hi Dana,\nWe charged $24.00 to your Visa ending in 4242 for your Team plan.\nUnsubscribe | Privacy Policy\n548 Market St"
    result = recognise(parse_email(_mail("We've charged your card", body, "Lumen <billing@lumen.example>")))
    assert result.is_receipt and result.amount == Decimal("24.00") and result.vendor == "Lumen"


@pytest.mark.parametrize(("subject", "body"), [
    ("Payment failed", "We couldn't charge your card for $24.00. Please update your payment method."),
    ("Your plan renews soon", "Your plan renews on 1 May. You will be charged $24.00."),
    ("החיוב בכרטיס נכשל", "לא הצלחנו לחייב את כרטיס האשראי שלך בסך 24.00 ₪. יש לעדכן אמצעי תשלום."),
    ("Your order has been cancelled", "Order #55120 was cancelled. You have not been charged. Order total: $24.00"),
])
def test_payments_that_did_not_happen_are_not_receipts(subject: str, body: str) -> None:
    assert not recognise(parse_email(_mail(subject, body, "Lumen <billing@lumen.example>"))).is_receipt


def test_the_total_is_the_final_charge_among_many_amounts() -> None:
    from receipts.extraction import pick_total

    grocery = ("Milk $4.20\nBread $3.10\nSubtotal $7.30\nEstimated total $7.90\nItems were picked.\n"
               "Final charge: $7.45\nTip $1.00")
    assert pick_total(grocery).amount == Decimal("7.45")  # type: ignore[union-attr]
    meal = "Pad thai $12.00\nSubtotal $12.00\nDelivery fee $2.99\nService fee $1.50\nTip $2.00\nTotal $18.49"
    assert pick_total(meal).amount == Decimal("18.49")  # type: ignore[union-attr]
    # A sentence that starts with a label word does not take the next line's amount.
    assert pick_total("Paid with Visa\nPizza: $30.00\nTotal: $31.50").amount == Decimal("31.50")  # type: ignore[union-attr]


@pytest.mark.parametrize(("sender", "subject", "body", "vendor"), [
    ("service@paypal.com", "Receipt for your payment", "You sent a payment of $86.50 USD to Olive Tree Ceramics.", "Olive Tree Ceramics"),
    ("Harbor Design via QuickBooks <quickbooks@notification.intuit.com>", "Payment receipt", "We received your payment of $40.00.", "Harbor Design"),
    ("Venmo <venmo@venmo.com>", "You paid Green Leaf Yoga $15.00", "You paid Green Leaf Yoga\n$15.00\nTransaction ID 1", "Green Leaf Yoga"),
    ("סטודיו כרמל באמצעות חשבונית ירוקה <no-reply@greeninvoice.co.il>", "חשבונית מס קבלה", "סה\"כ לתשלום: 100.00 ₪", "סטודיו כרמל"),
    ("bit <noreply@bit.co.il>", "העברת כסף בוצעה", "שלחת ₪50.00 למאפיית השכונה באמצעות bit.", "מאפיית השכונה"),
    ("Paddle.com <help@paddle.com>", "Your order", "Raycast Pro has been purchased from Paddle.com on behalf of Raycast.\nTotal $8.00", "Raycast"),
])
def test_the_vendor_when_a_service_sends_the_mail(sender: str, subject: str, body: str, vendor: str) -> None:
    from receipts.extraction import pick_vendor

    parsed = parse_email(_mail(subject, body, sender))
    assert pick_vendor(parsed.sender_name, parsed.sender_email, f"{subject}\n{parsed.body}") == vendor


def _recognition(**values: object) -> Recognition:
    return Recognition(is_receipt=True, confidence=90, **values)  # type: ignore[arg-type]


def test_values_the_database_cannot_hold_are_dropped_with_a_reason() -> None:
    """numeric(12,2), ISO 4217 and a sane date: a bad value is dropped and said, never written."""
    reading = read(parse_email(_mail("Receipt", "Total $1.00")))
    result = _recognition(amount=Decimal("123456789012345.00"), currency="E1", receipt_date=date(1, 1, 1),
                          vat_amount=Decimal("NaN"), invoice_number="x" * 300)
    sanitise(result, reading)
    assert result.amount is None and result.currency == "" and result.vat_amount is None
    assert result.receipt_date == date(2024, 3, 4)  # the message's own date instead
    assert len(result.invoice_number) == 100
    assert any("does not fit numeric(12,2)" in r for r in result.reasons)
    assert any("'E1' is not an ISO 4217 code" in r for r in result.reasons)
    assert any("0001-01-01 is out of range" in r for r in result.reasons)
    kept = _recognition(amount=Decimal("9999999999.99"), currency="ILS", receipt_date=date(2024, 3, 1))
    sanitise(kept, reading)
    assert (kept.amount, kept.currency, kept.receipt_date) == (Decimal("9999999999.99"), "ILS", date(2024, 3, 1))


def test_a_bare_total_too_large_for_the_database_is_dropped() -> None:
    result = recognise(parse_email(_mail("Your receipt #5512", "Receipt number 5512\nPaid with Visa\nGrand total: 99999999999999.99")))
    assert result.is_receipt and result.amount is None
    assert any("does not fit numeric(12,2)" in r for r in result.reasons)


def test_a_forward_with_crlf_lines_is_read_for_its_original_sender() -> None:
    body = ("FYI\r\n\r\n> Begin forwarded message:\r\n>\r\n> From: \"Amazon.com\" <auto-confirm@amazon.com>\r\n"
            "> Subject: Your Amazon.com order #123-1234567\r\n> Date: January 7, 2022\r\n>\r\n> Order Confirmation\r\n")
    reading = read(parse_email(_mail("Fwd: Your Amazon.com order #123-1234567", body, "Dana <dana@gmail.com>")))
    assert reading.forwarded and reading.sender_email == "auto-confirm@amazon.com"
    assert reading.sender_name == "Amazon.com" and reading.subject == "Your Amazon.com order #123-1234567"


def _best_time(step: Callable[[], object], rounds: int) -> float:
    """The shortest of ``rounds`` timings of ``step``: the least disturbed by the machine."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - started)
    return best


def test_forward_patterns_take_time_linear_in_blank_lines() -> None:
    """A `Fwd:` mail of blank lines once cost the square of its length (``^\\s*`` under MULTILINE)."""
    def cost(lines: int) -> float:
        parsed = parse_email(_mail("Fwd: hello", "---------- Forwarded message ---------\n" + "\n" * lines + "x"))
        _ = parsed.body
        return _best_time(lambda: read(parsed), 3)

    small, large = cost(20_000), cost(1_000_000)
    assert large / small < 500, (small, large)  # linear: about 50; quadratic: about 2,500


def test_without_re2_money_is_found_by_pythons_re(monkeypatch) -> None:
    monkeypatch.setattr(prefilter, "HAVE_RE2", False)
    fallback = prefilter.Prefiltered(MONEY_RE, "unused: never compiled without RE2")
    texts = [f"{p.subject}\n{p.body}" for p in (parse_email(item.raw) for item in render_set(seed=3, per_template=1)[:120])]
    assert sum(len(list(fallback.finditer(t))) for t in texts) > 100
    for text in texts:
        assert [m.span() for m in fallback.finditer(text)] == [m.span() for m in MONEY.finditer(text)]


def test_every_family_has_receipts_or_negatives_in_both_languages_somewhere() -> None:
    langs = Counter((t.receipt, t.lang) for t in templates())
    assert langs[(True, "en")] >= 60 and langs[(True, "he")] >= 60
    assert langs[(False, "en")] >= 25 and langs[(False, "he")] >= 20


def test_reasons_name_each_feature_and_its_weight() -> None:
    result = recognise(parse_email(_mail("Your receipt from Lumen", "Receipt #5512\nTotal paid: $24.00")))
    assert result.is_receipt
    assert all(re.search(r"\([+-]\d+\.\d\)$", reason) for reason in result.reasons)
    assert "money" in result.features and "subject_document" in result.features


ADVERSARIAL = {
    "blank lines": lambda n: "Fwd: receipt\n---------- Forwarded message ---------\n" + "\n" * n + "From: a <a@b.co>",
    "spaces after a vendor phrase": lambda n: "you paid " + " " * n + "x\nreceipt from A" + " " * n + "\n",
    "a digit run": lambda n: "Total: " + "1" * n + " and 9",
    "separated digits": lambda n: "Total " + "1," * (n // 2) + " $",
    "labels without amounts": lambda n: "total sub total invoice number " * (n // 32),
    "hebrew abbreviations": lambda n: "סה\"כ לתשלום ש\"ח " * (n // 17),
}


@pytest.mark.parametrize("kind", sorted(ADVERSARIAL))
def test_every_step_takes_time_linear_in_hostile_text(kind: str) -> None:
    """Each step that runs patterns over a message's text (reading a forward, the features, the
    total, the number, the date, the vendor) costs about 50 times more on 1 MB than on 20 KB of
    text made to slow a regex, not 2,500 times (quadratic)."""
    from receipts.extraction import find_invoice_number, pick_date, pick_vendor

    def steps(text: str) -> None:
        parsed = parse_email(_mail(text[:200].splitlines()[0], text, sender=f"{' ' * 5000}via x <billing@stripe.com>"))
        reading = read(parsed)
        from receipts.recognition import evidence

        evidence(reading)
        pick_total(text)
        find_invoice_number(text)
        pick_date(text, prefer_dayfirst=True)
        pick_vendor(reading.sender_name + " " * 100_000, reading.sender_email, text)

    def cost(size: int) -> float:
        text = ADVERSARIAL[kind](size)
        return _best_time(lambda: steps(text), 2)

    small, large = cost(20_000), cost(1_000_000)
    assert large / small < 250, (kind, small, large)
