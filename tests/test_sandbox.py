"""Messages read in a child process under limits: a hostile message costs itself, not the run."""
from __future__ import annotations

import os
import signal
import threading
import time
from email.message import EmailMessage

import pytest

from gmail_sync.emulator.hostile import pdf_bomb
from receipts.parsing import MessageRefused, parse_email
from receipts.recognition import recognise
from receipts.sandbox import Limits, MessageFailed, Sandbox


def _receipt(total: str = "$14.99") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Zoom <billing@zoom.us>"
    msg["Subject"] = "Your receipt from Zoom"
    msg["Date"] = "Mon, 04 Mar 2024 10:00:00 +0000"
    msg.set_content(f"Thanks for your payment.\nInvoice number: INV-7\nTotal paid: {total}\n")
    return msg.as_bytes()


@pytest.fixture
def sandbox():
    box = Sandbox(Limits(memory_bytes=600 << 20, seconds=20))
    yield box
    box.close()


def test_the_child_reads_a_message_as_the_parent_would(sandbox) -> None:
    raw = _receipt()
    parsed, recognition = sandbox.examine(raw)
    here = recognise(parse_email(raw))
    assert (recognition.is_receipt, recognition.amount, recognition.vendor, recognition.reasons) == (
        here.is_receipt, here.amount, here.vendor, here.reasons)
    assert parsed.subject == "Your receipt from Zoom" and parsed.date is not None


def test_a_refusal_in_the_child_is_the_same_refusal(sandbox) -> None:
    parts = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\n{i}\r\n" for i in range(600))
    with pytest.raises(MessageRefused, match="more than 500 MIME parts"):
        sandbox.examine(f"Content-Type: multipart/mixed; boundary=b\r\n\r\n{parts}--b--\r\n".encode())
    assert sandbox.examine(_receipt())[1].is_receipt


@pytest.mark.parametrize(("sig", "reason"), [(signal.SIGSEGV, "crashed"), (signal.SIGXCPU, "timeout"),
                                             (signal.SIGABRT, "memory")])
def test_a_child_that_dies_on_a_message_is_replaced_and_the_message_is_an_error(sandbox, sig, reason) -> None:
    """A parser's segfault, the kernel's CPU limit (SIGXCPU), a failed allocation's abort."""
    assert sandbox.examine(_receipt())[1].is_receipt
    child = sandbox._child
    assert child is not None
    os.kill(child.pid, signal.SIGSTOP)  # the child takes the next message and dies on it
    outcome: list[BaseException] = []

    def examine() -> None:
        try:
            sandbox.examine(_receipt())
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            outcome.append(exc)

    worker = threading.Thread(target=examine)
    worker.start()
    time.sleep(0.2)
    os.kill(child.pid, sig)
    os.kill(child.pid, signal.SIGCONT)
    worker.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], MessageFailed) and outcome[0].reason == reason
    assert sandbox.examine(_receipt("$20.00"))[1].amount is not None  # a new child
    assert sandbox._child is not None and sandbox._child.pid != child.pid


def test_a_child_gone_between_messages_is_replaced_without_an_error(sandbox) -> None:
    sandbox.examine(_receipt())
    child = sandbox._child
    assert child is not None
    child.kill()
    child.wait()
    assert sandbox.examine(_receipt())[1].is_receipt


def test_a_message_that_takes_too_long_is_a_timeout(monkeypatch) -> None:
    box = Sandbox(Limits(memory_bytes=600 << 20, seconds=0.5))
    try:
        box.examine(_receipt())  # the child is up
        child = box._child
        assert child is not None
        os.kill(child.pid, signal.SIGSTOP)  # a child that never answers
        with pytest.raises(MessageFailed) as failed:
            box.examine(_receipt())
        assert failed.value.reason == "timeout"
        assert child.poll() is not None  # killed, not left behind
        assert box.examine(_receipt())[1].is_receipt
    finally:
        box.close()


def test_a_pdf_bomb_costs_the_child_its_memory_not_the_run(sandbox) -> None:
    """GIVEN a receipt whose PDF inflates to 1 GB of text operators WHEN it is read under a 600 MB
    limit THEN it is a memory (or crash) error, and the next message is read by a new child."""
    msg = EmailMessage()
    msg["From"] = "Billing <billing@example.com>"
    msg["Subject"] = "Invoice 7"
    msg.set_content("Please find your invoice attached.")
    msg.add_attachment(pdf_bomb(1 << 30), maintype="application", subtype="pdf", filename="invoice.pdf")
    raw = msg.as_bytes()
    assert len(raw) < 20 << 20
    with pytest.raises(MessageFailed) as failed:
        sandbox.examine(raw)
    assert failed.value.reason in {"memory", "crashed"}
    assert sandbox.examine(_receipt())[1].is_receipt


def test_a_forked_process_gets_a_sandbox_of_its_own(settings) -> None:
    """The pipes of an inherited sandbox are the parent's: a fork must not write to them."""
    from receipts import sandbox as module

    parent = module.shared_sandbox()
    assert module.shared_sandbox() is parent
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report whether it got a new one, then leave at once
        os.close(read_end)
        os.write(write_end, b"1" if module.shared_sandbox() is not parent else b"0")
        os._exit(0)
    os.close(write_end)
    answer = os.read(read_end, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"
