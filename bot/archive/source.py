"""An archive as the commands read it: a day, some tweets by id, or all of it, from the index.

Every command but `check` needs a small part of the archive: `preview` and
`status` a day, `repost` a day and the tweets a crash left pending, the
daemon a day at a time. `ArchiveSource` serves those parts from the day index
(`bot.archive.index`), so that none of them reads the whole archive. When the
index is missing or stale, the first request reads the archive whole and
writes the index, and later requests are served from that index; the archive
read is then let go. Only when no index can be written (a read-only cache, an
archive still being copied) is the whole archive kept in memory and served
from there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date, tzinfo
from pathlib import Path
from typing import TypeVar

from bot.archive.base import Archive, OutlineArchive, Summary
from bot.archive.index import CorruptIndex, DayIndex, build_index, open_index, outline_of
from bot.model import ReadLimits, Tweet
from bot.selection import Feb29

T = TypeVar("T")


class ArchiveSource:
    """The archive at `path` (a file, folder or zip, as for `load_archive`), served
    from its index in `index_dir`; `limits` are the readers' caps.

    Raises ArchiveError as `load_archive` does when the archive must be read and
    cannot be, and SettingsError when index_dir is inside the archive.
    """

    def __init__(self, path: Path, index_dir: Path, limits: ReadLimits | None = None) -> None:
        self.path = path
        self.index_dir = index_dir
        self.limits = limits or ReadLimits()
        self._opened: DayIndex | None = None
        self._whole: Archive | None = None  # only when no index could be written

    def day(
        self, day: date, feb29: Feb29, whole_threads: bool = False, zone: tzinfo | None = None
    ) -> Archive:
        """Enough of the archive to plan and compose local `day` (feb29: which
        month-days feed it; zone: the local time zone, None for any): every tweet
        that can fall on it, and `owner_ids` that know every tweet of the archive;
        with whole_threads, also the later tweets of the threads that start on it,
        and the archive's threads (see `DayIndex.days`)."""
        return self.days([day], feb29, whole_threads, zone)

    def days(
        self,
        days: Sequence[date],
        feb29: Feb29,
        whole_threads: bool = False,
        zone: tzinfo | None = None,
    ) -> Archive:
        """As `day`, for several days at once (a range to preview)."""
        return self._served(
            lambda index: index.days(self.path, days, feb29, whole_threads, zone),
            lambda whole: whole,
        )

    def tweets(self, ids: Iterable[str]) -> dict[str, Tweet]:
        """The tweets of `ids` the archive holds, by id (ids it does not hold are left out)."""
        wanted = set(ids)
        if not wanted:
            return {}
        return self._served(
            lambda index: index.tweets(wanted),
            lambda whole: {t.id: t for t in whole.tweets if t.id in wanted},
        )

    def without_tweets(self) -> Archive:
        """The archive with no tweets: its owner, root and formats, and `owner_ids` that
        know every tweet (for self-links); `read_media` reads any of its media."""
        return self._served(
            lambda index: index.archive(self.path, ()),
            lambda whole: replace(whole, tweets=(), problems=(), ids=whole.owner_ids),
        )

    def whole(self) -> Archive:
        """Every tweet of the archive (`problems` is empty when served from the index)."""
        return self._served(lambda index: index.archive(self.path, None), lambda whole: whole)

    def outline(self) -> OutlineArchive:
        """The outline of every tweet (see `Outline`): what the calendar counts from."""
        return self._served(lambda index: index.outline(), outline_of)

    def summary(self) -> Summary:
        """What the archive holds, without reading its tweets when the index is current."""
        return self._served(lambda index: index.summary(self.path), Summary.of)

    def refresh(self) -> None:
        """Check the index against the archive again at the next request (the daemon
        does every day), rebuilding it when the archive changed. A source that could
        write no index keeps serving the archive it read."""
        self._opened = None

    def _served(self, from_index: Callable[[DayIndex], T], from_whole: Callable[[Archive], T]) -> T:
        index = self._index()
        if index is not None:
            try:
                return from_index(index)
            except CorruptIndex:
                pass  # damaged since it was opened: read the archive instead
        if self._whole is None:
            self._whole = build_index(self.path, self.index_dir, self.limits)
        return from_whole(self._whole)

    def _index(self) -> DayIndex | None:
        """The current index, written first when it is missing or stale; None when
        none can be written (the whole archive read is then kept in `_whole`).

        It is checked against the archive at the first request, and again after
        `refresh`: in between, a source serves the archive as it was then.
        """
        if self._opened is not None or self._whole is not None:
            return self._opened
        index = open_index(self.path, self.index_dir, self.limits)
        if index is None:
            whole = build_index(self.path, self.index_dir, self.limits)
            index = open_index(self.path, self.index_dir, self.limits)
            if index is None:
                self._whole = whole
        self._opened = index
        return index
