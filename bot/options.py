"""The settings turned into the options of the pure stages, read once at the edge.

`selection` and `compose` know nothing of pydantic or of where a value came
from: this module builds their frozen option values from the settings, and
`plan` runs the selection stage for a day under them. No I/O: the caller
reads the settings, the archive and the handles file, and passes them in
(`day_reader` only says how a day is to be read from an `ArchiveSource`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from functools import partial
from typing import TYPE_CHECKING

from bot.archive import Archive
from bot.archive.alttext import NO_ALT_TEXTS, AltTexts
from bot.archive.source import ArchiveSource
from bot.compose import ComposeOptions, Composer
from bot.compose.media import MediaLimits
from bot.compose.rewrite import LinkOptions, MentionOptions
from bot.model import InstanceLimits
from bot.selection import DayPlan, ScheduleOptions, SelectionOptions, plan_day
from bot.settings import Settings

if TYPE_CHECKING:  # a profile is only read from a state file that keeps one
    from bot.profile import ServerProfile


def selection_options(settings: Settings, owner: str | None) -> SelectionOptions:
    """What `selection` keeps, from `[selection]`; `owner` tells self-replies from replies."""
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
        threads=s.threads,
    )


def schedule_options(settings: Settings) -> ScheduleOptions:
    """When toots are due, from `[schedule]`."""
    s = settings.schedule
    return ScheduleOptions(s.mode, s.daily_at, timedelta(seconds=s.min_interval))


def offline_limits(settings: Settings, server: ServerProfile | None) -> tuple[InstanceLimits, str]:
    """What a command that asks no server measures toots against, and where it came from.

    server: the profile the state file keeps (a run of `repost` or the daemon
        keeps it), so that `preview` uses the limit and length rule `repost`
        will use; without one, `compose.max_characters` and Mastodon's rule.
    """
    if server is None:
        limits = InstanceLimits(max_characters=settings.compose.max_characters)
        return limits, "compose.max_characters; no server profile kept in the state file yet"
    read = server.read_at.strftime("%Y-%m-%d %H:%M UTC")
    return server.limits, f"server profile of {server.describe()}, read {read}"


def make_composer(
    settings: Settings,
    archive: Archive,
    handles: Mapping[str, str],
    limits: InstanceLimits,
    alt_texts: AltTexts = NO_ALT_TEXTS,
) -> Composer:
    """The Composer for `archive` under `settings`, `handles`, the instance `limits`
    and the descriptions of the alt-text file."""
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
            characters_reserved_per_url=limits.characters_reserved_per_url,
            length_rule=limits.length_rule,
            max_parts=settings.compose.max_parts,
            spoiler_text=settings.post.spoiler_text,
            media_missing=settings.media.missing,
            media_limits=MediaLimits.of(limits),
            media_refused=settings.media.refused,
            owner=archive.username,
            language=settings.post.language,
            sensitive=settings.media.sensitive,
            quote_posts=limits.quote_posts,
            alt_texts=alt_texts,
        )
    )


def day_reader(settings: Settings, source: ArchiveSource) -> Callable[[date], Archive]:
    """Reads what a day needs from `source` under `settings`: the month-days of the
    Feb 29 policy in `selection.timezone`, and with `selection.threads = "whole"`
    the rest of its threads."""
    s = settings.selection
    return partial(source.day, feb29=s.feb29, whole_threads=s.threads == "whole", zone=s.zone)


def plan(archive: Archive, day: date, settings: Settings) -> DayPlan:
    """`day`'s tweets of `archive`, filtered, ordered and timed under `settings`."""
    return plan_day(
        archive.tweets,
        day,
        selection_options(settings, archive.username),
        schedule_options(settings),
        archive.threads,
    )
