"""The receipts endpoints: list with filters, detail, review (edit, approve, reject), attachment
download, CSV and ZIP export."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import AUTH_ERROR, ERRORS, FAILURE, Pagination

from .exports import (
    PACK_MAX_RECEIPTS,
    MonthError,
    in_month,
    month_range,
    pack_entries,
    workbook_bytes,
    zip_chunks,
)
from .files import STORED_TYPES
from .israeli import valid_tax_id
from .models import Receipt, ReceiptAttachment
from .receipt_documents import ensure_thumbnail, receipt_document
from .review import receipt_edit, receipt_review
from .selectors import FilterError, ReceiptFilter, filter_receipts, receipts_of

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_MAX_FILES = 2000
ZIP_MAX_BYTES = 1024 * 1024 * 1024
CSV_COLUMNS = ["id", "receipt_date", "vendor", "amount", "currency", "vat_amount", "invoice_number", "sender_email",
               "sender_name", "subject", "received_at", "gmail_message_id", "confidence", "attachments",
               "document_type", "supplier_tax_id", "allocation_number", "amount_before_vat", "vat_rate", "is_copy",
               "checks"]


class AttachmentSerializer(serializers.ModelSerializer[ReceiptAttachment]):
    class Meta:
        model = ReceiptAttachment
        fields = ["id", "filename", "content_type", "size", "sha256"]


class ReceiptSerializer(serializers.ModelSerializer[Receipt]):
    account = serializers.IntegerField(source="account_id", read_only=True)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    duplicate_of = serializers.IntegerField(source="duplicate_of_id", read_only=True, allow_null=True)
    document = serializers.SerializerMethodField(help_text="The receipt's document (its mailed PDF or image, or "
                                                           "its email as a PDF), or null when it has none.")
    thumbnail = serializers.SerializerMethodField(help_text="A PNG of the document's first page, or null.")

    class Meta:
        model = Receipt
        fields = ["id", "gmail_message_id", "account", "sender_email", "sender_name", "vendor", "subject",
                  "received_at", "receipt_date", "amount", "currency", "invoice_number", "vat_amount", "confidence",
                  "review_status", "duplicate_of", "edited_fields", "original_values", "reviewed_at", "attachments",
                  "document", "thumbnail", "document_type", "supplier_tax_id", "allocation_number", "amount_before_vat",
                  "vat_rate", "is_copy", "checks", "check_reasons"]

    def get_document(self, receipt: Receipt) -> str | None:
        return f"/api/receipts/{receipt.pk}/document" if receipt.has_document else None

    def get_thumbnail(self, receipt: Receipt) -> str | None:
        return f"/api/receipts/{receipt.pk}/thumbnail" if receipt.has_document else None


class BulkApproveSerializer(serializers.Serializer[Any]):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), min_length=1,
                                max_length=500, help_text="The receipts to approve (at most 500).")


class ReceiptEditSerializer(serializers.Serializer[Receipt]):
    """A person's corrections: any of these fields; an edited field is never overwritten by a sync."""

    vendor = serializers.CharField(max_length=300, allow_blank=True, required=False)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True, required=False)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", allow_blank=True, required=False,
                                      error_messages={"invalid": "A 3-letter ISO 4217 code."})
    receipt_date = serializers.DateField(allow_null=True, required=False)
    invoice_number = serializers.CharField(max_length=100, allow_blank=True, required=False)
    vat_amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True, required=False)
    document_type = serializers.ChoiceField(choices=Receipt.DocumentType.choices, allow_blank=True, required=False)
    supplier_tax_id = serializers.RegexField(r"^(\d{9})?$", allow_blank=True, required=False,
                                             error_messages={"invalid": "Nine digits."})
    allocation_number = serializers.RegexField(r"^\d{0,30}$", allow_blank=True, required=False,
                                               error_messages={"invalid": "Digits only, as printed."})
    amount_before_vat = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True, required=False)
    vat_rate = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=Decimal(0), max_value=Decimal(100),
                                        allow_null=True, required=False)
    is_copy = serializers.BooleanField(required=False)

    def validate_supplier_tax_id(self, value: str) -> str:
        if value and not valid_tax_id(value):
            raise serializers.ValidationError("This business number fails its check digit.")
        return value

    def validate_currency(self, value: str) -> str:
        return value.upper()

    def validate_receipt_date(self, value: date | None) -> date | None:
        if value is not None and not date(1990, 1, 1) <= value <= date.today() + timedelta(days=366):
            raise serializers.ValidationError("Not a plausible date for a receipt.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        if unknown:
            raise serializers.ValidationError({name: ["Not an editable field."] for name in unknown})
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": [f"Send at least one of: {', '.join(self.fields)}."]})
        return attrs


class ReceiptViewSet(viewsets.ReadOnlyModelViewSet[Receipt]):
    serializer_class = ReceiptSerializer
    pagination_class = Pagination
    # Read by drf-spectacular for the filters' OpenAPI parameters; the views apply the filters
    # themselves (``filter_receipts``), to answer bad ones in the documented error shape.
    filter_backends = [DjangoFilterBackend]
    filterset_class = ReceiptFilter

    def get_queryset(self) -> QuerySet[Receipt]:
        if getattr(self, "swagger_fake_view", False):  # the schema's generation: no user
            return Receipt.objects.none()
        return receipts_of(self.request.user)

    def filtered(self, request: Request) -> QuerySet[Receipt]:
        return filter_receipts(self.get_queryset(), request.query_params)

    @extend_schema(parameters=[OpenApiParameter("page_size", OpenApiTypes.INT)],
                   responses={200: ReceiptSerializer(many=True), 400: ERRORS, 401: AUTH_ERROR, 404: AUTH_ERROR})
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            queryset = self.filtered(request)
        except FilterError as exc:
            return Response({"success": False, "errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses={200: ReceiptSerializer, 401: AUTH_ERROR, 404: FAILURE})
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        receipt = self.get_queryset().filter(pk=kwargs["pk"]).first()
        if receipt is None:
            return Response({"success": False, "error": "No such receipt."}, status=status.HTTP_404_NOT_FOUND)
        return Response(self.get_serializer(receipt).data)

    @extend_schema(request=ReceiptEditSerializer,
                   responses={200: ReceiptSerializer, 400: ERRORS, 401: AUTH_ERROR, 404: FAILURE},
                   summary="Correct a receipt's fields (kept through every later sync)")
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        receipt = self.get_queryset().filter(pk=kwargs["pk"]).first()
        if receipt is None:
            return Response({"success": False, "error": "No such receipt."}, status=status.HTTP_404_NOT_FOUND)
        if not isinstance(request.data, dict):
            return Response({"success": False, "errors": {"body": ["Send a JSON object."]}},
                            status=status.HTTP_400_BAD_REQUEST)
        edit = ReceiptEditSerializer(data=request.data)
        if not edit.is_valid():
            return Response({"success": False, "errors": edit.errors}, status=status.HTTP_400_BAD_REQUEST)
        receipt = receipt_edit(receipt=receipt, changes=dict(edit.validated_data))
        return Response(self.get_serializer(receipt).data)

    @extend_schema(request=None, responses={200: ReceiptSerializer, 401: AUTH_ERROR, 404: FAILURE},
                   summary="Approve a receipt")
    def approve(self, request: Request, pk: str) -> Response:
        return self._decide(pk, Receipt.ReviewStatus.APPROVED)

    @extend_schema(request=None, responses={200: ReceiptSerializer, 401: AUTH_ERROR, 404: FAILURE},
                   summary="Reject a receipt: not a receipt (kept as rejected, never created again by a sync)")
    def reject(self, request: Request, pk: str) -> Response:
        return self._decide(pk, Receipt.ReviewStatus.REJECTED)

    @extend_schema(request=BulkApproveSerializer,
                   responses={200: inline_serializer("BulkApproved", {"approved": serializers.IntegerField(),
                                                                      "not_found": serializers.ListField(
                                                                          child=serializers.IntegerField())}),
                              400: ERRORS, 401: AUTH_ERROR},
                   operation_id="receipts_bulk_approve", summary="Approve several receipts at once")
    def bulk_approve(self, request: Request) -> Response:
        incoming = BulkApproveSerializer(data=request.data if isinstance(request.data, dict) else {})
        if not incoming.is_valid():
            return Response({"success": False, "errors": incoming.errors}, status=status.HTTP_400_BAD_REQUEST)
        ids = set(incoming.validated_data["ids"])
        receipts = list(self.get_queryset().filter(pk__in=ids))
        for receipt in receipts:
            receipt_review(receipt=receipt, status=Receipt.ReviewStatus.APPROVED)
        found = {receipt.pk for receipt in receipts}
        return Response({"approved": len(found), "not_found": sorted(ids - found)})

    @extend_schema(responses={**{(200, kind): OpenApiTypes.BINARY for kind in sorted(STORED_TYPES)},
                              401: AUTH_ERROR, 404: FAILURE},
                   summary="The receipt's document: its mailed PDF or image unchanged, or its email as a PDF")
    def document(self, request: Request, pk: str) -> Any:
        receipt = self.get_queryset().filter(pk=pk).first()
        if receipt is None:
            return Response({"success": False, "error": "No such receipt."}, status=status.HTTP_404_NOT_FOUND)
        document = receipt_document(receipt)
        if document is None:
            reason = f": {receipt.render_error}" if receipt.render_error else ""
            return Response({"success": False, "error": f"This receipt has no document{reason}."},
                            status=status.HTTP_404_NOT_FOUND)
        # A download, like an attachment's: a sender's PDF is not opened inside this site.
        response = FileResponse(default_storage.open(document.name, "rb"), as_attachment=True,
                                filename=document.filename, content_type=document.content_type)
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY, 401: AUTH_ERROR, 404: FAILURE},
                   summary="A PNG of the first page of the receipt's document")
    def thumbnail(self, request: Request, pk: str) -> Any:
        receipt = self.get_queryset().filter(pk=pk).first()
        if receipt is None:
            return Response({"success": False, "error": "No such receipt."}, status=status.HTTP_404_NOT_FOUND)
        document = receipt_document(receipt)
        name = ensure_thumbnail(document) if document is not None else ""
        if not name:
            return Response({"success": False, "error": "No thumbnail for this receipt."},
                            status=status.HTTP_404_NOT_FOUND)
        response = FileResponse(default_storage.open(name, "rb"), content_type="image/png")
        response["Cache-Control"] = "private, max-age=86400"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def _decide(self, pk: str, decision: str) -> Response:
        receipt = self.get_queryset().filter(pk=pk).first()
        if receipt is None:
            return Response({"success": False, "error": "No such receipt."}, status=status.HTTP_404_NOT_FOUND)
        return Response(self.get_serializer(receipt_review(receipt=receipt, status=decision)).data)

    @extend_schema(responses={**{(200, kind): OpenApiTypes.BINARY for kind in sorted(STORED_TYPES)},
                              401: AUTH_ERROR, 404: FAILURE},
                   summary="Download an attachment")
    def attachment(self, request: Request, pk: str, attachment_id: str) -> Any:
        attachment = ReceiptAttachment.objects.filter(
            pk=attachment_id, receipt_id=pk, receipt__account__business__members__pk=request.user.pk or 0
        ).first()
        if attachment is None:
            return Response({"success": False, "error": "No such attachment."}, status=status.HTTP_404_NOT_FOUND)
        if not attachment.file:
            return Response({"success": False, "error": f"The file was not stored: {attachment.skipped_reason}"},
                            status=status.HTTP_404_NOT_FOUND)
        response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.filename,
                                content_type=attachment.content_type)
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @extend_schema(
        parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=["csv", "zip", "xlsx", "pack"]),
                    OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM: only that month's receipts "
                                     "(needed for pack)")], filters=True,
        responses={(200, "text/csv"): OpenApiTypes.BINARY, (200, "application/zip"): OpenApiTypes.BINARY,
                   (200, XLSX): OpenApiTypes.BINARY, 400: ERRORS, 401: AUTH_ERROR},
        summary="Export the filtered receipts: CSV, their attachments as ZIP, an Excel workbook (a sheet per "
                "month), or a month's accountant pack (its documents and the workbook in a ZIP)",
    )
    def export(self, request: Request) -> Any:
        kind = request.query_params.get("format", "csv")
        if kind not in {"csv", "zip", "xlsx", "pack"}:
            return Response({"success": False, "errors": {"format": ["Use csv, zip, xlsx or pack."]}},
                            status=status.HTTP_400_BAD_REQUEST)
        month = request.query_params.get("month", "")
        if kind == "pack" and not month:
            return Response({"success": False, "errors": {"month": ["The pack is a month's: give month=YYYY-MM."]}},
                            status=status.HTTP_400_BAD_REQUEST)
        try:
            queryset = self.filtered(request)
            if month:
                first, last = month_range(month)
                queryset = in_month(queryset, first, last)
        except FilterError as exc:
            return Response({"success": False, "errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        except MonthError as exc:
            return Response({"success": False, "errors": {"month": [str(exc)]}}, status=status.HTTP_400_BAD_REQUEST)
        if kind == "zip":
            return self._zip(queryset)
        if kind == "xlsx":
            book = HttpResponse(workbook_bytes(queryset), content_type=XLSX)
            book["Content-Disposition"] = f'attachment; filename="receipts{"-" + month if month else ""}.xlsx"'
            return book
        if kind == "pack":
            count = queryset.count()
            if count > PACK_MAX_RECEIPTS:
                return Response({"success": False, "errors": {"month": [
                    f"{count} receipts is more than one pack holds ({PACK_MAX_RECEIPTS}); narrow the filters."]}},
                    status=status.HTTP_400_BAD_REQUEST)
            entries = pack_entries(queryset)
            workbook = [(f"{month}.xlsx", workbook_bytes(queryset))]
            response = StreamingHttpResponse(zip_chunks(entries, workbook), content_type="application/zip")
            response["Content-Disposition"] = f'attachment; filename="receipts-{month}.zip"'
            return response
        response = StreamingHttpResponse(_csv_rows(queryset), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="receipts.csv"'
        return response

    def _zip(self, queryset: QuerySet[Receipt]) -> Any:
        attachments = ReceiptAttachment.objects.filter(receipt__in=queryset).exclude(file="").select_related("receipt")
        count = attachments.count()
        total = sum(attachments.values_list("size", flat=True))
        if count > ZIP_MAX_FILES or total > ZIP_MAX_BYTES:
            return Response({"success": False, "errors": {"format": [
                f"{count} files ({total} bytes) is more than one ZIP holds ({ZIP_MAX_FILES} files, "
                f"{ZIP_MAX_BYTES} bytes); narrow the filters."]}}, status=status.HTTP_400_BAD_REQUEST)
        response = StreamingHttpResponse(zip_chunks(_zip_entries(attachments.order_by("receipt_id", "id"))),
                                         content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="receipts-attachments.zip"'
        return response


def _csv_rows(queryset: QuerySet[Receipt]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return value

    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + flush()  # a BOM, so Excel reads the file as UTF-8 and shows Hebrew
    for receipt in queryset.iterator(chunk_size=500):
        writer.writerow([
            receipt.pk, receipt.receipt_date or "", _csv_safe(receipt.vendor), receipt.amount if receipt.amount is not None else "",
            _csv_safe(receipt.currency), receipt.vat_amount if receipt.vat_amount is not None else "", _csv_safe(receipt.invoice_number),
            _csv_safe(receipt.sender_email), _csv_safe(receipt.sender_name), _csv_safe(receipt.subject),
            receipt.received_at.isoformat() if receipt.received_at else "", _csv_safe(receipt.gmail_message_id),
            receipt.confidence,
            receipt.attachments.count(),
            receipt.document_type, receipt.supplier_tax_id, receipt.allocation_number,
            _number(receipt.amount_before_vat), _number(receipt.vat_rate), "yes" if receipt.is_copy else "",
            " ".join(receipt.checks),
        ])
        yield flush()


def _number(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def _csv_safe(value: str) -> str:
    """Every text cell, whoever wrote it (a sender's address is the sender's to choose): a cell
    that starts with one of these is run as a formula by Excel and LibreOffice."""
    return "'" + value if value[:1] in {"=", "+", "-", "@", "\t", "\r", "\n"} else value


def _zip_entries(attachments: QuerySet[ReceiptAttachment]) -> Iterator[tuple[str, str]]:
    """(name in the ZIP, storage name) of each attachment, read as the ZIP is streamed."""
    used: set[str] = set()
    for attachment in attachments.iterator(chunk_size=200):
        name = f"{attachment.receipt.receipt_date or 'undated'}_{attachment.receipt_id}_{attachment.filename}"
        while name in used:
            name = f"{attachment.id}_{name}"
        used.add(name)
        yield name, attachment.file.name or ""
