"""A corpus of hostile archives, made at test time: zip bombs of whitespace and of
media, deep nesting, extreme dates, control characters, huge texts, sparse huge
media files, duplicate ids, broken bytes.

Nothing here is committed as a big file: a bomb is a ~1 MB zip that unpacks to
1 GiB, written in a second (a deflate stream of one unit repeated; `write_zip`
of archives.py would compress every byte), and huge media are sparse files.
Items are real-format, from archives.py's `tweet_item`, with a field or two
made hostile.

`build(root)` writes every entry under root and returns them; each `Entry`
says what a reader must report and which tweets must survive. To look at them
by hand: `python -m tests.support.hostile /tmp/corpus`, then e.g.
`tootback check --archive /tmp/corpus/deep-nesting`.
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.archives import (
    JPEG,
    account_item,
    entities,
    js_file,
    media_item,
    old_block,
    tweet_item,
    write_files,
)

DAY = "2026-04-05"  # every surviving tweet is of April 5 in an earlier year
GiB = 1 << 30
MiB = 1 << 20
OWNER = "quokka_codes"
WHEN = datetime(2022, 4, 5, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Expect:
    """A problem a reader must report: its place starts with `where` and its
    reason holds `reason`."""

    where: str
    reason: str

    def found_in(self, problems: list[tuple[str, str]]) -> bool:
        return any(w.startswith(self.where) and self.reason in r for w, r in problems)


@dataclass(frozen=True)
class Entry:
    """One hostile archive.

    path: what to give `--archive`. problems: what must be reported. tweets: the
        ids that must still be read. env: settings to run it with (limits).
    posts: how many toots `repost --date DAY` must send (None: not checked).
    uploads: the media uploads allowed (the server could refuse none of them).
    skipped: tweet id -> what `preview --show-skipped` must give as its reason.
    """

    name: str
    path: Path
    problems: tuple[Expect, ...]
    tweets: frozenset[str]
    env: dict[str, str] = field(default_factory=dict)
    posts: int | None = None
    uploads: int = 0
    skipped: dict[str, str] = field(default_factory=dict)


# --- real-format items -------------------------------------------------------------------


def tweet(tid: int | str, text: str = "An ordinary tweet", **extra: Any) -> dict[str, Any]:
    """Tweet `tid` of April 5, 2022 as the export holds it; extra fields are added or
    replace the usual ones (`created_at="Mon Jan 01 00:00:00 +1400 0001"`)."""
    return tweet_item(str(tid), WHEN, text, **{"entities": entities(), **extra})


def photo(tid: int | str, name: str, text: str = "A picture") -> dict[str, Any]:
    """A tweet with one photo, `<tid>-<name>` in tweets_media/."""
    short = "https://t.co/Ph0t0Ph0t0"
    media = media_item(
        media_id=f"9{tid}",
        kind="photo",
        short=short,
        expanded=f"https://twitter.com/{OWNER}/status/{tid}/photo/1",
        image_url=f"https://pbs.twimg.com/media/{name}",
        indices=["10", "33"],
        sizes={},
        display="pic.twitter.com/Ph0t0Ph0t0",
    )
    return tweet(
        tid,
        f"{text} ({tid}) {short}",
        entities=entities(media=[media]),
        extended_entities={"media": [media]},
    )


def js(items: list[Any], var: str = "tweets.part0") -> bytes:
    """A `.js` data file laid out as the export writes it."""
    return js_file(var, items)


def account() -> bytes:
    return js(
        [
            account_item(
                OWNER,
                "987654321",
                email="quokka@example.com",
                created_at="2012-03-04T05:06:07.000Z",
                display_name="Quokka",
            )
        ],
        "account.part0",
    )


def md_block(tid: int | str, text: str, when: str = "Tue Apr 05 11:00:00 +0000 2022") -> str:
    """An older-generation markdown block, its date written as given."""
    block = old_block(text, WHEN, f"https://twitter.com/{OWNER}/status/{tid}")
    return block.replace("Tue Apr 05 10:00:00 +0000 2022", when) + "\n"


def fixture_items() -> list[dict[str, Any]]:
    """The items of the official fixture's tweets.js, for mutating."""
    fixture = Path(__file__).resolve().parent.parent / "fixtures/official/data/tweets.js"
    text = fixture.read_text(encoding="utf-8")
    items: list[dict[str, Any]] = json.loads(text[text.index("[") :])
    return items


# --- zips, bombs included ------------------------------------------------------------------


@dataclass(frozen=True)
class Repeat:
    """`unit` repeated `times` times, deflated without ever being held whole."""

    unit: bytes
    times: int

    def deflated(self) -> tuple[bytes, int, int]:
        """(raw deflate stream, CRC-32, size). After a full flush a compressor starts
        afresh, so every unit after the first compresses to the same bytes."""
        squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
        first = squeeze.compress(self.unit) + squeeze.flush(zlib.Z_FULL_FLUSH)
        again = squeeze.compress(self.unit) + squeeze.flush(zlib.Z_FULL_FLUSH)
        crc = 0
        for _ in range(self.times):
            crc = zlib.crc32(self.unit, crc)
        stream = first + again * (self.times - 1) + squeeze.flush()
        return stream, crc, len(self.unit) * self.times


Content = bytes | Repeat | tuple[bytes, Repeat, bytes]


def write_zip(path: Path, files: dict[str, Content]) -> Path:
    """A zip of files (deflated); a Repeat, alone or between two byte strings,
    becomes a bomb. Written by hand: zipfile would compress every byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    central = []
    with path.open("wb") as out:
        for name, content in files.items():
            data, crc, size = _deflate(content)
            offset = out.tell()
            raw = name.encode()
            head = (0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(raw), 0)
            out.write(struct.pack("<IHHHHHIIIHH", *head) + raw + data)
            entry = (0x02014B50, 0x031E, 20, 0, 8, 0, 0x21, crc, len(data), size, len(raw))
            central.append(
                struct.pack("<IHHHHHHIIIH", *entry)
                + struct.pack("<HHHHII", 0, 0, 0, 0, 0o100644 << 16, offset)
                + raw
            )
        start = out.tell()
        directory = b"".join(central)
        out.write(directory)
        n = len(central)
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(directory), start, 0))
    return path


def _deflate(content: Content) -> tuple[bytes, int, int]:
    if isinstance(content, bytes):
        squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
        data = squeeze.compress(content) + squeeze.flush()
        return data, zlib.crc32(content), len(content)
    if isinstance(content, Repeat):
        return content.deflated()
    head, middle, tail = content
    # head, a full flush, the repeated units, tail: one deflate stream.
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    opening = squeeze.compress(head) + squeeze.flush(zlib.Z_FULL_FLUSH)
    unit = squeeze.compress(middle.unit) + squeeze.flush(zlib.Z_FULL_FLUSH)
    closing = squeeze.compress(tail) + squeeze.flush()
    crc = zlib.crc32(head)
    for _ in range(middle.times):
        crc = zlib.crc32(middle.unit, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + len(middle.unit) * middle.times + len(tail)
    return opening + unit * middle.times + closing, crc, size


def sparse(path: Path, size: int) -> None:
    """A file of `size` bytes that takes no room on disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.truncate(size)


# --- the entries ---------------------------------------------------------------------------

PART0 = b"window.YTD.tweets.part0 = "


def whitespace_bomb(root: Path) -> Entry:
    """1 GiB of whitespace in tweets-part1.js, in a 1 MB zip (the issue's case)."""
    good = js([tweet(101, "Survives the bomb next door")])
    bomb = (b"window.YTD.tweets.part1 = [", Repeat(b" " * MiB, 1024), b"]")
    path = write_zip(
        root / "whitespace-bomb.zip",
        {"data/account.js": account(), "data/tweets.js": good, "data/tweets-part1.js": bomb},
    )
    return Entry(
        "whitespace-bomb",
        path,
        (Expect("data/tweets-part1.js", "is 1.0 GiB, over the limit of 512.0 MiB"),),
        frozenset({"101"}),
        posts=1,
    )


def whitespace_in_an_item(root: Path) -> Entry:
    """The same bomb let through (limits raised): 1 GiB of whitespace inside an
    item is streamed past in bounded memory; that item is reported, the next read."""
    data = js([tweet(201, "Before the gap"), tweet(202, "The gap"), tweet(203, "After the gap")])
    cut = data.index(b'"full_text" : "The gap"') + len(b'"full_text" :')
    path = write_zip(
        root / "whitespace-in-an-item.zip",
        {
            "data/account.js": account(),
            "data/tweets.js": (data[:cut], Repeat(b" \n" * (MiB // 2), 1024), data[cut:]),
        },
    )
    return Entry(
        "whitespace-in-an-item",
        path,
        (Expect("data/tweets.js#1", "larger than 1.0 MiB"),),
        frozenset({"201", "203"}),
        env={
            "TOOTBACK_ARCHIVE__MAX_ZIP_RATIO": "100000",
            "TOOTBACK_ARCHIVE__MAX_FILE_SIZE": "2GiB",
        },
        posts=2,
    )


def media_bomb(root: Path) -> Entry:
    """A 1 GiB media entry in a 1 MB zip: refused unread; the tweet goes without it."""
    path = write_zip(
        root / "media-bomb.zip",
        {
            "data/account.js": account(),
            "data/tweets.js": js([photo(301, "bomb.jpg"), tweet(302, "Plain")]),
            "data/tweets_media/301-bomb.jpg": Repeat(b"\0" * MiB, 1024),
        },
    )
    return Entry(
        "media-bomb",
        path,
        (Expect("data/tweets.js#0", "301-bomb.jpg is 1.0 GiB, over the limit of 100.0 MiB"),),
        frozenset({"301", "302"}),
        posts=2,
        uploads=0,
    )


def sparse_media(root: Path) -> Entry:
    """Sparse 1 GiB and 200 MB media files in a folder: refused by their size."""
    folder = write_files(
        root / "sparse-media",
        {
            "data/account.js": account(),
            "data/tweets.js": js(
                [photo(401, "huge.jpg"), photo(402, "big.jpg"), photo(403, "fine.jpg")]
            ),
            "data/tweets_media/403-fine.jpg": JPEG,
        },
    )
    sparse(folder / "data/tweets_media/401-huge.jpg", GiB)
    sparse(folder / "data/tweets_media/402-big.jpg", 200 * MiB)
    return Entry(
        "sparse-media",
        folder,
        (
            Expect("data/tweets.js#0", "401-huge.jpg is 1.0 GiB, over the limit"),
            Expect("data/tweets.js#1", "402-big.jpg is 200.0 MiB, over the limit"),
        ),
        frozenset({"401", "402", "403"}),
        posts=3,
        uploads=1,
    )


def deep_nesting(root: Path) -> Entry:
    """100,000 nested arrays in one item, in the export's layout and on one line."""
    deep = b"[" * 100_000 + b"]" * 100_000
    laid_out = js([tweet(501, "Before"), tweet(502, "Deep", x="@DEEP@"), tweet(503, "After")])
    one_line = [tweet(511, "One line"), tweet(512, "Deep too", x="@DEEP@"), tweet(513, "Last")]
    flat = PART0.replace(b"part0", b"part1") + json.dumps(one_line).encode()
    folder = write_files(
        root / "deep-nesting",
        {
            "data/account.js": account(),
            "data/tweets.js": laid_out.replace(b'"@DEEP@"', deep),
            "data/tweets-part1.js": flat.replace(b'"@DEEP@"', deep),
        },
    )
    return Entry(
        "deep-nesting",
        folder,
        (
            Expect("data/tweets.js#1", "nested deeper than 64"),
            Expect("data/tweets-part1.js#1", "nested deeper than 64"),
        ),
        frozenset({"501", "503", "511", "513"}),
        posts=4,
    )


def extreme_dates(root: Path) -> Entry:
    """Dates in year 1 and 9999, with +1400 and -1200 offsets; a note in year 1."""
    items = [
        tweet(601, "Year one", created_at="Mon Jan 01 00:00:00 +1400 0001"),
        tweet(602, "Year 9999", created_at="Fri Dec 31 23:59:59 -1200 9999"),
        tweet(603, "Far future", created_at="Fri Dec 31 23:59:59 +0000 9999"),
        tweet(604, "Before Twitter", created_at="Sat Apr 05 10:00:00 +0000 1980"),
        tweet(605, "Kiritimati", created_at="Tue Apr 05 10:00:00 +1400 2022"),
        tweet(606, "Fine"),
    ]
    note = {
        "noteTweet": {
            "noteTweetId": "9",
            "createdAt": "0001-01-01T00:00:00.000+14:00",
            "core": {"text": "A note from year one", "urls": []},
        }
    }
    folder = write_files(
        root / "extreme-dates",
        {
            "data/account.js": account(),
            "data/tweets.js": js(items),
            "data/note-tweet.js": js([note], "note_tweet.part0"),
            "tweets_9999-12.md": md_block(
                607, "From the end of time", "Fri Dec 31 23:00:00 -1200 9999"
            ).encode(),
        },
    )
    return Entry(
        "extreme-dates",
        folder,
        (
            Expect("data/tweets.js#0", "out of range"),
            Expect("data/tweets.js#1", "out of range"),
            Expect("data/tweets.js#2", "out of range"),
            Expect("data/tweets.js#3", "out of range"),
            Expect("data/note-tweet.js#0", "out of range"),
            Expect("tweets_9999-12.md:3", "out of range"),
        ),
        frozenset({"605", "606"}),
        env={"TOOTBACK_SELECTION__TIMEZONE": "Pacific/Kiritimati"},
    )


def control_characters(root: Path) -> Entry:
    """A raw control character in one item of 21 (invalid JSON: that item only);
    NUL, BEL and a lone surrogate escaped in others (removed, reported)."""
    items = [tweet(700 + n, f"Tweet number {n}") for n in range(21)]
    items[5] = tweet(705, "Nul\u0000 and bell\u0007 here")
    items[6] = tweet(706, "Half an emoji @HALF@")
    raw = js(items).replace(b"Tweet number 3", b"Tweet\x01number 3")
    raw = raw.replace(b"@HALF@", b"\\ud83d")  # a lone surrogate, escaped as JSON allows
    markdown = md_block(720, "Markdown with a NUL\x00 byte") + "----\n" + md_block(721, "Clean")
    folder = write_files(
        root / "control-characters",
        {
            "data/account.js": account(),
            "data/tweets.js": raw,
            "tweets_2022-04.md": markdown.encode(),
        },
    )
    kept = {str(700 + n) for n in range(21) if n != 3} | {"720", "721"}
    return Entry(
        "control-characters",
        folder,
        (
            Expect("data/tweets.js#3", "unexpected control character"),
            Expect("data/tweets.js#5", "2 control characters removed"),
            Expect("data/tweets.js#6", "1 control character removed"),
            Expect("tweets_2022-04.md:1", "1 control character removed"),
        ),
        frozenset(kept),
    )


def huge_texts(root: Path) -> Entry:
    """A 5 MB tweet (over the item cap), a 300 KB one (read; threads are capped
    when composing), a 5 MB markdown block and a 5 MB line without a break."""
    words = "lorem ipsum dolor sit amet consectetur " * 140_000
    items = [tweet(801, words[: 5 * MiB]), tweet(802, words[:300_000]), tweet(803, "Small")]
    # (A file whose first block is huge is no parser output: the loader sniffs the
    # start of a .md file for a footer. So the huge blocks come second.)
    markdown = (
        md_block(811, "Fine")
        + "----\n"
        + md_block(810, words[: 5 * MiB])
        + "----\n"
        + "x" * (5 * MiB)
        + "\n----\n"
        + md_block(812, "Also fine")
    )
    folder = write_files(
        root / "huge-texts",
        {
            "data/account.js": account(),
            "data/tweets.js": js(items),
            "tweets_2022-04.md": markdown.encode(),
        },
    )
    return Entry(
        "huge-texts",
        folder,
        (
            Expect("data/tweets.js#0", "larger than 1.0 MiB"),
            Expect("tweets_2022-04.md:5", "block larger than 1.0 MiB"),
            Expect("tweets_2022-04.md:9", "block larger than 1.0 MiB"),
        ),
        frozenset({"802", "803", "811", "812"}),
        skipped={"802": "too long: it would take more than 10 toots (compose.max_parts)"},
    )


def duplicate_ids(root: Path) -> Entry:
    """The same tweet id in two parts of one archive."""
    folder = write_files(
        root / "duplicate-ids",
        {
            "data/account.js": account(),
            "data/tweets.js": js([tweet(901, "First copy"), tweet(902, "Other")]),
            "data/tweets-part1.js": js([tweet(901, "Second copy")], "tweets.part1"),
        },
    )
    return Entry(
        "duplicate-ids",
        folder,
        (Expect("data/tweets-part1.js#0", "tweet 901 again (first at data/tweets.js#0)"),),
        frozenset({"901", "902"}),
        posts=2,
    )


def broken_bytes(root: Path) -> Entry:
    """Bad UTF-8, a part cut mid-item, 100,000 empty items, junk after the array."""
    items = [tweet(1001, "caf\u00e9 ok"), tweet(1002, "Bad byte here"), tweet(1003, "Last")]
    bad = js(items).replace(b"Bad byte", b"Bad\xffbyte")
    cut = js([tweet(1011, "Complete"), tweet(1012, "Cut off")])
    cut = cut[: cut.index(b"Cut off")]
    empties = PART0.replace(b"part0", b"part3") + b"[" + b"{}," * 100_000 + b"{}]"
    folder = write_files(
        root / "broken-bytes",
        {
            "data/account.js": account(),
            "data/tweets.js": bad,
            "data/tweets-part1.js": cut,
            "data/tweets-part2.js": js([tweet(1021, "Then junk")], "tweets.part2") + b"; junk()",
            "data/tweets-part3.js": empties,
        },
    )
    return Entry(
        "broken-bytes",
        folder,
        (
            Expect("data/tweets.js:", "not valid UTF-8"),
            Expect("data/tweets-part1.js#1", "truncated or broken file"),
            Expect("data/tweets-part2.js:", "text after the end of the array ignored"),
            Expect("data/tweets-part3.js#0", "not a tweet object"),
            Expect("data/tweets-part3.js", "more problems in this file, not listed"),
        ),
        frozenset({"1001", "1002", "1003", "1011", "1021"}),
    )


def over_the_server_limit(root: Path) -> Entry:
    """A 20 MB picture: within the readers' cap, over the server's 16 MB. Known from
    its size before it is read: never uploaded, the tweet goes without it."""
    folder = write_files(
        root / "over-the-server-limit",
        {
            "data/account.js": account(),
            "data/tweets.js": js([photo(1101, "large.jpg"), photo(1102, "small.jpg")]),
            "data/tweets_media/1102-small.jpg": JPEG,
        },
    )
    sparse(folder / "data/tweets_media/1101-large.jpg", 20 * MiB)
    return Entry(
        "over-the-server-limit", folder, (), frozenset({"1101", "1102"}), posts=2, uploads=1
    )


def look_alike_retweets(root: Path) -> Entry:
    """20,000 tweets alike and 20,000 retweets of them, cut: matching each retweet to
    its original is bounded (it was every retweet against every tweet)."""
    text = "the same words every time, again and again and again"
    july = "Fri Jul 01 10:00:00 +0000 2022"  # not DAY: `repost` has nothing to post
    items = [tweet(2_000_000 + n, text, created_at=july) for n in range(20_000)]
    retweet = f"RT @{OWNER}: {text[:30]}…"
    items += [tweet(3_000_000 + n, retweet, created_at=july) for n in range(20_000)]
    compact = [
        {"tweet": {k: i["tweet"][k] for k in ("id_str", "created_at", "full_text")}} for i in items
    ]
    folder = write_files(
        root / "look-alike-retweets", {"data/account.js": account(), "data/tweets.js": js(compact)}
    )
    return Entry("look-alike-retweets", folder, (), frozenset({"2000000", "3019999"}), posts=0)


BUILDERS: tuple[Callable[[Path], Entry], ...] = (
    whitespace_bomb,
    whitespace_in_an_item,
    media_bomb,
    sparse_media,
    deep_nesting,
    extreme_dates,
    control_characters,
    huge_texts,
    duplicate_ids,
    broken_bytes,
    over_the_server_limit,
    look_alike_retweets,
)


def build(root: Path) -> dict[str, Entry]:
    """Write every entry under root; returns them by name."""
    entries = [make(root) for make in BUILDERS]
    return {entry.name: entry for entry in entries}


if __name__ == "__main__":  # python -m tests.support.hostile DIR
    for entry in build(Path(sys.argv[1])).values():
        print(f"{entry.name:24} {entry.path}")
