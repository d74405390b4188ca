"""Scale-out: 8 accounts at once on 2 worker processes, each account with its own 100 units/s quota.

    python bench/scale_out.py [--accounts 8] [--count 1000] [--project-quota UNITS_PER_SECOND]
                              [--database-url postgres://...] [--redis-url redis://...]

Needs PostgreSQL and Redis (defaults: the local ones). The emulator serves one Gmail user per
account, each with its own quota; two Celery worker processes (a pool of threads each) run the
slices. First one account alone, then all of them at once: aggregate messages/s, and each
account's share. With ``--project-quota`` the emulator also limits the project (every user
together) to that many units a second over a rolling minute, below what the accounts would spend
together, and the workers share a budget of 99% of 60/61 of it through Redis (the 2026 model's
margin): the bench reports how many calls Gmail refused for the project (the goal: none) and the
share of the limit used.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time

from common import PYTHON, ROOT, mailbox, setup_django, table, write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=8)
    parser.add_argument("--count", type=int, default=1000, help="messages in each account's mailbox")
    parser.add_argument("--quota", type=float, default=100.0)
    parser.add_argument("--project-quota", type=float, default=None,
                        help="the project's limit in units a second (over a rolling minute); default: none")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/receipts_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    name = args.database_url.rsplit("/", 1)[1]
    base = args.database_url.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", base, "-qc", f"DROP DATABASE IF EXISTS {name}", "-c", f"CREATE DATABASE {name}"], check=True)
    subprocess.run(["redis-cli", "-u", args.redis_url, "flushdb"], check=True, stdout=subprocess.DEVNULL)
    path = mailbox(args.count)
    tmp = tempfile.mkdtemp()

    project_budget = {"GMAIL_PROJECT_QUOTA_UNITS_PER_SECOND": str(args.project_quota * 60 / 61 * 0.99)} if args.project_quota else {}
    setup_django(args.database_url, REDIS_URL=args.redis_url, MEDIA_ROOT=f"{tmp}/media",
                 GMAIL_QUOTA_UNITS_PER_SECOND=str(args.quota), GMAIL_QUOTA_MODEL="legacy", **project_budget)
    from django.conf import settings

    from gmail_sync.accounts import gmail_account_connect
    from gmail_sync.emulator import EmulatorOptions, GmailEmulator, Mailbox
    from gmail_sync.models import Business, SyncRun
    from gmail_sync.quota import MODELS
    from gmail_sync.services import sync_start

    addresses = [f"user{i}@example.com" for i in range(args.accounts + 1)]
    emulator = GmailEmulator(Mailbox.from_path(path, address=addresses[0]),
                             EmulatorOptions(quota_model="legacy", quota_units_per_second=args.quota,
                                             quota_project_units_per_minute=args.project_quota * 60
                                             if args.project_quota else None,
                                             latency_ms=(30, 90))).start()
    for index, address in enumerate(addresses[1:], start=1):
        emulator.add_user(Mailbox.from_path(path, address=address), f"token-{index}")
    business, _ = Business.objects.get_or_create(name="Bench")
    accounts = [gmail_account_connect(business=business, email=address,
                                      refresh_token="demo-refresh-token" if i == 0 else f"token-{i}")
                for i, address in enumerate(addresses)]
    env = {**os.environ, "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url,
           "GMAIL_API_ROOT_URL": emulator.url, "GOOGLE_TOKEN_URI": emulator.token_uri,
           "GMAIL_QUOTA_UNITS_PER_SECOND": str(args.quota), "GMAIL_QUOTA_MODEL": "legacy", "MEDIA_ROOT": f"{tmp}/media", **project_budget}
    concurrency = max(1, (args.accounts + 1) // 2)
    workers = [subprocess.Popen([PYTHON, "-m", "celery", "-A", "config", "worker", "--pool=threads",
                                 f"--concurrency={concurrency}", "-n", f"bench{i}@%h", "--loglevel=WARNING",
                                 "--without-gossip", "--without-mingle"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(2)]
    time.sleep(5)

    def sync(batch: list) -> tuple[float, list[SyncRun]]:
        started = time.monotonic()
        runs = [sync_start(account=a, mode="full_backfill", months_back=36, run_to_completion=False,
                           max_seconds_per_run=settings.MAX_SECONDS_PER_RUN) for a in batch]
        pending = {r.pk for r in runs}
        while pending:
            time.sleep(0.5)
            done = set(SyncRun.objects.filter(pk__in=pending, status__in=SyncRun.FINAL_STATUSES).values_list("pk", flat=True))
            pending -= done
        return time.monotonic() - started, [SyncRun.objects.get(pk=r.pk) for r in runs]

    try:
        alone_seconds, (alone,) = sync(accounts[:1])
        emulator.reset_counts()
        refused_before = emulator.project_rate_limited
        together_seconds, together = sync(accounts[1:])
        project_refusals = emulator.project_rate_limited - refused_before
        costs = MODELS["legacy"].costs
        spent = sum(costs.get(method, 0) * count for method, count in emulator.calls.items())
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        emulator.stop()
    alone_rate = alone.messages_scanned / alone_seconds
    rates = [r.messages_scanned / r.duration_seconds for r in together]
    aggregate = sum(r.messages_scanned for r in together) / together_seconds
    mean = statistics.mean(rates)
    table(["accounts", "seconds", "aggregate msg/s", "x one alone", "min share of mean"],
          [[1, round(alone_seconds, 1), round(alone_rate, 2), 1.0, 1.0],
           [len(together), round(together_seconds, 1), round(aggregate, 2), round(aggregate / alone_rate, 2),
            round(min(rates) / mean, 3)]])
    print("per account msg/s:", [round(r, 2) for r in rates])
    print(f"Gmail's refusals for the project: {project_refusals}; units spent together: {spent / together_seconds:.1f}/s"
          + (f" ({spent / together_seconds / args.project_quota:.1%} of the project's limit)" if args.project_quota
             else ""))
    write("scale_out", {"alone_messages_per_second": alone_rate, "aggregate_messages_per_second": aggregate,
                        "speedup": aggregate / alone_rate, "per_account": rates, "min_share_of_mean": min(rates) / mean,
                        "statuses": [r.status for r in together], "project_quota": args.project_quota,
                        "project_refusals": project_refusals, "units_per_second": spent / together_seconds})


if __name__ == "__main__":
    main()
