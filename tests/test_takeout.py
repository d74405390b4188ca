"""Google Takeout import: the mbox reader, and imports through the same run, recogniser and
storage as a Gmail sync, deduplicated against it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from gmail_sync import engine
from gmail_sync.emulator import Mailbox
from gmail_sync.emulator.takeout import export_takeout
from gmail_sync.models import GmailAccount, SyncRun
from gmail_sync.services import ImportRefused, import_start, sync_start
from gmail_sync.status import run_status
from gmail_sync.takeout import NotAnMbox, check_mbox, identify, read_mbox
from receipts.models import ExaminedMessage, Receipt
from tests.conftest import SAMPLE_END
from tests.factories import GmailAccountFactory

ROOT = Path(__file__).resolve().parent.parent
FROM = SAMPLE_END - timedelta(days=370)
COUNTERS = ("messages_scanned", "saved_receipts", "skipped_count", "errors_count", "already_stored")


def _message(n: int, body: str = "Hello", *, headers: str = "", gmail_id: int | None = None, eol: str = "\n") -> str:
    envelope = f"From {gmail_id}@xxx" if gmail_id is not None else "From sender@example.com"
    text = (f"{envelope} Mon Mar 04 10:0{n % 10}:00 +0000 2024\n{headers}From: Shop <shop@example.com>\n"
            f"To: me@example.com\nSubject: message {n}\nMessage-ID: <m{n}@example.com>\n"
            f"Date: Mon, 04 Mar 2024 10:00:00 +0000\n\n{body}\n\n")
    return text.replace("\n", eol)


# -- the reader -------------------------------------------------------------------------------
@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_messages_are_split_at_envelopes_not_at_from_lines_in_bodies(tmp_path: Path, eol: str) -> None:
    body = "From the team at Shop:\nFrom 12:00 we are closed.\n>From quoted\nFrom me"
    text = "".join(_message(n, body, gmail_id=10**18 + n, eol=eol) for n in range(3))
    path = tmp_path / "mail.mbox"
    path.write_bytes(text.encode())
    for chunk in (5, 64, 1 << 20):
        messages = list(read_mbox(path, chunk_bytes=chunk))
        assert len(messages) == 3
        assert all(m.raw is not None and b"From 12:00 we are closed." in m.raw for m in messages)
        assert [m.start for m in messages] == [0, messages[0].end, messages[1].end]
        assert messages[-1].end == path.stat().st_size
    first = identify(messages[0])
    assert first.message_id == format(10**18, "x")
    assert first.received_at is not None and first.received_at.isoformat() == "2024-03-04T10:00:00+00:00"


def test_reading_resumes_at_a_message_offset_and_refuses_an_offset_inside_one(tmp_path: Path) -> None:
    path = tmp_path / "mail.mbox"
    path.write_bytes("".join(_message(n) for n in range(5)).encode())
    messages = list(read_mbox(path))
    rest = list(read_mbox(path, messages[2].start))
    assert [m.raw for m in rest] == [m.raw for m in messages[2:]]
    with pytest.raises(NotAnMbox, match="no message at byte|not an mbox"):
        list(read_mbox(path, messages[2].start + 3))


def test_a_truncated_last_message_is_read_as_far_as_it_goes(tmp_path: Path) -> None:
    path = tmp_path / "mail.mbox"
    text = _message(1) + _message(2, "Total paid: $12.00 and then the disk filled u")
    path.write_bytes(text.encode()[:-2])  # cut inside the blank line that would end it
    messages = list(read_mbox(path))
    assert len(messages) == 2 and messages[1].raw is not None and messages[1].raw.endswith(b"filled u")


def test_a_message_larger_than_the_limit_is_passed_over_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "mail.mbox"
    huge = "A" * 76 + "\n"
    with path.open("w") as handle:
        handle.write(_message(1))
        handle.write(_message(2, huge * 200_000))  # about 15 MB
        handle.write(_message(3))
    tracemalloc.start()
    messages = list(read_mbox(path, max_message_bytes=1 << 20, chunk_bytes=1 << 16))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [m.raw is None for m in messages] == [False, True, False]
    assert messages[2].raw is not None and b"message 3" in messages[2].raw
    assert peak < 4 << 20, f"peak {peak} bytes while passing over a 15 MB message"


def test_a_file_that_is_not_an_mbox_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "takeout.zip"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 500)
    with pytest.raises(NotAnMbox, match="unpack the archive"):
        check_mbox(path)


def test_mail_without_gmail_ids_gets_the_same_stable_id_in_any_file(tmp_path: Path) -> None:
    one, two = tmp_path / "one.mbox", tmp_path / "two.mbox"
    one.write_bytes((_message(1) + _message(2)).encode())
    two.write_bytes((_message(2) + _message(3)).encode())
    ids_one = [identify(m).message_id for m in read_mbox(one)]
    ids_two = [identify(m).message_id for m in read_mbox(two)]
    assert ids_one[1] == ids_two[0] and len(set(ids_one + ids_two)) == 3
    assert all(mid.startswith("mbox-") and len(mid) <= 64 for mid in ids_one)


def test_spam_trash_drafts_and_chats_are_out_of_the_range(tmp_path: Path) -> None:
    path = tmp_path / "mail.mbox"
    labels = ["Inbox,Opened", "Spam", "Opened,Trash", "Drafts", "Chat", "Category Updates,\n Inbox"]
    path.write_bytes("".join(_message(n, headers=f"X-Gmail-Labels: {label}\n", gmail_id=n + 1)
                             for n, label in enumerate(labels)).encode())
    out = [identify(m).out_of_range for m in read_mbox(path)]
    assert out == [False, True, True, True, True, False]


# -- imports through the run ------------------------------------------------------------------
pytestmark_db = pytest.mark.django_db(transaction=True)


def _receipts(account: GmailAccount) -> set[tuple[Any, ...]]:
    return set(Receipt.objects.filter(account=account).values_list(
        "gmail_message_id", "gmail_thread_id", "amount", "currency", "vendor", "receipt_date", "received_at"))


def _import(account: GmailAccount, path: Path, **kw: Any) -> SyncRun:
    run = import_start(account=account, path=path, run_to_completion=True, enqueue=False, **kw)
    while (result := engine.run_slice(run.pk)).outcome == "paused":
        pass
    run.refresh_from_db()
    assert result.outcome == "completed", (result, run.error_message)
    return run


@pytestmark_db
@pytest.mark.parametrize("api_first", [True, False])
def test_an_import_and_an_api_sync_of_the_same_mailbox_are_the_same_receipts(emulator, settings, tmp_path: Path,
                                                                           api_first: bool) -> None:
    """GIVEN the emulator's mailbox and the same mailbox written as a Takeout mbox (CRLF)
    WHEN the account is synced from the API and then imported (or the other way round)
    THEN both runs examine the same messages, find the same receipts, and the second stores none."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    account = GmailAccountFactory(email="owner@example.com", refresh_token="demo-refresh-token")
    path = export_takeout(emulator.mailbox.all(), tmp_path / "All mail Including Spam and Trash.mbox", crlf=True)

    def api() -> SyncRun:
        run = sync_start(account=account, mode="full_backfill", from_date=SAMPLE_END - timedelta(days=400),
                         to_date=timezone.localdate(), run_to_completion=True, enqueue=False)
        while engine.run_slice(run.pk).outcome == "paused":
            pass
        run.refresh_from_db()
        return run

    first = api() if api_first else _import(account, path)
    stored = _receipts(account)
    second = _import(account, path) if api_first else api()
    assert first.status == second.status == SyncRun.Status.COMPLETED
    assert _receipts(account) == stored and len(stored) == first.saved_receipts > 0
    assert second.saved_receipts == 0 and second.already_stored == first.saved_receipts
    assert (second.messages_scanned, second.skipped_count, second.errors_count) == (
        first.messages_scanned, first.skipped_count, first.errors_count)
    takeout_run = second if api_first else first
    status = run_status(takeout_run)
    assert status["mode"] == "takeout_import" and status["progress_percentage"] == 100.0
    assert status["checkpoint"]["byte_offset"] == status["checkpoint"]["file_size"] == path.stat().st_size


@pytestmark_db
def test_the_import_command_imports_counts_and_refuses_bad_input(tmp_path: Path, sample_mailbox: Path) -> None:
    box = Mailbox.from_path(sample_mailbox, address="owner@example.com")
    path = export_takeout(box.all(), tmp_path / "takeout.mbox")
    out = StringIO()
    call_command("import_takeout", str(path), "--account", "Owner@Example.com", "--business", "Imports", "--json",
                 stdout=out)
    status = json.loads(out.getvalue().strip().splitlines()[-1])
    progress = status["sync_run"]["progress"]
    in_range = sum(1 for m in box.all() if not {"SPAM", "TRASH", "DRAFT"} & set(m.label_ids))
    assert status["sync_run"]["status"] == "completed" and progress["messages_scanned"] == in_range
    account = GmailAccount.objects.get(email="owner@example.com")
    assert account.status == GmailAccount.Status.DISCONNECTED and not account.has_token
    assert Receipt.objects.filter(account=account).count() == progress["saved_receipts"] > 0
    with pytest.raises(CommandError, match="No file at"):
        call_command("import_takeout", str(tmp_path / "missing.mbox"), "--account", "owner@example.com")
    not_mbox = tmp_path / "takeout.zip"
    not_mbox.write_bytes(b"PK\x03\x04" + b"\x00" * 1000)
    with pytest.raises(CommandError, match="not an mbox file"):
        call_command("import_takeout", str(not_mbox), "--account", "owner@example.com")
    with pytest.raises(CommandError, match="add --business"):
        call_command("import_takeout", str(path), "--account", "nobody@example.com")
    with pytest.raises(ImportRefused):
        import_start(account=account, path=tmp_path, enqueue=False)


@pytestmark_db
def test_hostile_messages_in_an_import_are_errors_and_the_import_goes_on(tmp_path: Path, settings) -> None:
    settings.EXAMINE_IN_SANDBOX = False
    account = GmailAccountFactory(email="hostile@example.com")
    nested = "Content-Type: multipart/mixed; boundary=b0\n\n" + "".join(
        f"--b{i}\nContent-Type: multipart/mixed; boundary=b{i + 1}\n\n" for i in range(3000))
    path = tmp_path / "mail.mbox"
    path.write_bytes((_message(1, "Receipt\nTotal paid: $12.00", gmail_id=11)
                      + f"From 12@xxx Mon Mar 04 10:00:00 +0000 2024\nSubject: deep\nMIME-Version: 1.0\n{nested}\n\n"
                      + _message(3, "Your receipt\nInvoice number: 7\nTotal paid: $30.00", gmail_id=13)).encode())
    run = _import(account, path)
    assert run.messages_scanned == 3 and run.errors_count == 1
    assert run.saved_receipts + run.skipped_count == 2


def _database_url() -> str:
    params = connection.settings_dict
    if params["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{params['NAME']}"
    user = params.get("USER") or ""
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{params.get('HOST') or '127.0.0.1'}:{params.get('PORT') or 5432}/{params['NAME']}"


@pytestmark_db
def test_an_import_killed_with_sigkill_resumes_from_its_checkpoint_with_nothing_lost_or_doubled(
        tmp_path: Path, big_mailbox: Path) -> None:
    box = Mailbox.from_path(big_mailbox, address="killed@example.com")
    path = export_takeout(box.all(), tmp_path / "takeout.mbox")
    clean = GmailAccountFactory(email="clean@example.com")
    expected = _import(clean, path)
    account = GmailAccountFactory(email="killed@example.com", business=clean.business)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test", "DATABASE_URL": _database_url(),
           "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "manage.py", "import_takeout", str(path), "--account",
                                account.email, "--run-to-completion", "--verbosity", "0"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    run = None
    while time.monotonic() < deadline:
        run = SyncRun.objects.filter(account=account).first()
        if run is not None and run.messages_scanned >= 500:
            break
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert run is not None
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING and 0 < run.source_offset < path.stat().st_size, "killed midway"
    assert run.messages_scanned < expected.messages_scanned
    # Its heartbeat goes stale; an operator resumes it from the checkpoint.
    SyncRun.objects.filter(pk=run.pk).update(last_heartbeat_at=timezone.now() - timedelta(hours=1))
    call_command("import_takeout", "--resume", str(run.pk), "--verbosity", "0", stdout=StringIO())
    run.refresh_from_db()
    assert run.status == SyncRun.Status.COMPLETED
    assert {name: getattr(run, name) for name in COUNTERS} == {name: getattr(expected, name) for name in COUNTERS}
    assert ExaminedMessage.objects.filter(sync_run=run).count() == run.messages_scanned, "the ledger, after SIGKILL"
    ids = set(Receipt.objects.filter(account=account).values_list("gmail_message_id", flat=True))
    assert ids == set(Receipt.objects.filter(account=clean).values_list("gmail_message_id", flat=True))


@pytestmark_db
def test_the_dashboards_upload_form_imports_a_small_file_and_refuses_what_it_cannot(client, settings, tmp_path: Path,
                                                                                    sample_mailbox: Path) -> None:
    """GIVEN a signed-in member of a business with no account yet
    WHEN they upload a Takeout mbox naming the mailbox's address
    THEN the account is created unconnected, the file is imported as a takeout_import run, and the
    uploaded copy is deleted once imported; a file that is not an mbox, or too large, is refused."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import BusinessFactory, UserFactory

    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.TAKEOUT_UPLOAD_DIR = str(tmp_path / "uploads")
    user = UserFactory()
    business = BusinessFactory()
    business.members.add(user)
    client.force_login(user)
    assert 'id="import-form"' in client.get("/").content.decode()
    box = Mailbox.from_path(sample_mailbox, address="owner@example.com")
    mbox = export_takeout(box.all(), tmp_path / "takeout.mbox").read_bytes()

    response = client.post("/imports/upload", {"email": "Owner@Example.com",
                                               "mbox": SimpleUploadedFile("All mail.mbox", mbox)}, follow=True)
    assert "as run #" in response.content.decode()
    run = SyncRun.objects.get(account__email="owner@example.com")
    assert run.mode == "takeout_import" and run.status == "completed" and run.saved_receipts > 0
    assert not list((tmp_path / "uploads").iterdir()), "the uploaded copy is removed once imported"

    response = client.post("/imports/upload", {"account_id": run.account_id,
                                               "mbox": SimpleUploadedFile("notes.txt", b"hello\n" * 100)}, follow=True)
    assert "notes.txt is not an mbox file" in response.content.decode()
    assert not list((tmp_path / "uploads").iterdir())
    settings.TAKEOUT_UPLOAD_MAX_MB = 1
    response = client.post("/imports/upload", {"account_id": run.account_id,
                                               "mbox": SimpleUploadedFile("big.mbox", b"x" * (2 << 20))}, follow=True)
    assert "larger than 1 MB" in response.content.decode()
    assert SyncRun.objects.filter(account=run.account).count() == 1
    other = BusinessFactory()
    foreign = GmailAccountFactory(business=other)
    response = client.post("/imports/upload", {"account_id": foreign.pk,
                                               "mbox": SimpleUploadedFile("a.mbox", mbox)}, follow=True)
    assert "Choose an account" in response.content.decode() and not SyncRun.objects.filter(account=foreign).exists()


@pytestmark_db
def test_an_import_is_cancelled_at_its_next_commit_and_resumes_from_its_checkpoint(tmp_path: Path, sample_mailbox: Path,
                                                                                  monkeypatch) -> None:
    from gmail_sync import importer
    from gmail_sync.services import cancel_run, resume_run

    box = Mailbox.from_path(sample_mailbox, address="cancel@example.com")
    path = export_takeout(box.all(), tmp_path / "takeout.mbox")
    clean = _import(GmailAccountFactory(email="clean@example.com"), path)
    account = GmailAccountFactory(email="cancel@example.com")
    run = import_start(account=account, path=path, run_to_completion=True, enqueue=False)

    def cancel_once(current: SyncRun) -> None:
        if not SyncRun.objects.filter(pk=current.pk, cancel_requested=True).exists() and current.status == "running":
            cancel_run(run=SyncRun.objects.get(pk=current.pk))

    monkeypatch.setattr(importer, "COMMIT_EVERY_MESSAGES", 50)
    assert engine.run_slice(run.pk, on_progress=cancel_once).outcome == "cancelled"
    run.refresh_from_db()
    assert run.status == SyncRun.Status.CANCELLED and 0 < run.source_offset < path.stat().st_size
    assert run.messages_scanned == 50
    resume_run(run=run, enqueue=False)
    assert engine.run_slice(run.pk).outcome == "completed"
    run.refresh_from_db()
    assert {name: getattr(run, name) for name in COUNTERS} == {name: getattr(clean, name) for name in COUNTERS}


@pytestmark_db
def test_mail_without_gmail_ids_is_matched_to_synced_receipts_by_its_own_identity(emulator, settings,
                                                                                  sample_mailbox: Path) -> None:
    """GIVEN an account synced from the API
    WHEN the same mail is imported from a plain mbox (no Gmail ids: its ids are not the API's)
    THEN the unique (account, message key) constraint makes each receipt the one already stored."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    account = GmailAccountFactory(email="owner@example.com", refresh_token="demo-refresh-token")
    synced = sync_start(account=account, mode="full_backfill", from_date=SAMPLE_END - timedelta(days=400),
                        to_date=timezone.localdate(), run_to_completion=True, enqueue=False)
    while engine.run_slice(synced.pk).outcome == "paused":
        pass
    synced.refresh_from_db()
    stored = _receipts(account)
    assert len(stored) == synced.saved_receipts > 0 and all(r[0] and not r[0].startswith("mbox-") for r in stored)
    imported = _import(account, sample_mailbox)
    assert imported.saved_receipts == 0 and imported.already_stored == synced.saved_receipts
    assert imported.messages_scanned == synced.messages_scanned
    assert _receipts(account) == stored
