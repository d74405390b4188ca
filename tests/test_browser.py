"""End to end in a real browser (Debian's Chromium, driven by Playwright) against a live server and
the emulator playing Google: sign in, connect Gmail through the consent redirect, start a backfill,
watch it complete, open a receipt's PDF, export CSV, disconnect (the emulator sees the revocation).

Screenshots are written under tests/artifacts/ on every run.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gmail_sync.accounts import api_user_create
from gmail_sync.models import GmailAccount, SyncRun
from receipts.models import Receipt

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium); .ci/run installs it"),
]


@pytest.fixture
def browser_page(monkeypatch):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
    # still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
        )
        context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30000)
        yield page
        context.close()
        browser.close()


def test_connect_backfill_browse_export_and_disconnect(live_server, emulator, settings, browser_page) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    settings.GOOGLE_CLIENT_ID = "browser-test-client"
    settings.GOOGLE_CLIENT_SECRET = "browser-test-secret"
    settings.GOOGLE_AUTH_URI = emulator.url + "o/oauth2/auth"
    settings.GOOGLE_REVOKE_URI = emulator.url + "revoke"
    settings.GOOGLE_OAUTH_REDIRECT_URI = live_server.url + "/oauth/callback"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.RUN_SYNCS_IN_THREAD = True
    settings.GMAIL_QUOTA_UNITS_PER_SECOND = 2000
    emulator.options.latency_ms = (20, 40)
    api_user_create(username="dana", business_name="Dana's Bakery", password="correct horse battery")
    page = browser_page
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))

    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", "dana")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_selector("#connect")

    page.click("#connect")  # to the emulator's consent endpoint, which redirects back with a code
    page.wait_for_selector("text=Connected owner@example.com")
    account = GmailAccount.objects.get(email="owner@example.com")
    assert account.status == GmailAccount.Status.CONNECTED and account.has_token

    page.select_option("select[name=mode]", "full_backfill")
    page.fill("input[name=from_date]", "2024-06-01")
    page.fill("input[name=to_date]", "2025-06-30")
    page.click("#start-button")
    page.wait_for_selector("#run-rows [data-status]:text('running')")
    page.wait_for_function("() => { const s = document.querySelector('#run-rows [data-scanned]'); "
                           "return s && parseInt(s.textContent) > 0; }")
    page.screenshot(path=str(ARTIFACTS / "dashboard-mid-run.png"), full_page=True)
    page.wait_for_selector("#run-rows [data-status]:text('completed')", timeout=120000)
    page.screenshot(path=str(ARTIFACTS / "dashboard-completed.png"), full_page=True)
    run = SyncRun.objects.get(account=account)
    assert run.status == SyncRun.Status.COMPLETED and run.saved_receipts > 0
    width = page.eval_on_selector("#run-rows [data-progress]", "el => el.style.width")
    assert width == "100%"

    page.goto(live_server.url + "/receipts/")
    rows = page.locator("#receipts tbody tr[data-receipt-id]")
    assert rows.count() == min(50, Receipt.objects.filter(account=account).count())
    assert "ILS" in page.inner_text("#totals") or "USD" in page.inner_text("#totals")
    page.screenshot(path=str(ARTIFACTS / "receipts.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "receipts-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1200, "height": 900})

    pdf_link = page.locator("a.attachment[title^='application/pdf']").first
    with page.expect_download() as download_info:
        pdf_link.click(modifiers=["Alt"])
    pdf_path = download_info.value.path()
    assert Path(pdf_path).read_bytes().startswith(b"%PDF-")

    with page.expect_download() as download_info:
        page.click("#export-csv")
    csv_text = Path(download_info.value.path()).read_bytes().decode("utf-8")
    assert csv_text.startswith("\ufeffid,receipt_date,vendor")
    assert csv_text.count("\n") == Receipt.objects.filter(account=account).count() + 1

    # Review: reject the first receipt in the page; it leaves the list a bookkeeper counts.
    first = page.locator("#receipts tbody tr[data-receipt-id]").first
    receipt_id = int(first.get_attribute("data-receipt-id") or 0)
    first.locator("[data-decide=reject]").click()
    page.wait_for_selector(f"tr[data-receipt-id='{receipt_id}'] [data-review]:text('rejected')")
    assert Receipt.objects.get(pk=receipt_id).review_status == "rejected"
    page.goto(live_server.url + "/receipts/?review_status=rejected")
    assert page.locator("#receipts tbody tr[data-receipt-id]").count() == 1
    page.goto(live_server.url + "/receipts/")
    assert page.locator(f"tr[data-receipt-id='{receipt_id}']").count() == 0

    page.goto(live_server.url + "/")
    token = account.refresh_token
    page.click("button:text('Disconnect')")
    page.wait_for_selector("text=Google revoked the access")
    account.refresh_from_db()
    assert account.status == GmailAccount.Status.DISCONNECTED and not account.has_token
    assert token in emulator.revoked
    page.screenshot(path=str(ARTIFACTS / "dashboard-disconnected.png"), full_page=True)

    page.goto(live_server.url + "/api/docs/")  # Swagger UI from this server, under the same policy
    page.wait_for_selector(".opblock", timeout=30000)
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
    assert not [text for text in console if "Content Security Policy" in text], console


def _no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    overflowing = page.evaluate(
        "() => Array.from(document.querySelectorAll('table, section')).filter(el => el.scrollWidth > el.clientWidth + 1)"
        ".map(el => el.id || el.tagName)")
    assert not overflowing, overflowing


def _review_session(page, live_server, width: int, name: str) -> None:  # type: ignore[no-untyped-def]
    """Approve, reject (by keyboard), edit and bulk-approve in the review queue, then mark a skipped
    message as a receipt, at one window width; screenshots of both pages."""
    from receipts.models import ExaminedMessage

    page.set_viewport_size({"width": width, "height": 900 if width > 600 else 844})
    page.goto(live_server.url + "/review/")
    rows = page.locator("#receipts tbody tr[data-receipt-id]")
    assert rows.count() == min(50, Receipt.objects.filter(review_status="pending").count()) > 4
    page.wait_for_function("() => { const img = document.querySelector('#receipts td.doc img'); "
                           "return img && img.complete && img.naturalWidth > 0; }", timeout=60000)
    _no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / f"review-queue-{name}.png"), full_page=width < 600)

    ids = [int(rows.nth(i).get_attribute("data-receipt-id") or 0) for i in range(4)]
    rows.nth(0).locator("[data-decide=approve]").click()
    page.wait_for_selector(f"tr[data-receipt-id='{ids[0]}'] [data-review]:text('approved')")
    rows.nth(1).focus()
    page.keyboard.press("r")
    page.wait_for_selector(f"tr[data-receipt-id='{ids[1]}'] [data-review]:text('rejected')")
    page.keyboard.press("j")  # to the next row, then edit it from the keyboard
    page.keyboard.press("e")
    form = rows.nth(2).locator("[data-edit-form]")
    form.locator("input[name=amount]").fill("1234.50")
    form.locator("input[name=vendor]").fill("ספק מתוקן")
    form.locator("input[name=allocation_number]").fill("123456789")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(f"tr[data-receipt-id='{ids[2]}'] [data-field=amount]:text('1234.50')")
    edited = Receipt.objects.get(pk=ids[2])
    assert edited.amount == 1234.5 and edited.vendor == "ספק מתוקן" and edited.allocation_number == "123456789"
    assert {"amount", "vendor", "allocation_number"} <= set(edited.edited_fields)
    rows.nth(3).locator("[data-select]").check()
    rows.nth(2).locator("[data-select]").check()
    page.click("#bulk-approve")
    page.wait_for_selector("#bulk-result:text('2 approved.')")
    statuses = dict(Receipt.objects.filter(pk__in=ids).values_list("pk", "review_status"))
    assert statuses == {ids[0]: "approved", ids[1]: "rejected", ids[2]: "approved", ids[3]: "approved"}
    _no_sideways_scroll(page)

    page.goto(live_server.url + "/messages/")
    message_rows = page.locator("#messages tbody tr[data-message-id]")
    assert message_rows.count() > 0
    _no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / f"examined-mail-{name}.png"), full_page=width < 600)
    first = message_rows.first
    entry = ExaminedMessage.objects.get(pk=int(first.get_attribute("data-message-id") or 0))
    first.locator("[data-mark]").click()
    page.wait_for_selector(f"tr[data-message-id='{entry.pk}'] [data-result]:text('Stored as receipt')")
    stored = Receipt.objects.get(account=entry.account, gmail_message_id=entry.gmail_message_id)
    assert stored.review_status == "approved"


def test_the_review_queue_and_examined_mail_at_desktop_and_phone_width(live_server, emulator, settings,
                                                                        browser_page) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from gmail_sync import engine
    from gmail_sync.services import sync_start
    from tests.conftest import SAMPLE_END
    from tests.factories import GmailAccountFactory

    ARTIFACTS.mkdir(exist_ok=True)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    user, _ = api_user_create(username="dana", business_name="Dana's Bakery", password="correct horse battery")
    account = GmailAccountFactory(business=user.businesses.get(), email="owner@example.com",
                                  refresh_token="demo-refresh-token")
    run = sync_start(account=account, mode="full_backfill", from_date=SAMPLE_END - timedelta(days=400),
                     to_date=timezone.localdate(), run_to_completion=True, enqueue=False)
    while engine.run_slice(run.pk).outcome == "paused":
        pass
    page = browser_page
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", "dana")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Review queue")

    _review_session(page, live_server, 1200, "desktop")
    _review_session(page, live_server, 390, "phone")
    assert not [text for text in console if "Content Security Policy" in text or "Error" in text], console
