"""Shared pieces of the benchmarks: mailboxes, an emulator in its own process, a fresh database."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CACHE = ROOT / "bench" / ".mailboxes"
PYTHON = sys.executable


def setup_django(database_url: str | None = None, **env: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("ENCRYPTION_KEY", "x8f9Zs3b1b0S1pJm2ySxkVb6wQ3U0YhJc9bE3xk2nQ8=")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def mailbox(count: int, *, seed: int = 7) -> Path:
    """A sample mailbox of ``count`` messages over 36 months, generated once and cached."""
    sys.path.insert(0, str(ROOT))
    from gmail_sync.emulator.sample import generate_sample_mailbox

    path = CACHE / f"sample-{count}-{seed}.mbox"
    if not path.exists():
        print(f"generating a {count}-message mailbox ...", flush=True)
        generate_sample_mailbox(path, count=count, seed=seed, months=36)
    return path


def eml_mailbox(folder: Path, *, copies: int = 12, seed: int = 3, max_bytes: int = 2_000_000) -> Path:
    """A folder of real ``.eml`` files (the shared corpus, say) made into a mailbox of the last 36
    months: ``copies`` copies of each, every one with a fresh Date and Message-ID, the rest untouched."""
    import email.utils
    import random
    import re
    import tempfile

    rng = random.Random(seed)
    files = sorted(p for p in Path(folder).rglob("*.eml") if p.stat().st_size <= max_bytes)
    if not files:
        raise SystemExit(f"no .eml files under {folder}")
    out = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    now = time.time()
    number = 0
    for _ in range(copies):
        for file in files:
            raw = file.read_bytes()
            separator = b"\r\n\r\n" if b"\r\n\r\n" in raw[:200_000] else b"\n\n"
            head, sep, body = raw.partition(separator)
            head = re.sub(rb"(?im)^(date|message-id):.*(\r?\n[ \t].*)*\r?\n?", b"", head)
            when = email.utils.formatdate(now - rng.uniform(5, 1000) * 86400)
            fresh = f"Date: {when}\nMessage-ID: <copy{number}@bench.example>\n".encode()
            (out / f"{number:06d}.eml").write_bytes(fresh + head + sep + body)
            number += 1
    return out


class EmulatorProcess:
    """``manage.py gmail_emulator`` in a process of its own, so it does not share the worker's core."""

    def __init__(self, mailbox_path: Path, *, quota: float | None = None, latency_ms: tuple[float, float] = (0, 0),
                 address: str = "demo@example.com", quota_model: str = "2026",
                 quota_per_minute: float | None = None) -> None:
        command = [PYTHON, "manage.py", "gmail_emulator", "--mailbox", str(mailbox_path), "--address", address,
                   "--latency-ms", str(latency_ms[0]), str(latency_ms[1]), "--quota-model", quota_model]
        if quota:
            command += ["--quota", str(quota)]
        if quota_per_minute:
            command += ["--quota-per-minute", str(quota_per_minute)]
        env = {**os.environ, "DEBUG": "true", "DATABASE_URL": "sqlite:///:memory:"}
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env)
        line = self.process.stdout.readline()  # type: ignore[union-attr]
        if not line.startswith("Serving"):
            raise RuntimeError(f"emulator did not start: {line!r}")
        self.url = line.strip().rsplit(" at ", 1)[1]
        self.token_uri = self.url + "token"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


def _hwm_kb(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/status").read_text().split("VmHWM:")[1].split()[0])
    except (OSError, IndexError, ValueError):
        return 0


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def peak_rss_mb(command: list[str], env: dict[str, str], *, stdout: Path | None = None) -> tuple[float, float, float]:
    """Run a command and return its peak RSS (the kernel's VmHWM, read until it exits), the sum
    of its child processes' peaks (the sandbox that reads the messages), and its duration.

    Not ru_maxrss from wait4: a child forked from a large parent reports the parent's size."""
    started = time.monotonic()
    out = stdout.open("wb") if stdout else subprocess.DEVNULL
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.DEVNULL)
    peak_kb = 0
    children: dict[int, int] = {}
    while process.poll() is None:
        peak_kb = max(peak_kb, _hwm_kb(process.pid))
        for child in _children(process.pid):
            children[child] = max(children.get(child, 0), _hwm_kb(child))
        time.sleep(0.2)
    if stdout:
        out.close()  # type: ignore[union-attr]
    if process.returncode != 0:
        raise RuntimeError(f"sync failed with exit code {process.returncode}")
    return peak_kb / 1024.0, sum(children.values()) / 1024.0, time.monotonic() - started


def connected_worker(emulator: EmulatorProcess) -> tuple[dict[str, str], Path]:
    """The environment of a worker process on a fresh SQLite database in a new folder, pointed at
    ``emulator`` with no quota of its own, migrated and with the emulator's account connected."""
    import tempfile

    tmp = Path(tempfile.mkdtemp())
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "false", "SECRET_KEY": "bench",
           "ENCRYPTION_KEY": "x8f9Zs3b1b0S1pJm2ySxkVb6wQ3U0YhJc9bE3xk2nQ8=", "LOG_LEVEL": "WARNING",
           "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", "MEDIA_ROOT": f"{tmp}/media",
           "GMAIL_API_ROOT_URL": emulator.url, "GOOGLE_TOKEN_URI": emulator.token_uri,
           "GMAIL_QUOTA_UNITS_PER_SECOND": "1000000"}
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([PYTHON, "manage.py", "add_gmail_account", "demo@example.com", "--refresh-token",
                    "demo-refresh-token", "--business", "Bench"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return env, tmp


def write(name: str, result: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S"), **result}
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, default=str))
    print(f"wrote {RESULTS / (name + '.json')}")


def table(headers: list[str], rows: list[list[Any]]) -> None:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(str(h).rjust(w) for h, w in zip(headers, widths, strict=True)))
    for row in rows:
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)))
