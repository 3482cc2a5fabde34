"""Which tweets belong to a date, and when each is due (docs/design.md, "Selection").

Pure: every function here is a function of its arguments. "This day" is a
local date in `SelectionOptions.zone`; a tweet belongs to it when its local
month-day matches and its year is earlier.

Due times in local wall-clock terms meet DST: a time that does not exist on D
(spring forward, e.g. 02:30 in New York) is posted at the instant the
pre-transition offset gives it (03:30 new time); a time that happens twice
(fall back) is posted once, at its first occurrence (`fold=0`).

Threads (`SelectionOptions.threads`): "by_day" posts each tweet of a
self-thread on its own day (a reply to its parent's toot when that was
posted). "whole" posts a thread entire on the day of its first tweet, as one
block: its later tweets follow the first at `min_interval` spacing, in order,
and are not posted again on their own days (even when the first tweet is
filtered out: then they go out without it, on its day).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.model import Skip, Tweet
from bot.threads import NO_THREADS, Threads

Feb29 = Literal["feb28", "mar1", "skip"]
ThreadsMode = Literal["by_day", "whole"]


@dataclass(frozen=True, slots=True)
class SelectionOptions:
    """What to keep. owner: the archive's username, to tell self-replies from replies."""

    zone: ZoneInfo
    owner: str | None = None
    include_replies: bool = False
    include_retweets: bool = False
    feb29: Feb29 = "feb28"
    max_per_day: int = 0
    exclude_ids: frozenset[str] = frozenset()
    exclude_patterns: tuple[re.Pattern[str], ...] = ()
    min_year: int | None = None
    max_year: int | None = None
    threads: ThreadsMode = "by_day"


@dataclass(frozen=True, slots=True)
class ScheduleOptions:
    """When to post: at the original time of day, or from `daily_at` on, spaced."""

    mode: Literal["anniversary", "daily"] = "anniversary"
    daily_at: time = time(9, 0)
    min_interval: timedelta = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Due:
    """A selected tweet and the moment it should go out (aware, in the zone)."""

    tweet: Tweet
    due: datetime


@dataclass(frozen=True, slots=True)
class DayPlan:
    """The tweets of one day in posting order, and every skipped one with its reason.

    trimmed: how many of the skipped ones `max_per_day` left out.
    """

    day: date
    due: tuple[Due, ...]
    skipped: tuple[Skip, ...]
    trimmed: int = 0


def source_days(day: date, feb29: Feb29) -> tuple[tuple[int, int], ...]:
    """The (month, day) pairs whose tweets are posted on `day`.

    Feb 29 tweets join Feb 28 or Mar 1 of non-leap years, or are skipped there.
    """
    pairs = [(day.month, day.day)]
    feb29_joins = (day.month, day.day, feb29) in {(2, 28, "feb28"), (3, 1, "mar1")}
    if feb29_joins and not calendar.isleap(day.year):
        pairs.append((2, 29))
    return tuple(pairs)


def on_this_day(tweets: Iterable[Tweet], day: date, options: SelectionOptions) -> list[Tweet]:
    """The tweets of earlier years whose local month-day falls on `day`, oldest first."""
    wanted = set(source_days(day, options.feb29))
    found = []
    for tweet in tweets:
        local = tweet.created_at.astimezone(options.zone)
        if local.year < day.year and (local.month, local.day) in wanted:
            found.append(tweet)
    return sorted(found, key=lambda t: (t.created_at, t.id))


def tweeted_between(
    tweets: Iterable[Tweet], first: date, last: date, options: SelectionOptions
) -> tuple[list[Tweet], list[Skip]]:
    """The tweets tweeted from `first` to `last` (local dates, both included), in
    their original order, that pass the filters; and the skipped ones with why.

    For `backfill`: no "this day", no `max_per_day` and no threads rule apply; a
    thread keeps its order, so each reply follows its parent.
    """
    ordered = sorted(tweets, key=lambda t: (t.created_at, t.id))
    return _filtered(
        (t for t in ordered if first <= t.created_at.astimezone(options.zone).date() <= last),
        options,
    )


def _filtered(tweets: Iterable[Tweet], options: SelectionOptions) -> tuple[list[Tweet], list[Skip]]:
    """The tweets the filters keep, in order, and the others, each with its reason."""
    kept: list[Tweet] = []
    skipped: list[Skip] = []
    for tweet in tweets:
        reason = skip_reason(tweet, options)
        if reason is None:
            kept.append(tweet)
        else:
            skipped.append(Skip(tweet.id, reason))
    return kept, skipped


def skip_reason(tweet: Tweet, options: SelectionOptions) -> str | None:
    """Why `tweet` must not be posted, or None to keep it."""
    year = tweet.created_at.astimezone(options.zone).year
    if tweet.id in options.exclude_ids:
        return "excluded id"
    if tweet.is_retweet and not options.include_retweets:
        return "retweet"
    if is_reply_to_other(tweet, options.owner) and not options.include_replies:
        return f"reply to @{tweet.in_reply_to_user}"
    for pattern in options.exclude_patterns:
        if pattern.search(tweet.text):
            return f"matches exclude pattern {pattern.pattern!r}"
    if options.min_year is not None and year < options.min_year:
        return f"before min_year {options.min_year}"
    if options.max_year is not None and year > options.max_year:
        return f"after max_year {options.max_year}"
    return None


def is_reply_to_other(tweet: Tweet, owner: str | None) -> bool:
    """A reply to somebody else (a reply to oneself is a thread, and is kept)."""
    if tweet.in_reply_to_user is None:
        return tweet.in_reply_to_id is not None and owner is None
    return owner is None or tweet.in_reply_to_user.casefold() != owner.casefold()


def plan_day(
    tweets: Iterable[Tweet],
    day: date,
    selection: SelectionOptions,
    schedule: ScheduleOptions,
    threads: Threads = NO_THREADS,
) -> DayPlan:
    """Select the tweets of `day`, apply the filters and cap, and give each a due time.

    threads: the archive's self-threads (used with `selection.threads == "whole"`;
        `tweets` must then hold the later tweets of the threads starting on `day`).
    """
    chosen = select_day(tweets, day, selection, schedule, threads)
    anchors = [chosen.head[t.id] for t in chosen.kept]
    times = due_times(chosen.kept, day, selection.zone, schedule, anchors)
    return DayPlan(day, tuple(map(Due, chosen.kept, times)), chosen.skipped, chosen.trimmed)


@dataclass(frozen=True, slots=True)
class DaySelection:
    """A day's tweets in posting order, before they are timed (see `select_day`).

    head: each kept tweet's id -> the tweet whose time of day it takes (itself,
        or its thread's first tweet when threads are kept whole).
    """

    kept: list[Tweet]
    skipped: tuple[Skip, ...]
    trimmed: int
    head: dict[str, Tweet]


def select_day(
    tweets: Iterable[Tweet],
    day: date,
    selection: SelectionOptions,
    schedule: ScheduleOptions,
    threads: Threads = NO_THREADS,
) -> DaySelection:
    """`plan_day` without the due times: which tweets `day` posts, in order."""
    tweets = list(tweets)
    found = on_this_day(tweets, day, selection)
    head = {t.id: t for t in found}
    if selection.threads == "whole":
        found, head = _whole_threads(found, tweets, threads)
    kept, skipped = _filtered(found, selection)
    kept.sort(key=lambda t: _posting_order(t, head[t.id], selection.zone, schedule))
    cap = selection.max_per_day
    trimmed = kept[cap:] if cap else []
    skipped += [Skip(t.id, f"over max_per_day ({cap})") for t in trimmed]
    kept = kept[: len(kept) - len(trimmed)]
    return DaySelection(kept, tuple(skipped), len(trimmed), head)


def _whole_threads(
    found: list[Tweet], tweets: list[Tweet], threads: Threads
) -> tuple[list[Tweet], dict[str, Tweet]]:
    """The day's tweets with whole threads: later tweets of a thread leave their
    own day and join their first tweet's; and each tweet's head."""
    by_id = {t.id: t for t in tweets}
    starts = [t for t in found if t.id not in threads.first]
    day: list[Tweet] = []
    head: dict[str, Tweet] = {}
    for start in starts:
        members = [start] + [by_id[m] for m in threads.later.get(start.id, ()) if m in by_id]
        day += members
        head |= dict.fromkeys((m.id for m in members), start)
    return day, head


def _posting_order(
    tweet: Tweet, head: Tweet, zone: ZoneInfo, schedule: ScheduleOptions
) -> tuple[object, ...]:
    """Anniversary mode: by time of day; daily mode: by time. A thread kept whole
    stays one block, in its own order, at its first tweet's place."""
    place = (head.created_at, head.id, tweet.created_at, tweet.id)
    if schedule.mode == "anniversary":
        return (_local_time_of_day(head, zone), *place)
    return place


def due_times(
    tweets: Sequence[Tweet],
    day: date,
    zone: ZoneInfo,
    schedule: ScheduleOptions,
    anchors: Sequence[Tweet] | None = None,
) -> list[datetime]:
    """When each of `tweets` (in posting order) is due on `day`.

    Anniversary mode: the original local time of day of the tweet's anchor
    (by default the tweet itself; the first tweet of a thread kept whole).
    Daily mode: `daily_at`, then one every `min_interval`. Either way no two
    are closer than `min_interval`.
    """
    if schedule.mode == "daily":
        wanted = [local_instant(day, schedule.daily_at, zone)] * len(tweets)
    else:
        wanted = [local_instant(day, _local_time_of_day(t, zone), zone) for t in anchors or tweets]
    # Spacing is done in UTC: adding a timedelta to a zone-aware datetime is
    # wall-clock arithmetic and goes wrong across a DST change.
    spaced: list[datetime] = []
    for moment in wanted:
        if spaced and moment < spaced[-1] + schedule.min_interval:
            moment = spaced[-1] + schedule.min_interval
        spaced.append(moment)
    return [moment.astimezone(zone) for moment in spaced]


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `zone` (DST rules in the module doc)."""
    naive = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    return naive.replace(tzinfo=zone).astimezone(UTC)


def _local_time_of_day(tweet: Tweet, zone: ZoneInfo) -> time:
    return tweet.created_at.astimezone(zone).time().replace(tzinfo=None)
