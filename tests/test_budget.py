"""Pacing by the rate-limit budgets: never a 429, and close to the fastest even pace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.client.budgets import MASTODON_BUDGETS, Budget, Budgets

START = datetime(2026, 4, 5, tzinfo=UTC)


@dataclass
class FixedWindow:
    """Mastodon's counter: a window opened by its first request, `limit` per `period`."""

    limit: int
    period: timedelta
    start: datetime | None = None
    used: int = 0
    refused: int = 0

    def request(self, now: datetime) -> tuple[int, datetime]:
        if self.start is not None and now >= self.start + self.period:
            self.start, self.used = None, 0
        if self.used >= self.limit:
            self.refused += 1
        else:
            self.start = self.start or now
            self.used += 1
        assert self.start is not None
        return self.limit - self.used, self.start + self.period


def run(budgets: Budgets, server: dict[str, FixedWindow], families: list[str]) -> datetime:
    """Send one request per item of `families`, in order, as the pacer says; return the end."""
    now = START
    for family in families:
        now = budgets.ready_at(family, now)
        budgets.sent(family, now)
        remaining, reset = server[family].request(now)
        budgets.observe(family, remaining, reset, now)
        now += timedelta(milliseconds=200)  # the request takes a moment
    return now


@pytest.mark.parametrize(
    ("limit", "period", "count"), [(300, 3 * 3600, 1000), (10, 100, 95), (7, 60, 8)]
)
def test_a_long_run_spends_the_statuses_budget_evenly_and_never_meets_a_429(
    limit: int, period: int, count: int
) -> None:
    server = {"statuses": FixedWindow(limit, timedelta(seconds=period))}
    end = run(Budgets(), server, ["statuses"] * count)
    assert server["statuses"].refused == 0
    fastest = (count - 1) * timedelta(seconds=period) / limit  # the budget's even rate
    assert fastest <= end - START <= fastest * 1.1 + timedelta(seconds=2)


def test_statuses_and_media_each_keep_their_own_budget() -> None:
    server = {
        "statuses": FixedWindow(20, timedelta(seconds=200)),
        "media": FixedWindow(4, timedelta(seconds=100)),
    }
    # Toots of two statuses and one image each.
    end = run(Budgets(), server, ["media", "statuses", "statuses"] * 30)
    assert server["statuses"].refused == server["media"].refused == 0
    binding = max(60 * timedelta(seconds=200) / 20, 30 * timedelta(seconds=100) / 4)
    assert end - START <= binding * 1.1


def test_a_window_half_spent_by_another_process_is_spread_over_what_is_left() -> None:
    window = FixedWindow(10, timedelta(seconds=100), start=START - timedelta(seconds=50), used=8)
    end = run(Budgets(), {"statuses": window}, ["statuses"] * 4)
    assert window.refused == 0
    assert end - START >= timedelta(seconds=50)  # the third had to wait for the reset


def test_without_headers_the_nominal_rate_paces() -> None:
    budgets = Budgets()
    budgets.sent("statuses", START)
    assert budgets.ready_at("statuses", START) == START + timedelta(seconds=36)
    assert budgets.ready_at("media", START) == START  # nothing sent yet
    assert budgets.ready_at("api", START) == START  # not paced


def test_the_eta_names_the_binding_budget() -> None:
    budgets = Budgets()
    assert budgets.eta({"statuses": 300, "media": 10}, START) == (timedelta(hours=3), "statuses")
    assert budgets.eta({"statuses": 30, "media": 30}, START) == (timedelta(minutes=30), "media")
    assert budgets.eta({}, START) == (timedelta(0), None)
    assert MASTODON_BUDGETS["statuses"] == Budget(300, timedelta(hours=3))
