"""Small pure helpers shared by the readers: text cleanup, dates, tweet links."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from bot.archive.repair import repair

_ENTITY = re.compile(r"&(amp|lt|gt|quot|apos|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
# A link to a tweet, as in markdown footers and reply headers.
TWEET_LINK = re.compile(
    r"https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/([A-Za-z0-9_]+)/status(?:es)?/([0-9]+)"
)
# The one layout every export writes, parsed by a single match (the general
# parser below handles the rest): `Fri Apr 01 18:09:22 +0000 2022`.
_UTC_DATE = re.compile(
    r"[A-Za-z]{3} ([A-Za-z]{3}) ([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) \+0000 ([0-9]{4})"
)
# A leading @mention: older markdown marks replies only this way.
_LEADING_MENTION = re.compile(r"@([A-Za-z0-9_]+)")
# A quote tweet, as archives hold it: the quoted tweet's URL ends the text
# (`?s=20`-style queries and a trailing slash allowed; not a /photo/1 link).
_TRAILING_STATUS = re.compile(
    r"(?:^|\s)https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/"
    r"(?:[A-Za-z0-9_]{1,15}|i(?:/web)?)/status(?:es)?/([0-9]{1,20})/?(?:\?[^\s#]*)?(?:#\S*)?$",
    re.IGNORECASE,
)
_RETWEET = re.compile(r"RT @([A-Za-z0-9_]{1,15}): ?")
# A BCP 47-shaped code as Twitter writes `lang` ("en", "pt-BR", "und", "qme").
_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8}){0,3}")
# Control characters other than tab and line breaks, and lone surrogates: no
# tweet holds them, a server may refuse them, and a surrogate cannot even be
# encoded to send. (C1 controls are removed only after repair, which reads
# them as traces of mojibake.)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Tweets exist from March 2006 on; outside these bounds a date is damage, and
# near year 1 or 9999 a time-zone shift would overflow.
EARLIEST = datetime(2006, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_RANGE = f"out of range (tweets are from {EARLIEST.year} to {LATEST.year - 1})"


class DateOutOfRange(ValueError):
    """A well-formed date that no tweet can have (see EARLIEST, LATEST)."""


def clean_text(raw: str) -> tuple[str, int]:
    """The one place every tweet text goes through: mojibake repaired, HTML
    entities unescaped exactly once, control characters removed.

    raw: the text as the archive stores it. Returns the text as written and
    how many control characters were removed (the reader reports them).
    """
    return strip_controls(unescape_repaired(raw))


def unescape_repaired(raw: str) -> str:
    """`clean_text` without removing control characters (for a reader that
    changes the text further, then removes them)."""
    text = repair(raw)
    return _ENTITY.sub(_entity, text) if "&" in text else text


def strip_controls(text: str) -> tuple[str, int]:
    """text without control characters (but tab and line breaks) and lone
    surrogates; and how many were removed."""
    if text.isprintable():  # most tweets: one fast check (tab and breaks are not printable)
        return text, 0
    return _CONTROL.subn("", text)


def controls_removed(count: int) -> str:
    """The problem reported for a text that lost `count` control characters."""
    return f"{count} control character{'s' if count != 1 else ''} removed from the text"


def _entity(match: re.Match[str]) -> str:
    """Replace one entity; Twitter only escapes `& < >`, but numeric ones are
    cheap to honour. Invalid code points stay as written."""
    name = match.group(1)
    if name[0] != "#":
        return _NAMED[name]
    code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
    if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return match.group()
    return chr(code)


def parse_twitter_date(value: str) -> datetime | None:
    """Parse `Fri Apr 01 18:09:22 +0000 2022` (or ISO 8601) into aware UTC.

    Hand-rolled rather than strptime: it runs once per tweet and is several
    times faster. Returns None when the value is not a valid date; raises
    DateOutOfRange for a date before 2006 or from 2100 on.
    """
    try:
        moment = _parse_date(value)
    except OverflowError:  # year 1 or 9999 shifted by its offset
        raise DateOutOfRange(_RANGE) from None
    if moment is not None and not EARLIEST <= moment < LATEST:
        raise DateOutOfRange(_RANGE)
    return moment


def _parse_date(value: str) -> datetime | None:
    fast = _UTC_DATE.fullmatch(value)
    if fast is not None and fast[1] in _MONTHS:
        try:
            return datetime(
                int(fast[6]), _MONTHS[fast[1]], int(fast[2]),
                int(fast[3]), int(fast[4]), int(fast[5]), tzinfo=UTC,
            )  # fmt: skip
        except ValueError:
            return None
    parts = value.split()
    if len(parts) != 6:
        return _parse_iso(value)
    _weekday, month_name, day, clock, zone, year = parts
    month = _MONTHS.get(month_name)
    hms = clock.split(":")
    numbers = [day, year, zone[1:], *hms]
    if month is None or len(hms) != 3 or len(zone) != 5 or zone[0] not in "+-":
        return None
    if not all(n.isascii() and n.isdigit() for n in numbers):
        return None
    try:
        moment = datetime(
            int(year), month, int(day), int(hms[0]), int(hms[1]), int(hms[2]), tzinfo=UTC
        )
    except ValueError:
        return None
    offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:]))
    return moment - offset if zone[0] == "+" else moment + offset


def _parse_iso(value: str) -> datetime | None:
    """ISO 8601 fallback (note tweets use it); a naive value is taken as UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def tweet_url(user: str | None, tweet_id: str) -> str:
    """The canonical twitter.com URL of a tweet; `i/web` when the author is unknown."""
    return f"https://twitter.com/{user or 'i/web'}/status/{tweet_id}"


def leading_mention(text: str) -> str | None:
    """The screen name a text starts with (`@name …`), or None."""
    match = _LEADING_MENTION.match(text)
    return match.group(1) if match else None


def is_retweet(text: str) -> bool:
    """An old-style retweet: `RT @user: …`."""
    return text.startswith("RT @")


def language_code(raw: object) -> str | None:
    """`raw` when it is shaped like a language code, else None (a hostile or
    broken `lang` goes no further)."""
    return _language_code(raw) if isinstance(raw, str) else None


@lru_cache(maxsize=256)  # an archive holds a few dozen codes, once per tweet
def _language_code(raw: str) -> str | None:
    return raw if _LANGUAGE.fullmatch(raw) else None


def retweeted(text: str) -> tuple[str, str] | None:
    """(screen name, retweeted text) of an `RT @user: …` retweet, else None."""
    match = _RETWEET.match(text)
    return (match.group(1), text[match.end() :]) if match else None


def quoted_id(text: str, tweet_id: str) -> str | None:
    """The id of the tweet that `text` (of tweet `tweet_id`) quotes: the status
    its last URL points at; None when the text does not end with a tweet URL
    (or ends with a link to the tweet itself)."""
    # The URL runs to the end and holds no white space: it is the last word, and
    # matching that word alone spares a search through the whole text.
    words = text.rsplit(None, 1)
    match = _TRAILING_STATUS.match(words[-1]) if words else None
    if match is None or match.group(1) == tweet_id:
        return None
    return match.group(1)
