"""One slice of an import: an mbox file (a Google Takeout export) read from its checkpoint.

The same run, the same recogniser (in the same sandbox), the same storage and the same counters
as a Gmail scan: only where the mail comes from differs. The checkpoint is the byte offset of the
next message, written in the transaction that stores the receipts before it and moves the
counters past them, so a slice killed at any instant resumes at the last committed message with
nothing lost or counted twice. Spam, trash, drafts and chats (by Takeout's ``X-Gmail-Labels``)
are not in the range, as the API scan leaves them out: passed over and not counted.
"""
from __future__ import annotations

import logging
from pathlib import Path

from receipts.services import Seen

from . import uploads
from .engine import COMMIT_EVERY_FILE_BYTES, Examined, SliceResult, SliceRunner
from .takeout import MboxMessage, NotAnMbox, identify, read_mbox

logger = logging.getLogger(__name__)

# Messages examined before their results are committed together (or sooner, at the time below
# or at COMMIT_EVERY_FILE_BYTES of files): a killed import reads at most this many again.
COMMIT_EVERY_MESSAGES = 500
COMMIT_EVERY_SECONDS = 2.0


class ImportRunner(SliceRunner):
    def _scan(self) -> SliceResult:
        run = self.run_obj
        path = Path(run.source_path)
        try:
            size = path.stat().st_size
        except OSError as exc:
            return self._fail(f"Cannot read the mbox file {path} ({exc.strerror or exc}). Put it back, then resume "
                              "the run to continue from its checkpoint.")
        if run.source_size is not None and size < run.source_offset:
            return self._fail(f"The mbox file {path} is shorter than when this import read it ({size} bytes, "
                              f"checkpoint at {run.source_offset}): it was replaced. Start a new import of it.")
        if run.source_size != size:
            self._update(source_size=size)
        pending, offset, committed_at = Examined(), run.source_offset, self.clock()
        try:
            for message in read_mbox(path, run.source_offset):
                self._examine_message(message, pending)
                offset = message.end
                if (len(pending.drafts) + pending.skipped + pending.errors >= COMMIT_EVERY_MESSAGES
                        or pending.file_bytes >= COMMIT_EVERY_FILE_BYTES
                        or self.clock() - committed_at >= COMMIT_EVERY_SECONDS):
                    self._commit_to(pending, offset)
                    pending, committed_at = Examined(), self.clock()
                    stop = self._should_stop()
                    if stop:
                        return stop
        except NotAnMbox as exc:
            self._commit_to(pending, offset)
            return self._fail(str(exc))
        except OSError as exc:  # the disk, or the file went away midway: what was read stays read
            self._commit_to(pending, offset)
            return self._fail(f"Reading {path} failed ({exc.strerror or exc}). Resume the run to continue from "
                              "its checkpoint.")
        self._commit_to(pending, offset)
        result = self._complete()
        if uploads.is_upload(path):  # an uploaded copy is not kept once it is imported
            path.unlink(missing_ok=True)
        return result

    def _examine_message(self, message: MboxMessage, pending: Examined) -> None:
        if message.raw is None:  # larger than any mail Gmail takes: counted, not read
            logger.warning("run_id=%s message at byte %s refused: larger than the message limit (%s bytes)",
                           self.run_id, message.start, message.size)
            too_large = Seen(error=f"{message.size} bytes: larger than the message limit")
            pending.add([f"byte:{message.start}"], [("error", too_large)])
            return
        try:
            identity = identify(message)
        except Exception:
            logger.warning("run_id=%s message at byte %s could not be read", self.run_id, message.start, exc_info=True)
            pending.add([f"byte:{message.start}"], [("error", Seen(error="its headers could not be read"))])
            return
        if identity.out_of_range:
            return
        verdict = self._read(message.raw, identity.message_id, identity.thread_id, identity.received_at)
        pending.add([identity.message_id], [verdict])

    def _commit_to(self, pending: Examined, offset: int) -> None:
        """Commit ``pending`` with the checkpoint at ``offset``; move the offset alone when
        nothing was counted since (a stretch of spam)."""
        if pending.batches:
            self._commit(pending, {"source_offset": offset})
        elif offset != self.run_obj.source_offset:
            self._update(source_offset=offset)
