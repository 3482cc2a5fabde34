"""The alt-text file: descriptions the owner writes for the archive's media.

Archives rarely carry alt text, and fediverse readers care about it. So
`tootback alt-text export FILE.csv` lists every media file of the archive, one
row each, and the owner fills in the `alt_text` column (in a spreadsheet or
an editor); `media.alt_text_file` names the filled file. A description there
wins over the archive's own; an empty cell leaves the archive's.

The file is CSV as spreadsheets write it: UTF-8 (with or without the byte
order mark Excel wants), a header row, quoted fields that may span lines.
Columns, in export order: tweet_id, date, file, archive_alt_text, alt_text,
tweet_text; only tweet_id, file and alt_text are read, so the others may be
deleted or reordered. A media file is named by its tweet and its file name,
not its whole path, so a description survives moving or unzipping the archive.

Every row that cannot be used is a `Problem` with its line ("alt.csv:12"):
an unknown tweet id, a file the tweet does not have, a description longer
than the instance's limit, one with control characters, a second one for the
same file. Such rows are left out; the rest is used.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path, PurePosixPath
from typing import TextIO

from bot.archive.base import Archive, Problem
from bot.errors import SettingsError
from bot.model import Media, Tweet

COLUMNS = ("tweet_id", "date", "file", "archive_alt_text", "alt_text", "tweet_text")
_NEEDED = ("tweet_id", "file", "alt_text")
MAX_FILE_BYTES = 64 * 1024 * 1024  # a hundred thousand rows of long descriptions
_CONTROLS = frozenset(chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]) - {"\n", "\t"}

# (tweet id, file name) -> the description.
Key = tuple[str, str]


def media_key(tweet_id: str, media: Media) -> Key:
    """How the alt-text file names one media file: its tweet and its file name."""
    return tweet_id, PurePosixPath(media.path).name


@dataclass(frozen=True, slots=True)
class AltTexts:
    """The usable descriptions of an alt-text file, and its unusable rows.

    descriptions: (tweet id, file name) -> description, stripped, never empty.
    problems: one per row left out, with its line.
    """

    descriptions: Mapping[Key, str]
    problems: tuple[Problem, ...] = ()

    def description(self, tweet_id: str, media: Media) -> str | None:
        """The file's description of one media file, or None."""
        return self.descriptions.get(media_key(tweet_id, media))


NO_ALT_TEXTS = AltTexts({})


def export_rows(tweets: Iterable[Tweet], zone: tzinfo) -> Iterator[tuple[str, ...]]:
    """One row per media file that can be uploaded, in COLUMNS order, `alt_text` empty."""
    for tweet in tweets:
        day = tweet.created_at.astimezone(zone).date().isoformat()
        for media in tweet.media:
            if media.problem is None:
                yield (tweet.id, day, media.path, media.description or "", "", tweet.text)


def write_alt_text_file(handle: TextIO, tweets: Iterable[Tweet], zone: tzinfo) -> int:
    """Write the export of `tweets` as CSV to handle (opened with newline="");
    returns the number of rows after the header."""
    writer = csv.writer(handle)
    writer.writerow(COLUMNS)
    rows = 0
    for row in export_rows(tweets, zone):
        writer.writerow(row)
        rows += 1
    return rows


def read_alt_text_file(path: Path, archive: Archive, description_limit: int) -> AltTexts:
    """The descriptions of the alt-text file at path, checked against archive.

    archive: the whole archive, or a day of it (then only the tweet ids are
        checked, not whether the tweet has that file).
    description_limit: the instance's longest description, in characters.

    Raises SettingsError when the file cannot be read as CSV at all (missing,
    too big, not UTF-8, no header with tweet_id, file and alt_text).
    """
    problems: list[Problem] = []
    rows = _numbered(_read_text(path), path.name, problems)
    header = next(rows, None)
    columns = _columns(path, header[1] if header else None)
    media = _media_names(archive) if archive.ids is None else None
    found: dict[Key, tuple[str, int]] = {}
    for line, row in rows:
        key, description, reason = _row(row, columns, archive, media, description_limit)
        if reason is None and key in found:
            reason = f"a second description for this file (line {found[key][1]} has one)"
        if reason is not None:
            problems.append(Problem(f"{path.name}:{line}", reason))
        elif description:
            found[key] = description, line
    return AltTexts({key: text for key, (text, _) in found.items()}, tuple(problems))


def _numbered(text: str, label: str, problems: list[Problem]) -> Iterator[tuple[int, list[str]]]:
    """(first line, row) of each non-blank row of the CSV text; a broken row
    (a NUL byte, an unclosed quote at the end) ends the file, reported."""
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.append(Problem(f"{label}:{line}", f"{exc}; the rest of the file is not read"))
            return
        if any(cell.strip() for cell in row):
            yield line, row


def alt_texts_for(path: Path | None, archive: Archive, description_limit: int) -> AltTexts:
    """The alt-text file at path (`media.alt_text_file`) read as `read_alt_text_file`
    does; no descriptions when path is None."""
    return NO_ALT_TEXTS if path is None else read_alt_text_file(path, archive, description_limit)


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        # Named by its setting too: a path such as " " says nothing on its own.
        problem = f"media.alt_text_file: {path}: cannot be read: {exc.strerror or exc}"
        raise SettingsError([problem]) from None
    if len(raw) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // 2**20
        raise SettingsError([f"media.alt_text_file: {path}: larger than {limit} MB; not read"])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        why = "not UTF-8; save it from your spreadsheet as 'CSV UTF-8'"
        raise SettingsError([f"media.alt_text_file: {path}:{line}: {why}"]) from None


def _columns(path: Path, header: list[str] | None) -> dict[str, int]:
    names = [cell.strip().lower() for cell in header or []]
    missing = [name for name in _NEEDED if name not in names]
    if missing:
        raise SettingsError(
            [
                f"media.alt_text_file: {path}:1: the header lacks {', '.join(missing)}; "
                f"`tootback alt-text export` writes the columns {', '.join(COLUMNS)}"
            ]
        )
    return {name: names.index(name) for name in _NEEDED}


def _media_names(archive: Archive) -> dict[str, frozenset[str]]:
    return {
        tweet.id: frozenset(media_key(tweet.id, m)[1] for m in tweet.media)
        for tweet in archive.tweets
        if tweet.media
    }


def _row(
    row: list[str],
    columns: Mapping[str, int],
    archive: Archive,
    media: Mapping[str, frozenset[str]] | None,
    limit: int,
) -> tuple[Key, str, str | None]:
    """(key, description, why the row cannot be used or None) of one row."""

    def cell(name: str) -> str:
        index = columns[name]
        return row[index].strip() if index < len(row) else ""

    tweet_id, name, description = (
        cell("tweet_id"),
        PurePosixPath(cell("file")).name,
        cell("alt_text"),
    )
    key = (tweet_id, name)
    if not description:
        return key, "", None
    if tweet_id not in archive.owner_ids:
        return key, "", f"tweet {tweet_id!r} is not in the archive"
    if media is not None and name not in media.get(tweet_id, frozenset()):
        return key, "", f"tweet {tweet_id} has no media file {name!r}"
    if len(description) > limit:
        return (
            key,
            "",
            f"the description has {len(description)} characters; the instance takes {limit}",
        )
    if any(char in _CONTROLS for char in description):
        return key, "", "the description holds control characters"
    return key, description, None
