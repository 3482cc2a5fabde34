"""Wiring of the pure stages: settings -> options, archive -> a day's toots.

No I/O: the CLI (or the daemon) reads the settings, the archive, the handles
file and the state, and passes them in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from bot.archive import Archive
from bot.compose import ComposeOptions, compose
from bot.model import Skip, Toot
from bot.rewrite import LinkOptions, MentionOptions
from bot.selection import DayPlan, ScheduleOptions, SelectionOptions, plan_day
from bot.settings import Settings


@dataclass(frozen=True, slots=True)
class Limits:
    """What the instance allows; defaults until the client has asked it."""

    max_characters: int = 500
    max_media_attachments: int = 4


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


def compose_options(
    settings: Settings,
    archive: Archive,
    posted: Mapping[str, str],
    handles: Mapping[str, str],
    limits: Limits,
) -> ComposeOptions:
    """Everything compose needs, from settings, the archive, state and instance limits."""
    links = LinkOptions(
        owner=archive.username,
        owner_ids=frozenset(t.id for t in archive.tweets),
        posted=posted,
        self_unposted=settings.links.self_unposted,
        archive_template=settings.links.archive_template,
        twitter_host=settings.links.twitter_host,
    )
    mentions = MentionOptions(
        handles=handles, mapped=settings.mentions.mapped, unmapped=settings.mentions.unmapped
    )
    return ComposeOptions(
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


def preview_day(
    archive: Archive,
    day: date,
    settings: Settings,
    posted: Mapping[str, str],
    handles: Mapping[str, str],
    limits: Limits = Limits(),
) -> DayPreview:
    """Select `day`'s tweets and compose each, as `repost` would send them."""
    plan: DayPlan = plan_day(
        archive.tweets,
        day,
        selection_options(settings, archive.username),
        schedule_options(settings),
    )
    options = compose_options(settings, archive, posted, handles, limits)
    toots: list[Toot] = []
    skipped = list(plan.skipped)
    for item in plan.due:
        result = compose(item.tweet, item.due, options)
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
