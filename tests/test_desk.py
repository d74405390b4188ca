"""The bookkeeper's desk: sender rules, duplicates across messages, a document for every receipt,
bulk approval."""
from __future__ import annotations

import io
import socket
import threading
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from email.message import EmailMessage

import pypdfium2
import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from gmail_sync.accounts import api_user_create
from gmail_sync.models import Business, GmailAccount, SyncRun
from receipts.models import ExaminedMessage, Receipt, SenderRule
from receipts.parsing import parse_email
from receipts.recognition import recognise
from receipts.rendering import direction
from receipts.senders import normalise_sender, rule_for
from receipts.services import ReceiptDraft, receipts_store
from tests.factories import GmailAccountFactory, ReceiptFactory
from tests.helpers import api_client, backfill


def _verdicts(run: SyncRun, sender: str) -> Counter[str]:
    return Counter(ExaminedMessage.objects.filter(sync_run=run, sender_email__iexact=sender)
                   .values_list("verdict", flat=True))


def test_a_rule_sender_is_an_address_or_a_domain_and_the_most_specific_rule_wins() -> None:
    assert normalise_sender(" Billing@Vendor.COM ") == "billing@vendor.com"
    assert normalise_sender("@Vendor.co.il") == normalise_sender("vendor.co.il") == "@vendor.co.il"
    for bad in ("", "@", "not an address", "a@b", "@-x.com", "a b@vendor.com"):
        with pytest.raises(ValueError):
            normalise_sender(bad)
    rules = {"@vendor.com": "domain", "billing@vendor.com": "address"}
    assert rule_for("Billing@vendor.com", rules) == "address"
    assert rule_for("news@mail.vendor.com", rules) == "domain", "a domain's rule covers its subdomains"
    assert rule_for("x@othervendor.com", rules) is None and rule_for("no-at-sign", rules) is None


@pytest.mark.django_db
def test_sender_rules_change_the_next_syncs_verdicts_and_name_the_vendor(emulator, settings) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client, business = api_client()
    account = GmailAccountFactory(business=business, email="owner@example.com", refresh_token="demo-refresh-token")
    first = backfill(account)
    skipped = Counter(ExaminedMessage.objects.filter(sync_run=first, verdict="skipped").values_list("sender_email", flat=True))
    stored = Counter(Receipt.objects.filter(account=account).values_list("sender_email", flat=True))
    always = next(s for s, _ in skipped.most_common() if s and s not in stored)
    never = stored.most_common(1)[0][0]
    made = client.post("/api/sender-rules/", {"sender": always, "decision": "receipt", "vendor": "Renamed Ltd"},
                       format="json")
    assert made.status_code == 201, made.json()
    domain = "@" + never.split("@")[1]
    assert client.post("/api/sender-rules/", {"sender": domain, "decision": "not_receipt"}, format="json").status_code == 201

    second = backfill(account)  # the same mail again: the rules now decide before the recogniser
    assert second.messages_scanned == first.messages_scanned
    assert _verdicts(second, always) == Counter({"receipt": skipped[always]})
    assert _verdicts(second, never) == Counter({"skipped": sum(_verdicts(first, never).values())})
    ruled = [r for r in ExaminedMessage.objects.filter(sync_run=second, sender_email__iexact=never)
             .values_list("reasons", flat=True) if any(reason.startswith("sender rule") for reason in r)]
    assert len(ruled) == stored[never], "the receipts the rule turned down say why"
    assert second.saved_receipts == skipped[always]
    assert second.already_stored == first.saved_receipts - stored[never]
    new = Receipt.objects.filter(account=account, sender_email__iexact=always)
    assert new.count() == skipped[always] and set(new.values_list("vendor", flat=True)) == {"Renamed Ltd"}
    assert all(r.review_status in {"pending", "duplicate"} for r in new), "a rule's receipts still go to review"
    assert all(r.attachments.exists() or r.body_file for r in new), "stored whole, not from the headers alone"
    assert ExaminedMessage.objects.filter(sync_run=second).count() == second.messages_scanned


@pytest.mark.django_db
def test_applying_a_rule_to_stored_mail_fetches_only_what_it_makes_a_receipt(emulator, settings) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client, business = api_client()
    account = GmailAccountFactory(business=business, email="owner@example.com", refresh_token="demo-refresh-token")
    run = backfill(account)
    skipped = Counter(ExaminedMessage.objects.filter(sync_run=run, verdict="skipped").values_list("sender_email", flat=True))
    stored = Counter(Receipt.objects.filter(account=account).values_list("sender_email", flat=True))
    always = next(s for s, n in skipped.most_common() if s and s not in stored and n >= 2)
    never = stored.most_common(1)[0][0]
    edited = Receipt.objects.filter(account=account, sender_email=never).first()
    assert edited is not None
    client.patch(f"/api/receipts/{edited.pk}", {"vendor": "Kept By Hand"}, format="json")
    client.post(f"/api/receipts/{edited.pk}/approve")

    rule = client.post("/api/sender-rules/", {"sender": always, "decision": "receipt"}, format="json").json()
    emulator.reset_counts()
    from receipts.rules import rule_apply

    first = rule_apply(rule=SenderRule.objects.get(pk=rule["id"]), fetch_max=1)
    assert (first.stored, first.remaining) == (1, skipped[always] - 1), "a call fetches at most its share"
    stored_by_rule, calls = 1, 0
    while True:  # a call fetches at most APPLY_FETCH_MAX; "remaining" says to call again
        applied = client.post(f"/api/sender-rules/{rule['id']}/apply").json()
        assert applied["failed"] == 0, applied
        stored_by_rule, calls = stored_by_rule + applied["stored"], calls + 1
        if not applied["remaining"]:
            break
        assert calls < 50
    assert stored_by_rule == skipped[always]
    assert sum(emulator.fetches.values()) == skipped[always], "one messages.get per message made a receipt"
    assert Receipt.objects.filter(account=account, sender_email=always).count() == skipped[always]
    emulator.reset_counts()
    again = client.post(f"/api/sender-rules/{rule['id']}/apply").json()
    assert again["stored"] == 0 and sum(emulator.fetches.values()) == 0, "nothing that is a receipt is fetched"

    never_rule = client.post("/api/sender-rules/", {"sender": never, "decision": "not_receipt",
                                                    "vendor": "Never Co"}, format="json").json()
    result = client.post(f"/api/sender-rules/{never_rule['id']}/apply").json()
    assert result["rejected"] == stored[never] - 1, "the receipt a person approved stays approved"
    assert sum(emulator.fetches.values()) == 0
    statuses = Counter(Receipt.objects.filter(account=account, sender_email=never).values_list("review_status", flat=True))
    assert statuses == Counter({"rejected": stored[never] - 1, "approved": 1})
    edited.refresh_from_db()
    assert edited.vendor == "Kept By Hand", "a person's edit is not overwritten by a rule"
    assert result["renamed"] == stored[never] - 1


@pytest.mark.django_db
def test_the_rules_api_names_bad_fields_replaces_a_senders_rule_and_keeps_to_its_business() -> None:
    client, business = api_client()
    for payload, field in (({"sender": "nobody"}, "sender"), ({"sender": "a@b.com"}, "decision"),
                           ({"sender": "a@b.com", "decision": "maybe"}, "decision"),
                           ({"sender": "a@b.com", "decision": "receipt", "colour": "red"}, "colour"),
                           ({"decision": "receipt"}, "sender")):
        bad = client.post("/api/sender-rules/", payload, format="json")
        assert bad.status_code == 400 and field in bad.json()["errors"], (payload, bad.json())
    made = client.post("/api/sender-rules/", {"sender": "A@B.com", "decision": "receipt"}, format="json")
    assert made.status_code == 201 and made.json()["sender"] == "a@b.com"
    replaced = client.post("/api/sender-rules/", {"sender": "a@b.com", "decision": "not_receipt"}, format="json")
    assert replaced.status_code == 200 and replaced.json()["id"] == made.json()["id"]
    assert SenderRule.objects.get(business=business).decision == "not_receipt"
    rule_id = made.json()["id"]
    assert client.patch(f"/api/sender-rules/{rule_id}", {"decision": "", "vendor": ""}, format="json").status_code == 400
    assert client.patch(f"/api/sender-rules/{rule_id}", {"vendor": "B Ltd"}, format="json").json()["vendor"] == "B Ltd"
    stranger, _ = api_client("stranger", "Elsewhere")
    assert stranger.get("/api/sender-rules/").json() == []
    assert stranger.delete(f"/api/sender-rules/{rule_id}").status_code == 404
    assert stranger.post(f"/api/sender-rules/{rule_id}/apply").status_code == 404
    assert client.delete(f"/api/sender-rules/{rule_id}").status_code == 204
    assert not SenderRule.objects.exists()




def _pdf(text: str) -> bytes:
    """A one-page PDF with ``text`` on it, made by the renderer the project uses."""
    from receipts.parsing import ParsedEmail
    from receipts.rendering import email_html, render_pdf

    return render_pdf(email_html(ParsedEmail(text=text)))


def _mail(*, sender: str, subject: str, body: str, pdf: bytes | None = None, message_id: str,
          day: str = "Mon, 03 Mar 2025 10:00:00 +0000", html: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "owner@example.com", subject
    message["Date"], message["Message-ID"] = day, message_id
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    if pdf is not None:
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename="invoice.pdf")
    return message.as_bytes()


def _store(account: GmailAccount, raw: bytes, message_id: str) -> Receipt:
    parsed = parse_email(raw)
    recognition = recognise(parsed)
    assert recognition.is_receipt, recognition.reasons
    receipts_store(account=account, run=None, drafts=[ReceiptDraft(message_id, "", parsed, recognition, parsed.date)])
    return Receipt.objects.get(account=account, gmail_message_id=message_id)


BODY = ("Thank you for your order.\nInvoice number: INV-2025-0042\nDate: 3 March 2025\n"
        "Total paid: $149.00\nAcme Cloud Ltd")


@pytest.mark.django_db
def test_a_forwarded_copy_of_a_stored_receipt_is_flagged_as_its_duplicate_and_not_counted() -> None:
    client, business = api_client()
    account = GmailAccountFactory(business=business, email="owner@example.com")
    pdf = _pdf(BODY)
    original = _store(account, _mail(sender="Acme Cloud <billing@acme.example>", subject="Your invoice INV-2025-0042",
                                     body=BODY, pdf=pdf, message_id="<a1@acme.example>"), "m1")
    forward = _store(account, _mail(sender="Owner <owner@example.com>", subject="Fwd: Your invoice INV-2025-0042",
                                    body="---------- Forwarded message ---------\nFrom: Acme Cloud <billing@acme.example>\n"
                                         + BODY, pdf=pdf, message_id="<f1@example.com>",
                                    day="Tue, 04 Mar 2025 09:00:00 +0000"), "m2")
    assert original.review_status == "pending" and original.duplicate_of is None
    assert forward.review_status == "duplicate" and forward.duplicate_of_id == original.pk
    listed = client.get("/api/receipts/").json()
    assert [r["id"] for r in listed["results"]] == [original.pk], "a duplicate is left out unless asked for"
    assert client.get("/api/receipts/?review_status=duplicate").json()["results"][0]["duplicate_of"] == original.pk
    csv = b"".join(client.get("/api/receipts/export?format=csv").streaming_content).decode()
    assert csv.count("149.00") == 1

    # The same invoice in a second account of the business: the vendor and invoice number match.
    second = GmailAccountFactory(business=business, email="books@example.com")
    copy = _store(second, _mail(sender="Acme Cloud <billing@acme.example>", subject="Your invoice INV-2025-0042",
                                body=BODY, message_id="<a1-resent@acme.example>"), "m3")
    assert (copy.review_status, copy.duplicate_of_id) == ("duplicate", original.pk)
    # Another business's identical invoice is its own; a different amount is another receipt.
    elsewhere = GmailAccountFactory(business=Business.objects.create(name="Elsewhere"), email="x@example.com")
    assert _store(elsewhere, _mail(sender="Acme Cloud <billing@acme.example>", subject="Your invoice INV-2025-0042",
                                   body=BODY, pdf=pdf, message_id="<a1@acme.example>"), "m1").review_status == "pending"
    other = _store(account, _mail(sender="Acme Cloud <billing@acme.example>", subject="Your invoice INV-2025-0043",
                                  body=BODY.replace("0042", "0043").replace("149.00", "159.00"),
                                  message_id="<a2@acme.example>"), "m4")
    assert other.review_status == "pending" and other.duplicate_of is None


@pytest.mark.django_db
def test_a_receipt_without_a_file_gets_its_email_rendered_right_to_left_without_fetching_anything() -> None:
    client, business = api_client()
    account = GmailAccountFactory(business=business, email="owner@example.com")
    hits: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(20)
    port = server.getsockname()[1]

    def serve() -> None:
        try:
            conn, _ = server.accept()
            hits.append(conn.recv(200))
            conn.close()
        except OSError:
            pass

    threading.Thread(target=serve, daemon=True).start()
    html = (f'<html><head><style>body {{ background: url(http://127.0.0.1:{port}/bg.png) }}</style></head><body>'
            f'<p>תודה על הזמנתך</p><p>חשבונית מס קבלה מספר 77812</p><p>סה"כ לתשלום: 240.00 ₪</p>'
            f'<img src="http://127.0.0.1:{port}/track.gif"><script>document.write("x")</script></body></html>')
    raw = _mail(sender="שופרסל <orders@shufersal.example>", subject="קבלה על הזמנה 77812",
                body='תודה על הזמנתך\nחשבונית מס קבלה מספר 77812\nסה"כ לתשלום: 240.00 ₪', html=html,
                message_id="<he1@shufersal.example>")
    receipt = _store(account, raw, "h1")
    assert receipt.body_file and not receipt.rendered_file
    body = client.get(f"/api/receipts/{receipt.pk}").json()
    assert body["document"] == f"/api/receipts/{receipt.pk}/document"
    response = client.get(body["document"])
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = b"".join(response.streaming_content)
    text = pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert "240.00" in text and "77812" in text and "script" not in text.lower()
    assert not hits, "no remote image or style sheet was fetched"
    receipt.refresh_from_db()
    assert receipt.rendered_file.startswith("documents/")
    with default_storage.open(receipt.body_file) as handle:
        assert b'dir="rtl"' in handle.read(4000)
    assert direction("שלום hello עולם") == "rtl" and direction("Hello שלום world") == "ltr"
    again = b"".join(client.get(body["document"]).streaming_content)
    assert again == pdf, "rendered once, then served as stored"
    thumb = client.get(body["thumbnail"])
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(b"".join(thumb.streaming_content)))
    assert image.width == 240 and image.height > image.width, "a portrait page, 240 pixels wide"


@pytest.mark.django_db
def test_a_mailed_pdf_is_the_document_byte_for_byte_and_bulk_approve_keeps_to_the_business() -> None:
    client, business = api_client()
    account = GmailAccountFactory(business=business, email="owner@example.com")
    pdf = _pdf(BODY)
    receipt = _store(account, _mail(sender="Acme Cloud <billing@acme.example>", subject="Your invoice INV-2025-0042",
                                    body=BODY, pdf=pdf, message_id="<a1@acme.example>"), "m1")
    assert not receipt.body_file, "a receipt with its own file keeps no email to render"
    response = client.get(f"/api/receipts/{receipt.pk}/document")
    assert response["Content-Disposition"].startswith("attachment"), "a sender's PDF is downloaded, not opened here"
    assert b"".join(response.streaming_content) == pdf
    assert client.get(f"/api/receipts/{receipt.pk}/thumbnail")["Content-Type"] == "image/png"
    bare = ReceiptFactory(account=account)
    assert client.get(f"/api/receipts/{bare.pk}").json()["document"] is None
    assert client.get(f"/api/receipts/{bare.pk}/document").status_code == 404

    stranger, _ = api_client("stranger", "Elsewhere")
    theirs = ReceiptFactory(account=GmailAccountFactory(business=Business.objects.get(name="Elsewhere")))
    assert stranger.get(f"/api/receipts/{receipt.pk}/document").status_code == 404
    answer = client.post("/api/receipts/approve", {"ids": [receipt.pk, bare.pk, theirs.pk]}, format="json").json()
    assert answer == {"approved": 2, "not_found": [theirs.pk]}
    assert set(Receipt.objects.filter(account=account).values_list("review_status", flat=True)) == {"approved"}
    assert Receipt.objects.get(pk=theirs.pk).review_status == "pending"
    for payload in ({}, {"ids": []}, {"ids": ["x"]}, {"ids": list(range(1, 502))}):
        bad = client.post("/api/receipts/approve", payload, format="json")
        assert bad.status_code == 400 and "ids" in bad.json()["errors"], payload


@pytest.mark.django_db
def test_the_worker_renders_waiting_documents_in_batches_and_records_one_it_cannot() -> None:
    from receipts.receipt_documents import render_pending

    account = GmailAccountFactory(email="owner@example.com")
    made = [_store(account, _mail(sender="Acme Cloud <billing@acme.example>", subject=f"Your invoice INV-{n}",
                                  body=BODY.replace("0042", str(n)).replace("149.00", f"{100 + n}.00"),
                                  message_id=f"<r{n}@acme.example>"), f"r{n}") for n in range(3)]
    broken = made[0]
    Receipt.objects.filter(pk=broken.pk).update(body_file="bodies/00/missing.html")
    assert render_pending() == 2
    for receipt in made[1:]:
        receipt.refresh_from_db()
        digest = receipt.rendered_file.rsplit("/", 1)[1].split(".")[0]
        assert default_storage.exists(receipt.rendered_file) and default_storage.exists(f"thumbnails/{digest[:2]}/{digest}.png")
    broken.refresh_from_db()
    assert not broken.rendered_file and broken.render_error, "a document that cannot be rendered says why"
    assert render_pending() == 0, "nothing is rendered twice, and a failed one waits for a request"


@pytest.mark.django_db
def test_the_review_queue_lists_pending_receipts_least_certain_first_with_totals_in_thousands(client) -> None:
    user, _ = api_user_create(username="keeper", business_name="Books", password="pw-for-the-page")
    account = GmailAccountFactory(business=Business.objects.get(name="Books"))
    now = timezone.now()
    sure = ReceiptFactory(account=account, amount=Decimal("12345.60"), currency="ILS", confidence=97, received_at=now)
    unsure = ReceiptFactory(account=account, amount=Decimal("10.00"), currency="ILS", confidence=41,
                            received_at=now - timedelta(days=3))
    done = ReceiptFactory(account=account, amount=Decimal("5.00"), currency="ILS", review_status="approved")
    client.force_login(user)
    page = client.get("/review/").content.decode()
    assert f'data-receipt-id="{done.pk}"' not in page, "the queue holds what waits for review"
    assert page.index(f'data-receipt-id="{sure.pk}"') < page.index(f'data-receipt-id="{unsure.pk}"'), "newest first"
    assert "ILS 12,355.60 (2)" in page
    ordered = client.get("/review/?ordering=confidence").content.decode()
    assert ordered.index(f'data-receipt-id="{unsure.pk}"') < ordered.index(f'data-receipt-id="{sure.pk}"')
    everything = client.get("/receipts/").content.decode()
    assert "ILS 12,360.60 (3)" in everything
