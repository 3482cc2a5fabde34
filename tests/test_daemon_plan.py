"""The daemon's pure decisions: what to schedule, catch up, report as missed (dayjobs), what
to do about an error (policy), when the host clock jumped (clockwatch).

Fixed dates and zones only; nothing here reads the real clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.daemon.clockwatch import ClockWatch
from bot.daemon.dayjobs import (
    DayJobs,
    is_too_late,
    jobs_for_day,
    lookback_days,
    next_midnight,
    retry_delay,
    startup_batch,
)
from bot.daemon.policy import POLICY, Action, action_for
from bot.errors import (
    AccountMismatch,
    ArchiveError,
    AuthError,
    RateLimited,
    SettingsError,
    StateCorrupt,
    StateLocked,
    Unavailable,
)
from bot.model import Tweet
from bot.pacing import pending_jobs
from bot.selection import DayPlan, Due, ScheduleOptions, SelectionOptions, plan_day
from bot.state import Failed, Pending, Posted, State

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
UTC_ZONE = ZoneInfo("UTC")
SIX_HOURS = timedelta(hours=6)


def tweet(tid: str, when: datetime) -> Tweet:
    return Tweet(tid, when.astimezone(UTC), f"tweet {tid}", f"https://twitter.com/me/status/{tid}")


def day_plan(
    tweets: list[Tweet],
    day: date,
    zone: ZoneInfo = UTC_ZONE,
    schedule: ScheduleOptions | None = None,
    max_per_day: int = 0,
) -> DayPlan:
    selection = SelectionOptions(zone=zone, owner="me", max_per_day=max_per_day)
    return plan_day(tweets, day, selection, schedule or ScheduleOptions())


def ids(items: tuple[Due, ...]) -> list[str]:
    return [d.tweet.id for d in items]


def posted(*tids: str) -> State:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    return State(tweets={t: Posted((f"9{t}",), f"https://ex.social/@me/9{t}", when) for t in tids})


# --- planning a day ----------------------------------------------------------------


def test_anniversary_mode_schedules_each_toot_at_its_original_local_time() -> None:
    tweets = [
        tweet("1", datetime(2022, 4, 5, 8, 15, tzinfo=NEW_YORK)),
        tweet("2", datetime(2021, 4, 5, 22, 40, tzinfo=NEW_YORK)),
        tweet("3", datetime(2020, 4, 5, 13, 0, tzinfo=NEW_YORK)),
    ]
    plan = day_plan(tweets, date(2026, 4, 5), NEW_YORK)
    midnight = datetime(2026, 4, 5, 0, 0, tzinfo=NEW_YORK)
    jobs = jobs_for_day(plan, State(), midnight, SIX_HOURS)
    assert [(d.tweet.id, d.due.astimezone(NEW_YORK).time()) for d in jobs.scheduled] == [
        ("1", time(8, 15)),
        ("3", time(13, 0)),
        ("2", time(22, 40)),
    ]
    assert jobs.catch_up == jobs.missed == jobs.posted == ()


def test_daily_mode_spaces_the_toots_from_daily_at() -> None:
    tweets = [tweet(str(n), datetime(2020 + n, 4, 5, 23, 0, tzinfo=UTC)) for n in range(3)]
    schedule = ScheduleOptions("daily", time(9, 0), timedelta(seconds=90))
    plan = day_plan(tweets, date(2026, 4, 5), schedule=schedule)
    jobs = jobs_for_day(plan, State(), datetime(2026, 4, 5, tzinfo=UTC), SIX_HOURS)
    assert [d.due for d in jobs.scheduled] == [
        datetime(2026, 4, 5, 9, 0, tzinfo=UTC),
        datetime(2026, 4, 5, 9, 1, 30, tzinfo=UTC),
        datetime(2026, 4, 5, 9, 3, tzinfo=UTC),
    ]


def test_anniversary_toots_close_together_are_pushed_apart_by_min_interval() -> None:
    tweets = [
        tweet("1", datetime(2022, 4, 5, 10, 0, 0, tzinfo=UTC)),
        tweet("2", datetime(2021, 4, 5, 10, 0, 20, tzinfo=UTC)),
    ]
    plan = day_plan(tweets, date(2026, 4, 5))
    jobs = jobs_for_day(plan, State(), datetime(2026, 4, 5, tzinfo=UTC), SIX_HOURS)
    first, second = (d.due for d in jobs.scheduled)
    assert second - first == timedelta(seconds=60)


def test_the_cap_leaves_only_max_per_day_toots_to_schedule() -> None:
    tweets = [tweet(str(n), datetime(2015 + n, 4, 5, 10 + n, tzinfo=UTC)) for n in range(5)]
    plan = day_plan(tweets, date(2026, 4, 5), max_per_day=2)
    jobs = jobs_for_day(plan, State(), datetime(2026, 4, 5, tzinfo=UTC), SIX_HOURS)
    assert ids(jobs.scheduled) == ["0", "1"]


@pytest.mark.parametrize(
    ("zone", "day", "tweeted", "expected_utc"),
    [
        # Spring forward: 02:30 does not exist; it goes out at 03:30 new time.
        (NEW_YORK, date(2026, 3, 8), datetime(2025, 3, 8, 2, 30), datetime(2026, 3, 8, 7, 30)),
        (LONDON, date(2026, 3, 29), datetime(2025, 3, 29, 1, 30), datetime(2026, 3, 29, 1, 30)),
        # Fall back: 01:30 happens twice; it goes out once, at the first one.
        (NEW_YORK, date(2026, 11, 1), datetime(2025, 11, 1, 1, 30), datetime(2026, 11, 1, 5, 30)),
        (LONDON, date(2026, 10, 25), datetime(2025, 10, 25, 1, 30), datetime(2026, 10, 25, 0, 30)),
    ],
)
def test_dst_days_give_one_job_at_the_documented_instant(
    zone: ZoneInfo, day: date, tweeted: datetime, expected_utc: datetime
) -> None:
    plan = day_plan([tweet("1", tweeted.replace(tzinfo=zone))], day, zone)
    jobs = jobs_for_day(plan, State(), datetime.combine(day, time(0), zone), SIX_HOURS)
    # In UTC: aware datetimes in a repeated hour never compare equal across zones.
    assert [d.due.astimezone(UTC) for d in jobs.scheduled] == [expected_utc.replace(tzinfo=UTC)]


def test_daily_spacing_is_real_time_across_the_fall_back_hour() -> None:
    tweets = [tweet(str(n), datetime(2020 + n, 11, 1, 12, tzinfo=UTC)) for n in range(2)]
    schedule = ScheduleOptions("daily", time(1, 59), timedelta(minutes=2))
    plan = day_plan(tweets, date(2026, 11, 1), NEW_YORK, schedule)
    jobs = jobs_for_day(plan, State(), datetime(2026, 11, 1, tzinfo=NEW_YORK), SIX_HOURS)
    # In UTC: subtracting two times of one zone is wall-clock arithmetic.
    first, second = (d.due.astimezone(UTC) for d in jobs.scheduled)
    assert second - first == timedelta(minutes=2)


# --- restart in the middle of a day -------------------------------------------------


def restart_plan() -> DayPlan:
    times = {"a": (7, 0), "b": (9, 0), "c": (11, 0), "d": (12, 0), "e": (13, 0), "f": (18, 0)}
    tweets = [tweet(t, datetime(2022, 4, 5, h, m, tzinfo=UTC)) for t, (h, m) in times.items()]
    return day_plan(tweets, date(2026, 4, 5))


def test_restart_mid_day_sorts_each_toot_once() -> None:
    state = posted("c")
    state = State(tweets={**state.tweets, "e": Failed("422 too long")})
    now = datetime(2026, 4, 5, 15, 0, tzinfo=UTC)
    jobs = jobs_for_day(restart_plan(), state, now, SIX_HOURS)
    assert ids(jobs.posted) == ["c"]
    assert ids(jobs.missed) == ["a"]  # 8 h late
    assert ids(jobs.catch_up) == ["b", "d"]  # 6 h and 3 h late
    assert ids(jobs.failed) == ["e"]
    assert ids(jobs.scheduled) == ["f"]


def test_catch_up_boundary_is_inclusive() -> None:
    plan = restart_plan()
    exactly = datetime(2026, 4, 5, 13, 0, tzinfo=UTC)  # "a" is exactly 6 h late
    assert ids(jobs_for_day(plan, State(), exactly, SIX_HOURS).catch_up)[0] == "a"
    a_second_more = exactly + timedelta(seconds=1)
    jobs = jobs_for_day(plan, State(), a_second_more, SIX_HOURS)
    assert ids(jobs.missed) == ["a"]
    assert "a" not in ids(jobs.catch_up)
    due_a = datetime(2026, 4, 5, 7, 0, tzinfo=UTC)
    assert not is_too_late(due_a, exactly, SIX_HOURS)
    assert is_too_late(due_a, a_second_more, SIX_HOURS)


def test_catch_up_zero_posts_nothing_late() -> None:
    now = datetime(2026, 4, 5, 9, 0, 1, tzinfo=UTC)
    jobs = jobs_for_day(restart_plan(), State(), now, timedelta(0))
    assert jobs.catch_up == ()
    assert ids(jobs.missed) == ["a", "b"]


def test_pending_toots_are_left_to_the_pending_batch() -> None:
    since = datetime(2026, 4, 5, 9, 0, 2, tzinfo=UTC)
    state = State(tweets={"b": Pending("key-b", since)})
    jobs = jobs_for_day(restart_plan(), state, since, SIX_HOURS, exclude={"b"})
    every = jobs.posted + jobs.scheduled + jobs.catch_up + jobs.missed + jobs.failed
    assert "b" not in ids(every)
    assert ids(jobs.catch_up) == ["a"]


def test_pending_jobs_are_dated_by_their_start_and_lost_ones_reported() -> None:
    since = datetime(2026, 4, 5, 9, 0, 2, tzinfo=UTC)
    state = State(tweets={"b": Pending("key-b", since), "zz": Pending("key-z", since)})
    known = {t.id: t for t in (d.tweet for d in restart_plan().due)}
    jobs, lost = pending_jobs(state, known)
    assert [(d.tweet.id, d.due) for d in jobs] == [("b", since)]
    assert [(o.tweet_id, o.result) for o in lost] == [("zz", "skipped")]


def test_startup_batch_puts_pending_first_then_catch_up_by_due_each_once() -> None:
    plan = restart_plan()
    by_id = {d.tweet.id: d for d in plan.due}
    yesterday = DayJobs(date(2026, 4, 4), catch_up=(by_id["d"],))
    today = DayJobs(date(2026, 4, 5), catch_up=(by_id["b"], by_id["c"]))
    pending = [by_id["c"]]
    assert ids(startup_batch(pending, [today, yesterday])) == ["c", "b", "d"]


# --- days, midnights, retries ------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "days"),
    [
        (datetime(2026, 4, 5, 3, 0, tzinfo=UTC), [date(2026, 4, 4), date(2026, 4, 5)]),
        (datetime(2026, 4, 5, 6, 0, tzinfo=UTC), [date(2026, 4, 5)]),
        (datetime(2026, 4, 5, 23, 59, tzinfo=UTC), [date(2026, 4, 5)]),
    ],
)
def test_lookback_covers_the_days_the_catch_up_window_touches(
    now: datetime, days: list[date]
) -> None:
    assert list(lookback_days(now, ZoneInfo("UTC"), SIX_HOURS)) == days


def test_lookback_uses_local_days() -> None:
    # 03:00 UTC is 23:00 the day before in New York (EDT).
    now = datetime(2026, 4, 5, 3, 0, tzinfo=UTC)
    assert lookback_days(now, NEW_YORK, timedelta(hours=1)) == (date(2026, 4, 4),)
    assert lookback_days(now, NEW_YORK, timedelta(days=2)) == (
        date(2026, 4, 2),
        date(2026, 4, 3),
        date(2026, 4, 4),
    )


@pytest.mark.parametrize(
    ("zone", "day", "expected_utc"),
    [
        (NEW_YORK, date(2026, 3, 7), datetime(2026, 3, 8, 5, 0)),  # EST midnight
        (NEW_YORK, date(2026, 3, 8), datetime(2026, 3, 9, 4, 0)),  # EDT midnight
        (LONDON, date(2026, 10, 24), datetime(2026, 10, 24, 23, 0)),  # BST midnight
        (LONDON, date(2026, 10, 25), datetime(2026, 10, 26, 0, 0)),  # GMT midnight
        # Chile springs forward at midnight: 00:00 does not exist, the day starts at 01:00.
        (ZoneInfo("America/Santiago"), date(2026, 9, 5), datetime(2026, 9, 6, 4, 0)),
    ],
)
def test_next_midnight_is_the_start_of_the_next_local_day(
    zone: ZoneInfo, day: date, expected_utc: datetime
) -> None:
    midnight = next_midnight(day, zone)
    assert midnight == expected_utc.replace(tzinfo=UTC)
    assert midnight.astimezone(zone).date() == day + timedelta(days=1)
    assert (midnight - timedelta(seconds=1)).astimezone(zone).date() == day


def test_midnight_rollover_plans_the_whole_new_day_ahead() -> None:
    tweets = [
        tweet("early", datetime(2022, 4, 6, 0, 0, tzinfo=UTC)),
        tweet("late", datetime(2022, 4, 6, 23, 59, tzinfo=UTC)),
        tweet("yesterday", datetime(2022, 4, 5, 23, 59, tzinfo=UTC)),
    ]
    day = date(2026, 4, 6)
    at_midnight = next_midnight(date(2026, 4, 5), ZoneInfo("UTC"))
    jobs = jobs_for_day(day_plan(tweets, day), State(), at_midnight, SIX_HOURS)
    # The 00:00 toot is due the instant the day starts: it is caught up, not lost.
    assert ids(jobs.catch_up) == ["early"]
    assert ids(jobs.scheduled) == ["late"]


def test_retry_delay_doubles_from_a_minute_up_to_an_hour() -> None:
    assert [retry_delay(n).total_seconds() for n in range(1, 9)] == [
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]
    assert retry_delay(10_000) == timedelta(hours=1)


# --- the error policy and the clock watch -------------------------------------------


@pytest.mark.parametrize(
    ("error", "posting", "other"),
    [
        (ArchiveError("a.zip", "unreadable"), Action.NEXT_TOOT, Action.STOP),
        (AuthError("401 The access token is invalid", 401), Action.STOP, Action.STOP),
        (Unavailable("503 down"), Action.RETRY, Action.RETRY),
        (RateLimited("429 for an hour", 429), Action.RETRY, Action.RETRY),
        (StateLocked("state.json", "held by pid 7"), Action.RETRY, Action.RETRY),
        (StateCorrupt("state.json", "is not JSON"), Action.STOP, Action.STOP),
        (AccountMismatch("state.json", "another account's"), Action.STOP, Action.STOP),
        (SettingsError(["selection.timezone: unknown"]), Action.STOP, Action.STOP),
        (OSError("No space left on device"), Action.RETRY, Action.RETRY),
    ],
)
def test_the_error_policy_says_what_the_daemon_does(
    error: Exception, posting: Action, other: Action
) -> None:
    assert action_for(error, posting=True) is posting
    assert action_for(error, posting=False) is other


def test_no_rule_of_the_error_policy_is_hidden_by_an_earlier_one() -> None:
    for later, rule in enumerate(POLICY):
        hiding = [r.error for r in POLICY[:later] if issubclass(rule.error, r.error)]
        assert hiding == [], f"{rule.error.__name__} never matches: {hiding} come first"


def test_the_clock_watch_reports_only_jumps_beyond_the_threshold() -> None:
    watch = ClockWatch(threshold=5)
    start = datetime(2026, 4, 5, 12, tzinfo=UTC)
    assert watch.jump(start, 100.0) is None  # the first beat has nothing to compare
    assert watch.jump(start + timedelta(seconds=64), 160.0) is None  # 4 s of drift
    assert watch.jump(start + timedelta(seconds=64 + 3660), 220.0) == 3600
    assert watch.jump(start, 280.0) == -(64 + 3660 + 60)  # set back
