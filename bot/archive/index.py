"""A persistent index of a parsed archive, by UTC month-day: cheap days.

Reading a 100k-tweet archive takes seconds; `preview` (and the daemon every
morning) needs one day of it. The first full read writes an index file in
`archive.index_dir`: every tweet, grouped by the UTC month-day it was tweeted
on, each group a separately checksummed JSON blob, plus the owner's name and
the sorted ids of all tweets in 8 bytes each (self-links need them), and the
outline of every tweet: a small table of what planning a day needs without
the words (id, time, reply-to, retweet, blank text, media usable or not, URL
length); the calendar counts a year from it, and whole threads are found in
it. Later runs read only the groups one day can need, so a day costs the same
whatever the size of the archive.

A local day in any zone (UTC-12 to UTC+14) is made of parts of at most three
UTC days, so the groups read are each source month-day of the day (Feb 29
policy included) and their neighbours in leap and common years; selection
then filters them exactly as it filters the whole archive.

The index is a cache, never trusted: it names the archive's absolute path and
holds a fingerprint of it, the size and mtime of every file the readers may
read (`.md`, `.txt`, `.js`, `.zip`) and the mtime of every folder (files added,
removed or renamed, media included, change their folder's). Any difference,
another tootback version, a bad checksum, a truncated or unparseable file:
the index is ignored and rebuilt from the archive. It is written to a temp
file and renamed into place, so readers see the old index or the new one.

File layout: the groups, the id array and the outline table, then the header (JSON: version,
archive, fingerprint, owner, where each group is and its CRC-32), then a
footer of the header's length and CRC-32 and the magic bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import sys
import tempfile
import time
import zipfile
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import orjson

from bot import __version__
from bot.archive.base import Archive, OutlineArchive
from bot.archive.tree import OUTSIDE
from bot.errors import SettingsError
from bot.model import Media, Outline, ReadLimits, Tweet
from bot.selection import Feb29, source_days
from bot.threads import NO_THREADS, Threads

FORMAT = 4  # bump when the layout or the meaning of a field changes
MAGIC = b"tootback-index\n"
_FOOTER = struct.Struct("<QI")  # header length, header CRC-32
_DATA_SUFFIXES = (".md", ".txt", ".js", ".zip")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_SETTLE_NS = 2_000_000_000

Fingerprint = list[list[Any]]  # [path, size or -1 for a folder, mtime_ns]; [path] if absent


class CorruptIndex(Exception):
    """The index file cannot be trusted; it is rebuilt. Never leaves this module."""


def archive_for_day(
    path: Path,
    day: date,
    feb29: Feb29,
    index_dir: Path,
    limits: ReadLimits | None = None,
    whole_threads: bool = False,
) -> Archive:
    """The archive at path, enough of it to plan and compose `day`.

    path: the archive (as for `load_archive`). day: the local date to post.
    feb29: the Feb 29 policy (which month-days feed `day`).
    index_dir: the folder of index files (never inside the archive).
    limits: the readers' caps (as for `load_archive`); an index built under
        other limits is rebuilt, since they decide what was read.
    whole_threads: also read the later tweets of the threads that start on
        `day`, wherever they are, and the archive's threads (for
        `selection.threads = "whole"`).

    Returns an Archive whose `tweets` hold at least every tweet that falls on
    `day` in any time zone (all of them when the index had to be built) and
    whose `owner_ids` know every tweet of the archive; `problems` is empty
    when it comes from the index. Raises ArchiveError as `load_archive` does,
    and SettingsError when index_dir is inside the archive.
    """
    limits = limits or ReadLimits()
    index = _open(path, index_dir, limits)
    if index is not None:
        with contextlib.suppress(CorruptIndex):
            groups = utc_month_days(day, feb29)
            if not whole_threads:
                return index.archive(path, groups, limits)
            outline = index.outline()
            threads = outline.threads
            when = {o.tweet.id: o.tweet.created_at for o in outline.outlines}
            groups |= {
                (when[later].month, when[later].day)
                for first, members in threads.later.items()
                if (when[first].month, when[first].day) in groups
                for later in members
            }
            return index.archive(path, groups, limits, threads)
    return build_index(path, index_dir, limits)


def whole_archive(path: Path, index_dir: Path, limits: ReadLimits | None = None) -> Archive:
    """Every tweet of the archive at path, from its index when there is a current one
    (then with no `problems`), else read whole and indexed. For what needs more than
    a day: the archive's date range, the next day with toots, a range of days."""
    limits = limits or ReadLimits()
    index = _open(path, index_dir, limits)
    if index is not None:
        with contextlib.suppress(CorruptIndex):
            return index.archive(path, None, limits)
    return build_index(path, index_dir, limits)


def archive_outline(
    path: Path, index_dir: Path, limits: ReadLimits | None = None
) -> OutlineArchive:
    """The outline of every tweet of the archive at path (see `Outline`), from
    its index, which is built first when it is missing or stale."""
    limits = limits or ReadLimits()
    index = _open(path, index_dir, limits)
    if index is not None:
        with contextlib.suppress(CorruptIndex):
            return index.outline()
    archive = build_index(path, index_dir, limits)
    return OutlineArchive(archive.username, tuple(map(Outline.of, archive.tweets)))


def _open(path: Path, index_dir: Path, limits: ReadLimits) -> DayIndex | None:
    """The current index of the archive at path, or None (missing, stale, damaged)."""
    source = Path(os.path.abspath(path))
    _refuse_inside(index_dir, _root(source))
    try:
        return DayIndex.open(index_file(source, index_dir), source, limits)
    except CorruptIndex:
        return None


def build_index(path: Path, index_dir: Path, limits: ReadLimits | None = None) -> Archive:
    """Read the whole archive at path and write its index; returns the archive.

    A failure to write the index (a read-only cache) is not an error: the
    next run reads the archive again.
    """
    from bot.archive.loader import load_archive  # the readers cost imports; only here

    source = Path(os.path.abspath(path))
    now = time.time_ns()
    before = fingerprint(source)
    archive = load_archive(path, limits)
    before += _media_folders(archive, before)
    if _settled(before, now):
        # JSONEncodeError: a text with a lone surrogate; such an archive goes unindexed.
        with contextlib.suppress(OSError, orjson.JSONEncodeError):
            write_index(index_file(source, index_dir), source, archive, before)
    return archive


def _settled(entries: Fingerprint, now: int) -> bool:
    """Whether nothing in the archive changed within the last seconds before now.

    Filesystems stamp mtimes from a coarse clock (a few ms on Linux, 2 s on
    FAT): a file changed again within the same tick would keep its mtime and
    go unnoticed. An archive that is still settling is not indexed (yet).
    """
    return all(len(entry) < 3 or entry[2] < now - _SETTLE_NS for entry in entries)


def index_file(source: Path, index_dir: Path) -> Path:
    """The index file of the archive at the absolute path source."""
    digest = hashlib.sha256(os.fsencode(source)).hexdigest()[:32]
    return index_dir / f"archive-{digest}.index"


def utc_month_days(day: date, feb29: Feb29) -> set[tuple[int, int]]:
    """The UTC (month, day) groups that can hold a tweet falling on `day` locally."""
    found: set[tuple[int, int]] = set()
    for month, dom in source_days(day, feb29):
        for year in (2000, 2001):  # a leap year and a common one
            try:
                centre = date(year, month, dom)
            except ValueError:  # Feb 29 of the common year
                continue
            for delta in (-1, 0, 1):
                near = centre + timedelta(days=delta)
                found.add((near.month, near.day))
    return found


def fingerprint(source: Path) -> Fingerprint:
    """What must not change for an index of source to stay valid.

    A folder: every folder under it (mtime) and every file the readers may
    read (size, mtime), hidden folders skipped as the readers skip them. A
    zip: itself. A markdown file or tweets.js: itself and its folder.
    """
    root = _root(source)
    if root != source:
        return [_stat(source), _stat(root)]
    if not source.is_dir():
        return [_stat(source)]
    entries = []
    for folder, dirs, names in os.walk(source):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        base = Path(folder)
        entries.append(_stat(base))
        entries += [_stat(base / n) for n in sorted(names) if n.lower().endswith(_DATA_SUFFIXES)]
    return entries


def _root(source: Path) -> Path:
    """The folder media paths start from, as `load_archive` has it: the folder
    holding a markdown file or tweets.js, else source itself."""
    if source.is_file() and not zipfile.is_zipfile(source):  # is_file first: a FIFO blocks
        return source.parent
    return source


def _media_folders(archive: Archive, known: Fingerprint) -> Fingerprint:
    """The folders the tweets' media are in, when the fingerprint lacks them:
    a media file appearing or vanishing there changes what the index says."""
    if archive.root.is_file():  # a zip: its own size and mtime cover its media
        return []
    seen = {entry[0] for entry in known}
    folders = {
        os.path.dirname(m.path) for t in archive.tweets for m in t.media if m.problem != OUTSIDE
    }
    paths = sorted(os.fsdecode(Path(os.path.abspath(archive.root)) / f) for f in folders)
    return [_stat(Path(p)) for p in paths if p not in seen]


def _stat(path: Path) -> list[Any]:
    try:
        st = os.stat(path)
    except OSError:
        return [os.fsdecode(path)]
    size = -1 if os.path.isdir(path) else st.st_size
    return [os.fsdecode(path), size, st.st_mtime_ns]


def _refuse_inside(index_dir: Path, root: Path) -> None:
    folder = Path(os.path.abspath(index_dir))
    if folder == root or root in folder.parents:
        raise SettingsError(
            [
                f"archive.index_dir: {index_dir} is inside the archive {root}; "
                "the index must be kept outside it"
            ]
        )


class IdSet(Container[str]):
    """Tweet ids in 8 bytes each: a sorted array of numbers, searched by bisection.

    numbers: the canonical decimal ids below 2**64; others: any other id strings.
    """

    __slots__ = ("_numbers", "_others")

    def __init__(self, numbers: array[int], others: frozenset[str] = frozenset()) -> None:
        self._numbers = numbers
        self._others = others

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, str):
            return False
        number = _number(item)
        if number is None:
            return item in self._others
        at = bisect_left(self._numbers, number)
        return at < len(self._numbers) and self._numbers[at] == number

    def __len__(self) -> int:
        return len(self._numbers) + len(self._others)


def _number(tweet_id: str) -> int | None:
    """The id as a number when the number's decimal form gives the id back."""
    if not (tweet_id.isascii() and tweet_id.isdigit()) or len(tweet_id) > 20:
        return None
    if len(tweet_id) > 1 and tweet_id[0] == "0":
        return None
    number = int(tweet_id)
    return number if number < 1 << 64 else None


# -- writing ----------------------------------------------------------------------------


def write_index(file: Path, source: Path, archive: Archive, before: Fingerprint) -> None:
    """Write the index of archive (read from source; before: its fingerprint
    taken before reading) to file, atomically. Raises OSError."""
    file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temp = tempfile.mkstemp(dir=file.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            header = _write_body(handle, archive)
            header |= {
                "format": FORMAT,
                "tootback": __version__,
                "source": os.fsdecode(source),
                "root_is_parent": Path(os.path.abspath(archive.root)) != source,
                "fingerprint": before,
                "username": archive.username,
                "formats": list(archive.formats),
                "limits": _limits_key(archive.limits),
            }
            raw = orjson.dumps(header)
            handle.write(raw + _FOOTER.pack(len(raw), zlib.crc32(raw)) + MAGIC)
            handle.flush()
            os.fsync(handle.fileno())
        # No fsync of the folder: an index lost in a crash only costs a rebuild.
        os.replace(temp, file)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _write_body(handle: IO[bytes], archive: Archive) -> dict[str, Any]:
    """The groups and the ids; returns where they are, for the header."""
    groups: dict[str, list[Tweet]] = {}
    for tweet in archive.tweets:
        groups.setdefault(_group(tweet.created_at.month, tweet.created_at.day), []).append(tweet)
    offset = 0
    places: dict[str, list[int]] = {}
    for key, tweets in sorted(groups.items()):
        blob = orjson.dumps([_row(t) for t in tweets])
        handle.write(blob)
        places[key] = [offset, len(blob), zlib.crc32(blob)]
        offset += len(blob)
    numbers, others = _id_numbers(t.id for t in archive.tweets)
    blob = numbers.tobytes()
    handle.write(blob)
    ids = [offset, len(blob), zlib.crc32(blob)]
    offset += len(blob)
    blob = orjson.dumps([_outline_row(t) for t in archive.tweets])
    handle.write(blob)
    outline = [offset, len(blob), zlib.crc32(blob)]
    return {
        "groups": places,
        "ids": ids,
        "other_ids": sorted(others),
        "outline": outline,
        "body": offset + len(blob),
    }


def _id_numbers(ids: Iterable[str]) -> tuple[array[int], set[str]]:
    numbers: list[int] = []
    others: set[str] = set()
    for tweet_id in ids:
        number = _number(tweet_id)
        if number is None:
            others.add(tweet_id)
        else:
            numbers.append(number)
    packed = array("Q", sorted(numbers))
    if sys.byteorder == "big":
        packed.byteswap()  # the file is little-endian everywhere
    return packed, others


def _limits_key(limits: ReadLimits) -> list[int]:
    return [
        limits.max_item_size,
        limits.max_file_size,
        limits.max_media_size,
        limits.max_depth,
        limits.max_zip_ratio,
    ]


def _group(month: int, day: int) -> str:
    return f"{month:02d}-{day:02d}"


def _row(tweet: Tweet) -> list[Any]:
    media = [[m.path, m.kind, m.description, m.problem, m.size] for m in tweet.media]
    return [
        tweet.id,
        (tweet.created_at - _EPOCH) // _MICROSECOND,
        tweet.text,
        tweet.url,
        tweet.in_reply_to_id,
        tweet.in_reply_to_user,
        tweet.is_retweet,
        media,
        tweet.source,
        tweet.lang,
        tweet.sensitive,
        tweet.quote_of,
        tweet.retweet_of,
    ]


def _outline_row(tweet: Tweet) -> list[Any]:
    o = Outline.of(tweet)
    # One number for the rest: 100,000 rows load noticeably faster than with five.
    bits = o.tweet.is_retweet | o.blank << 1 | min(o.usable_media, 255) << 2
    bits |= min(o.broken_media, 255) << 10 | o.url_length << 18
    return [tweet.id, (tweet.created_at - _EPOCH) // _MICROSECOND, *_reply(tweet), bits]


def _reply(tweet: Tweet) -> tuple[str | None, str | None]:
    return tweet.in_reply_to_id, tweet.in_reply_to_user


def _outline(row: list[Any]) -> Outline:
    tweet_id, micros, reply_id, reply_user, bits = row
    if not (isinstance(tweet_id, str) and isinstance(micros, int) and isinstance(bits, int)):
        raise ValueError("bad outline row")
    tweet = Tweet(
        tweet_id, _EPOCH + micros * _MICROSECOND, "", "", reply_id, reply_user, bool(bits & 1)
    )
    return Outline(tweet, bool(bits & 2), bits >> 2 & 255, bits >> 10 & 255, bits >> 18)


# -- reading ----------------------------------------------------------------------------


@dataclass
class DayIndex:
    """An open, validated index file; read groups with `archive`."""

    file: Path
    header: dict[str, Any]

    @classmethod
    def open(cls, file: Path, source: Path, limits: ReadLimits) -> DayIndex | None:
        """The index at file when it is an intact index of the archive at source
        as it is now, read under `limits`; None when there is none or it is stale.

        Raises CorruptIndex when the file is damaged.
        """
        try:
            with open(file, "rb") as handle:
                header = _read_header(handle)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CorruptIndex(str(exc)) from None
        if header.get("format") != FORMAT or header.get("tootback") != __version__:
            return None
        if header.get("source") != os.fsdecode(source):
            return None
        if header.get("limits") != _limits_key(limits):
            return None
        if header.get("fingerprint") != _current(header.get("fingerprint")):
            return None
        return cls(file, header)

    def outline(self) -> OutlineArchive:
        """The outline table. Raises CorruptIndex."""
        try:
            with open(self.file, "rb") as handle:
                rows = orjson.loads(_section(handle, self.header["outline"]))
            return OutlineArchive(self.header["username"], tuple(map(_outline, rows)))
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise CorruptIndex(str(exc)) from None

    def archive(
        self,
        path: Path,
        month_days: Iterable[tuple[int, int]] | None,
        limits: ReadLimits,
        threads: Threads = NO_THREADS,
    ) -> Archive:
        """The Archive of the tweets in the groups of month_days, None for all (path: as
        given by the user, for `root`; limits: as it was read under; threads: the whole
        archive's, when they are needed). Raises CorruptIndex."""
        header = self.header
        try:
            keys = sorted(
                header["groups"] if month_days is None else (_group(m, d) for m, d in month_days)
            )
            with open(self.file, "rb") as handle:
                tweets = [t for key in keys for t in self._group(handle, key)]
                ids = self._ids(handle)
            username, formats = header["username"], tuple(header["formats"])
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise CorruptIndex(str(exc)) from None
        root = path.parent if header.get("root_is_parent") else path
        tweets.sort(key=lambda t: (t.created_at, len(t.id), t.id))
        return Archive(root, username, tuple(tweets), (), formats, ids, limits, threads)

    def _group(self, handle: IO[bytes], key: str) -> Iterator[Tweet]:
        place = self.header["groups"].get(key)
        if place is None:
            return iter(())
        rows = orjson.loads(_section(handle, place))
        return map(_tweet, rows)

    def _ids(self, handle: IO[bytes]) -> IdSet:
        numbers = array("Q")
        numbers.frombytes(_section(handle, self.header["ids"]))
        if sys.byteorder == "big":
            numbers.byteswap()
        return IdSet(numbers, frozenset(self.header["other_ids"]))


def _read_header(handle: IO[bytes]) -> dict[str, Any]:
    size = os.fstat(handle.fileno()).st_size
    tail = _FOOTER.size + len(MAGIC)
    if size < tail:
        raise CorruptIndex("too short")
    handle.seek(size - tail)
    footer = handle.read(tail)
    if footer[_FOOTER.size :] != MAGIC:
        raise CorruptIndex("no index footer")
    length, crc = _FOOTER.unpack(footer[: _FOOTER.size])
    if length > size - tail:
        raise CorruptIndex("header longer than the file")
    handle.seek(size - tail - length)
    raw = handle.read(length)
    if zlib.crc32(raw) != crc:
        raise CorruptIndex("header checksum")
    try:
        header = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise CorruptIndex("header is not JSON") from None
    if not isinstance(header, dict) or header.get("body") != size - tail - length:
        raise CorruptIndex("sizes do not add up")
    return header


def _section(handle: IO[bytes], place: list[int]) -> bytes:
    offset, length, crc = place
    handle.seek(offset)
    blob = handle.read(length)
    if len(blob) != length or zlib.crc32(blob) != crc:
        raise CorruptIndex("section checksum")
    return blob


def _current(recorded: object) -> Fingerprint | None:
    """The recorded fingerprint's paths as they are now."""
    if not isinstance(recorded, list):
        return None
    try:
        return [_stat(Path(entry[0])) for entry in recorded]
    except (TypeError, IndexError):
        return None


def _tweet(row: list[Any]) -> Tweet:
    (tweet_id, micros, text, url, reply_id, reply_user, retweet, media, source,
     lang, sensitive, quote_of, retweet_of) = row  # fmt: skip
    if not (isinstance(tweet_id, str) and isinstance(micros, int) and isinstance(text, str)):
        raise ValueError("bad tweet row")
    return Tweet(
        id=tweet_id,
        created_at=_EPOCH + micros * _MICROSECOND,
        text=text,
        url=url,
        in_reply_to_id=reply_id,
        in_reply_to_user=reply_user,
        is_retweet=bool(retweet),
        media=tuple(Media(*m) for m in media),
        source=source,
        lang=lang,
        sensitive=bool(sensitive),
        quote_of=quote_of,
        retweet_of=retweet_of,
    )
