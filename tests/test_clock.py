"""The clocks: the system clock's stop wakes sleepers; the fake clock never waits."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.clock import Clock, FakeClock, SystemClock


def test_system_clock_now_is_aware_utc() -> None:
    now = SystemClock().now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)


def test_system_clock_zero_sleep_returns_true_until_stopped() -> None:
    clock = SystemClock()
    assert clock.sleep(0) is True
    clock.stop()
    assert clock.stopped
    assert clock.sleep(0) is False


def test_system_clock_sleep_after_stop_returns_at_once() -> None:
    clock = SystemClock()
    clock.stop()
    # Would block the test for an hour if stop() did not end it.
    assert clock.sleep(3600) is False


def test_system_clock_stop_wakes_a_sleeping_thread() -> None:
    clock = SystemClock()
    results: list[bool] = []
    sleeper = threading.Thread(target=lambda: results.append(clock.sleep(3600)))
    sleeper.start()
    clock.stop()
    sleeper.join(timeout=5)
    assert not sleeper.is_alive()
    assert results == [False]


def test_fake_clock_sleep_advances_and_records() -> None:
    start = datetime(2026, 4, 5, 12, 0, tzinfo=UTC)
    clock = FakeClock(start)
    assert clock.sleep(90) is True
    assert clock.sleep(0.5) is True
    assert clock.sleeps == [90, 0.5]
    assert clock.now() == start + timedelta(seconds=90.5)


def test_fake_clock_stop_makes_sleeps_fail_without_advancing() -> None:
    clock = FakeClock(datetime(2026, 4, 5, tzinfo=UTC))
    before = clock.now()
    clock.stop()
    assert clock.sleep(10) is False
    assert clock.now() == before
    assert clock.sleeps == [10]


def test_fake_clock_set_and_advance_convert_to_utc() -> None:
    clock = FakeClock()
    clock.set(datetime(2026, 4, 5, 14, 0, tzinfo=timezone(timedelta(hours=2))))
    assert clock.now() == datetime(2026, 4, 5, 12, 0, tzinfo=UTC)
    assert clock.now().tzinfo == UTC
    clock.advance(60)
    assert clock.now() == datetime(2026, 4, 5, 12, 1, tzinfo=UTC)
    assert clock.sleeps == []


def test_fake_clock_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeClock(datetime(2026, 4, 5))


def test_both_clocks_satisfy_the_protocol() -> None:
    clocks: list[Clock] = [SystemClock(), FakeClock()]
    assert all(c.now().tzinfo is not None for c in clocks)
