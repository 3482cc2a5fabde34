"""Wiring of the pure stages: settings -> options, archive -> a day's toots.

No I/O: the CLI (or the daemon) reads the settings, the archive, the handles
file and the state, and passes them in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from bot.archive import Archive
from bot.compose import ComposeOptions, compose
from bot.compose.rewrite import LinkOptions, MentionOptions
from bot.model import InstanceLimits, Skip, Toot, Tweet
from bot.selection import DayPlan, ScheduleOptions, SelectionOptions, plan_day
from bot.settings import Settings


@dataclass(frozen=True, slots=True)
class DayPreview:
    """One day's toots exactly as they would be sent, and what was skipped."""

    day: date
    timezone: str
    max_characters: int
    toots: tuple[Toot, ...]
    skipped: tuple[Skip, ...]
    posted: frozenset[str]


def selection_options(settings: Settings, owner: str | None) -> SelectionOptions:
    s = settings.selection
    return SelectionOptions(
        zone=s.zone,
        owner=owner,
        include_replies=s.include_replies,
        include_retweets=s.include_retweets,
        feb29=s.feb29,
        max_per_day=s.max_per_day,
        exclude_ids=frozenset(s.exclude_ids),
        exclude_patterns=tuple(re.compile(p) for p in s.exclude_patterns),
        min_year=s.min_year,
        max_year=s.max_year,
    )


def schedule_options(settings: Settings) -> ScheduleOptions:
    s = settings.schedule
    return ScheduleOptions(s.mode, s.daily_at, timedelta(seconds=s.min_interval))


@dataclass(frozen=True, slots=True)
class Composer:
    """Composes toots with settings fixed once and the posted map given per call.

    Publishing composes each toot under the state lock, so self-links see the
    statuses posted a moment before; everything else is fixed per run.
    """

    options: ComposeOptions

    def __call__(self, tweet: Tweet, due: datetime, posted: Mapping[str, str]) -> Toot | Skip:
        links = replace(self.options.links, posted=posted)
        return compose(tweet, due, replace(self.options, links=links))


def make_composer(
    settings: Settings, archive: Archive, handles: Mapping[str, str], limits: InstanceLimits
) -> Composer:
    """The Composer for `archive` under `settings`, `handles` and the instance `limits`."""
    links = LinkOptions(
        owner=archive.username,
        owner_ids=archive.owner_ids,
        self_unposted=settings.links.self_unposted,
        archive_template=settings.links.archive_template,
        twitter_host=settings.links.twitter_host,
    )
    mentions = MentionOptions(
        handles=handles,
        mapped=settings.mentions.mapped,
        unmapped=settings.mentions.unmapped,
        link_host=settings.links.twitter_host or "twitter.com",
    )
    return Composer(
        ComposeOptions(
            links=links,
            mentions=mentions,
            footer=settings.compose.footer,
            zone=settings.selection.zone,
            max_characters=limits.max_characters,
            max_media_attachments=limits.max_media_attachments,
            spoiler_text=settings.post.spoiler_text,
            media_missing=settings.media.missing,
            owner=archive.username,
        )
    )


def plan(archive: Archive, day: date, settings: Settings) -> DayPlan:
    """`day`'s tweets of `archive`, filtered, ordered and timed under `settings`."""
    return plan_day(
        archive.tweets,
        day,
        selection_options(settings, archive.username),
        schedule_options(settings),
    )


def preview_day(
    archive: Archive,
    day: date,
    settings: Settings,
    posted: Mapping[str, str],
    handles: Mapping[str, str],
    limits: InstanceLimits,
) -> DayPreview:
    """Select `day`'s tweets and compose each, as `repost` would send them."""
    day_plan = plan(archive, day, settings)
    composer = make_composer(settings, archive, handles, limits)
    toots: list[Toot] = []
    skipped = list(day_plan.skipped)
    for item in day_plan.due:
        result = composer(item.tweet, item.due, posted)
        if isinstance(result, Skip):
            skipped.append(result)
        else:
            toots.append(result)
    return DayPreview(
        day=day,
        timezone=settings.selection.timezone,
        max_characters=limits.max_characters,
        toots=tuple(toots),
        skipped=tuple(skipped),
        posted=frozenset(t.tweet_id for t in toots if t.tweet_id in posted),
    )
