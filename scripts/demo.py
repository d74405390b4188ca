"""`make demo`: a 36-month receipts-first backfill of the sample mailbox through the Gmail
emulator, then an import of the same mailbox written as a Google Takeout mbox.

Runs on SQLite with no service installed: the emulator plays Gmail on a free loopback port, and
both runs go in the foreground with a progress bar. The import finds the receipts the backfill
stored and stores none of them twice.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")
# The demo's mailbox is local: it runs at the legacy model's 250 units a second (50 messages a
# second) so that a 36-month backfill takes about a minute. Against Google, the default model
# is 2026's, at 5 messages a second per mailbox.
os.environ.setdefault("GMAIL_QUOTA_MODEL", "legacy")
os.environ.setdefault("GMAIL_QUOTA_UNITS_PER_SECOND", "250")
os.environ.setdefault("RUN_TO_COMPLETION", "true")

DEMO_DIR = ROOT / "demo-data"
MAILBOX = DEMO_DIR / "sample.mbox"
TAKEOUT = DEMO_DIR / "takeout" / "All mail Including Spam and Trash.mbox"
ACCOUNT = "demo@example.com"
BUSINESS = "Demo Business"


def main() -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from gmail_sync.emulator import EmulatorOptions, GmailEmulator, Mailbox
    from gmail_sync.emulator.sample import generate_sample_mailbox
    from gmail_sync.emulator.takeout import export_takeout
    from gmail_sync.models import Business, GmailAccount
    from receipts.models import Receipt

    print("==> Migrating the database", settings.DATABASES["default"]["NAME"])
    call_command("migrate", verbosity=0, interactive=False)

    if not MAILBOX.exists():
        print(f"==> Building the sample mailbox at {MAILBOX.relative_to(ROOT)}")
        generate_sample_mailbox(MAILBOX)
    box = Mailbox.from_path(MAILBOX, address=ACCOUNT)
    emulator = GmailEmulator(box, EmulatorOptions(latency_ms=(5, 15))).start()
    settings.GMAIL_API_ROOT_URL = emulator.url
    settings.GOOGLE_TOKEN_URI = emulator.token_uri
    print(f"==> Gmail API emulator serving {len(box)} messages at {emulator.url}")

    # A fresh start each time: the demo account's earlier runs and receipts are removed.
    GmailAccount.objects.filter(business__name=BUSINESS, email=ACCOUNT).delete()
    call_command("create_api_user", "demo", "--business", BUSINESS, "--password", "demo-password", verbosity=0,
                 stdout=open(os.devnull, "w"))
    # A local demo: its user may also open the admin.
    get_user_model().objects.filter(username="demo").update(is_staff=True, is_superuser=True)
    call_command("add_gmail_account", ACCOUNT, "--refresh-token", "demo-refresh-token", "--business", BUSINESS,
                 stdout=open(os.devnull, "w"))
    assert Business.objects.filter(name=BUSINESS).exists()

    print("==> Running a 36-month full_backfill to completion, the likely receipts first")
    try:
        call_command("sync_receipts", "--account", ACCOUNT, "--months-back", "36", "--mode", "full_backfill",
                     "--run-to-completion", "--json")
    finally:
        emulator.stop()
    stored = Receipt.objects.filter(account__email=ACCOUNT, account__business__name=BUSINESS).count()

    print()
    print(f"==> Writing the same mailbox as a Google Takeout export: {TAKEOUT.relative_to(ROOT)}")
    export_takeout(box.all(), TAKEOUT)
    print("==> Importing it (no Gmail connection needed): the same receipts, none stored twice")
    call_command("import_takeout", str(TAKEOUT), "--account", ACCOUNT, "--run-to-completion", "--json")
    after = Receipt.objects.filter(account__email=ACCOUNT, account__business__name=BUSINESS).count()
    print(f"Receipts stored: {stored} after the backfill, {after} after the import.")
    if after != stored:
        print("The import stored receipts the backfill had not: that is a bug.")
        return 1
    duplicates = Receipt.objects.filter(account__email=ACCOUNT, account__business__name=BUSINESS,
                                        review_status=Receipt.ReviewStatus.DUPLICATE).count()
    print(f"{duplicates} of them repeat another (the same file, invoice number, or vendor, date and amount): "
          "marked as duplicates, kept, and left out of the totals.")
    print("==> Rendering to PDF the receipts that are only an email (what the worker does in the background)")
    call_command("render_documents", "--limit", "5000")
    print()
    print("Next, each in a terminal of its own (no .env needed; they use this demo's database):")
    print("  make emulator   # Gmail, played by the emulator over the same mailbox, on port 8765")
    print("  make run        # the web server: open http://127.0.0.1:8000/ and sign in as demo / demo-password")
    print("Start a sync from the dashboard; it runs in the web server (no REDIS_URL). The admin is at")
    print("http://127.0.0.1:8000/admin/ with the same sign-in.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
