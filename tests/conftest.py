from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from gmail_sync.emulator import EmulatorOptions, GmailEmulator, Mailbox
from gmail_sync.emulator.sample import generate_sample_mailbox

# Fixed dates, so the tests do not depend on the day they run.
SAMPLE_END = date(2025, 6, 30)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _no_throttles(settings) -> None:
    """Suites send hundreds of requests as one user; the throttles' own tests set their rates."""
    settings.API_THROTTLE_RATE = None
    settings.SYNC_START_THROTTLE_RATE = None


@pytest.fixture(autouse=True)
def _syncs_in_the_caller(settings) -> None:
    """Tests drive a started sync in the caller, to assert on it when the call returns; the tests
    of the thread mode (the default without Redis) set RUN_SYNCS_IN_THREAD themselves."""
    settings.RUN_SYNCS_IN_THREAD = False


@pytest.fixture(scope="session")
def sample_mailbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 400-message sample mailbox over 12 months ending SAMPLE_END, with its labels file."""
    path = tmp_path_factory.mktemp("mail") / "sample.mbox"
    generate_sample_mailbox(path, seed=11, count=400, months=12, end=SAMPLE_END)
    return path


@pytest.fixture(scope="session")
def big_mailbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default-size sample: about 3,000 messages over 36 months."""
    path = tmp_path_factory.mktemp("bigmail") / "sample.mbox"
    generate_sample_mailbox(path, seed=7, count=3000, months=36, end=SAMPLE_END)
    return path


@pytest.fixture
def emulator(sample_mailbox: Path, settings) -> Iterator[GmailEmulator]:
    """A running emulator over a fresh copy of the sample mailbox; settings point at it."""
    box = Mailbox.from_path(sample_mailbox, address="owner@example.com")
    with GmailEmulator(box, EmulatorOptions(seed=3)) as emu:
        settings.GMAIL_API_ROOT_URL = emu.url
        settings.GOOGLE_TOKEN_URI = emu.token_uri
        settings.GMAIL_QUOTA_UNITS_PER_SECOND = 100000
        yield emu
