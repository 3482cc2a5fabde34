"""How many toots each day of a range will post: the calendar.

Pure. The counts come from the archive's outline (`bot.model.Outline`: every
tweet without its words) put through the very selection `preview` uses, so a
day's count is the number of toots `preview --date` shows for it: selected,
not trimmed by `max_per_day`, and not skipped by compose (a blank tweet, a
missing media file under `media.missing = "skip_tweet"`, a footer that
leaves no room, a boost of a toot not posted yet). Whether compose keeps a
toot is told from the outline alone, by compose's own `skip_before_layout`,
or, when that cannot tell (see `bot.preview.calendar_needs_words`), asked of
`keeps`, which composes the tweet after the day's earlier toots, as `preview`
does.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.compose import MediaMissing, skip_before_layout
from bot.model import Outline, Tweet
from bot.selection import ScheduleOptions, SelectionOptions, plan_day, select_day, source_days
from bot.threads import NO_THREADS, Threads

# Would compose make a toot of it, due then, after the day's earlier toots (their ids)?
Keeps = Callable[[Outline, datetime, Container[str]], bool]


@dataclass(frozen=True, slots=True)
class DayCount:
    """One day of the calendar.

    toots: how many toots it posts (what `preview --date` shows).
    trimmed: how many selected tweets `max_per_day` leaves out.
    """

    day: date
    toots: int
    trimmed: int = 0


@dataclass(frozen=True)
class Calendar:
    """The days from `first` to `last`, both included, in `timezone`."""

    first: date
    last: date
    timezone: str
    max_per_day: int
    days: tuple[DayCount, ...]

    @property
    def total(self) -> int:
        """How many toots the whole range posts."""
        return sum(d.toots for d in self.days)

    @property
    def active(self) -> int:
        """How many days post at least one toot."""
        return sum(d.toots > 0 for d in self.days)

    def busiest(self, n: int = 5) -> list[DayCount]:
        """The n days with the most toots (earlier first among equals), none empty."""
        ranked = sorted(self.days, key=lambda d: (-d.toots, d.day))
        return [d for d in ranked[:n] if d.toots]

    def over_cap(self) -> list[DayCount]:
        """The days `max_per_day` trims, in order."""
        return [d for d in self.days if d.trimmed]

    def next_day(self, start: date) -> DayCount | None:
        """The first day from `start` on (within the range) that posts a toot."""
        return next((d for d in self.days if d.day >= start and d.toots), None)


def heat_level(count: int, peak: int) -> int:
    """0 for no toots, else 1..4: the quarter of the busiest day's count it reaches."""
    if count <= 0 or peak <= 0:
        return 0
    return min(4, -(-4 * count // peak))


def month_days(year: int, month: int) -> list[date]:
    """Every date of a month."""
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return list(days_between(first, following - timedelta(days=1)))


def days_between(first: date, last: date) -> Iterator[date]:
    """Every date from first to last, both included."""
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def day_counts(
    outlines: Sequence[Outline],
    first: date,
    last: date,
    selection: SelectionOptions,
    schedule: ScheduleOptions,
    threads: Callable[[], Threads],
    keeps: Keeps | None = None,
    media_missing: MediaMissing = "post_without",
) -> Iterator[DayCount]:
    """Each day's count from `first` to `last`, computed as it is asked for.

    selection, schedule: as for `preview` (selection.exclude_patterns needs
        outlines of full tweets: an outline's text is empty).
    threads: the archive's self-threads (asked for only when they are kept whole).
    keeps: None to tell from each outline whether compose keeps it (by
        `skip_before_layout` under `media_missing`); else asked of each
        selected tweet with its due time and the tweets the day posts before it.
    """
    outline = {o.tweet.id: o for o in outlines}
    whole = threads() if selection.threads == "whole" else NO_THREADS
    by_month_day: dict[tuple[int, int], list[Tweet]] = {}
    for o in outlines:
        local = o.tweet.created_at.astimezone(selection.zone)
        by_month_day.setdefault((local.month, local.day), []).append(o.tweet)
    for day in days_between(first, last):
        found = [t for key in source_days(day, selection.feb29) for t in by_month_day.get(key, ())]
        found += [outline[later].tweet for t in found for later in whole.later.get(t.id, ())]
        if keeps is None:  # the due times do not matter: only select
            chosen = select_day(found, day, selection, schedule, whole)
            toots = sum(_composes(outline[t.id], media_missing) for t in chosen.kept)
            yield DayCount(day, toots, chosen.trimmed)
        else:
            planned = plan_day(found, day, selection, schedule, whole)
            earlier: set[str] = set()
            for d in planned.due:
                if keeps(outline[d.tweet.id], d.due, frozenset(earlier)):
                    earlier.add(d.tweet.id)
            yield DayCount(day, len(earlier), planned.trimmed)


def _composes(o: Outline, media_missing: MediaMissing) -> bool:
    return skip_before_layout(not o.blank, o.usable_media, o.broken_media, media_missing) is None
