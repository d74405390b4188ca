"""docs/operations.md: its SQL, its checks of a migration, and its rollback, run as written."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from gmail_sync.models import SyncRun
from tests.factories import GmailAccountFactory

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "docs" / "operations.md").read_text()
on_postgresql = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                                   reason="the guide's SQL and psql are PostgreSQL's; .ci/run sets DATABASE_URL")


def _database_url() -> str:
    params = connection.settings_dict
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    return (f"postgres://{params.get('USER') or 'postgres'}{password}@{params.get('HOST') or '127.0.0.1'}:"
            f"{params.get('PORT') or 5432}/{params['NAME']}")


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_guides_sql_runs_and_shows_the_runs() -> None:
    queries = re.findall(r"```sql\n(.*?)```", GUIDE, flags=re.S)
    assert len(queries) == 2
    from django.utils import timezone

    run = SyncRun.objects.create(account=GmailAccountFactory(), mode="full_backfill", status="failed",
                                 error_message="boom", messages_scanned=10, skipped_count=10, running_seconds=4.0,
                                 finished_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(queries[0])
        rows = cursor.fetchall()
        assert rows[0][0] == run.pk and float(rows[0][-1]) == 2.5  # 10 messages in 4 working seconds
        cursor.execute(queries[1])
        assert [row[0] for row in cursor.fetchall()] == [run.pk]


@on_postgresql
@pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")
@pytest.mark.django_db(transaction=True)
def test_the_guides_psql_checks_show_the_status_constraint() -> None:
    commands = re.findall(r'psql "\$DATABASE_URL" -c (\'[^\']*\'|"[^"]*")', GUIDE.replace("\n                         ", " "))
    assert len(commands) == 2
    outputs = [subprocess.run(["psql", _database_url(), "-c", command[1:-1]], capture_output=True, text=True,
                              timeout=60, check=True).stdout for command in commands]
    assert "last_heartbeat_at" in outputs[0] and "max_seconds_per_run" in outputs[0]
    assert "chk_receipt_sync_status" in outputs[1] and "cancelled" in outputs[1]
    assert "chk_receipt_sync_counters_add_up" in outputs[1]


def test_the_guides_rollback_of_a_migration_and_its_way_forward(tmp_path: Path) -> None:
    """The guide's migrate commands on a database of their own: plan, migrate, back to the
    migration it names, and forward again."""
    named = re.search(r"migrate gmail_sync (\S+)", GUIDE).group(1)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true", "SECRET_KEY": "ops",
           "DATABASE_URL": f"sqlite:///{tmp_path}/ops.sqlite3"}

    def manage(*args: str) -> str:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    assert "gmail_sync.0001_initial" in manage("migrate", "--plan")
    manage("migrate", "--noinput")
    manage("migrate", "gmail_sync", named)
    assert f"[X] {named}" in manage("showmigrations", "gmail_sync")
    assert "[ ] 0006" in manage("showmigrations", "gmail_sync")
    manage("migrate", "--noinput")
    assert "[ ]" not in manage("showmigrations", "gmail_sync")


@on_postgresql
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
@pytest.mark.django_db(transaction=True)
def test_the_guides_backup_and_restore(tmp_path: Path) -> None:
    """The backup of section 1, and the restore of section 7 into a scratch database."""
    SyncRun.objects.create(account=GmailAccountFactory(), mode="full_backfill")
    backup = re.search(r"^pg_dump (.*)$", GUIDE, flags=re.M).group(1)
    assert backup.startswith("--format=custom --file=")
    dump = tmp_path / "receipts.dump"
    url = _database_url()
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", url], check=True, timeout=120)
    scratch = url.rsplit("/", 1)[0] + "/postgres"
    name = "receipts_restore_check"
    subprocess.run(["psql", scratch, "-qc", f"DROP DATABASE IF EXISTS {name}", "-c", f"CREATE DATABASE {name}"],
                   check=True, timeout=60, capture_output=True)
    restored = url.rsplit("/", 1)[0] + f"/{name}"
    try:
        assert "pg_restore --clean --dbname" in GUIDE
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--dbname", restored, str(dump)], check=True,
                       timeout=120, capture_output=True)
        rows = subprocess.run(["psql", restored, "-tAc", "SELECT count(*) FROM receipt_sync_runs"], check=True,
                              timeout=60, capture_output=True, text=True).stdout.strip()
        assert rows == "1"
    finally:
        subprocess.run(["psql", scratch, "-qc", f"DROP DATABASE IF EXISTS {name}"], timeout=60, capture_output=True)


@pytest.mark.skipif(not os.environ.get("REDIS_URL") or shutil.which("redis-cli") is None,
                    reason="needs Redis (REDIS_URL) and redis-cli; .ci/run sets it")
def test_the_guides_queue_length_command() -> None:
    command = re.search(r"`(redis-cli -u \"\$REDIS_URL\" llen celery)`", GUIDE).group(1)
    result = subprocess.run(["bash", "-c", command], env=os.environ, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and result.stdout.strip().isdigit(), result.stdout + result.stderr
