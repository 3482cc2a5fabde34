"""Reader for the official Twitter/X archive (a folder or its zip).

One data folder holds `tweets.js` / `tweet.js` and `tweets-partN.js` (arrays of
`{"tweet": {...}}` or bare objects), `account.js` (the username),
`note-tweet.js` (the full text of tweets longer than 280 characters) and the
media in `tweets_media/` or `tweet_media/`, named `<tweet id>-<name>`.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.archive.base import Found
from bot.archive.jsfile import SKIPPED, load_batches, load_js
from bot.archive.notes import Notes, read_notes
from bot.archive.repair import repair
from bot.archive.text import (
    DateOutOfRange,
    controls_removed,
    is_retweet,
    language_code,
    parse_twitter_date,
    quoted_id,
    strip_controls,
    tweet_url,
    unescape_repaired,
)
from bot.archive.tree import MISSING, OUTSIDE, Tree, size_problem
from bot.model import Media, MediaKind, Tweet

TWEETS_FILE = re.compile(r"tweets?(?:-part([0-9]+))?\.js")
_KINDS: dict[str, MediaKind] = {"photo": "image", "video": "video", "animated_gif": "gif"}
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif")
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,50}")

Json = dict[str, Any]


@dataclass
class _DataDir:
    """One data folder of an official archive, and what all its tweets share."""

    tree: Tree
    path: str
    found: Found
    username: str | None = None
    account_id: str | None = None
    notes: Notes = field(default_factory=Notes)
    media_dir: str = ""
    media_files: dict[str, list[str]] = field(default_factory=dict)


def read_official(tree: Tree, data_dir: str, names: list[str], found: Found) -> None:
    """Read the tweets of one data folder into found.official.

    tree: the folder or zip. data_dir: the data folder's tree path ("" when the
    tree is the data folder). names: its tweet files (`tweets.js`, `tweets-part1.js`
    …). found: collects tweets, problems and the account's username.
    """
    data = _DataDir(tree, data_dir, found)
    _read_account(data)
    data.notes = read_notes(tree, posixpath.join(data_dir, "note-tweet.js"), found)
    _index_media(data)
    # A tweet id seen twice in the folder is reported; another folder may hold the
    # same archive again (its zip, say), and the loader merges those silently.
    first_at: dict[str, str] = {}
    for name in sorted(names, key=_part_number):
        rel = posixpath.join(data_dir, name)
        label, index = tree.label(rel), 0
        for batch in load_batches(tree, rel, found):
            for item in batch:
                where = f"{label}#{index}"
                index += 1
                if item is SKIPPED:  # reported by the JSON reader
                    continue
                try:
                    tweet = _tweet(data, item, where)
                except Exception as exc:  # one bad item must not stop the archive
                    found.problem(where, f"cannot be read ({type(exc).__name__}: {exc}); skipped")
                    continue
                if tweet is None:
                    continue
                if (first := first_at.setdefault(tweet.id, where)) is where:
                    found.official.append(tweet)
                else:
                    found.problem(where, f"tweet {tweet.id} again (first at {first}); skipped")


def _part_number(name: str) -> tuple[int, str]:
    match = TWEETS_FILE.fullmatch(name)
    return (int(match.group(1)) if match and match.group(1) else 0, name)


def _read_account(data: _DataDir) -> None:
    """The owner's username and id from account.js, when it is there."""
    rel = posixpath.join(data.path, "account.js")
    if data.tree.media_problem(rel) is not None:  # no account.js: not an error
        return
    items = load_js(data.tree, rel, data.found)
    account = _dict(_dict(items[0]).get("account")) if items else {}
    username, account_id = account.get("username"), account.get("accountId")
    if isinstance(username, str) and _USERNAME.fullmatch(username):
        data.username = username
        data.found.accounts.append(username)
    elif username:
        data.found.problem(data.tree.label(rel), f"invalid username {username!r}; ignored")
    else:
        data.found.problem(data.tree.label(rel), "no username in account.js")
    if isinstance(account_id, str | int):
        data.account_id = str(account_id)


def _index_media(data: _DataDir) -> None:
    """List the media folder once; files are looked up by tweet id."""
    for folder in ("tweets_media", "tweet_media"):
        rel = posixpath.join(data.path, folder)
        names = data.tree.list_dir(rel)
        if names or not data.media_dir:
            data.media_dir = rel
        for name in names:
            data.media_files.setdefault(name.partition("-")[0], []).append(name)
        if names:
            return


def _tweet(data: _DataDir, item: object, where: str) -> Tweet | None:
    """One array item as a Tweet, or None after reporting why it was skipped."""
    obj = _dict(item)
    if "tweet" in obj:
        obj = _dict(obj["tweet"])
    tweet_id, created, reason = _identity(obj)
    if reason is not None or created is None:
        data.found.problem(where, f"{reason}; item skipped")
        return None
    get = obj.get  # this runs 100,000 times for a big archive: every lookup counts
    entities = _dict(get("entities"))
    media_items = _media_items(get("extended_entities"), entities)
    text, removed = _text(get("full_text") or get("text"), entities, media_items)
    if removed:
        data.found.problem(where, controls_removed(removed))
    note = data.notes.full_text(obj, created, text)
    reply_id = get("in_reply_to_status_id_str") or get("in_reply_to_status_id")
    reply_user = get("in_reply_to_screen_name")
    if not reply_user and data.account_id and get("in_reply_to_user_id_str") == data.account_id:
        reply_user = data.username
    retweet = is_retweet(text)
    return Tweet(
        id=tweet_id,
        created_at=created,
        text=note if note is not None else text,
        url=tweet_url(data.username, tweet_id),
        in_reply_to_id=str(reply_id) if reply_id else None,
        in_reply_to_user=reply_user if isinstance(reply_user, str) and reply_user else None,
        is_retweet=retweet,
        media=tuple(_media(data, tweet_id, media_items, where)) if media_items else (),
        source=where,
        lang=language_code(get("lang")),
        sensitive=_is_true(get("possibly_sensitive")),
        quote_of=None if retweet else _quote(obj, text, tweet_id),
        retweet_of=_status_id(_dict(get("retweeted_status")).get("id_str")) if retweet else None,
    )


def _quote(obj: Json, text: str, tweet_id: str) -> str | None:
    """The id of the quoted tweet. The official archive holds a quote only as
    the quoted tweet's URL ending the text; API-shaped exports also state it
    (`quoted_status_id_str`, `quoted_status_permalink`), which wins."""
    stated = _status_id(obj.get("quoted_status_id_str"))
    if stated is not None:
        return stated
    expanded = _dict(obj.get("quoted_status_permalink")).get("expanded")
    if isinstance(expanded, str) and (found := quoted_id(expanded, tweet_id)):
        return found
    return quoted_id(text, tweet_id)


def _is_true(value: object) -> bool:
    return value is True or value == "true"


def _status_id(raw: object) -> str | None:
    """raw when it is a tweet id (a string or number of ASCII digits)."""
    if isinstance(raw, str | int) and not isinstance(raw, bool):
        text = str(raw)
        if text.isascii() and text.isdigit():
            return text
    return None


def _media_items(extended: object, entities: Json) -> list[Json]:
    """The media objects: extended_entities' (all of them), else entities' (the first)."""
    if not extended and "media" not in entities:
        return []
    return [_dict(m) for m in _list(_dict(extended).get("media")) or _list(entities.get("media"))]


def _identity(obj: Json) -> tuple[str, datetime | None, str | None]:
    """The id and creation time of a tweet object, or why it has none."""
    raw_id = obj.get("id_str") or obj.get("id")
    if raw_id is None or raw_id == "":
        return "", None, "no id" if obj else "not a tweet object"
    tweet_id = str(raw_id)
    if not (tweet_id.isascii() and tweet_id.isdigit()):
        return "", None, f"invalid id {tweet_id!r}"
    created = obj.get("created_at")
    if not isinstance(created, str) or not created:
        return tweet_id, None, "no created_at"
    try:
        moment = parse_twitter_date(created)
    except DateOutOfRange as exc:
        return tweet_id, None, f"date {created!r} {exc}"
    if moment is None:
        return tweet_id, None, f"unparseable date {created!r}"
    return tweet_id, moment, None


def _text(raw: object, entities: Json, media_items: list[Json]) -> tuple[str, int]:
    """full_text (raw) cleaned, t.co links expanded, media links removed; and the
    number of control characters removed."""
    text = unescape_repaired(raw if isinstance(raw, str) else "")
    urls = entities.get("urls")
    if urls:
        for url in _list(urls):
            url = _dict(url)
            short, expanded = url.get("url"), url.get("expanded_url")
            if isinstance(short, str) and short and isinstance(expanded, str) and expanded:
                text = text.replace(short, expanded)
    if media_items or "media" in entities:
        for media in [*media_items, *map(_dict, _list(entities.get("media")))]:
            short = media.get("url")
            if isinstance(short, str) and short:
                text = text.replace(short, "")
    # After the links are expanded: they come from the item too.
    return strip_controls(text.strip())


def _media(data: _DataDir, tweet_id: str, items: list[Json], where: str) -> list[Media]:
    """The tweet's media files, each checked; missing and refused ones reported."""
    found: list[Media] = []
    used: set[str] = set()
    for item in items:
        kind = _KINDS.get(str(item.get("type")), "image")
        name = _photo_name(tweet_id, item) if kind == "image" else _video_name(data, tweet_id, used)
        used.add(name)
        rel = posixpath.join(data.media_dir, name)
        problem = MISSING if name.endswith("*") else data.tree.media_problem(rel)
        path = data.tree.label(rel)
        limits = data.found.limits
        sizes = data.tree.size(rel) if problem is None else None
        if problem is None:
            problem = size_problem(sizes, limits.max_media_size, limits.max_zip_ratio)
        if problem == OUTSIDE:
            data.found.problem(where, f"media {path} is outside the archive; refused")
        elif problem == MISSING:
            data.found.problem(where, f"media file {path} is missing")
        elif problem is not None:
            data.found.problem(where, f"media file {path} {problem}; not uploaded")
        alt = item.get("ext_alt_text")
        description = strip_controls(repair(alt))[0] if isinstance(alt, str) and alt else None
        size = sizes[0] if sizes and problem is None else None
        found.append(Media(path, kind, description, problem, size))
    return found


def _photo_name(tweet_id: str, item: Json) -> str:
    """`<id>-<basename of media_url>`, the name the archive gives a photo."""
    url = item.get("media_url_https") or item.get("media_url") or ""
    return f"{tweet_id}-{str(url).rsplit('/', 1)[-1]}"


def _video_name(data: _DataDir, tweet_id: str, used: set[str]) -> str:
    """The first unused `<id>*` file, preferring non-images; `<id>-*` when none."""
    names = [n for n in data.media_files.get(tweet_id, []) if n not in used]
    videos = [n for n in names if not n.lower().endswith(_IMAGE_SUFFIXES)]
    return (videos or names or [f"{tweet_id}-*"])[0]


def _dict(value: object) -> Json:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
