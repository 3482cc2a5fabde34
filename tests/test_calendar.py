"""The calendar: every day's count is what `preview` of that day shows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.archive import Archive
from bot.archive.base import OutlineArchive
from bot.calendar import Calendar, DayCount, days_between, heat_level, month_days
from bot.model import InstanceLimits, Media, Outline, Tweet
from bot.preview import Words, calendar, calendar_needs_words, preview_day
from bot.settings import Settings, load_settings

ZONES = ["UTC", "America/New_York", "Pacific/Kiritimati", "Asia/Kolkata"]
EPOCH = datetime(2019, 1, 1, tzinfo=UTC)
LONG = "A sentence that goes on. " * 300  # more toots than compose.max_parts allows


@st.composite
def archives(draw: st.DrawFn) -> Archive:
    """Tweets over a few Februaries and Marches: threads, replies, retweets (of
    your own tweets too), blank texts, media missing or not."""
    count = draw(st.integers(1, 40))
    tweets: list[Tweet] = []
    for i in range(count):
        year = draw(st.sampled_from([2019, 2020, 2023, 2024]))
        start = datetime(year, 2, 25, tzinfo=UTC)
        when = start + timedelta(minutes=draw(st.integers(0, 8 * 24 * 60)))
        parent = draw(st.sampled_from([None, None, "other", *[t.id for t in tweets]]))
        media = tuple(
            Media(
                f"m/{i}-{j}.jpg",
                problem=draw(st.sampled_from([None, "missing"])),
                size=draw(st.sampled_from([None, 1000, 20 << 20])),  # 20 MiB: over the server's
            )
            for j in range(draw(st.integers(0, 2)))
        )
        retweet = draw(st.booleans()) and parent is None and i % 3 == 0
        # A retweet of one of your own tweets: a boost, once that tweet is posted.
        boosted = draw(st.sampled_from([None, *[t.id for t in tweets]])) if retweet else None
        text = draw(st.sampled_from(["hello", "", " ", "secret word", "a #tag", LONG]))
        tweets.append(
            Tweet(
                str(1000 + i),
                when,
                f"RT @me: {text}" if boosted else text,
                f"https://twitter.com/me/status/{1000 + i}",
                in_reply_to_id=None if parent in (None, "other") else parent,
                in_reply_to_user=None if parent is None else ("bob" if parent == "other" else "me"),
                is_retweet=retweet,
                media=media,
                retweet_of=boosted,
            )
        )
    tweets.sort(key=lambda t: (t.created_at, t.id))
    return Archive(Path("."), "me", tuple(tweets), (), ("official",))


@st.composite
def all_settings(draw: st.DrawFn) -> Settings:
    selection: dict[str, Any] = {
        "timezone": draw(st.sampled_from(ZONES)),
        "feb29": draw(st.sampled_from(["feb28", "mar1", "skip"])),
        "max_per_day": draw(st.integers(0, 3)),
        "include_replies": draw(st.booleans()),
        "include_retweets": draw(st.booleans()),
        "threads": draw(st.sampled_from(["by_day", "whole"])),
        "exclude_ids": draw(st.lists(st.sampled_from(["1001", "1003", "1010"]), max_size=2)),
    }
    if draw(st.booleans()):
        selection["exclude_patterns"] = ["secret"]
    overrides = {
        "selection": selection,
        "schedule": {"mode": draw(st.sampled_from(["anniversary", "daily"]))},
        "media": {"missing": draw(st.sampled_from(["post_without", "skip_tweet"]))},
    }
    return load_settings(None, overrides, env_file=None)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(archives(), all_settings(), st.sampled_from([2026, 2028]))
def test_every_day_s_count_is_the_number_of_toots_preview_shows(
    archive: Archive, options: Settings, year: int
) -> None:
    first, last = date(year, 2, 24), date(year, 3, 5)
    outline = OutlineArchive(archive.username, tuple(map(Outline.of, archive.tweets)))
    limits = InstanceLimits()
    words = (
        Words(archive, {}, {}, limits) if calendar_needs_words(options, outline, limits) else None
    )
    counted = calendar(outline, first, last, options, words)
    for day in counted.days:
        shown = preview_day(archive, day.day, options, {}, {}, limits)
        assert day.toots == len(shown.toots), day.day
        reasons = [s.reason for s in shown.skipped]
        assert day.trimmed == sum(r.startswith("over max_per_day") for r in reasons)
    assert counted.total == sum(d.toots for d in counted.days)


def test_the_words_are_needed_for_patterns_and_for_a_footer_that_may_not_fit() -> None:
    archive = Archive(Path("."), "me", (), (), ())
    outline = OutlineArchive("me", (Outline(Tweet("1", EPOCH, "", ""), url_length=40),))
    limits = InstanceLimits()
    plain = load_settings(None, {}, env_file=None)
    assert not calendar_needs_words(plain, outline, limits)
    patterns = load_settings(None, {"selection": {"exclude_patterns": ["x"]}}, env_file=None)
    assert calendar_needs_words(patterns, outline, limits)
    spoiler = load_settings(None, {"post": {"spoiler_text": "w" * 460}}, env_file=None)
    assert calendar_needs_words(spoiler, outline, limits)
    del archive


def test_a_footer_that_leaves_no_room_skips_every_tweet_in_the_count_too() -> None:
    tweet = Tweet("1", datetime(2022, 4, 5, 10, tzinfo=UTC), "hi", "https://t/1")
    archive = Archive(Path("."), "me", (tweet,), (), ("official",))
    outline = OutlineArchive("me", (Outline.of(tweet),))
    options = load_settings(None, {"post": {"spoiler_text": "w" * 499}}, env_file=None)
    limits = InstanceLimits()
    assert calendar_needs_words(options, outline, limits)
    day = date(2026, 4, 5)
    counted = calendar(outline, day, day, options, Words(archive, {}, {}, limits))
    assert counted.days == (DayCount(day, 0),)
    assert preview_day(archive, day, options, {}, {}, limits).toots == ()


def test_the_summary_of_a_calendar() -> None:
    first = date(2026, 4, 1)
    days = tuple(
        DayCount(d, (d.day * 7) % 5, int(d.day == 9))
        for d in days_between(first, date(2026, 4, 30))
    )
    cal = Calendar(first, date(2026, 4, 30), "UTC", 3, days)
    assert cal.total == sum(d.toots for d in days)
    assert [d.day.day for d in cal.busiest(3)] == [2, 7, 12]
    assert [d.day.day for d in cal.over_cap()] == [9]
    assert cal.next_day(date(2026, 4, 5)) == DayCount(date(2026, 4, 6), 2)
    assert cal.next_day(date(2026, 5, 1)) is None
    assert [heat_level(n, 4) for n in (0, 1, 2, 3, 4)] == [0, 1, 2, 3, 4]
    assert len(month_days(2028, 2)) == 29 and month_days(2026, 12)[-1] == date(2026, 12, 31)


def test_a_retweet_of_your_own_tweet_counts_as_preview_shows_it() -> None:
    """A boost goes out only once its original is posted (or due earlier that day):
    the outline cannot tell, so the calendar composes, as preview does."""
    original = Tweet("1", datetime(2020, 4, 5, 9, tzinfo=UTC), "hello world", "https://t/1")

    def boost(tid: str, day: int) -> Tweet:
        when = datetime(2021, 4, day, 10, tzinfo=UTC)
        text, url = "RT @me: hello world", f"https://t/{tid}"
        return Tweet(tid, when, text, url, is_retweet=True, retweet_of="1")

    same_day, next_day = boost("2", 5), boost("3", 6)
    archive = Archive(Path("."), "me", (original, same_day, next_day), (), ("official",))
    outline = OutlineArchive("me", tuple(map(Outline.of, archive.tweets)))
    options = load_settings(None, {"selection": {"include_retweets": True}}, env_file=None)
    limits = InstanceLimits()
    assert calendar_needs_words(options, outline, limits)
    first, last = date(2026, 4, 5), date(2026, 4, 6)
    counted = calendar(outline, first, last, options, Words(archive, {}, {}, limits))
    shown = [len(preview_day(archive, d.day, options, {}, {}, limits).toots) for d in counted.days]
    assert [d.toots for d in counted.days] == shown == [2, 0]


def test_a_retweet_of_a_tweet_that_failed_before_is_no_boost_in_the_preview() -> None:
    """repost skips a failed tweet, so the retweet due after it finds it not posted."""
    original = Tweet("1", datetime(2020, 4, 5, 9, tzinfo=UTC), "hello world", "https://t/1")
    retweet = Tweet(
        "2", datetime(2021, 4, 5, 10, tzinfo=UTC), "RT @me: hello world", "https://t/2",
        is_retweet=True, retweet_of="1",
    )  # fmt: skip
    archive = Archive(Path("."), "me", (original, retweet), (), ("official",))
    options = load_settings(None, {"selection": {"include_retweets": True}}, env_file=None)
    day, limits = date(2026, 4, 5), InstanceLimits()
    shown = preview_day(archive, day, options, {}, {}, limits, failed={"1": "422 refused"})
    assert [t.tweet_id for t in shown.toots] == ["1"] and shown.failed == {"1": "422 refused"}
    assert [s.tweet_id for s in shown.skipped] == ["2"]
    assert "not posted yet" in shown.skipped[0].reason
