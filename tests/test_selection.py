"""Selection: which tweets belong to a day, which are skipped and why, and when each is due."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.model import Skip, Tweet
from bot.selection import (
    ScheduleOptions,
    SelectionOptions,
    due_times,
    local_instant,
    on_this_day,
    plan_day,
    source_days,
    tweeted_between,
)

UTC_ZONE = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def tweet(tid: str, when: str, text: str = "hello", **kw: Any) -> Tweet:
    created = datetime.fromisoformat(when).replace(tzinfo=UTC)
    return Tweet(
        id=tid, created_at=created, text=text, url=f"https://twitter.com/me/status/{tid}", **kw
    )


def ids(tweets: list[Tweet]) -> list[str]:
    return [t.id for t in tweets]


@pytest.mark.parametrize(
    ("day", "policy", "expected"),
    [
        (date(2026, 4, 5), "feb28", ((4, 5),)),
        (date(2026, 2, 28), "feb28", ((2, 28), (2, 29))),
        (date(2026, 2, 28), "mar1", ((2, 28),)),
        (date(2026, 3, 1), "mar1", ((3, 1), (2, 29))),
        (date(2026, 3, 1), "feb28", ((3, 1),)),
        (date(2026, 2, 28), "skip", ((2, 28),)),
        (date(2028, 2, 28), "feb28", ((2, 28),)),  # leap year: Feb 29 has its own day
        (date(2028, 2, 29), "feb28", ((2, 29),)),
    ],
)
def test_source_days_feb29_policy(
    day: date, policy: str, expected: tuple[tuple[int, int], ...]
) -> None:
    assert source_days(day, policy) == expected  # type: ignore[arg-type]


def test_on_this_day_takes_earlier_years_only_oldest_first() -> None:
    tweets = [
        tweet("3", "2022-04-05T10:00:00"),
        tweet("1", "2019-04-05T23:00:00"),
        tweet("4", "2026-04-05T01:00:00"),  # this year: not "earlier"
        tweet("5", "2022-04-06T00:00:00"),
        tweet("2", "2021-04-05T00:00:00"),
    ]
    options = SelectionOptions(zone=UTC_ZONE)
    assert ids(on_this_day(tweets, date(2026, 4, 5), options)) == ["1", "2", "3"]


def test_local_day_follows_the_timezone() -> None:
    # 2022-04-06 02:00 UTC is still April 5th in New York.
    late = tweet("1", "2022-04-06T02:00:00")
    assert ids(on_this_day([late], date(2026, 4, 5), SelectionOptions(zone=NEW_YORK))) == ["1"]
    assert ids(on_this_day([late], date(2026, 4, 5), SelectionOptions(zone=UTC_ZONE))) == []


def test_feb29_tweets_join_feb28_in_non_leap_years() -> None:
    leap = tweet("1", "2020-02-29T12:00:00")
    assert ids(on_this_day([leap], date(2026, 2, 28), SelectionOptions(zone=UTC_ZONE))) == ["1"]
    skip = SelectionOptions(zone=UTC_ZONE, feb29="skip")
    assert ids(on_this_day([leap], date(2026, 2, 28), skip)) == []
    assert ids(on_this_day([leap], date(2026, 3, 1), skip)) == []


@pytest.mark.parametrize(
    ("tw", "options", "reason"),
    [
        (tweet("1", "2022-04-05T01:00:00", is_retweet=True), {}, "retweet"),
        (tweet("1", "2022-04-05T01:00:00", in_reply_to_user="bob"), {}, "reply to @bob"),
        (tweet("1", "2022-04-05T01:00:00"), {"exclude_ids": frozenset({"1"})}, "excluded id"),
        (
            tweet("1", "2022-04-05T01:00:00", text="my SSN"),
            {"exclude_patterns": (re.compile("SSN"),)},
            "matches exclude pattern 'SSN'",
        ),
        (tweet("1", "2012-04-05T01:00:00"), {"min_year": 2015}, "before min_year 2015"),
        (tweet("1", "2022-04-05T01:00:00"), {"max_year": 2020}, "after max_year 2020"),
    ],
)
def test_every_skip_has_a_reason(tw: Tweet, options: dict[str, object], reason: str) -> None:
    selection = SelectionOptions(zone=UTC_ZONE, owner="me", **options)  # type: ignore[arg-type]
    plan = plan_day([tw], date(2026, 4, 5), selection, ScheduleOptions())
    assert plan.due == ()
    assert plan.skipped == (Skip("1", reason),)


def test_self_replies_are_kept_and_replies_join_when_included() -> None:
    thread = tweet("2", "2022-04-05T01:01:00", in_reply_to_user="Me", in_reply_to_id="1")
    reply = tweet("3", "2022-04-05T01:02:00", in_reply_to_user="bob", in_reply_to_id="9")
    retweet = tweet("4", "2022-04-05T01:03:00", is_retweet=True)
    day = date(2026, 4, 5)
    plan = plan_day(
        [thread, reply, retweet],
        day,
        SelectionOptions(zone=UTC_ZONE, owner="me"),
        ScheduleOptions(),
    )
    assert [d.tweet.id for d in plan.due] == ["2"]
    both = SelectionOptions(zone=UTC_ZONE, owner="me", include_replies=True, include_retweets=True)
    plan = plan_day([thread, reply, retweet], day, both, ScheduleOptions())
    assert [d.tweet.id for d in plan.due] == ["2", "3", "4"]


def test_max_per_day_trims_the_latest_with_a_reason() -> None:
    tweets = [tweet(str(i), f"20{10 + i}-04-05T0{i}:00:00") for i in range(1, 5)]
    selection = SelectionOptions(zone=UTC_ZONE, max_per_day=2)
    plan = plan_day(tweets, date(2026, 4, 5), selection, ScheduleOptions())
    assert [d.tweet.id for d in plan.due] == ["1", "2"]
    assert plan.skipped == (Skip("3", "over max_per_day (2)"), Skip("4", "over max_per_day (2)"))


def test_anniversary_posts_at_the_original_time_of_day_in_order_of_time_of_day() -> None:
    tweets = [tweet("old", "2019-04-05T18:30:00"), tweet("new", "2022-04-05T02:38:24")]
    plan = plan_day(tweets, date(2026, 4, 5), SelectionOptions(zone=UTC_ZONE), ScheduleOptions())
    assert [(d.tweet.id, d.due.isoformat()) for d in plan.due] == [
        ("new", "2026-04-05T02:38:24+00:00"),
        ("old", "2026-04-05T18:30:00+00:00"),
    ]


def test_anniversary_times_never_closer_than_min_interval() -> None:
    tweets = [
        tweet("a", "2019-04-05T10:00:00"),
        tweet("b", "2020-04-05T10:00:30"),
        tweet("c", "2021-04-05T10:05:00"),
    ]
    times = due_times(tweets, date(2026, 4, 5), UTC_ZONE, ScheduleOptions())
    assert [t.time() for t in times] == [time(10, 0), time(10, 1), time(10, 5)]


def test_daily_mode_spaces_from_daily_at() -> None:
    tweets = [tweet(str(i), f"20{10 + i}-04-05T23:00:00") for i in range(3)]
    schedule = ScheduleOptions(
        mode="daily", daily_at=time(9, 0), min_interval=timedelta(minutes=10)
    )
    times = due_times(tweets, date(2026, 4, 5), LONDON, schedule)
    assert [t.isoformat() for t in times] == [
        "2026-04-05T09:00:00+01:00",
        "2026-04-05T09:10:00+01:00",
        "2026-04-05T09:20:00+01:00",
    ]


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected_utc"),
    [
        # Spring forward: 02:30 does not exist; the pre-transition offset places it at 07:30 UTC.
        (NEW_YORK, date(2026, 3, 8), time(2, 30), "2026-03-08T07:30:00+00:00"),
        # Fall back: 01:30 happens twice; it is posted once, at the first (EDT) one.
        (NEW_YORK, date(2026, 11, 1), time(1, 30), "2026-11-01T05:30:00+00:00"),
        (LONDON, date(2026, 3, 29), time(1, 30), "2026-03-29T01:30:00+00:00"),
        (LONDON, date(2026, 10, 25), time(1, 30), "2026-10-25T00:30:00+00:00"),
        (LONDON, date(2026, 7, 1), time(9, 0), "2026-07-01T08:00:00+00:00"),
    ],
)
def test_dst_gaps_and_folds_give_one_instant(
    zone: ZoneInfo, day: date, at: time, expected_utc: str
) -> None:
    assert local_instant(day, at, zone).isoformat() == expected_utc


def test_spacing_is_real_time_across_a_dst_change() -> None:
    # Local 01:59:30 then 01:00 (tweeted in EST) on the New York fall-back night: the second
    # is pushed to one minute after the first in real time, i.e. 01:00:30 EST.
    tweets = [tweet("a", "2019-11-01T05:59:30"), tweet("b", "2020-11-01T06:00:00")]
    times = due_times(tweets, date(2026, 11, 1), NEW_YORK, ScheduleOptions())
    assert [t.astimezone(UTC).isoformat() for t in times] == [
        "2026-11-01T05:59:30+00:00",
        "2026-11-01T06:00:30+00:00",
    ]
    assert times[1].isoformat() == "2026-11-01T01:00:30-05:00"


def test_tweeted_between_keeps_the_original_order_and_the_filters() -> None:
    tweets = [
        tweet("4", "2022-04-30T23:30:00"),  # May 1st in Berlin... not in New York
        tweet("1", "2022-03-01T04:00:00"),  # still Feb 28th in New York
        tweet("2", "2022-03-01T06:00:00"),
        tweet("3", "2022-03-15T12:00:00", is_retweet=True),
        tweet("5", "2019-03-15T12:00:00"),
    ]
    options = SelectionOptions(zone=NEW_YORK)
    kept, skipped = tweeted_between(tweets, date(2022, 3, 1), date(2022, 4, 30), options)
    assert ids(kept) == ["2", "4"]
    assert skipped == [Skip("3", "retweet")]
    berlin = SelectionOptions(zone=ZoneInfo("Europe/Berlin"))
    kept, _ = tweeted_between(tweets, date(2022, 3, 1), date(2022, 4, 30), berlin)
    assert ids(kept) == ["1", "2"]
