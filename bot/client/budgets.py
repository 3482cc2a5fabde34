"""Spending Mastodon's rate-limit budgets evenly, so that a long run never meets a 429.

Mastodon counts, per account, the statuses created (300 per 3 hours) and the
media uploaded (30 per 30 minutes), each in a window that opens with its
first request; every answer carries what is left of the window the request
counted in (`X-RateLimit-Remaining`) and when that window ends
(`X-RateLimit-Reset`). A backfill posts far more than a day does, so it paces
every request of those two families:

- after an answer that said `remaining` and `reset`, the next request of that
  family waits (reset - then) / (remaining + 1): the rest of the window is
  spread evenly over the time left, and a window entered at its start is
  spent at exactly its rate (300 statuses: one every 36 s);
- with nothing left, it waits for the reset (and a margin, for clocks);
- a server that sends no headers is paced at Mastodon's own rates.

Pure: the client's request policy tells `observe` what it saw and asks
`ready_at` before each request; time is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

Family = str  # the rate limit a request counts against: "statuses", "media", "api"


@dataclass(frozen=True, slots=True)
class Budget:
    """A rate-limit budget: `limit` requests per `period`."""

    limit: int
    period: timedelta

    @property
    def interval(self) -> timedelta:
        """The time between two requests when the budget is spent evenly."""
        return self.period / self.limit


MASTODON_BUDGETS: dict[Family, Budget] = {
    "statuses": Budget(300, timedelta(hours=3)),
    "media": Budget(30, timedelta(minutes=30)),
}
MARGIN = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Window:
    """What an answer said about its family's window, and when it was seen."""

    remaining: int
    reset: datetime
    seen: datetime


@dataclass
class Budgets:
    """Paces requests family by family (see the module docstring).

    nominal: the rates used until a server's headers say otherwise.
    margin: added to every wait for a reset.
    """

    nominal: dict[Family, Budget] = field(default_factory=lambda: dict(MASTODON_BUDGETS))
    margin: timedelta = MARGIN
    _last: dict[Family, datetime] = field(default_factory=dict)
    _windows: dict[Family, Window] = field(default_factory=dict)

    def ready_at(self, family: Family, now: datetime) -> datetime:
        """When the next request of `family` may be sent (`now` or later)."""
        window = self._windows.get(family)
        if window is not None and now < window.reset:
            if window.remaining <= 0:
                return window.reset + self.margin
            return max(now, window.seen + (window.reset - window.seen) / (window.remaining + 1))
        budget = self.nominal.get(family)
        last = self._last.get(family)
        if budget is None or last is None:
            return now
        if window is not None:  # the window seen has ended: a new one opens at full budget
            return now
        return max(now, last + budget.interval)

    def sent(self, family: Family, now: datetime) -> None:
        """A request of `family` was just sent."""
        self._last[family] = now

    def observe(
        self, family: Family, remaining: int | None, reset: datetime | None, now: datetime
    ) -> None:
        """An answer to a request of `family` said what is left of its window."""
        if remaining is not None and reset is not None:
            self._windows[family] = Window(remaining, reset, now)

    def interval(self, family: Family, now: datetime) -> timedelta:
        """The time between two requests of `family` at the current pace."""
        window = self._windows.get(family)
        if window is not None and now < window.reset and window.remaining > 0:
            return (window.reset - window.seen) / (window.remaining + 1)
        budget = self.nominal.get(family)
        return budget.interval if budget is not None else timedelta(0)

    def eta(self, left: dict[Family, int], now: datetime) -> tuple[timedelta, Family | None]:
        """How long the requests `left` (per family) take at the current pace, and
        the family that binds (None when nothing is left)."""
        times = {f: n * self.interval(f, now) for f, n in left.items() if n > 0}
        if not times:
            return timedelta(0), None
        binding = max(times, key=lambda f: times[f])
        return times[binding], binding
