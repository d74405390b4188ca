"""The emulator answers as Gmail's discovery document says, over plain HTTP."""
from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import googleapiclient
import pytest

from gmail_sync.emulator import GmailEmulator, Mailbox
from gmail_sync.emulator.search import QueryError

DISCOVERY = json.loads(
    (Path(googleapiclient.__file__).parent / "discovery_cache/documents/gmail.v1.json").read_text()
)
SCHEMAS = DISCOVERY["schemas"]
INT_FORMATS = {"int64", "uint64"}


def validate(value: Any, schema: dict[str, Any], path: str = "$") -> None:
    """Check a response against a discovery schema: known keys only, the right JSON types."""
    if "$ref" in schema:
        schema = SCHEMAS[schema["$ref"]]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        assert isinstance(value, dict), f"{path}: expected object"
        for key, item in value.items():
            assert key in schema["properties"], f"{path}.{key} is not in the schema"
            validate(item, schema["properties"][key], f"{path}.{key}")
    elif kind == "array":
        assert isinstance(value, list), f"{path}: expected array"
        for index, item in enumerate(value):
            validate(item, schema["items"], f"{path}[{index}]")
    elif kind == "string":
        assert isinstance(value, str), f"{path}: expected string"
        if schema.get("format") in INT_FORMATS:
            assert value.isdigit(), f"{path}: expected a decimal string"
        if schema.get("format") == "byte":
            base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    elif kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), f"{path}: expected integer"


def _token(emu: GmailEmulator) -> str:
    data = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": "demo-refresh-token",
                                   "client_id": "x", "client_secret": "y"}).encode()
    with urllib.request.urlopen(emu.token_uri, data=data) as response:
        return json.load(response)["access_token"]


def _get(emu: GmailEmulator, path: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(emu.url + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture
def attachment_mailbox() -> Mailbox:
    box = Mailbox(address="owner@example.com")
    msg = EmailMessage()
    msg["From"] = "Shop <shop@example.com>"
    msg["To"] = "owner@example.com"
    msg["Subject"] = "Receipt"
    msg["Date"] = "Mon, 03 Jun 2024 10:00:00 +0300"
    msg.set_content("Total: $5.00")
    msg.add_alternative("<p>Total: <b>$5.00</b></p>", subtype="html")
    msg.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="invoice.pdf")
    box.add(msg.as_bytes())
    return box


def test_responses_match_the_discovery_document(attachment_mailbox: Mailbox) -> None:
    with GmailEmulator(attachment_mailbox) as emu:
        token = _token(emu)
        status, profile = _get(emu, "gmail/v1/users/me/profile", token)
        assert status == 200
        validate(profile, {"$ref": "Profile"})
        status, listing = _get(emu, "gmail/v1/users/me/messages?maxResults=10", token)
        validate(listing, {"$ref": "ListMessagesResponse"})
        message_id = listing["messages"][0]["id"]
        for fmt in ("full", "metadata", "minimal", "raw"):
            status, message = _get(emu, f"gmail/v1/users/me/messages/{message_id}?format={fmt}", token)
            assert status == 200
            validate(message, {"$ref": "Message"})
            assert ("payload" in message) == (fmt in {"full", "metadata"})
            assert ("raw" in message) == (fmt == "raw")
        status, history = _get(emu, "gmail/v1/users/me/history?startHistoryId=1000", token)
        validate(history, {"$ref": "ListHistoryResponse"})
        assert history["history"][0]["messagesAdded"][0]["message"]["id"] == message_id
        status, error = _get(emu, "gmail/v1/users/me/messages/ffffffffffffffff", token)
        assert status == 404 and error["error"]["code"] == 404 and error["error"]["errors"][0]["reason"] == "notFound"


def test_full_payload_tree_and_attachments(attachment_mailbox: Mailbox) -> None:
    with GmailEmulator(attachment_mailbox) as emu:
        token = _token(emu)
        message_id = attachment_mailbox.all()[0].id
        _, message = _get(emu, f"gmail/v1/users/me/messages/{message_id}?format=full", token)
        root = message["payload"]
        assert root["partId"] == "" and root["mimeType"] == "multipart/mixed"
        assert [p["partId"] for p in root["parts"]] == ["0", "1"]
        alternative, pdf = root["parts"]
        assert [p["partId"] for p in alternative["parts"]] == ["0.0", "0.1"]
        plain = alternative["parts"][0]
        assert base64.urlsafe_b64decode(plain["body"]["data"]).decode().strip() == "Total: $5.00"
        assert pdf["filename"] == "invoice.pdf" and "attachmentId" in pdf["body"] and "data" not in pdf["body"]
        _, attachment = _get(emu, f"gmail/v1/users/me/messages/{message_id}/attachments/{pdf['body']['attachmentId']}", token)
        validate(attachment, {"$ref": "MessagePartBody"})
        assert base64.urlsafe_b64decode(attachment["data"]) == b"%PDF-1.4 fake"
        assert attachment["size"] == pdf["body"]["size"] == len(b"%PDF-1.4 fake")
        _, metadata = _get(emu, f"gmail/v1/users/me/messages/{message_id}?format=metadata&metadataHeaders=Subject", token)
        assert [h["name"] for h in metadata["payload"]["headers"]] == ["Subject"]


def test_unauthenticated_and_bad_grants_are_refused(attachment_mailbox: Mailbox) -> None:
    with GmailEmulator(attachment_mailbox) as emu:
        status, body = _get(emu, "gmail/v1/users/me/profile", "nope")
        assert status == 401 and body["error"]["status"] == "UNAUTHENTICATED"
        data = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": "unknown"}).encode()
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(emu.token_uri, data=data)
        assert caught.value.code == 400 and json.load(caught.value)["error"] == "invalid_grant"


def test_batch_of_more_than_50_parts_is_refused(attachment_mailbox: Mailbox) -> None:
    with GmailEmulator(attachment_mailbox) as emu:
        token = _token(emu)
        parts = "".join(
            f"--b\r\nContent-Type: application/http\r\nContent-ID: <x+{i}>\r\n\r\n"
            f"GET /gmail/v1/users/me/profile HTTP/1.1\r\n\r\n\r\n" for i in range(51)
        ) + "--b--\r\n"
        request = urllib.request.Request(
            emu.url + "batch", data=parts.encode(), method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "multipart/mixed; boundary=b"},
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request)
        assert caught.value.code == 400
        assert "Too many requests in batch" in caught.value.read().decode()


def test_page_tokens_are_offsets_that_shift_with_the_mail_and_expire(sample_mailbox: Path) -> None:
    """As harsh as Gmail can be: a token is an offset into the results as they are when it is
    used (new mail repeats a message, a deletion on an earlier page skips one), good for its own
    query only, and refused once it is older than the emulator's token lifetime."""
    box = Mailbox.from_path(sample_mailbox)
    with GmailEmulator(box) as emu:
        token = _token(emu)
        _, first = _get(emu, "gmail/v1/users/me/messages?maxResults=50", token)
        assert first["resultSizeEstimate"] > 50
        assert not re.fullmatch(r"\d+", first["nextPageToken"])
        newest = EmailMessage()
        newest["Date"] = "Tue, 01 Jul 2099 10:00:00 +0000"
        newest.set_content("new mail")
        box.add(newest.as_bytes())
        next_page = f"gmail/v1/users/me/messages?maxResults=50&pageToken={first['nextPageToken']}"
        _, second = _get(emu, next_page, token)
        assert second["messages"][0]["id"] == first["messages"][-1]["id"]  # the arrival shifted it by one
        box.delete(first["messages"][0]["id"])
        box.delete(first["messages"][1]["id"])
        _, third = _get(emu, next_page, token)
        everything = [m.id for m in box.search()]
        assert [m["id"] for m in third["messages"]] == everything[50:100]
        assert everything.index(third["messages"][0]["id"]) == 50  # one message of the old page 2 was skipped
        status, body = _get(emu, f"gmail/v1/users/me/messages?maxResults=50&q=in:inbox&pageToken={first['nextPageToken']}",
                            token)
        assert (status, body["error"]["message"]) == (400, "Invalid pageToken")
        emu.options.page_token_lifetime_seconds = 0
        status, body = _get(emu, next_page, token)
        assert (status, body["error"]["message"]) == (400, "Invalid pageToken")


def test_history_records_additions_deletions_and_label_changes_by_type(sample_mailbox: Path) -> None:
    box = Mailbox.from_path(sample_mailbox)
    with GmailEmulator(box) as emu:
        token = _token(emu)
        start = box.history_id
        added = box.add(b"From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n")
        box.modify(added.id, add=["SPAM"], remove=["INBOX"])
        box.delete(added.id)
        _, everything = _get(emu, f"gmail/v1/users/me/history?startHistoryId={start}", token)
        kinds = [next(k for k in record if k not in {"id", "messages"}) for record in everything["history"]]
        assert kinds == ["messagesAdded", "labelsAdded", "labelsRemoved", "messagesDeleted"]
        assert everything["history"][1]["labelsAdded"][0]["labelIds"] == ["SPAM"]
        assert everything["history"][1]["labelsAdded"][0]["message"]["labelIds"] == ["SPAM"]
        _, removed = _get(emu, f"gmail/v1/users/me/history?startHistoryId={start}&historyTypes=labelRemoved", token)
        assert [r["labelsRemoved"][0]["labelIds"] for r in removed["history"]] == [["INBOX"]]
        _, in_spam = _get(emu, f"gmail/v1/users/me/history?startHistoryId={start}&labelId=SPAM", token)
        assert len(in_spam["history"]) == 2  # the two label changes left it in spam
        status, _ = _get(emu, f"gmail/v1/users/me/history?startHistoryId={start}&historyTypes=messageMoved", token)
        assert status == 400
        box.expire_history()
        status, _ = _get(emu, f"gmail/v1/users/me/history?startHistoryId={start}", token)
        assert status == 404


def test_q_understands_in_and_label_and_refuses_the_rest(sample_mailbox: Path) -> None:
    box = Mailbox.from_path(sample_mailbox)
    message = box.add(b"From: a@example.com\r\nSubject: draft\r\n\r\nhello\r\n", labels=["DRAFT"])
    assert message.id in {m.id for m in box.search()}
    assert message.id not in {m.id for m in box.search(q="-in:drafts")}
    assert {m.id for m in box.search(q="in:drafts")} == {message.id}
    spam = {m.id for m in box.all() if "SPAM" in m.label_ids}
    assert {m.id for m in box.search(q="in:spam")} == spam  # in:spam lifts the default
    for unknown in ("larger:10M", "has:drive", "filename:pdf", "subject:(receipt", "{invoice"):
        with pytest.raises(QueryError):
            box.search(q=unknown)


def test_q_speaks_the_search_language_the_receipts_first_scan_sends() -> None:
    """Gmail's semantics for the operators the project sends: terms side by side all match; OR
    and {...} need one; - negates; (...) groups; "phrases" keep their order; has:attachment,
    from: and subject:; bare words in the sender, subject and body, whole words only, Hebrew too."""
    from email.message import EmailMessage

    from gmail_sync.emulator.pdf import simple_pdf

    box = Mailbox(address="owner@example.com")

    def add(sender: str, subject: str, body: str, *, pdf: bool = False, labels: list[str] | None = None) -> str:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, "owner@example.com", subject
        msg["Date"] = "Mon, 04 Mar 2024 10:00:00 +0000"
        msg.set_content(body)
        if pdf:
            msg.add_attachment(simple_pdf(["x"]), maintype="application", subtype="pdf", filename="doc.pdf")
        return box.add(msg.as_bytes(), labels=labels or ["INBOX"]).id

    invoice = add("Billing <billing@acme.example>", "Your invoice 12", "Amount due: $10", pdf=True)
    receipt = add("Shop <orders@shop.example>", "Order confirmed", "Thank you for your order. Payment received.")
    hebrew = add("חשבונית ירוקה <noreply@greeninvoice.example>", "חשבונית מס קבלה 55", "שלום, מצורפת חשבונית")
    news = add("News <news@paper.example>", "Weekly digest", "Receipts of the week: none. invoiced-later")
    spam = add("Scam <x@spam.example>", "Your invoice", "pay now", labels=["SPAM"])

    def ids(q: str) -> set[str]:
        return {m.id for m in box.search(q=q)}

    assert ids("has:attachment") == {invoice}
    assert ids("-has:attachment") == {receipt, hebrew, news}
    assert ids("subject:invoice") == {invoice}  # not the spam one: spam is left out unless named
    assert ids("subject:invoice in:spam") == {spam}
    assert ids("subject:invoice -in:spam") == {invoice}  # a negated in: does not lift the default
    assert ids("from:acme.example") == {invoice} and ids("from:billing") == {invoice}
    assert ids("invoice") == {invoice}  # whole words: "invoiced" in the newsletter does not count
    assert ids('"payment received"') == {receipt} and ids('"received payment"') == set()
    assert ids("subject:(order confirmed)") == {receipt} and ids("subject:{order digest}") == {receipt, news}
    assert ids("invoice OR order") == {invoice, receipt}
    assert ids("{invoice order} -has:attachment") == {receipt}
    assert ids("(subject:invoice OR subject:חשבונית) has:attachment") == {invoice}
    assert ids("חשבונית") == {hebrew} and ids("subject:חשבונית") == {hebrew}
    assert ids("-{invoice order חשבונית}") == {news}
    assert ids("-(invoice OR order)") == {hebrew, news}
    assert ids("after:2024/03/01 before:2024/03/05 has:attachment") == {invoice}
    assert ids("after:2024/03/05") == set()


def test_spam_and_trash_are_left_out_unless_asked(sample_mailbox: Path) -> None:
    box = Mailbox.from_path(sample_mailbox)
    hidden = [m for m in box.all() if {"SPAM", "TRASH"} & set(m.label_ids)]
    assert hidden, "the sample mailbox has spam and trash"
    assert not {m.id for m in hidden} & {m.id for m in box.search()}
    assert {m.id for m in hidden} <= {m.id for m in box.search(include_spam_trash=True)}


def test_gmail_emulator_command_serves_a_mailbox(sample_mailbox: Path) -> None:
    import os
    import subprocess
    import sys
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, "manage.py", "gmail_emulator", "--mailbox", str(sample_mailbox)],
        cwd=root, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test"},
    )
    try:
        first = process.stdout.readline()  # type: ignore[union-attr]
        assert first.startswith("Serving ")
        url = first.strip().rsplit(" at ", 1)[1]
        data = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": "demo-refresh-token"}).encode()
        with urllib.request.urlopen(url + "token", data=data, timeout=10) as response:
            token = json.load(response)["access_token"]
        request = urllib.request.Request(url + "gmail/v1/users/me/profile", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.load(response)["messagesTotal"] == len(Mailbox.from_path(sample_mailbox))
    finally:
        process.terminate()
        process.wait(timeout=10)
