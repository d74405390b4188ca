"""A Gmail API stand-in for the demo, the tests and the benchmarks.

It serves a mailbox (an mbox file or a folder of .eml files) over loopback, speaking the
Gmail REST API as its discovery document defines it, so the real google-api-python-client
talks to it unchanged.
"""
from .mailbox import EmulatedMessage, Mailbox
from .server import EmulatorOptions, GmailEmulator

__all__ = ["EmulatedMessage", "EmulatorOptions", "GmailEmulator", "Mailbox"]
