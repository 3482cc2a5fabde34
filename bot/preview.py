"""What a day would post: each toot composed exactly as `repost` would send it,
and, for a day without any, what comes next.

Pure: the caller passes the archive (or the day served from the index), the
posted map read from the state file, the handles, the limits and the
descriptions of the alt-text file. A toot sees the day's earlier toots as
posted when it decides between a quote post and a link, as it will when
`repost` sends them in order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from bot.archive import Archive, Problem
from bot.archive.alttext import NO_ALT_TEXTS, AltTexts
from bot.model import InstanceLimits, Skip, Toot, Tweet
from bot.options import make_composer, plan
from bot.selection import source_days
from bot.settings import Settings

# How far `next_toots` looks: four years and a day reach a Feb 29 whatever the policy.
HORIZON = timedelta(days=4 * 365 + 2)


@dataclass(frozen=True, slots=True)
class DayPreview:
    """One day's toots exactly as they would be sent, and what was skipped."""

    day: date
    timezone: str
    max_characters: int
    toots: tuple[Toot, ...]
    skipped: tuple[Skip, ...]
    posted: frozenset[str]
    alt_text_problems: tuple[Problem, ...] = ()


def preview_day(
    archive: Archive,
    day: date,
    settings: Settings,
    posted: Mapping[str, str],
    handles: Mapping[str, str],
    limits: InstanceLimits,
    alt_texts: AltTexts = NO_ALT_TEXTS,
) -> DayPreview:
    """Select `day`'s tweets and compose each, as `repost` would send them."""
    day_plan = plan(archive, day, settings)
    composer = make_composer(settings, archive, handles, limits, alt_texts)
    toots: list[Toot] = []
    skipped = list(day_plan.skipped)
    earlier: set[str] = set()
    for item in day_plan.due:
        result = composer(item.tweet, item.due, posted, frozenset(earlier))
        if isinstance(result, Skip):
            skipped.append(result)
        else:
            toots.append(result)
            earlier.add(result.tweet_id)
    return DayPreview(
        day=day,
        timezone=settings.selection.timezone,
        max_characters=limits.max_characters,
        toots=tuple(toots),
        skipped=tuple(skipped),
        posted=frozenset(t.tweet_id for t in toots if t.tweet_id in posted),
        alt_text_problems=alt_texts.problems,
    )


@dataclass(frozen=True, slots=True)
class Outlook:
    """What to say on a day without toots: the archive's range and what comes next.

    first, last: the local dates of the archive's first and last tweet (None: empty).
    next_day: the first later day that has toots, None when no day within HORIZON
        has any; next_toots: how many it has (as `preview` would show them).
    """

    first: date | None
    last: date | None
    next_day: date | None
    next_toots: int = 0


def outlook(
    archive: Archive,
    after: date,
    settings: Settings,
    posted: Mapping[str, str],
    handles: Mapping[str, str],
    limits: InstanceLimits,
) -> Outlook:
    """The range of `archive` (all of it: see `archive.index.whole_archive`) and the
    first day after `after` that has toots, with their count.

    Each candidate day is composed from its own month-day's tweets only, so the
    search costs one pass over the archive and a little per day that has tweets.
    """
    # When the calendar (per-day counts over a range) lands, its next day answers this.
    zone = settings.selection.zone
    tweets = archive.tweets
    if not tweets:
        return Outlook(None, None, None)
    first = tweets[0].created_at.astimezone(zone).date()
    last = tweets[-1].created_at.astimezone(zone).date()
    by_month_day: dict[tuple[int, int], list[Tweet]] = defaultdict(list)
    for tweet in tweets:
        local = tweet.created_at.astimezone(zone)
        by_month_day[(local.month, local.day)].append(tweet)
    # A tweet is posted in the years after its own: start no earlier than that.
    start = max(after, date(first.year, 12, 31))
    days = min(HORIZON, date.max - start).days
    for offset in range(1, days + 1):
        day = start + timedelta(days=offset)
        keys = source_days(day, settings.selection.feb29)
        found = [t for key in keys for t in by_month_day.get(key, ())]
        if found:
            some = replace(archive, tweets=tuple(found), ids=archive.owner_ids)
            toots = preview_day(some, day, settings, posted, handles, limits).toots
            if toots:
                return Outlook(first, last, day, len(toots))
    return Outlook(first, last, None)
