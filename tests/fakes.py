"""Small stand-ins the tests share."""
from __future__ import annotations


class FakeClock:
    """A monotonic clock that moves only when slept on (or moved by hand): ``clock()`` reads it,
    ``clock.sleep(s)`` advances it and records the wait in ``slept``."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
