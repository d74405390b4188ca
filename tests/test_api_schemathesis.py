"""Property-based checks of the whole API against its own OpenAPI schema (schemathesis).

Every operation of ``/api/schema/`` is called with generated requests, authenticated as a
member of a business that has an account, runs and receipts; no answer may be a 5xx or break
the schema the API publishes.
"""
from __future__ import annotations

from decimal import Decimal

import pytest
import schemathesis
from django.core.files.base import ContentFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from config.wsgi import application
from gmail_sync.accounts import api_user_create
from gmail_sync.models import Business, SyncRun
from receipts.models import ReceiptAttachment
from tests.factories import GmailAccountFactory, ReceiptFactory, SyncRunFactory


@pytest.fixture(autouse=True)
def _keep_the_test_connection():  # type: ignore[no-untyped-def]
    """Requests go straight to the WSGI handler, whose request signals would close the test's
    database connection mid-transaction; Django's own test client disconnects them the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(db, settings):  # type: ignore[no-untyped-def]
    settings.ALLOWED_HOSTS = ["*"]
    _, token = api_user_create(username="fuzz", business_name="Fuzz Ltd")
    business = Business.objects.get(name="Fuzz Ltd")
    account = GmailAccountFactory(business=business, refresh_token="demo-refresh-token")
    SyncRunFactory(account=account, status=SyncRun.Status.PAUSED)
    receipt = ReceiptFactory(account=account, amount=Decimal("12.50"), vendor="בזק")
    attachment = ReceiptAttachment(receipt=receipt, filename="r.pdf", content_type="application/pdf", size=9,
                                   sha256="b" * 64)
    attachment.file.save("r", ContentFile(b"%PDF-1.4\n"), save=True)
    return {"Authorization": f"Bearer {token}"}


# Rules between fields (from_date <= to_date, dates not in the future, a range or months_back
# but not both) cannot be written in OpenAPI, so a request can be schema-valid and still a
# documented 400; the check that every schema-valid request succeeds is left out for that.
CROSS_FIELD_RULES = [positive_data_acceptance]


def test_api_never_answers_5xx_nor_breaks_its_schema(bearer, capsys) -> None:  # type: ignore[no-untyped-def]
    api = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
    api.app = application
    calls: dict[str, int] = {}
    def checker(operation):  # type: ignore[no-untyped-def]
        key = f"{operation.method.upper()} {operation.path}"

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                  derandomize=True)
        def check(case) -> None:  # type: ignore[no-untyped-def]
            calls[key] = calls.get(key, 0) + 1
            case.call_and_validate(headers=bearer, excluded_checks=CROSS_FIELD_RULES)

        return check

    for result in api.get_all_operations():
        checker(result.ok())()
    assert len(calls) >= 10, calls
    with capsys.disabled():
        print(f"\nschemathesis: {len(calls)} operations, {sum(calls.values())} cases, no 5xx, no schema violation")
