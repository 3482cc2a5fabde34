"""Writing archives in the formats tootback reads: the one writer of fixtures, tests and bench.

What each format looks like on disk is known here only; callers choose the tweets.

- The official archive: `data/*.js` files holding `window.YTD.<name>.partN = [...]`, pretty
  JSON as Twitter writes it (`js_file`), items shaped like the real export's (`tweet_item`
  and its `entities`, `url_entity`, `reply_fields`, `media_item`; `note_item`,
  `account_item`), as a folder (`write_tree`) or a zip (`write_zip`).
- twitter-archive-parser markdown, older generation: blocks of text and a footer
  `(Originally on Twitter: [date](url))`, separated by `----` lines (`old_block`,
  `old_markdown`, `write_old_markdown`).
- The newer generation: quoted, backslash-escaped bodies with an icon footer (`new_block`,
  `md_escape`).
- A few media files that are recognisable but tiny (`png`, `JPEG`, `MP4`).
"""

from __future__ import annotations

import json
import shutil
import struct
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

Json = dict[str, Any]
Files = Mapping[str, bytes | str]

TWITTER_EPOCH_MS = 1_288_834_974_657
# A PNG of 2x2 pixels is built by `png`; these two are only their magic numbers.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 48 + b"\xff\xd9"
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00\x00\x00\x08free"


def twitter_date(when: datetime) -> str:
    """`created_at` as Twitter writes it, in UTC: "Tue Apr 05 02:38:24 +0000 2022"."""
    return when.astimezone(UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")


def snowflake(when: datetime, sequence: int = 1) -> str:
    """A tweet id the way Twitter makes them: milliseconds since its epoch << 22."""
    ms = int(when.timestamp() * 1000)
    return str(((ms - TWITTER_EPOCH_MS) << 22) | sequence)


# --- the official archive -----------------------------------------------------------------


def js_file(variable: str, items: Sequence[Any], *, colon: str = " : ") -> bytes:
    """A data file: `window.YTD.<variable> = ` and `items` as JSON indented by two spaces.

    colon: what separates a key from its value; the real export writes " : ". With
    ": " the file is written by orjson, fast enough for the benchmark's large archives.
    """
    if colon == ": ":
        body = orjson.dumps(items, option=orjson.OPT_INDENT_2)
    else:
        body = json.dumps(items, indent=2, ensure_ascii=False, separators=(",", colon)).encode()
    return f"window.YTD.{variable} = ".encode() + body


def entities(
    urls: Sequence[Json] = (),
    mentions: Sequence[Json] = (),
    media: Sequence[Json] = (),
    hashtags: Sequence[Json] = (),
) -> Json:
    """A tweet's `entities`: hashtags, symbols, user mentions, URLs (and media, if any)."""
    found: Json = {
        "hashtags": list(hashtags),
        "symbols": [],
        "user_mentions": list(mentions),
        "urls": list(urls),
    }
    if media:
        found["media"] = list(media)
    return found


def url_entity(short: str, expanded: str, indices: Sequence[str], display: str) -> Json:
    """One t.co link of `entities.urls`."""
    return {"url": short, "expanded_url": expanded, "display_url": display, "indices": indices}


def mention_entity(
    screen_name: str, name: str, user_id: str, indices: Sequence[str], *, with_id: bool = True
) -> Json:
    """One `entities.user_mentions` item (`with_id`: also the numeric `id`, as recent exports)."""
    item: Json = {"name": name, "screen_name": screen_name, "indices": indices, "id_str": user_id}
    if with_id:
        item["id"] = user_id
    return item


def tweet_item(
    tweet_id: str,
    at: datetime,
    text: str,
    *,
    entities: Json,
    editable_until: str = "",
    favorite_count: str = "3",
    **extra: Any,
) -> Json:
    """One item of a tweets.js part, `{"tweet": {...}}`, with the real export's fields in its
    order; `extra` fields follow them (`reply_fields`, `extended_entities`, or a field to
    break on purpose)."""
    tweet: Json = {
        "edit_info": {
            "initial": {
                "editTweetIds": [tweet_id],
                "editableUntil": editable_until,
                "editsRemaining": "5",
                "isEditEligible": True,
            }
        },
        "retweeted": False,
        "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
        "entities": entities,
        "display_text_range": ["0", str(len(text))],
        "favorite_count": favorite_count,
        "id_str": tweet_id,
        "truncated": False,
        "retweet_count": "0",
        "id": tweet_id,
        "created_at": twitter_date(at),
        "favorited": False,
        "full_text": text,
        "lang": "en",
    }
    tweet.update(extra)
    return {"tweet": tweet}


def reply_fields(status_id: str, user_id: str, screen_name: str) -> Json:
    """The fields that make a tweet a reply (pass them to `tweet_item`)."""
    return {
        "in_reply_to_status_id_str": status_id,
        "in_reply_to_status_id": status_id,
        "in_reply_to_user_id": user_id,
        "in_reply_to_user_id_str": user_id,
        "in_reply_to_screen_name": screen_name,
    }


def media_item(
    *,
    media_id: str,
    kind: str,
    short: str,
    expanded: str,
    image_url: str,
    indices: Sequence[str],
    sizes: Json,
    display: str,
    alt: str | None = None,
    video_info: Json | None = None,
) -> Json:
    """One item of `extended_entities.media`: a photo, video or animated_gif (`kind`).

    image_url: the https URL of the picture (or the video's thumbnail); the http one is
    derived. alt: the alt text (`ext_alt_text`), when there is one.
    """
    item: Json = {
        "expanded_url": expanded,
        "indices": indices,
        "url": short,
        "media_url": image_url.replace("https:", "http:", 1),
        "id_str": media_id,
        "id": media_id,
        "media_url_https": image_url,
        "sizes": sizes,
        "type": kind,
        "display_url": display,
    }
    if alt is not None:
        item["ext_alt_text"] = alt
    if video_info is not None:
        item["video_info"] = video_info
    return item


def note_item(note_id: str, at: datetime, text: str, *, annotations: bool = True) -> Json:
    """One item of note-tweet.js: the full text of a tweet longer than 280 characters."""
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    lifecycle: Json = {"value": "Published", "name": "Published", "originalName": "Published"}
    if annotations:
        lifecycle["annotations"] = {}
    return {
        "noteTweet": {
            "noteTweetId": note_id,
            "updatedAt": stamp,
            "lifecycle": lifecycle,
            "createdAt": stamp,
            "core": {
                "styletags": [],
                "urls": [],
                "text": text,
                "mentions": [],
                "cashtags": [],
                "hashtags": [],
            },
        }
    }


def account_item(
    username: str, account_id: str, *, email: str, created_at: str, display_name: str
) -> Json:
    """The one item of account.js: whose archive this is."""
    return {
        "account": {
            "email": email,
            "createdVia": "web",
            "username": username,
            "accountId": account_id,
            "createdAt": created_at,
            "accountDisplayName": display_name,
        }
    }


def write_files(folder: Path, files: Files) -> Path:
    """Write `files` (relative path -> content, text as UTF-8) under `folder`; returns it."""
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_tree(folder: Path, files: Files) -> None:
    """Write `files` under `folder`, replacing whatever was there."""
    shutil.rmtree(folder, ignore_errors=True)
    write_files(folder, files)


def write_zip(
    path: Path,
    files: Iterable[tuple[str, bytes | str]],
    *,
    date_time: tuple[int, int, int, int, int, int] = (2023, 1, 20, 12, 0, 0),
    level: int | None = None,
) -> None:
    """Zip `files` (name, content) deflated, every entry dated `date_time`, so the same
    files always give the same bytes, as a downloaded archive."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            content = data.encode("utf-8") if isinstance(data, str) else data
            archive.writestr(info, content, compresslevel=level)


# --- twitter-archive-parser markdown ------------------------------------------------------


def old_block(text: str, at: datetime, url: str) -> str:
    """One tweet of the older generation: its text, a blank line, the footer."""
    return f"{text}\n\n(Originally on Twitter: [{twitter_date(at)}]({url}))"


def old_markdown(blocks: Iterable[str], *, end: str = "\n") -> str:
    """An older-generation file (`output.md`, `tweets_YYYY-MM.md`): blocks between `----`."""
    return "\n----\n".join(blocks) + end


def write_old_markdown(
    folder: Path,
    tweets: Iterable[tuple[str, datetime, str]],
    *,
    user: str = "me",
    name: str = "output.md",
    media: Mapping[str, bytes] | None = None,
) -> Path:
    """An older-generation archive in `folder`: one file of `tweets` (id, time, text) by
    `user`, and `media` files (path relative to `folder` -> bytes). Returns `folder`."""
    blocks = [
        old_block(text, at, f"https://twitter.com/{user}/status/{tid}") for tid, at, text in tweets
    ]
    return write_files(folder, {name: old_markdown(blocks), **(media or {})})


def caught_up_archive(folder: Path, now: datetime, text: str = "Caught up at start") -> str:
    """An older-generation archive in `folder` whose one tweet a daemon started at `now`
    posts at once (catch-up): tweeted four years before (a Feb 29 has one then), a minute
    earlier in the day, in `noon_zone(now)`, so that the minute before is the same local
    day whatever the time. Returns its id; the daemon runs with that zone as
    `selection.timezone`."""
    local = now.astimezone(ZoneInfo(noon_zone(now)))
    when = local.replace(year=local.year - 4, microsecond=0) - timedelta(minutes=1)
    tweet_id = "1600000000000000001"
    write_old_markdown(folder, [(tweet_id, when, text)])
    return tweet_id


def noon_zone(now: datetime) -> str:
    """A time zone (a fixed offset) in which `now` falls in the hour of noon: a test of a
    daemon on the real clock then never runs near its local midnight."""
    east = 12 - now.astimezone(UTC).hour  # hours ahead of UTC: -11 to 12
    return "UTC" if east == 0 else f"Etc/GMT{-east:+d}"  # tzdata's signs are POSIX's


_SPECIAL = set("\\_*[]()~`>#+-=|{}.!")


def md_escape(text: str) -> str:
    """Markdown escaping as the newer generation writes it: a backslash before each control
    character, two spaces before each line break."""
    out = []
    for char in text:
        if char == "\n":
            out.append("  \n")
        else:
            out.append("\\" + char if char in _SPECIAL else char)
    return "".join(out)


def new_block(tweet_id: str, at: datetime, body: str, *, user: str, header: str = "") -> str:
    """One tweet of the newer generation: `header` (e.g. a `Replying to` line), the body
    (already escaped) quoted with `> `, and the footer with the tweet icon."""
    quoted = "> " + "\n> ".join(body.splitlines())
    link = f"https://twitter.com/{user}/status/{tweet_id}"
    footer = f'<img src="../../media/tweet.ico" width="12" /> [{twitter_date(at)}]({link})'
    return f"{header}{quoted}\n\n{footer}"


# --- media files --------------------------------------------------------------------------


def png(rgb: tuple[int, int, int]) -> bytes:
    """A real 2x2 PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    raw = b"".join(b"\x00" + bytes(rgb) * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
