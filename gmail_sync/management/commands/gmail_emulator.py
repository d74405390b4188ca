from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gmail_sync.emulator import EmulatorOptions, GmailEmulator, Mailbox


class Command(BaseCommand):
    help = "Serve a mailbox (an mbox file or a folder of .eml files) over the Gmail REST API on loopback."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mailbox", required=True, help="an mbox file or a folder of .eml files")
        parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
        parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
        parser.add_argument("--address", default="demo@example.com", help="the mailbox owner's address")
        parser.add_argument("--quota-model", choices=["2026", "legacy"], default=None,
                            help="what each method costs (default: GMAIL_QUOTA_MODEL)")
        parser.add_argument("--quota", type=float, default=None, help="per-user quota in units per second")
        parser.add_argument("--quota-per-minute", type=float, default=None,
                            help="per-user quota in units per rolling minute (Gmail's 2026 limit is 6000)")
        parser.add_argument("--project-quota-per-minute", type=float, default=None,
                            help="the project's quota in units per rolling minute, shared by every user served "
                                 "(Gmail's 2026 limit is 1200000)")
        parser.add_argument("--latency-ms", type=float, nargs=2, default=(0.0, 0.0), metavar=("MIN", "MAX"))
        parser.add_argument("--fault-rate", type=float, default=0.0, help="share of requests that fail (0-1)")
        parser.add_argument("--token-lifetime", type=int, default=3600, help="access-token lifetime in seconds")
        parser.add_argument("--refresh-token", default="demo-refresh-token", help="the refresh token it accepts")
        parser.add_argument("--arriving", help="an mbox or .eml folder delivered one message at a time while it runs")
        parser.add_argument("--arrival-interval", type=float, default=1.0, help="seconds between arriving messages")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["mailbox"])
        if not path.exists():
            raise CommandError(f"No mailbox at {path}")
        if not 0 <= options["fault_rate"] <= 1:
            raise CommandError("--fault-rate must be between 0 and 1.")
        if not options["host"].startswith("127.") and options["host"] not in {"localhost", "::1"}:
            raise CommandError("The emulator listens on loopback only.")
        box = Mailbox.from_path(path, address=options["address"])
        emulator = GmailEmulator(
            box,
            EmulatorOptions(
                quota_model=options["quota_model"] or settings.GMAIL_QUOTA_MODEL,
                quota_units_per_second=options["quota"],
                quota_units_per_minute=options["quota_per_minute"],
                quota_project_units_per_minute=options["project_quota_per_minute"],
                latency_ms=tuple(options["latency_ms"]),
                fault_rate=options["fault_rate"],
                access_token_lifetime=options["token_lifetime"],
                refresh_tokens={options["refresh_token"]},
                arriving_mail=[m.raw for m in Mailbox.from_path(options["arriving"]).all()] if options["arriving"] else [],
                arrival_interval_seconds=options["arrival_interval"],
            ),
            host=options["host"],
            port=options["port"],
        )
        self.stdout.write(f"Serving {len(box)} messages of {box.address} at {emulator.url}")
        self.stdout.write(f"GMAIL_API_ROOT_URL={emulator.url} GOOGLE_TOKEN_URI={emulator.token_uri}")
        self.stdout.flush()
        try:
            emulator.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            emulator.stop()
