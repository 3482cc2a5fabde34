"""Time, injected: every wait in tootback goes through a `Clock`.

`SystemClock` is the real one; its `sleep` can be cut short by `stop()` (the
daemon's SIGTERM handler calls it), so no wait outlives a shutdown request.
`FakeClock` is for tests: its time only moves when told to or when something
sleeps, and it records every sleep, so no test waits for real.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the rest of tootback needs from time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def sleep(self, seconds: float) -> bool:
        """Wait `seconds`; return False if a stop request ended the wait early."""
        ...


class SystemClock:
    """The real clock; `stop()` wakes every current and future `sleep`."""

    def __init__(self) -> None:
        self._stop = threading.Event()

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> bool:
        """Wait up to `seconds`; return False at once, or as soon as `stop()` is called.

        Returns True when the whole wait elapsed without a stop request.
        """
        if seconds <= 0:
            return not self._stop.is_set()
        return not self._stop.wait(seconds)

    def stop(self) -> None:
        """Ask every wait to end now; safe to call from a signal handler or another thread."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        """True once `stop()` was called."""
        return self._stop.is_set()


class FakeClock:
    """A clock for tests: `sleep` advances the time at once and is recorded.

    start: the initial time, timezone-aware (default 2026-01-01 00:00 UTC).
    Attributes: `sleeps` lists every requested sleep in seconds, in order;
    `stopped` makes every later `sleep` return False without advancing.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _aware(start or datetime(2026, 1, 1, tzinfo=UTC))
        self.sleeps: list[float] = []
        self.stopped = False

    def now(self) -> datetime:
        """The fake current time, UTC."""
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to `when` (timezone-aware), forwards or backwards."""
        self._now = _aware(when)

    def advance(self, seconds: float) -> None:
        """Move the time forward by `seconds` without recording a sleep."""
        self._now += timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> bool:
        """Record the sleep; advance the time unless stopped. Returns False once stopped."""
        self.sleeps.append(seconds)
        if self.stopped:
            return False
        self._now += timedelta(seconds=max(0.0, seconds))
        return True

    def stop(self) -> None:
        """Behave like a shutdown request: later sleeps return False at once."""
        self.stopped = True


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("the clock needs a timezone-aware datetime")
    return when.astimezone(UTC)
