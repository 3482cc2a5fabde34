"""What a day would post: each toot composed exactly as `repost` would send it.

Pure: the caller passes the archive (or the day served from the index), the
posted map read from the state file, the handles and the limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from bot.archive import Archive
from bot.model import InstanceLimits, Skip, Toot
from bot.options import make_composer, plan
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
