"""Self-threads: found in the archive, and kept whole with `selection.threads = "whole"`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.model import Skip, Tweet
from bot.selection import ScheduleOptions, SelectionOptions, plan_day
from bot.threads import Threads, find_threads

UTC_ZONE = ZoneInfo("UTC")
DAY = date(2026, 4, 5)


def tweet(tid: str, when: str, parent: str | None = None) -> Tweet:
    created = datetime.fromisoformat(when).replace(tzinfo=UTC)
    user = "me" if parent else None
    return Tweet(tid, created, f"text {tid}", f"https://twitter.com/me/status/{tid}", parent, user)


# A thread started on April 5th 2022 and finished over the next two days, a
# standalone tweet between, and a reply to a tweet the archive lacks.
THREAD = [
    tweet("1", "2022-04-05T10:00:00"),
    tweet("2", "2022-04-05T10:05:00", parent="1"),
    tweet("s", "2022-04-05T12:00:00"),
    tweet("3", "2022-04-06T08:00:00", parent="2"),
    tweet("4", "2022-04-07T09:00:00", parent="3"),
    tweet("o", "2022-04-06T09:00:00", parent="404"),
]


def test_find_threads_follows_replies_to_the_oldest_tweet_the_archive_has() -> None:
    threads = find_threads(reversed(THREAD))
    assert threads.first == {"2": "1", "3": "1", "4": "1"}
    assert threads.later == {"1": ("2", "3", "4")}
    assert threads.start("4") == "1"
    assert threads.start("o") == "o"  # its parent is not in the archive: it starts no thread


def test_a_reply_loop_in_a_doctored_archive_ends() -> None:
    loop = [
        tweet("a", "2022-04-05T10:00:00", parent="b"),
        tweet("b", "2022-04-05T11:00:00", parent="a"),
        tweet("c", "2022-04-05T12:00:00", parent="c"),
    ]
    threads = find_threads(loop)
    assert threads.first == {"a": "b"}
    assert threads.later == {"b": ("a",)}


def plan(
    tweets: list[Tweet], day: date, mode: str = "whole", **kw: object
) -> tuple[list[tuple[str, str]], tuple[Skip, ...]]:
    selection = SelectionOptions(zone=UTC_ZONE, owner="me", threads=mode, **kw)  # type: ignore[arg-type]
    result = plan_day(tweets, day, selection, ScheduleOptions(), find_threads(tweets))
    return [(d.tweet.id, d.due.strftime("%d %H:%M")) for d in result.due], result.skipped


def test_whole_posts_the_thread_on_its_first_day_as_one_block() -> None:
    due, _ = plan(THREAD, DAY)
    # The later tweets follow the first one minute apart, before the day's next tweet.
    assert due == [("1", "05 10:00"), ("2", "05 10:01"), ("3", "05 10:02"), ("4", "05 10:03"),
                   ("s", "05 12:00")]  # fmt: skip
    assert plan(THREAD, DAY + timedelta(days=1))[0] == [("o", "06 09:00")]
    assert plan(THREAD, DAY + timedelta(days=2))[0] == []


def test_by_day_posts_each_tweet_on_its_own_day() -> None:
    assert plan(THREAD, DAY, "by_day")[0] == [("1", "05 10:00"), ("2", "05 10:05"),
                                              ("s", "05 12:00")]  # fmt: skip
    assert plan(THREAD, DAY + timedelta(days=1), "by_day")[0] == [("3", "06 08:00"),
                                                                  ("o", "06 09:00")]  # fmt: skip
    assert plan(THREAD, DAY + timedelta(days=2), "by_day")[0] == [("4", "07 09:00")]


def test_a_thread_whose_first_tweet_is_filtered_goes_out_without_it_on_its_day() -> None:
    due, skipped = plan(THREAD, DAY, exclude_ids=frozenset({"1"}))
    assert [tid for tid, _ in due] == ["2", "3", "4", "s"]
    assert skipped == (Skip("1", "excluded id"),)
    assert plan(THREAD, DAY + timedelta(days=2), exclude_ids=frozenset({"1"}))[0] == []


def test_the_daily_cap_counts_every_tweet_of_a_thread() -> None:
    due, skipped = plan(THREAD, DAY, max_per_day=2)
    assert [tid for tid, _ in due] == ["1", "2"]
    assert [s.tweet_id for s in skipped] == ["3", "4", "s"]


def test_daily_mode_keeps_the_block_too() -> None:
    selection = SelectionOptions(zone=UTC_ZONE, owner="me", threads="whole")
    schedule = ScheduleOptions(mode="daily", daily_at=time(9, 0))
    result = plan_day(THREAD, DAY, selection, schedule, find_threads(THREAD))
    assert [d.tweet.id for d in result.due] == ["1", "2", "3", "4", "s"]
    assert result.due[0].due.time() == time(9, 0)


@pytest.mark.parametrize("mode", ["by_day", "whole"])
def test_without_threads_both_modes_agree(mode: str) -> None:
    flat = [t for t in THREAD if t.in_reply_to_id is None]
    assert plan(flat, DAY, mode) == plan(flat, DAY, "by_day")


def test_an_empty_thread_map_changes_nothing() -> None:
    selection = SelectionOptions(zone=UTC_ZONE, owner="me", threads="whole")
    result = plan_day(THREAD, DAY, selection, ScheduleOptions(), Threads())
    assert [d.tweet.id for d in result.due] == ["1", "2", "s"]
