"""Duplicates on mail the matching was not written for: every receipt the recogniser finds in the
evaluation set (50 template families, English and Hebrew, about 1,100 receipts, none a copy of
another by construction) is stored into one account, in order, and the receipts marked as
duplicates are counted and sorted by the rule that matched. A marked receipt whose labels (vendor,
amount, currency, date) differ from its "original"'s is a false duplicate; one whose labels agree
is a coincidence the rules cannot tell from a copy (two purchases of one amount from one vendor on
one day).

Then the other side: for each stored receipt, a forward of it (from the business's own address,
"Fwd:" subject, the original's text under a forwarded-message header, its PDF and image files
attached again) is stored too, and the share of forwards marked as duplicates of their original is
printed, by language.

    python bench/duplicates.py [--database-url sqlite:///...]
"""
from __future__ import annotations

import argparse
import tempfile
from collections import Counter

from common import setup_django, table, write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    setup_django(args.database_url or f"sqlite:///{tmp}/bench.sqlite3", MEDIA_ROOT=f"{tmp}/media")
    from gmail_sync.accounts import gmail_account_connect
    from gmail_sync.models import Business
    from receipts.evaluation import evaluation_items
    from receipts.models import Receipt
    from receipts.parsing import parse_email
    from receipts.recognition import recognise
    from receipts.services import ReceiptDraft, receipts_store

    account = gmail_account_connect(business=Business.objects.create(name="Bench duplicates"),
                                    email="dups@example.com", refresh_token="x")
    labels = {}
    raws: dict[str, bytes] = {}
    langs: dict[str, str] = {}
    for n, (_name, family, lang, raw, expected) in enumerate(evaluation_items()):
        if not expected.is_receipt:
            continue
        parsed = parse_email(raw)
        recognition = recognise(parsed)
        if not recognition.is_receipt:
            continue
        message_id = f"eval-{n}"
        labels[message_id] = (family, expected.vendor, expected.amount, expected.currency, expected.date)
        raws[message_id] = raw
        langs[message_id] = lang
        receipts_store(account=account, run=None, drafts=[ReceiptDraft(message_id, "", parsed, recognition, parsed.date)])
    stored = Receipt.objects.filter(account=account)
    marked = stored.filter(review_status="duplicate").select_related("duplicate_of")
    kinds: Counter[str] = Counter()
    rows = []
    for receipt in marked:
        original = receipt.duplicate_of
        assert original is not None
        same_labels = labels[receipt.gmail_message_id][1:] == labels[original.gmail_message_id][1:]
        if receipt.invoice_number and receipt.invoice_number.lower() == original.invoice_number.lower():
            rule = "vendor + invoice number"
        elif receipt.amount == original.amount and receipt.receipt_date == original.receipt_date:
            rule = "vendor + date + amount"
        else:
            rule = "same document file"
        kinds[(rule, same_labels)] += 1
        if len(rows) < 15:
            rows.append([labels[receipt.gmail_message_id][0], rule, "same" if same_labels else "different",
                         receipt.vendor, receipt.amount, receipt.receipt_date, receipt.invoice_number])
    total = stored.count()
    print(f"{total} receipts stored, {marked.count()} marked as duplicates ({marked.count() / max(total, 1):.1%})")
    table(["rule", "labels agree (coincidence)", "labels differ (false)"],
          [[rule, kinds[(rule, True)], kinds[(rule, False)]]
           for rule in ("same document file", "vendor + invoice number", "vendor + date + amount")])
    if rows:
        print("\nexamples:")
        table(["family", "rule", "labels", "vendor", "amount", "date", "invoice"], rows)
    recall = _forwards(account, raws, langs)
    write("duplicates", {"stored": total, "marked": marked.count(),
                         "by_rule": {f"{rule} ({'same' if same else 'different'} labels)": n
                                     for (rule, same), n in kinds.items()},
                         "forwards_marked": recall})


def _forwards(account, raws: dict[str, bytes], langs: dict[str, str]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from email.message import EmailMessage

    from receipts.models import Receipt
    from receipts.parsing import parse_email
    from receipts.recognition import recognise
    from receipts.services import ReceiptDraft, receipts_store

    found: Counter[str] = Counter()
    tried: Counter[str] = Counter()
    not_receipts = 0
    for message_id, raw in raws.items():
        original = parse_email(raw)
        forward = EmailMessage()
        forward["From"], forward["To"] = "Owner <dups@example.com>", "books@example.com"
        forward["Subject"] = "Fwd: " + original.subject
        forward["Date"], forward["Message-ID"] = "Mon, 02 Jun 2025 09:00:00 +0000", f"<fwd-{message_id}@example.com>"
        sender = f"{original.sender_name} <{original.sender_email}>" if original.sender_name else original.sender_email
        forward.set_content("---------- Forwarded message ---------\n"
                            f"From: {sender}\nDate: {original.date_header}\nSubject: {original.subject}\n\n"
                            + original.body)
        for attachment in original.attachments:
            maintype, _, subtype = (attachment.content_type or "application/octet-stream").partition("/")
            forward.add_attachment(attachment.data, maintype=maintype, subtype=subtype or "octet-stream",
                                   filename=attachment.filename or "file")
        parsed = parse_email(forward.as_bytes())
        recognition = recognise(parsed)
        lang = langs[message_id]
        tried[lang] += 1
        if not recognition.is_receipt:
            not_receipts += 1
            continue
        copy_id = "fwd-" + message_id
        receipts_store(account=account, run=None, drafts=[ReceiptDraft(copy_id, "", parsed, recognition, parsed.date)])
        copy = Receipt.objects.get(account=account, gmail_message_id=copy_id)
        original_receipt = Receipt.objects.get(account=account, gmail_message_id=message_id)
        if copy.review_status == "duplicate" and copy.duplicate_of_id in {original_receipt.pk,
                                                                           original_receipt.duplicate_of_id}:
            found[lang] += 1
    shares = {lang: round(found[lang] / tried[lang], 3) for lang in sorted(tried)}
    total = sum(found.values()) / max(sum(tried.values()), 1)
    print(f"\nforwards of the stored receipts marked as their duplicates: {total:.1%} "
          f"({', '.join(f'{lang} {share:.1%}' for lang, share in shares.items())}); "
          f"{not_receipts} forwards were not recognised as receipts at all")
    return {**shares, "all": round(total, 3)}


if __name__ == "__main__":
    main()
