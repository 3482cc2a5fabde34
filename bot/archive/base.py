"""What loading an archive produces: the tweets and the problems met on the way."""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path

from bot.archive.tree import read_file_under
from bot.errors import ArchiveError
from bot.model import Media, Outline, ReadLimits, Tweet
from bot.selection import is_reply_to_other
from bot.threads import Threads, find_threads

# A hostile file can hold millions of bad items; listing each would cost more
# memory than the tweets. Beyond these, problems are only counted.
MAX_PROBLEMS_PER_FILE = 1000
MAX_PROBLEMS = 20_000
_PLACE = re.compile(r"(?:#[0-9]+|:[0-9]+)\Z")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing the readers skipped or could not use; loading went on.

    where: "file.md:40" (line, 1-based) or "data/tweets-part1.js#12" (item index
        in the file's array, 0-based), or just the path when a whole file or zip
        entry is affected; paths are relative to the archive root.
    reason: a sentence saying what is wrong, e.g. "unparseable date 'Foo 31 2022'".
    """

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(frozen=True)
class Archive:
    """A loaded archive.

    root: the folder or .zip the user named (the folder holding a single file).
    username: the owner's screen name (account.js, else the most common author
        in markdown footer links), None when unknown.
    tweets: sorted by created_at then id, one per id.
    problems: everything skipped or unusable, in reading order.
    formats: the formats found, "official" and/or "markdown".
    ids: every tweet id of the archive, when `tweets` holds only some of them
        (the few days around one date, read from the index, with no problems);
        None when `tweets` is the whole archive.
    limits: what the readers accepted; `read_media` keeps to max_media_size.
    thread_map: the self-threads of the whole archive, when `tweets` holds only
        some of it; None when `tweets` is the whole archive (see `threads`).
    """

    root: Path
    username: str | None
    tweets: tuple[Tweet, ...]
    problems: tuple[Problem, ...]
    formats: tuple[str, ...]
    ids: Container[str] | None = field(default=None, repr=False, compare=False)
    limits: ReadLimits = field(default=ReadLimits(), repr=False, compare=False)
    thread_map: Threads | None = field(default=None, repr=False, compare=False)

    @cached_property
    def threads(self) -> Threads:
        """The archive's self-threads (bot.threads)."""
        return self.thread_map if self.thread_map is not None else find_threads(self.tweets)

    @cached_property
    def owner_ids(self) -> Container[str]:
        """The ids of all the archive's tweets (the owner's), to recognize self-links."""
        return self.ids if self.ids is not None else frozenset(t.id for t in self.tweets)

    def read_media(self, media: Media) -> bytes:
        """The bytes of one media file, from the folder or the zip.

        Raises ArchiveError when media.problem is set (a missing file, or one
        outside the archive, is never read), or the file cannot be read or is
        larger than `limits.max_media_size` (found out before reading it).
        """
        if media.problem is not None:
            raise ArchiveError(self.root, f"media {media.path}: {media.problem}")
        limits = self.limits
        try:
            return read_file_under(
                self.root, media.path, limits.max_media_size, limits.max_zip_ratio
            )
        except (OSError, zipfile.BadZipFile) as exc:
            raise ArchiveError(self.root, f"media {media.path} cannot be read: {exc}") from None


@dataclass(frozen=True)
class OutlineArchive:
    """The outline of a whole archive (see `Outline`): enough to plan and count
    any day, without the words.

    username: the owner's screen name, None when unknown.
    outlines: every tweet's outline, sorted by created_at then id.
    """

    username: str | None
    outlines: tuple[Outline, ...]

    @cached_property
    def threads(self) -> Threads:
        """The archive's self-threads (bot.threads)."""
        return find_threads(o.tweet for o in self.outlines)


@dataclass(frozen=True)
class Summary:
    """What an archive holds, without its tweets: what `check` reports.

    count: how many tweets; kinds: how many of each kind (see `tweet_kind`);
    with_media: how many have media; first, last: the first and last tweet's
    time (None when there is none); problems: how many items were skipped or
    degraded when it was read.
    """

    root: Path
    username: str | None
    formats: tuple[str, ...]
    count: int
    kinds: Mapping[str, int]
    with_media: int
    first: datetime | None
    last: datetime | None
    problems: int

    @classmethod
    def of(cls, archive: Archive) -> Summary:
        """The summary of a whole archive."""
        tweets = archive.tweets
        return cls(
            root=archive.root,
            username=archive.username,
            formats=archive.formats,
            count=len(tweets),
            kinds=dict(Counter(tweet_kind(t, archive.username) for t in tweets)),
            with_media=sum(bool(t.media) for t in tweets),
            first=tweets[0].created_at if tweets else None,
            last=tweets[-1].created_at if tweets else None,
            problems=len(archive.problems),
        )


def tweet_kind(tweet: Tweet, owner: str | None) -> str:
    """What `check` counts a tweet as: "retweets", "replies to others", "self-replies"
    or "originals"."""
    if tweet.is_retweet:
        return "retweets"
    if is_reply_to_other(tweet, owner):
        return "replies to others"
    if tweet.in_reply_to_user or tweet.in_reply_to_id:
        return "self-replies"
    return "originals"


@dataclass
class Found:
    """What the readers gather, per format, before the loader merges it.

    official / markdown: tweets in reading order (duplicates not yet removed).
    accounts: usernames from account.js files.
    authors: how often each user appears in markdown footer links.
    limits: the caps every reader keeps to.
    """

    official: list[Tweet] = field(default_factory=list)
    markdown: list[Tweet] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    authors: Counter[str] = field(default_factory=Counter)
    limits: ReadLimits = field(default_factory=ReadLimits)
    _per_file: Counter[str] = field(default_factory=Counter, repr=False)

    def problem(self, where: str, reason: str) -> None:
        """Record one problem (only counted once its file has too many listed)."""
        file = _PLACE.sub("", where)
        self._per_file[file] += 1
        if self._per_file[file] <= MAX_PROBLEMS_PER_FILE and len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(where, reason))

    def all_problems(self) -> tuple[Problem, ...]:
        """Every problem listed, then one line per file whose further problems were
        only counted."""
        listed = Counter(_PLACE.sub("", p.where) for p in self.problems)
        more = [
            Problem(file, f"{count - listed[file]} more problems in this file, not listed")
            for file, count in self._per_file.items()
            if count > listed[file]
        ]
        return (*self.problems, *more)
