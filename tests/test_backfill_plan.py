"""Planning a backfill: the range in original order, its cost, and what is left out."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.archive import Archive
from bot.backfill import BackfillPlan, Cost, Progress, plan_backfill
from bot.model import InstanceLimits, Media, Skip, Toot, TootPart, Tweet
from bot.options import make_composer, selection_options
from bot.render import backfill_text, duration, progress_line
from bot.selection import SelectionOptions
from bot.settings import load_settings

NOW = datetime(2026, 4, 5, 12, tzinfo=UTC)


def tweet(tid: str, when: str, **kw: object) -> Tweet:
    created = datetime.fromisoformat(when).replace(tzinfo=UTC)
    return Tweet(tid, created, f"text {tid}", f"https://twitter.com/me/status/{tid}", **kw)  # type: ignore[arg-type]


def compose(t: Tweet, planned: Container[str]) -> Toot | Skip:
    if t.text.endswith("9"):
        return Skip(t.id, "empty")
    parts = tuple(
        TootPart(f"{t.text} ({i})", 10, t.media if i == 0 else ()) for i in range(int(t.id) % 3 + 1)
    )
    return Toot(t.id, t.created_at, NOW, parts)


TWEETS = [
    tweet("5", "2022-04-01T10:00:00", media=(Media("a.jpg"), Media("b.jpg"))),
    tweet("1", "2022-03-01T10:00:00"),
    tweet("2", "2022-03-02T10:00:00", is_retweet=True),
    tweet("3", "2022-03-03T10:00:00"),
    tweet("9", "2022-03-04T10:00:00"),
    tweet("4", "2022-02-28T23:59:00"),  # before the range
    tweet("7", "2022-05-01T00:00:00"),  # after it
]


def test_the_range_in_original_order_without_what_is_posted_or_skipped() -> None:
    plan = plan_backfill(
        TWEETS, date(2022, 3, 1), date(2022, 4, 30), SelectionOptions(zone=ZoneInfo("UTC")),
        compose, posted={"3"}, now=NOW,
    )  # fmt: skip
    assert [d.tweet.id for d in plan.jobs] == ["1", "5"]
    assert all(d.due == NOW for d in plan.jobs)
    assert plan.posted == 1
    assert plan.skipped == (Skip("2", "retweet"), Skip("9", "empty"))
    assert plan.costs == {"1": Cost(2, 0), "5": Cost(3, 2)}
    assert plan.total == Cost(5, 2)


def test_the_dry_run_says_the_count_the_cost_and_the_eta() -> None:
    plan = plan_backfill(
        TWEETS, date(2022, 3, 1), date(2022, 4, 30), SelectionOptions(zone=ZoneInfo("UTC")),
        compose, posted=set(), now=NOW,
    )  # fmt: skip
    text = backfill_text(plan, timedelta(minutes=3), "statuses", "unlisted")
    assert text.splitlines() == [
        "backfill 2022-03-01 to 2022-04-30: 3 toots to post (6 statuses, 2 media), "
        "0 already posted, 2 skipped",
        "ETA 3 min at Mastodon's budgets (300 statuses per 3 h, 30 media per 30 min: "
        "the statuses budget binds); toots are posted unlisted",
        "Nothing was posted.",
    ]


def test_progress_counts_down_the_cost_and_draws_a_bar() -> None:
    progress = Progress(total=4, left=Cost(8, 2), started=NOW)
    progress.record("posted", Cost(3, 2))
    progress.record("already posted", Cost(2, 0))
    assert progress.left == Cost(3, 0) and progress.done == 2
    assert progress.results == {"posted": 1, "already posted": 1}
    later = NOW + timedelta(hours=2)
    assert progress.rate(later) == 1.0
    line = progress_line(progress, later, timedelta(minutes=75), "statuses")
    assert line == "[████████████············] 2/4 toots, 1/h, ETA 1 h 15 min (statuses budget)"
    assert [duration(timedelta(seconds=s)) for s in (5, 600, 3 * 3600 + 300, 50 * 3600)] == [
        "5 s", "10 min", "3 h 05 min", "2 d 2 h",
    ]  # fmt: skip


def plan_with_a_retweet(failed: Container[str] = frozenset()) -> BackfillPlan:
    """A backfill of April 2020: tweet 1, and on the next day 2, its retweet."""
    original = tweet("1", "2020-04-05T09:00:00")
    retweet = replace(
        tweet("2", "2020-04-06T09:00:00"), text="RT @me: text 1", is_retweet=True, retweet_of="1"
    )
    archive = Archive(Path("."), "me", (original, retweet), (), ("official",))
    settings = load_settings(None, {"selection": {"include_retweets": True}}, env_file=None)
    composer = make_composer(settings, archive, {}, InstanceLimits())
    return plan_backfill(
        archive.tweets, date(2020, 4, 1), date(2020, 4, 30), selection_options(settings, "me"),
        lambda t, planned: composer(t, NOW, {}, planned), posted=set(), now=NOW, failed=failed,
    )  # fmt: skip


def test_a_retweet_of_a_tweet_earlier_in_the_range_is_planned_as_its_boost() -> None:
    plan = plan_with_a_retweet()
    assert [d.tweet.id for d in plan.jobs] == ["1", "2"]
    assert plan.skipped == ()
    assert plan.costs["2"] == Cost(1, 0)


def test_a_tweet_that_failed_before_is_left_out_and_its_retweet_is_no_boost() -> None:
    plan = plan_with_a_retweet(failed={"1"})
    assert plan.jobs == ()
    assert [s.tweet_id for s in plan.skipped] == ["1", "2"]
    assert "failed before" in plan.skipped[0].reason
    assert "not posted yet" in plan.skipped[1].reason
