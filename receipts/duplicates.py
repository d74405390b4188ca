"""Duplicates across messages: the same document mailed twice, a forward of a stored receipt, the
same invoice in two of a business's accounts.

A receipt just stored is a duplicate of one stored before it, in any account of the business,
that has the same document file (a PDF's or a large image's SHA-256), or the same vendor (or
business number) and invoice number, or the same vendor, date, amount and currency. It is kept,
marked ``duplicate`` with ``duplicate_of`` the first, and so left out of the totals and exports
unless asked for; the first is untouched. A copy ("העתק", "נאמן למקור") of a stored original gets
the check ``copy_of_stored`` too; an original that arrives after its copy takes the copy's place.
"""
from __future__ import annotations

from django.db.models import Q, QuerySet

from .israeli import CHECK_CODES
from .models import Receipt, ReceiptAttachment

NOT_ORIGINALS = [Receipt.ReviewStatus.REJECTED, Receipt.ReviewStatus.DUPLICATE]
# An image this small is a logo, a spacer or a tracking pixel, which a vendor sends with every
# mail: only a PDF, or an image large enough to be a photographed or scanned receipt, is the document.
DOCUMENT_IMAGE_MIN_BYTES = 20 * 1024


def _documents(attachments: QuerySet[ReceiptAttachment]) -> QuerySet[ReceiptAttachment]:
    return attachments.filter(Q(content_type="application/pdf")
                              | Q(content_type__startswith="image/", size__gte=DOCUMENT_IMAGE_MIN_BYTES))


def mark_duplicates(receipt_ids: list[int]) -> int:
    """Mark which of the receipts just stored (``receipt_ids``) repeat one stored before; return
    how many. Runs in the caller's transaction, beside the insert. Each is compared with the
    business's receipts stored before it, duplicates and rejected ones aside (a duplicate points
    at the first, never at another copy)."""
    if not receipt_ids:
        return 0
    new = list(Receipt.objects.filter(pk__in=receipt_ids).select_related("account").order_by("pk"))
    files: dict[int, set[str]] = {}
    for receipt_id, digest in _documents(ReceiptAttachment.objects.filter(receipt_id__in=receipt_ids)).values_list(
            "receipt_id", "sha256"):
        files.setdefault(receipt_id, set()).add(digest)
    marked = 0
    for receipt in new:
        original = _first_match(receipt, files.get(receipt.pk, set()))
        if original is None:
            continue
        if original.is_copy and not receipt.is_copy and original.review_status == Receipt.ReviewStatus.PENDING:
            # The original arrived after its copy: the copy is the duplicate (a person's decision aside).
            Receipt.objects.filter(duplicate_of=original).update(duplicate_of=receipt)
            _mark(original, receipt)
        else:
            _mark(receipt, original)
        marked += 1
    return marked


def _mark(copy: Receipt, original: Receipt) -> None:
    fields: dict[str, object] = {"review_status": Receipt.ReviewStatus.DUPLICATE, "duplicate_of": original}
    if copy.is_copy:  # a copy ("העתק", "נאמן למקור") of a document whose original is stored
        reasons = {**copy.check_reasons, "copy_of_stored": f"a copy of receipt #{original.pk}, which is stored"}
        fields["check_reasons"] = {code: reasons[code] for code in CHECK_CODES if code in reasons}
        fields["checks"] = [code for code in CHECK_CODES if code in reasons]
    Receipt.objects.filter(pk=copy.pk).update(**fields)


def _first_match(receipt: Receipt, digests: set[str]) -> Receipt | None:
    """The first receipt stored before ``receipt`` that it repeats, or None."""
    earlier = (Receipt.objects.filter(account__business_id=receipt.account.business_id, pk__lt=receipt.pk)
               .exclude(review_status__in=NOT_ORIGINALS))
    vendor = receipt.vendor.strip()
    tests: list[Q] = []
    if digests:
        tests.append(Q(pk__in=_documents(ReceiptAttachment.objects.filter(sha256__in=digests)).values("receipt_id")))
    number = receipt.invoice_number.strip()
    if vendor and number:
        tests.append(Q(vendor__iexact=vendor, invoice_number__iexact=number))
    if receipt.supplier_tax_id and number:  # one supplier's document number, whatever its name reads as
        tests.append(Q(supplier_tax_id=receipt.supplier_tax_id, invoice_number__iexact=number))
    if vendor and receipt.receipt_date and receipt.amount is not None:
        tests.append(Q(vendor__iexact=vendor, receipt_date=receipt.receipt_date, amount=receipt.amount,
                       currency=receipt.currency))
    for test in tests:  # in this order: the same file is the surest
        found = earlier.filter(test).order_by("pk").first()
        if found is not None:
            return found
    return None
