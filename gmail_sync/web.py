"""The web pages: the dashboard (connection, start a sync or an import, live runs), the receipts, and OAuth."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from receipts.israeli import CHECK_CODES
from receipts.ledger_api import filter_ledger, ledger_of_accounts
from receipts.models import ExaminedMessage, Receipt, SenderRule
from receipts.selectors import FilterError, filter_receipts, receipts_of, totals_by_currency

from . import oauth, uploads
from .accounts import business_for_user
from .models import GmailAccount, SyncRun


def _business_or_none(request: HttpRequest):  # type: ignore[no-untyped-def]
    return business_for_user(request.user)  # type: ignore[arg-type]


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    business = _business_or_none(request)
    accounts = list(GmailAccount.objects.filter(business=business)) if business else []
    return render(request, "dashboard.html", {
        "business": business,
        "accounts": accounts,
        "connected": [a for a in accounts if a.status == GmailAccount.Status.CONNECTED],
        "modes": SyncRun.SYNC_MODES,
        "upload_max_mb": settings.TAKEOUT_UPLOAD_MAX_MB,
    })


@login_required
@require_POST
def takeout_upload(request: HttpRequest) -> HttpResponse:
    """Import an uploaded mbox file (a small Takeout export) into one of the business's accounts.
    Larger files are imported from the server with ``manage.py import_takeout``."""
    business = _business_or_none(request)
    if business is None:
        return HttpResponseBadRequest("Your user belongs to no business.")
    limit = settings.TAKEOUT_UPLOAD_MAX_MB * 1024 * 1024
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit + 64 * 1024:  # refused before the body is read
        messages.error(request, f"The file is larger than {settings.TAKEOUT_UPLOAD_MAX_MB} MB: import it on the server "
                                "with manage.py import_takeout.")
        return redirect("dashboard")
    account = GmailAccount.objects.filter(business=business, pk=request.POST.get("account_id") or 0).first()
    email = (request.POST.get("email") or "").strip().lower()
    if account is None and email:
        try:
            validate_email(email)
        except ValidationError:
            messages.error(request, f"Not an email address: {email}")
            return redirect("dashboard")
        account, _ = GmailAccount.objects.get_or_create(
            business=business, email=email,
            defaults={"status": GmailAccount.Status.DISCONNECTED,
                      "status_message": "Created for a Takeout import; not connected to Gmail."})
    upload = request.FILES.get("mbox")
    if account is None or upload is None:
        messages.error(request, "Choose an account and an .mbox file.")
        return redirect("dashboard")
    try:
        run = uploads.import_upload(account=account, upload=upload, requested_by=request.user)
    except uploads.UploadRefused as exc:
        messages.error(request, str(exc))
        return redirect("dashboard")
    messages.success(request, f"Importing {upload.name} into {account.email} as run #{run.pk}.")
    return redirect("dashboard")


@login_required
def receipts_page(request: HttpRequest) -> HttpResponse:
    return _receipts(request, queue=False)


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    """The receipts waiting for review (newest first; least certain first on request)."""
    return _receipts(request, queue=True)


def _receipts(request: HttpRequest, *, queue: bool) -> HttpResponse:
    queryset = receipts_of(request.user)
    params = request.GET.copy()
    if queue and not params.get("review_status"):
        params["review_status"] = Receipt.ReviewStatus.PENDING
    errors = None
    try:
        queryset = filter_receipts(queryset, params)
    except FilterError as exc:
        errors = exc.errors
        queryset = queryset.none()
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    query = params.copy()
    query.pop("page", None)
    return render(request, "receipts.html", {
        "page": page,
        "queue": queue,
        "totals": totals_by_currency(queryset),
        "errors": errors,
        "filters": params,
        "query": query.urlencode(),
        "review_statuses": [*Receipt.ReviewStatus.choices, ("all", "All")],
        "check_codes": CHECK_CODES,
        "document_types": Receipt.DocumentType.choices,
        "pack_month": (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m"),
    }, status=400 if errors else 200)


@login_required
def messages_page(request: HttpRequest) -> HttpResponse:
    """Every examined message (skipped ones first by default), with "this is a receipt" and the
    sender rules."""
    business = _business_or_none(request)
    params = request.GET.copy()
    params.setdefault("verdict", "skipped")
    errors = None
    try:
        queryset = filter_ledger(ledger_of_accounts(GmailAccount.objects.filter(business=business)), params)
    except FilterError as exc:
        errors = exc.errors
        queryset = ExaminedMessage.objects.none()
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    query = params.copy()
    query.pop("page", None)
    rules = list(SenderRule.objects.filter(business=business)) if business else []
    return render(request, "messages.html", {
        "page": page, "errors": errors, "filters": params, "query": query.urlencode(), "rules": rules,
        "verdicts": ExaminedMessage.Verdict.choices,
    }, status=400 if errors else 200)


@login_required
def oauth_connect(request: HttpRequest) -> HttpResponse:
    if _business_or_none(request) is None:
        messages.error(request, "Your user belongs to no business yet; ask an administrator to add you.")
        return redirect("dashboard")
    try:
        return redirect(oauth.authorization_url(request))
    except oauth.OAuthError as exc:
        messages.error(request, str(exc))
        return redirect("dashboard")


@login_required
def oauth_callback(request: HttpRequest) -> HttpResponse:
    business = _business_or_none(request)
    if business is None:
        return HttpResponseBadRequest("No business to connect the account to.")
    try:
        account = oauth.complete(request, business=business)
    except oauth.OAuthError as exc:
        messages.error(request, str(exc))
        return redirect("dashboard")
    messages.success(request, f"Connected {account.email}.")
    return redirect("dashboard")


@login_required
@require_POST
def oauth_disconnect(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(GmailAccount, pk=pk, business__members=request.user)
    outcome = oauth.disconnect(account)
    if outcome == "revoked":
        messages.success(request, f"Disconnected {account.email}; Google revoked the access.")
    elif outcome == "undecryptable":
        messages.warning(request, f"Disconnected {account.email} here, but its stored token could not be decrypted "
                                  "(was ENCRYPTION_KEY changed?), so Google was not asked to revoke it; remove the "
                                  "app's access in your Google account.")
    else:
        messages.warning(request, f"Disconnected {account.email}, but Google did not confirm the revocation; "
                                  "remove the app's access in your Google account.")
    return redirect("dashboard")
