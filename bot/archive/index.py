"""A persistent index of a parsed archive, by UTC month-day: cheap days.

Reading a 100k-tweet archive takes seconds; `preview` (and the daemon every
morning) needs one day of it. The first full read writes an index file in
`archive.index_dir`: every tweet, grouped by the UTC month-day it was tweeted
on, each group a separately checksummed JSON blob, plus the owner's name, the
sorted ids of all tweets in 8 bytes each (self-links need them) with the group
of each in 2 bytes (a tweet named by id costs its group), the outline of every
tweet: a small table of what planning a day needs without the words (id, time,
reply-to, retweet, blank text, media usable or not, URL length); the calendar
counts a year from it, and whole threads are found in it; and a summary of the
archive (counts by kind, range, problems: what `check --quick` reports). Later
runs read only the groups one day can need, so a day costs the same whatever
the size of the archive.

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

File layout: the groups, the id array, the ids' groups and the outline table,
then the header (JSON: version, archive, fingerprint, owner, summary, where
each section is and its CRC-32), then a footer of the header's length and
CRC-32 and the magic bytes.
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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import IO, Any

import orjson

from bot import __version__
from bot.archive.base import Archive, OutlineArchive, Summary
from bot.archive.tree import OUTSIDE
from bot.errors import SettingsError
from bot.model import Media, Outline, ReadLimits, Tweet
from bot.selection import Feb29, source_days
from bot.threads import NO_THREADS, Threads

FORMAT = 6  # bump when the layout or the meaning of a field changes
MAGIC = b"tootback-index\n"
_FOOTER = struct.Struct("<QI")  # header length, header CRC-32
_DATA_SUFFIXES = (".md", ".txt", ".js", ".zip")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_SETTLE_NS = 2_000_000_000
# The zone names that mean UTC at every instant (tzdata's links to it).
_UTC_ZONES = frozenset(
    [
        "UTC",
        "Etc/UTC",
        "Etc/UCT",
        "UCT",
        "Etc/Universal",
        "Universal",
        "Etc/Zulu",
        "Zulu",
        "GMT",
        "Etc/GMT",
        "Etc/GMT0",
        "Etc/GMT+0",
        "Etc/GMT-0",
        "GMT0",
        "GMT+0",
        "GMT-0",
        "Etc/Greenwich",
        "Greenwich",
    ]
)

Fingerprint = list[list[Any]]  # [path, size or -1 for a folder, mtime_ns]; [path] if absent


class CorruptIndex(Exception):
    """The index file cannot be trusted; it is rebuilt. Never leaves this module."""


def outline_of(archive: Archive) -> OutlineArchive:
    """The outline of a whole archive read in full."""
    return OutlineArchive(archive.username, tuple(map(Outline.of, archive.tweets)))


def open_index(path: Path, index_dir: Path, limits: ReadLimits | None = None) -> DayIndex | None:
    """The current index of the archive at path, read under `limits`; None when it is
    missing, stale (or built under other limits) or damaged. Raises SettingsError
    when index_dir is inside the archive."""
    source = Path(os.path.abspath(path))
    _refuse_inside(index_dir, _root(source))
    try:
        return DayIndex.open(index_file(source, index_dir), source, limits or ReadLimits())
    except CorruptIndex:
        return None


def build_index(path: Path, index_dir: Path, limits: ReadLimits | None = None) -> Archive:
    """Read the whole archive at path and write its index; returns the archive.

    A failure to write the index (a read-only cache) is not an error: the
    next run reads the archive again. Raises SettingsError when index_dir is
    inside the archive.
    """
    from bot.archive.loader import load_archive  # the readers cost imports; only here

    source = Path(os.path.abspath(path))
    _refuse_inside(index_dir, _root(source))
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


def utc_month_days(day: date, feb29: Feb29, zone: tzinfo | None = None) -> set[tuple[int, int]]:
    """The UTC (month, day) groups that can hold a tweet falling on `day` locally.

    zone: the local time zone; one that is UTC at every instant needs only the
    day's own month-days, any other (or None) their neighbours too.
    """
    if zone is not None and _always_utc(zone):
        return set(source_days(day, feb29))
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


def _always_utc(zone: tzinfo) -> bool:
    return zone is UTC or getattr(zone, "key", None) in _UTC_ZONES


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
    groups, when known: the group of each id (see `_IdGroups`).
    """

    __slots__ = ("_groups", "_numbers", "_others")

    def __init__(
        self,
        numbers: array[int],
        others: frozenset[str] = frozenset(),
        groups: _IdGroups | None = None,
    ) -> None:
        self._numbers = numbers
        self._others = others
        self._groups = groups

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and self._find(item) is not None

    def __len__(self) -> int:
        return len(self._numbers) + len(self._others)

    def group_of(self, item: str) -> str | None:
        """The key of the group holding tweet `item`; None when there is no such tweet."""
        at = self._find(item)
        if at is None or self._groups is None:
            return None
        return self._groups.key(item, at)

    def _find(self, item: str) -> int | None:
        """Where item is: its place among the numbers, -1 for another id; None: absent."""
        number = _number(item)
        if number is None:
            return -1 if item in self._others else None
        at = bisect_left(self._numbers, number)
        return at if at < len(self._numbers) and self._numbers[at] == number else None


@dataclass(frozen=True, slots=True)
class _IdGroups:
    """Which group holds each id: the group's place among the sorted keys, per id.

    ordinals: one per number of the IdSet, in its order; others: for the other ids.
    """

    ordinals: array[int]
    others: dict[str, int]
    keys: list[str]

    def key(self, item: str, at: int) -> str:
        return self.keys[self.others[item] if at < 0 else self.ordinals[at]]


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
                "summary": _summary_fields(Summary.of(archive)),
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
    """The sections; returns where each is, for the header."""
    groups: dict[str, list[Tweet]] = {}
    for tweet in archive.tweets:
        groups.setdefault(_group(tweet.created_at.month, tweet.created_at.day), []).append(tweet)
    places: dict[str, list[int]] = {}
    sections = _Sections(handle)
    for key, tweets in sorted(groups.items()):
        places[key] = sections.write(orjson.dumps([_row(t) for t in tweets]))
    ordinal = {key: n for n, key in enumerate(sorted(groups))}
    where = {t.id: ordinal[key] for key, tweets in groups.items() for t in tweets}
    numbers, others = _id_numbers(where)
    id_groups = array("H", (where[str(n)] for n in numbers))
    return {
        "groups": places,
        "ids": sections.write(_little_endian(numbers).tobytes()),
        "id_groups": sections.write(_little_endian(id_groups).tobytes()),
        "other_ids": {tweet_id: where[tweet_id] for tweet_id in sorted(others)},
        "outline": sections.write(orjson.dumps([_outline_row(t) for t in archive.tweets])),
        "body": sections.offset,
    }


class _Sections:
    """Writes the body's sections one after the other; `write` returns where each is."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.offset = 0

    def write(self, blob: bytes) -> list[int]:
        self.handle.write(blob)
        place = [self.offset, len(blob), zlib.crc32(blob)]
        self.offset += len(blob)
        return place


def _id_numbers(ids: Iterable[str]) -> tuple[array[int], set[str]]:
    """The ids that are numbers, sorted, and the others."""
    numbers: list[int] = []
    others: set[str] = set()
    for tweet_id in ids:
        number = _number(tweet_id)
        if number is None:
            others.add(tweet_id)
        else:
            numbers.append(number)
    return array("Q", sorted(numbers)), others


def _little_endian(values: array[int]) -> array[int]:
    """values as the file holds them (little-endian on every machine); also the way back."""
    if sys.byteorder == "big":
        values = array(values.typecode, values)
        values.byteswap()
    return values


def _summary_fields(summary: Summary) -> dict[str, Any]:
    def micros(when: datetime | None) -> int | None:
        return None if when is None else (when - _EPOCH) // _MICROSECOND

    return {
        "count": summary.count,
        "kinds": dict(summary.kinds),
        "with_media": summary.with_media,
        "first": micros(summary.first),
        "last": micros(summary.last),
        "problems": summary.problems,
    }


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
    when = (tweet.created_at - _EPOCH) // _MICROSECOND
    return [tweet.id, when, *_reply(tweet), bits, o.text_length, o.largest_media]


def _reply(tweet: Tweet) -> tuple[str | None, str | None]:
    return tweet.in_reply_to_id, tweet.in_reply_to_user


def _outline(row: list[Any]) -> Outline:
    tweet_id, micros, reply_id, reply_user, bits, text_length, largest = row
    numbers = (micros, bits, text_length, largest)
    if not (isinstance(tweet_id, str) and all(isinstance(n, int) for n in numbers)):
        raise ValueError("bad outline row")
    tweet = Tweet(
        tweet_id, _EPOCH + micros * _MICROSECOND, "", "", reply_id, reply_user, bool(bits & 1)
    )
    usable, broken = bits >> 2 & 255, bits >> 10 & 255
    return Outline(tweet, bool(bits & 2), usable, broken, bits >> 18, text_length, largest)


# -- reading ----------------------------------------------------------------------------


@dataclass
class DayIndex:
    """An open, validated index file, read under `limits`: a day with `day`, groups
    with `archive`, tweets by id with `tweets`, the outline, the summary."""

    file: Path
    header: dict[str, Any]
    limits: ReadLimits = field(default_factory=ReadLimits)
    _ids: IdSet | None = field(default=None, repr=False)

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
        return cls(file, header, limits)

    def days(
        self,
        path: Path,
        days: Iterable[date],
        feb29: Feb29,
        whole_threads: bool = False,
        zone: tzinfo | None = None,
    ) -> Archive:
        """Enough of the archive to plan and compose each of `days`, from this index:
        every tweet that can fall on one of them in `zone` (see `utc_month_days`),
        with whole_threads the later tweets of the threads that start on them and
        the archive's threads too (path: as given by the user). Raises CorruptIndex."""
        groups = {group for day in days for group in utc_month_days(day, feb29, zone)}
        if not whole_threads:
            return self.archive(path, groups)
        outline = self.outline()
        threads = outline.threads
        when = {o.tweet.id: o.tweet.created_at for o in outline.outlines}
        groups |= {
            (when[later].month, when[later].day)
            for first, members in threads.later.items()
            if (when[first].month, when[first].day) in groups
            for later in members
        }
        return self.archive(path, groups, threads)

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
        threads: Threads = NO_THREADS,
    ) -> Archive:
        """The Archive of the tweets in the groups of month_days, None for all (path: as
        given by the user, for `root`; threads: the whole archive's, when they are
        needed). Raises CorruptIndex."""
        header = self.header
        try:
            keys = sorted(
                header["groups"] if month_days is None else (_group(m, d) for m, d in month_days)
            )
            with open(self.file, "rb") as handle:
                tweets = [t for key in keys for t in self._group(handle, key)]
                ids = self._id_set(handle)
            username, formats = header["username"], tuple(header["formats"])
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise CorruptIndex(str(exc)) from None
        tweets.sort(key=lambda t: (t.created_at, len(t.id), t.id))
        root = self.root(path)
        return Archive(root, username, tuple(tweets), (), formats, ids, self.limits, threads)

    def tweets(self, ids: Iterable[str]) -> dict[str, Tweet]:
        """The tweets of `ids` that the archive holds, by id: only their groups are read.
        Raises CorruptIndex."""
        wanted = set(ids)
        try:
            with open(self.file, "rb") as handle:
                keys = sorted(filter(None, map(self._id_set(handle).group_of, wanted)))
                found = [t for key in keys for t in self._group(handle, key) if t.id in wanted]
        except (OSError, KeyError, TypeError, ValueError, IndexError) as exc:
            raise CorruptIndex(str(exc)) from None
        return {t.id: t for t in found}

    def summary(self, path: Path) -> Summary:
        """What the archive holds (path: as given by the user). Raises CorruptIndex."""

        def when(micros: int | None) -> datetime | None:
            return None if micros is None else _EPOCH + micros * _MICROSECOND

        try:
            fields = self.header["summary"]
            return Summary(
                root=self.root(path),
                username=self.header["username"],
                formats=tuple(self.header["formats"]),
                count=int(fields["count"]),
                kinds={str(k): int(n) for k, n in fields["kinds"].items()},
                with_media=int(fields["with_media"]),
                first=when(fields["first"]),
                last=when(fields["last"]),
                problems=int(fields["problems"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise CorruptIndex(str(exc)) from None

    def root(self, path: Path) -> Path:
        """The archive's root, as `load_archive` has it, for the path the user gave."""
        return path.parent if self.header.get("root_is_parent") else path

    def _group(self, handle: IO[bytes], key: str) -> Iterator[Tweet]:
        place = self.header["groups"].get(key)
        if place is None:
            return iter(())
        rows = orjson.loads(_section(handle, place))
        return map(_tweet, rows)

    def _id_set(self, handle: IO[bytes]) -> IdSet:
        """Every id and its group, read once per open index."""
        if self._ids is None:
            numbers = _array("Q", _section(handle, self.header["ids"]))
            groups = _array("H", _section(handle, self.header["id_groups"]))
            others = self.header["other_ids"]
            if len(groups) != len(numbers) or not isinstance(others, dict):
                raise CorruptIndex("ids and their groups do not match")
            keys = sorted(self.header["groups"])
            self._ids = IdSet(numbers, frozenset(others), _IdGroups(groups, others, keys))
        return self._ids


def _array(typecode: str, blob: bytes) -> array[int]:
    values = array(typecode)
    values.frombytes(blob)
    return _little_endian(values)


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
