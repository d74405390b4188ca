"""Israeli tax documents: the fields read off them, and each check a bookkeeper would make."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from email.message import EmailMessage

import pytest

from gmail_sync.models import GmailAccount
from receipts.israeli import TaxValues, read_tax_fields, tax_checks, valid_tax_id
from receipts.models import Receipt
from receipts.parsing import parse_email
from receipts.recognition import recognise
from receipts.services import ReceiptDraft, receipts_store
from tests.factories import GmailAccountFactory
from tests.helpers import api_client

TAX_INVOICE_RECEIPT = """חשבונית מס / קבלה מס' 20045
גרין שירותים בע"מ  ח.פ. 516179157
לכבוד: דנה לוי בע"מ ח.פ 515555555
תאריך: 14/07/2026
סה"כ לפני מע"מ: 6,000.00 ₪
מע"מ 18%: 1,080.00 ₪
סה"כ לתשלום: 7,080.00 ₪
"""


def test_the_fields_of_each_document_type_in_hebrew_and_english() -> None:
    fields = read_tax_fields(TAX_INVOICE_RECEIPT + "מספר הקצאה: 123456789\n")
    assert (fields.document_type, fields.supplier_tax_id, fields.allocation_number) == (
        "tax_invoice_receipt", "516179157", "123456789"), "the supplier's number, not the customer's"
    assert (fields.amount_before_vat, fields.vat_rate, fields.is_copy) == (Decimal("6000.00"), Decimal("18.00"), False)
    credit = read_tax_fields('חשבונית זיכוי 5001\nעוסק מורשה 039337423\nסה"כ לפני מע"מ 500.00\nמע"מ 17% 85.00\n'
                             'סה"כ 585.00 ש"ח\nהעתק נאמן למקור')
    assert (credit.document_type, credit.supplier_tax_id, credit.is_copy) == ("credit_note", "039337423", True)
    english = read_tax_fields("TAX INVOICE No. 7788\nAcme Israel Ltd. Company No. 51-617915-7\nSubtotal: ₪2,000.00\n"
                              "VAT (18%): ₪360.00\nTotal: ₪2,360.00\nAllocation No: 0001 2345 6789\nCOPY\n")
    assert (english.document_type, english.supplier_tax_id, english.allocation_number, english.is_copy) == (
        "tax_invoice", "516179157", "000123456789", True), "the allocation number as printed"
    assert read_tax_fields("קבלה מס' 334\nעוסק פטור 039337423\nסה\"כ שולם 200 ₪").document_type == "receipt"
    assert read_tax_fields("חשבון עסקה 12\nע.מ. 039337423\nסה\"כ 100 ₪").document_type == "transaction_invoice"
    assert read_tax_fields("Your receipt from Apple\nTotal $9.99\nHere is a copy of your receipt.") == read_tax_fields("")
    assert valid_tax_id("516179157") and valid_tax_id("039337423") and not valid_tax_id("516179158")
    assert read_tax_fields("חשבונית מס 1\nע.מ 516179158\n").supplier_tax_id == "516179158", "kept, to be flagged"


def _values(**changes: object) -> TaxValues:
    base = {"document_type": "tax_invoice", "currency": "ILS", "amount": Decimal("1180.00"),
            "amount_before_vat": Decimal("1000.00"), "vat_amount": Decimal("180.00"), "vat_rate": Decimal("18.00"),
            "receipt_date": date(2025, 3, 1), "allocation_number": "", "supplier_tax_id": "516179157"}
    return TaxValues(**{**base, **changes})  # type: ignore[arg-type]


def test_a_clean_tax_invoice_has_no_checks_and_each_check_fires_on_its_own_fault() -> None:
    assert tax_checks(_values()) == {}
    assert set(tax_checks(_values(amount=Decimal("1190.00")))) == {"vat_mismatch"}
    assert tax_checks(_values(amount=Decimal("1180.07"))) == {}, "rounding is not a mismatch"
    # The rate in force on the document's date: 17% until the end of 2024, 18% since.
    assert set(tax_checks(_values(vat_rate=Decimal("17.00"), vat_amount=Decimal("170.00"),
                                  amount=Decimal("1170.00")))) == {"vat_rate"}
    assert tax_checks(_values(receipt_date=date(2024, 12, 31), vat_rate=Decimal("17.00"), vat_amount=Decimal("170.00"),
                              amount=Decimal("1170.00"))) == {}
    assert set(tax_checks(_values(receipt_date=date(2024, 12, 31)))) == {"vat_rate"}
    worked_out = _values(vat_rate=None, vat_amount=Decimal("170.00"), amount=Decimal("1170.00"))
    assert set(tax_checks(worked_out)) == {"vat_rate"}, "a rate worked out from the amounts when none is printed"
    assert set(tax_checks(_values(supplier_tax_id="516179158"))) == {"tax_id_invalid"}
    assert set(tax_checks(_values(document_type="receipt"))) == {"not_deductible"}


@pytest.mark.parametrize(("day", "before_vat", "flagged"), [
    (date(2024, 5, 4), "90000.00", False),   # before the requirement
    (date(2024, 5, 5), "25000.01", True),
    (date(2024, 12, 31), "24000.00", False),
    (date(2025, 1, 1), "20000.01", True),
    (date(2025, 12, 31), "15000.00", False),
    (date(2026, 1, 1), "10000.01", True),
    (date(2026, 5, 31), "6000.00", False),
    (date(2026, 6, 1), "5000.01", True),
    (date(2026, 6, 1), "5000.00", False),     # above the threshold, not at it
])
def test_a_tax_invoice_above_the_threshold_in_force_needs_an_allocation_number(day: date, before_vat: str,
                                                                                flagged: bool) -> None:
    net = Decimal(before_vat)
    rate = Decimal(17) if day < date(2025, 1, 1) else Decimal(18)
    vat = (net * rate / 100).quantize(Decimal("0.01"))
    values = _values(receipt_date=day, amount_before_vat=net, vat_amount=vat, amount=net + vat, vat_rate=rate)
    assert ("allocation_missing" in tax_checks(values)) is flagged
    values.allocation_number = "123456789"
    assert "allocation_missing" not in tax_checks(values)
    values.allocation_number, values.document_type = "", "receipt"
    assert "allocation_missing" not in tax_checks(values), "only tax invoices need one"


def _mail(body: str, *, message_id: str, subject: str = "חשבונית מס / קבלה 20045 מגרין שירותים") -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "גרין שירותים <billing@green.example.co.il>", "me@example.co.il", subject
    message["Date"], message["Message-ID"] = "Tue, 14 Jul 2026 10:00:00 +0300", message_id
    message.set_content(body)
    return message.as_bytes()


def _store(account: GmailAccount, raw: bytes, message_id: str) -> Receipt:
    parsed = parse_email(raw)
    recognition = recognise(parsed)
    assert recognition.is_receipt, recognition.reasons
    receipts_store(account=account, run=None, drafts=[ReceiptDraft(message_id, "", parsed, recognition, parsed.date)])
    return Receipt.objects.get(account=account, gmail_message_id=message_id)




@pytest.mark.django_db
def test_a_stored_tax_invoice_carries_its_fields_and_checks_and_a_correction_re_runs_them() -> None:
    client, business = api_client()
    account = GmailAccountFactory(business=business)
    receipt = _store(account, _mail(TAX_INVOICE_RECEIPT, message_id="<t1@green.example.co.il>"), "t1")
    body = client.get(f"/api/receipts/{receipt.pk}").json()
    assert (body["document_type"], body["supplier_tax_id"], body["amount_before_vat"], body["vat_amount"],
            body["vat_rate"], body["amount"], body["is_copy"]) == (
        "tax_invoice_receipt", "516179157", "6000.00", "1080.00", "18.00", "7080.00", False)
    assert body["checks"] == ["allocation_missing"], body["check_reasons"]
    assert "5000" in body["check_reasons"]["allocation_missing"]
    assert [r["id"] for r in client.get("/api/receipts/?check=allocation_missing").json()["results"]] == [receipt.pk]
    assert client.get("/api/receipts/?check=vat_mismatch").json()["results"] == []
    assert "check" in client.get("/api/receipts/?check=nonsense").json()["errors"]

    fixed = client.patch(f"/api/receipts/{receipt.pk}", {"allocation_number": "987654321"}, format="json").json()
    assert fixed["checks"] == [] and "allocation_number" in fixed["edited_fields"]
    wrong = client.patch(f"/api/receipts/{receipt.pk}", {"vat_amount": "1000.00"}, format="json").json()
    assert wrong["checks"] == ["vat_mismatch"], "the printed rate is the one in force: only the sum is wrong"
    for payload, field in (({"supplier_tax_id": "516179158"}, "supplier_tax_id"), ({"supplier_tax_id": "12"}, "supplier_tax_id"),
                           ({"document_type": "bill"}, "document_type"), ({"vat_rate": "180"}, "vat_rate"),
                           ({"allocation_number": "12a"}, "allocation_number")):
        bad = client.patch(f"/api/receipts/{receipt.pk}", payload, format="json")
        assert bad.status_code == 400 and field in bad.json()["errors"], (payload, bad.json())
    csv = b"".join(client.get("/api/receipts/export?format=csv").streaming_content).decode()
    header, row = csv.splitlines()[:2]
    assert header.endswith("document_type,supplier_tax_id,allocation_number,amount_before_vat,vat_rate,is_copy,checks")
    assert row.endswith("tax_invoice_receipt,516179157,987654321,6000.00,18.00,,vat_mismatch")


@pytest.mark.django_db
def test_a_credit_note_is_negative() -> None:
    account = GmailAccountFactory()
    credit = _store(account, _mail('חשבונית זיכוי מס\' 5001\nגרין שירותים בע"מ ע.מ. 516179157\nסה"כ לפני מע"מ 500.00 ₪\n'
                                   'מע"מ 18% 90.00 ₪\nסה"כ לזיכוי 590.00 ₪', message_id="<c1@green.example.co.il>",
                                   subject="חשבונית זיכוי 5001"), "c1")
    assert credit.document_type == "credit_note"
    assert (credit.amount, credit.amount_before_vat, credit.vat_amount) == (Decimal("-590.00"), Decimal("-500.00"),
                                                                            Decimal("-90.00"))
    assert credit.checks == []


@pytest.mark.django_db
@pytest.mark.parametrize("copy_first", [False, True])
def test_a_copy_whose_original_is_stored_is_its_duplicate_whichever_came_first(copy_first: bool) -> None:
    account = GmailAccountFactory()
    original_mail = _mail(TAX_INVOICE_RECEIPT + "מספר הקצאה: 123456789\nמקור\n", message_id="<o1@green.example.co.il>")
    copy_mail = _mail(TAX_INVOICE_RECEIPT + "מספר הקצאה: 123456789\nהעתק נאמן למקור\n", message_id="<k1@example.co.il>",
                      subject="העתק: חשבונית מס / קבלה 20045")
    order = [("k1", copy_mail), ("o1", original_mail)] if copy_first else [("o1", original_mail), ("k1", copy_mail)]
    for message_id, raw in order:
        _store(account, raw, message_id)
    original = Receipt.objects.get(gmail_message_id="o1")
    copy = Receipt.objects.get(gmail_message_id="k1")
    assert copy.is_copy and not original.is_copy
    assert (copy.review_status, copy.duplicate_of_id) == ("duplicate", original.pk)
    assert copy.checks == ["copy_of_stored"] and f"#{original.pk}" in copy.check_reasons["copy_of_stored"]
    assert (original.review_status, original.duplicate_of_id, original.checks) == ("pending", None, [])


def test_each_israeli_field_on_the_tax_documents_meets_its_bar() -> None:
    """The issue's bars, on both batches of the evaluation's Israeli tax documents (the second was
    written after the first's fixes; see docs/recognition.md for the figures before them)."""
    from receipts.evalset.tax_documents import second_batch, tax_documents
    from receipts.evaluation import evaluate_tax_documents

    for documents in (tax_documents(), second_batch()):
        overall, _ = evaluate_tax_documents(documents)
        assert overall.recognised == overall.documents, overall.misses[:5]
        assert overall.accuracy("document_type") >= 0.95, overall.misses[:5]
        assert overall.accuracy("supplier_tax_id") >= 0.97 and overall.invalid_tax_ids == 0, overall.misses[:5]
        assert overall.accuracy("allocation_number") >= 0.99, overall.misses[:5]
        assert overall.accuracy("vat_amount") >= 0.97, overall.misses[:5]


def test_a_zero_vat_is_checked_as_zero_not_as_missing() -> None:
    from receipts.tax import checked

    codes, _ = checked({"document_type": "tax_invoice", "currency": "ILS", "amount": Decimal("120.00"),
                        "amount_before_vat": Decimal("100.00"), "vat_amount": Decimal("0"),
                        "receipt_date": date(2025, 3, 1)})
    assert codes == ["vat_mismatch"]
