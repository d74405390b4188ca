"""Reading a message in a process of its own, under limits: hostile mail cannot hurt the run.

Parsing and recognition run in a child process (``python -m receipts.sandbox``) with an
address-space limit (``resource.setrlimit``), while the caller waits at most a wall-clock limit
for each message. A child that runs out of memory, takes too long or crashes (a parser's
segfault) is replaced, and that one message is an error with its reason (``memory``,
``timeout``, ``crashed``); the run goes on. The child is a plain subprocess, not a
multiprocessing worker, so it works inside Celery's prefork workers (whose processes may not
have multiprocessing children) and inside a web server's thread.

The child reads length-prefixed pickles of raw messages on stdin and answers on stdout. It
needs no Django: what it returns (a ``ParsedEmail`` and a ``Recognition``) is plain data. When
the parent goes away its stdin closes and the child ends.
"""
from __future__ import annotations

import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from .parsing import ParsedEmail
from .recognition import Recognition

logger = logging.getLogger(__name__)

_HEADER = struct.Struct("!Q")
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 1024 << 20  # the child's address space: PDFium and the parsers live in it
    seconds: float = 30.0  # wall-clock time for one message
    messages_per_child: int = 20000  # a fresh child after this many: nothing a message leaves behind lasts


class MessageFailed(Exception):
    """The sandbox could not read one message; ``reason`` is ``memory``, ``timeout`` or ``crashed``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}{': ' + detail if detail else ''}")
        self.reason = reason


class Sandbox:
    """One child process, used by one thread at a time (a lock keeps it so)."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._child: subprocess.Popen[bytes] | None = None
        self._served = 0
        self._lock = threading.Lock()

    def examine(self, raw: bytes, keep: bool | frozenset[str] = False) -> tuple[ParsedEmail | None, Recognition]:
        """Parse and recognise ``raw`` in the child: the parsed message (for a receipt only; a
        skipped message's headers alone) and the verdict. ``keep`` asks for the whole parse of a
        skipped message too: always (True), or when its sender is covered by one of these rule
        senders (mail a sender rule makes a receipt). Raises ``MessageFailed`` when the child ran
        out of memory or time or died on it, and ``receipts.parsing.MessageRefused`` (re-raised
        from the child) when the message was refused by design."""
        with self._lock:
            payload = pickle.dumps((raw, keep), protocol=pickle.HIGHEST_PROTOCOL)
            for attempt in (1, 2):  # a child that died while idle is replaced, and the message sent again
                child = self._ensure_child()
                assert child.stdin is not None and child.stdout is not None
                try:
                    child.stdin.write(_HEADER.pack(len(payload)) + payload)
                    child.stdin.flush()
                    break
                except (BrokenPipeError, OSError):
                    self._discard()
                    if attempt == 2:
                        raise MessageFailed("crashed", "no reader would take the message") from None
            deadline = time.monotonic() + self.limits.seconds
            try:
                answer = _read_answer(child, deadline)
            except TimeoutError:
                self._discard()
                raise MessageFailed("timeout", f"more than {self.limits.seconds:g} s") from None
            except EOFError:
                code = self._discard()
                reason = ("memory" if code in (-signal.SIGKILL, -signal.SIGABRT) else
                          "timeout" if code == -signal.SIGXCPU else "crashed")
                raise MessageFailed(reason, f"the reader ended with code {code}") from None
            self._served += 1
            if self._served >= self.limits.messages_per_child:
                self._discard()
        kind, value = answer
        if kind == "ok":
            return cast(tuple[ParsedEmail | None, Recognition], value)
        if kind == "refused":
            from .parsing import MessageRefused

            raise MessageRefused(value)
        if kind == "memory":
            raise MessageFailed("memory", str(value))
        raise MessageFailed("crashed", str(value))

    def close(self) -> None:
        with self._lock:
            self._discard()

    def _ensure_child(self) -> subprocess.Popen[bytes]:
        if self._child is None or self._child.poll() is not None:
            self._child = subprocess.Popen(
                [sys.executable, "-m", "receipts.sandbox", str(self.limits.memory_bytes), str(self.limits.seconds)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=str(ROOT), env=_child_env(),
                start_new_session=True,  # a Ctrl-C meant for the sync is not the child's
            )
            self._served = 0
        return self._child

    def _discard(self) -> int | None:
        child, self._child = self._child, None
        if child is None:
            return None
        code = child.poll()
        if code is None:
            child.kill()
            code = child.wait()
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                stream.close()
        return code


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def _read_exactly(child: subprocess.Popen[bytes], size: int, deadline: float) -> bytes:
    assert child.stdout is not None
    fd = child.stdout.fileno()
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            raise TimeoutError
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _read_answer(child: subprocess.Popen[bytes], deadline: float) -> tuple[str, object]:
    (size,) = _HEADER.unpack(_read_exactly(child, _HEADER.size, deadline))
    return pickle.loads(_read_exactly(child, size, deadline))  # type: ignore[no-any-return]


_shared: Sandbox | None = None
_shared_pid = 0
_shared_lock = threading.Lock()


def shared_sandbox() -> Sandbox:
    """The process's sandbox, started on first use, with the limits from the settings. A forked
    process (a prefork worker, a web server's worker) gets one of its own: the pipes of the one
    it inherited belong to its parent."""
    global _shared, _shared_pid
    with _shared_lock:
        if _shared is None or _shared_pid != os.getpid():
            _shared_pid = os.getpid()
            from django.conf import settings

            _shared = Sandbox(Limits(memory_bytes=int(settings.SANDBOX_MEMORY_MB) << 20,
                                     seconds=float(settings.SANDBOX_SECONDS_PER_MESSAGE)))
        return _shared


def _serve(memory_bytes: int, cpu_seconds: float) -> None:
    """The child's loop: a message in, its reading out, until stdin closes."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    _, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
    from receipts.parsing import MessageRefused, parse_email
    from receipts.recognition import recognise
    from receipts.rendering import email_html
    from receipts.senders import rule_for

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        header = stdin.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        (size,) = _HEADER.unpack(header)
        raw, keep = pickle.loads(stdin.read(size))
        # CPU time for this message, beside the parent's wall-clock limit: the kernel stops a child
        # that spins (SIGXCPU) even if nobody is waiting for it any more.
        usage = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(usage.ru_utime + usage.ru_stime + cpu_seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (soft if cpu_hard == resource.RLIM_INFINITY else min(soft, cpu_hard), cpu_hard))
        try:
            parsed = parse_email(raw)
            recognition = recognise(parsed)
            if (recognition.is_receipt or keep is True
                    or (keep and rule_for(parsed.sender_email, dict.fromkeys(keep)) is not None)):
                # its files and headers are stored: they go back with it
                _ = parsed.date  # worked out here, where a hostile header can only hurt the child
                if not parsed.attachments:  # only an email: its page too, made from what a sender wrote
                    parsed.page = email_html(parsed)
                answer: tuple[str, object] = ("ok", (parsed, recognition))
            else:  # the verdict and the headers the ledger keeps: the rest of the parse stays here
                headers = ParsedEmail(subject=parsed.subject[:300], sender_name=parsed.sender_name[:300],
                                      sender_email=parsed.sender_email[:320], date_header=parsed.date_header[:300])
                answer = ("ok", (headers, recognition))
        except MessageRefused as exc:
            answer = ("refused", str(exc))
        except MemoryError:
            answer = ("memory", "more than the reader's memory limit")
        except Exception as exc:  # a parser's own error: this message's, not the run's
            answer = ("crashed", f"{type(exc).__name__}: {exc}"[:300])
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            data = pickle.dumps(("memory", "the reading was too large to send back"))
        stdout.write(_HEADER.pack(len(data)) + data)
        stdout.flush()


if __name__ == "__main__":
    _serve(int(sys.argv[1]), float(sys.argv[2]))
