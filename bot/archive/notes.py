"""Note tweets: the full text of tweets longer than 280 characters.

`tweets.js` holds such a tweet truncated; `note-tweet.js` holds the whole text
with its own id and an ISO `createdAt`, and usually nothing that points from
one to the other. A tweet gets a note's text when it names the note's id, or
else when both were created within two seconds and the tweet's text is the
start of the note's (ignoring links, whitespace and the trailing `…`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from bot.archive.base import Found
from bot.archive.jsfile import SKIPPED, load_js
from bot.archive.text import (
    DateOutOfRange,
    controls_removed,
    parse_twitter_date,
    strip_controls,
    unescape_repaired,
)
from bot.archive.tree import Tree

_URL = re.compile(r"https?://\S*")
_PREFIX = 40  # characters of the truncated text that must match


@dataclass
class Notes:
    """The note tweets of one archive, indexed for matching."""

    by_id: dict[str, str] = field(default_factory=dict)
    by_second: dict[int, list[str]] = field(default_factory=dict)

    def full_text(self, tweet: dict[str, Any], created_at: datetime, text: str) -> str | None:
        """The full text for a tweet (its JSON object, time and cleaned text),
        or None when no note belongs to it."""
        if not self.by_id and not self.by_second:
            return None
        for key in ("noteTweetId", "note_tweet_id"):
            note_id = tweet.get(key)
            if note_id is not None and str(note_id) in self.by_id:
                return self.by_id[str(note_id)]
        second = int(created_at.timestamp())
        if second not in self._near:
            return None
        for when in (second, second - 1, second + 1, second - 2, second + 2):
            for note in self.by_second.get(when, ()):
                if _starts_alike(text, note):
                    return note
        return None

    @cached_property
    def _near(self) -> frozenset[int]:
        """Every second within two of a note's (most tweets are not near any)."""
        return frozenset(s + d for s in self.by_second for d in range(-2, 3))


def read_notes(tree: Tree, rel: str, found: Found) -> Notes:
    """Index note-tweet.js at rel; an absent file gives no notes, bad items are reported."""
    notes = Notes()
    if tree.media_problem(rel) is not None:  # no note-tweet.js: nothing to match
        return notes
    for index, item in enumerate(load_js(tree, rel, found)):
        where = f"{tree.label(rel)}#{index}"
        if item is SKIPPED:  # reported by the JSON reader
            continue
        try:
            _add_note(notes, item, where, found)
        except Exception as exc:  # one bad item must not stop the archive
            found.problem(where, f"cannot be read ({type(exc).__name__}: {exc}); skipped")
    return notes


def _add_note(notes: Notes, item: object, where: str, found: Found) -> None:
    note = _dict(_dict(item).get("noteTweet"))
    core = _dict(note.get("core"))
    raw, created = core.get("text"), note.get("createdAt")
    try:
        moment = parse_twitter_date(created) if isinstance(created, str) else None
    except DateOutOfRange as exc:
        found.problem(where, f"date {created!r} {exc}; note skipped")
        return
    note_id = note.get("noteTweetId")
    if not isinstance(raw, str) or not raw or (moment is None and note_id is None):
        found.problem(where, "note tweet without text or date; skipped")
        return
    text, removed = strip_controls(_expand(unescape_repaired(raw), core))
    if removed:
        found.problem(where, controls_removed(removed))
    if note_id is not None:
        notes.by_id[str(note_id)] = text
    if moment is not None:
        notes.by_second.setdefault(int(moment.timestamp()), []).append(text)


def _expand(text: str, core: dict[str, Any]) -> str:
    """Replace t.co links by their targets, should the note text hold any."""
    for url in core.get("urls") or ():
        url = _dict(url)
        short = url.get("shortUrl") or url.get("url")
        expanded = url.get("expandedUrl") or url.get("expanded_url")
        if isinstance(short, str) and short and isinstance(expanded, str) and expanded:
            text = text.replace(short, expanded)
    return text


def _squash(text: str) -> str:
    return "".join(_URL.sub("", text).split()).rstrip("…")


def _starts_alike(truncated: str, full: str) -> bool:
    """Whether the truncated tweet text is the beginning of the note text."""
    head = _squash(truncated)[:_PREFIX]
    return bool(head) and _squash(full).startswith(head)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
