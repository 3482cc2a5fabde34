"""What a day would post: each toot composed exactly as `repost` would send it;
for a day without any, what comes next; and how many toots each day of a
range posts (the calendar).

Pure: the caller passes the archive (or the day served from the index, or
the archive's outline), the posted map read from the state file, the
handles, the limits and the descriptions of the alt-text file. A toot sees
the day's earlier toots as posted when it decides between a quote post and
a link, as it will when `repost` sends them in order.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from bot.archive import Archive, Problem, Summary
from bot.archive.alttext import NO_ALT_TEXTS, AltTexts
from bot.archive.base import OutlineArchive
from bot.compose import ComposeOptions, fits_any_text
from bot.compose.media import MediaLimits
from bot.model import InstanceLimits, LengthRule, Outline, Skip, Toot
from bot.options import make_composer, plan, schedule_options, selection_options
from bot.settings import Settings

if TYPE_CHECKING:  # the calendar is imported by the commands that count days
    from bot.calendar import Calendar, DayCount

# How far `next_toots` looks: four years and a day reach a Feb 29 whatever the policy.
HORIZON = timedelta(days=4 * 365 + 2)


@dataclass(frozen=True, slots=True)
class DayPreview:
    """One day's toots exactly as they would be sent, and what was skipped.

    trimmed: how many of the skipped ones `max_per_day` left out.
    failed: tweet id -> the server's last reason, for the day's toots the state file
        marks failed: `repost` skips them unless told `--retry-failed`.
    length_rule: how the server counts max_characters; limit_from: where the limit
        came from (the kept server profile, or `compose.max_characters`).
    """

    day: date
    timezone: str
    max_characters: int
    toots: tuple[Toot, ...]
    skipped: tuple[Skip, ...]
    posted: frozenset[str]
    alt_text_problems: tuple[Problem, ...] = ()
    trimmed: int = 0
    length_rule: LengthRule = "mastodon"
    limit_from: str = ""
    failed: Mapping[str, str] = field(default_factory=dict)


def preview_day(
    archive: Archive,
    day: date,
    settings: Settings,
    posted: Mapping[str, str],
    handles: Mapping[str, str],
    limits: InstanceLimits,
    alt_texts: AltTexts = NO_ALT_TEXTS,
    limit_from: str = "",
    failed: Mapping[str, str] | None = None,
) -> DayPreview:
    """Select `day`'s tweets and compose each, as `repost` would send them; `limit_from`
    says where `limits` came from (see `options.offline_limits`); `failed`: tweet id ->
    reason, of every tweet the state file marks failed."""
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
            if not failed or result.tweet_id not in failed:  # repost skips a failed one
                earlier.add(result.tweet_id)
    return DayPreview(
        day=day,
        timezone=settings.selection.timezone,
        max_characters=limits.max_characters,
        toots=tuple(toots),
        skipped=tuple(skipped),
        posted=frozenset(t.tweet_id for t in toots if t.tweet_id in posted),
        alt_text_problems=alt_texts.problems,
        trimmed=day_plan.trimmed,
        length_rule=limits.length_rule,
        limit_from=limit_from,
        failed={t.tweet_id: failed[t.tweet_id] for t in toots if failed and t.tweet_id in failed},
    )


def calendar_of(previews: Sequence[DayPreview], settings: Settings) -> Calendar:
    """The calendar of consecutive days already previewed (for the HTML page)."""
    from bot.calendar import Calendar, DayCount

    days = tuple(DayCount(p.day, len(p.toots), p.trimmed) for p in previews)
    return Calendar(
        previews[0].day,
        previews[-1].day,
        settings.selection.timezone,
        settings.selection.max_per_day,
        days,
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


def range_outlooks(
    previews: Sequence[DayPreview],
    covered: tuple[date, date] | None,
    after_range: Callable[[], Outlook],
) -> list[Outlook | None]:
    """For each of consecutive previewed days, what a day without toots says (None for a
    day with toots), as `outlook` would for that day alone: the archive's range
    (`covered`, see `archive_range`), and the next previewed day with toots, or after
    the last one, what `after_range` finds (asked at most once)."""
    first, last = covered or (None, None)
    found: list[Outlook | None] = []
    following: Outlook | None = None
    for preview in reversed(previews):
        if preview.toots:
            following = Outlook(first, last, preview.day, len(preview.toots))
            found.append(None)
            continue
        if following is None:
            following = after_range() if covered else Outlook(None, None, None)
        found.append(following)
    return found[::-1]


def archive_range(summary: Summary, settings: Settings) -> tuple[date, date] | None:
    """The local dates of the archive's first and last tweet; None when it has none."""
    if summary.first is None or summary.last is None:
        return None
    zone = settings.selection.zone
    return summary.first.astimezone(zone).date(), summary.last.astimezone(zone).date()


def outlook(
    summary: Summary,
    day_archive: Callable[[date], Archive],
    after: date,
    settings: Settings,
    posted: Mapping[str, str],
    handles: Mapping[str, str],
    limits: InstanceLimits,
) -> Outlook:
    """The archive's range (from its `summary`) and the first day after `after` that
    has toots, with their count: what `preview_day` gives that day.

    day_archive: enough of the archive for one day (`ArchiveSource.day`). Days are
    tried in turn, from the first that can have toots; a day whose month-days hold
    no tweet costs next to nothing, so the search usually reads a day or two.
    """
    covered = archive_range(summary, settings)
    if covered is None:
        return Outlook(None, None, None)
    first, last = covered
    # A tweet is posted in the years after its own: start no earlier than that.
    start = max(after, date(first.year, 12, 31))
    days = min(HORIZON, date.max - start).days
    for offset in range(1, days + 1):
        day = start + timedelta(days=offset)
        toots = preview_day(day_archive(day), day, settings, posted, handles, limits).toots
        if toots:
            return Outlook(first, last, day, len(toots))
    return Outlook(first, last, None)


@dataclass(frozen=True, slots=True)
class Words:
    """What a calendar that composes needs: the whole archive (its words) and
    the posted map, handles and limits of `preview_day`."""

    archive: Archive
    posted: Mapping[str, str]
    handles: Mapping[str, str]
    limits: InstanceLimits


def calendar_needs_words(
    settings: Settings, outline: OutlineArchive, limits: InstanceLimits
) -> bool:
    """Whether counting days needs the tweets' words, not just their outline:
    with `exclude_patterns`, a footer and spoiler text so long that compose may
    find no room for a tweet (`fits_any_text`), a text long enough that it may
    take more than `compose.max_parts` toots, with `media.refused =
    fail_tweet` a media file the server may not take, or with
    `selection.include_retweets` a retweet, which may be a boost of your own
    tweet, posted only once that tweet is (the outline cannot tell)."""
    options = ComposeOptions(
        footer=settings.compose.footer,
        spoiler_text=settings.post.spoiler_text,
        max_characters=limits.max_characters,
    )
    lengths = {o.url_length for o in outline.outlines}
    # Mastodon counts a text at most about twice its code points (a short URL
    # counts 23): under a third of what max_parts toots hold, it surely fits.
    room = settings.compose.max_parts * (limits.max_characters - 100)
    media = MediaLimits.of(limits)
    sizes = [size for size in (media.image_size, media.video_size) if size is not None]

    def may_be_refused(o: Outline) -> bool:
        return o.usable_media > 0 and (
            bool(media.types) or 0 in sizes or any(o.largest_media > s for s in sizes)
        )

    fail = settings.media.refused == "fail_tweet"
    return (
        bool(settings.selection.exclude_patterns)
        or not all(fits_any_text(options, n) for n in lengths)
        or any(o.text_length * 3 > room for o in outline.outlines)
        or (fail and any(may_be_refused(o) for o in outline.outlines))
        or (
            settings.selection.include_retweets
            and any(o.tweet.is_retweet for o in outline.outlines)
        )
    )


def calendar(
    outline: OutlineArchive,
    first: date,
    last: date,
    settings: Settings,
    words: Words | None = None,
) -> Calendar:
    """How many toots each day from `first` to `last` posts under `settings`:
    for each day, the number of toots `preview_day` gives.

    words: None to count from the outline alone; else each selected tweet is
        composed (needed when `calendar_needs_words`).
    """
    from bot.calendar import Calendar

    counts = tuple(_day_counts(settings, first, last, words or outline))
    s = settings.selection
    return Calendar(first, last, s.timezone, s.max_per_day, counts)


def _day_counts(
    settings: Settings, first: date, last: date, source: OutlineArchive | Words
) -> Iterator[DayCount]:
    """Each day's count, as it is asked for: from the outline alone, or composing
    each selected tweet of the whole archive (`Words`)."""
    from bot.calendar import day_counts

    username = source.username if isinstance(source, OutlineArchive) else source.archive.username
    selection, schedule = selection_options(settings, username), schedule_options(settings)
    missing = settings.media.missing
    if isinstance(source, OutlineArchive):
        outline = source
        return day_counts(
            outline.outlines, first, last, selection, schedule, lambda: outline.threads,
            media_missing=missing,
        )  # fmt: skip
    words = source
    composer = make_composer(settings, words.archive, words.handles, words.limits)

    def keeps(o: Outline, due: datetime, earlier: Container[str]) -> bool:
        return not isinstance(composer(o.tweet, due, words.posted, earlier), Skip)

    outlines = tuple(map(Outline, words.archive.tweets))  # the full tweets, words included
    return day_counts(
        outlines, first, last, selection, schedule, lambda: words.archive.threads, keeps, missing
    )
