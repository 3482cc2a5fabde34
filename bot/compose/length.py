"""Mastodon's character count, and where a text may be cut between characters.

Pure: no requests, and no Mastodon.py. Mastodon counts a status as its grapheme
clusters after two replacements: every URL becomes `characters_reserved_per_url`
characters (23), and every `@user@domain` becomes `@user`. Which text is a URL
is twitter-text's `valid_url` rule, as Mastodon applies it: a scheme, a host
whose last label is a known top-level domain (or `xn--…`), then port, path and
query. Mastodon.py (`Mastodon.get_status_length`) compiles that rule as one
regex of 13,000 characters holding every TLD: importing Mastodon.py to count
cost ~80 ms per process and compiling that regex ~20 ms more, most of a
`preview`. Here the rule is a few small regexes and a set lookup of the TLD
(`tlds.py`); only a TLD position holding non-ASCII text (an internationalised
domain, or a character such as the Kelvin sign that `re` folds onto an ASCII
letter) takes the whole alternation, compiled on first need. Everything is
matched with `re.IGNORECASE`, as Mastodon.py matches, so that `re`'s case
folding agrees with it; a property test keeps the two counts equal.

Grapheme clusters come from `grapheme` (graphemeu), the library Mastodon.py
counts with: it imports in ~6 ms, and the standard library has no grapheme
segmentation (`unicodedata` lacks the break properties).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from itertools import accumulate

from bot.compose.tlds import COUNTRY, GENERIC
from bot.model import LengthRule

URL_LENGTH = 23  # Mastodon's characters_reserved_per_url

_I = re.IGNORECASE
_SCHEME = re.compile(r"https?://", _I)
# What may stand before a URL (the regex consumes it): not a letter, digit, @, $ or #.
_BEFORE = re.compile("[^A-Za-z0-9@\uff20$#\uff03\ufffe\ufeff\uffff]", _I)
# A host character: anything but punctuation, white space and invisible marks.
_NOT_HOST = (
    r"!'#%&()*+,\\\-./:;<=>?@\[\]^_{|}~$"
    r"\x09-\x0d\x20\x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    r"\ufffe\ufeff\uffff\u202a-\u202e\u061c\u200e\u200f\u2066-\u2069"
)
_H = f"[^{_NOT_HOST}]"
_HOST_RUN = re.compile(rf"(?:[._\-]|{_H})*", _I)
# A subdomain's label may hold "_" and "-" inside, the domain's own label only "-".
_SUBDOMAIN = re.compile(rf"(?:{_H}(?:[_\-]|{_H})*)?{_H}", _I)
_DOMAIN = re.compile(rf"(?:{_H}(?:-|{_H})*)?{_H}", _I)
_PUNYCODE = re.compile(r"xn--[\-0-9a-z]+", _I)
_AFTER_TLD = r"[^0-9a-zA-Z@+\-]"  # a TLD must not run on into one of these
_TLD_END = re.compile(_AFTER_TLD, _I)
# Port, path and query: what twitter-text allows after the host.
_ACCENTS = (
    r"\xc0-\xd6\xd8-\xf6\xf8-\xff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259"
    r"\u025b\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_P = rf"[a-z\u0400-\u04ff0-9!*';:=+,.$/%#\[\]\-\u2013_~@|&{_ACCENTS}]"
_PARENS = rf"\((?:{_P}+|{_P}*\({_P}+\){_P}*)\)"
_PATH_END = rf"[+\-a-z\u0400-\u04ff0-9=_#/{_ACCENTS}]"
_PATH_ITEM = rf"{_P}*(?:{_PARENS}{_P}*)*{_PATH_END}|{_PARENS}|@{_P}+/"
_QUERY = r"\?[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]*[a-z0-9\-_&=#/]"
_AFTER_HOST = re.compile(rf"(?::[0-9]+)?(?:/(?:{_PATH_ITEM})*)?(?:{_QUERY})?", _I)
# Characters that may join a neighbour into one cluster: non-ASCII ones, and CR (CR LF).
_SPECIAL_RUN = re.compile(r"[^\x00-\x0c\x0e-\x7f]+")
# `@user@domain`, not after a word character or "/": counted as `@user`.
_REMOTE_MENTION = re.compile(r"(^|[^/\w])(@[a-z0-9_]+)@[a-z0-9.\-]+[a-z0-9]", _I)


def status_length(text: str, spoiler_text: str = "", url_length: int = URL_LENGTH) -> int:
    """How many characters Mastodon counts for a status.

    text: the status text exactly as it will be sent.
    spoiler_text: the content warning, which counts toward the same limit.
    url_length: what a URL counts: the server's `characters_reserved_per_url`.

    Returns the count Mastodon compares with `max_characters`: a URL counts
    url_length, `@user@domain` counts as `@user`, and a grapheme cluster (an
    emoji with its modifiers, a letter with its accents) counts 1.
    """
    countable = _REMOTE_MENTION.sub(r"\1\2", _urls_replaced(text, "x" * url_length))
    count = _grapheme_count()
    return count(countable) + count(spoiler_text)


def code_points(text: str, spoiler_text: str = "", url_length: int = URL_LENGTH) -> int:
    """How many characters GoToSocial, Takahē and Pleroma count for a status: the code
    points of the text and the content warning, URLs and `@user@domain` in full.

    GoToSocial counts exactly this; Takahē leaves the content warning out and
    Pleroma counts grapheme clusters, so neither counts more. `url_length` is
    ignored: such servers advertise `characters_reserved_per_url` and do not
    apply it (measured on GoToSocial 0.20 and Takahē 0.11).
    """
    return len(text) + len(spoiler_text)


Counter = Callable[[str, str, int], int]
"""A length rule as a function: (text, spoiler_text, url_length) -> count."""

COUNTERS: dict[LengthRule, Counter] = {"mastodon": status_length, "code points": code_points}
"""The function for each server's length rule (`InstanceLimits.length_rule`)."""


def grapheme_boundaries(text: str) -> list[int]:
    """The offsets in `text` where a cut does not split a user-visible character.

    Returns the end offset of every grapheme cluster, ascending; the last one
    is `len(text)`, and 0 is not included. Empty text has none.
    """
    return list(accumulate(_grapheme_lengths()(text)))


def _urls_replaced(text: str, stand_in: str) -> str:
    """text with every URL Mastodon recognises replaced by stand_in."""
    if "//" not in text:
        return text
    pieces: list[str] = []
    done = 0
    for scheme in _SCHEME.finditer(text):
        start = scheme.start()
        # The character before a URL is part of Mastodon's match, so it cannot be
        # the last character of the URL before.
        if start and (start <= done or not _BEFORE.match(text, start - 1)):
            continue
        host_end = _host_end(text, scheme.end())
        if host_end is None:
            continue
        after = _AFTER_HOST.match(text, host_end)
        pieces += (text[done:start], stand_in)
        done = after.end() if after else host_end
    pieces.append(text[done:])
    return "".join(pieces)


def _host_end(text: str, at: int) -> int | None:
    """Where the host starting at `at` ends, None when it is no valid host.

    A host is subdomain labels, the domain's label and a TLD. As the regex's
    greedy repetition does, the most subdomains that still leave a valid domain
    label and TLD after them win.
    """
    run = _HOST_RUN.match(text, at)
    labels = run.group().split(".") if run else [""]
    starts = [at]
    for label in labels:
        starts.append(starts[-1] + len(label) + 1)
    dotted = len(labels) - 1  # the labels a dot follows
    subdomains = 0
    while subdomains < dotted and _SUBDOMAIN.fullmatch(labels[subdomains]):
        subdomains += 1
    for count in range(min(subdomains, dotted - 1), -1, -1):
        if _DOMAIN.fullmatch(labels[count]):
            end = _tld_end(text, starts[count + 1])
            if end is not None:
                return end
    return None


def _tld_end(text: str, at: int) -> int | None:
    """The end of the top-level domain starting at `at`, or None."""
    run = at
    while run < len(text) and text[run].isascii() and text[run].isalpha():
        run += 1
    if run == at or (run < len(text) and not text[run].isascii()):
        found = _all_tlds().match(text, at)
        return found.end() if found else None
    if run == len(text) or _TLD_END.match(text, run):
        name = text[at:run].lower()
        if name in GENERIC or name in COUNTRY:
            return run
    punycode = _PUNYCODE.match(text, at)
    return punycode.end() if punycode else None


@cache
def _all_tlds() -> re.Pattern[str]:
    """Every TLD as one alternation, for text the fast path cannot judge: generic
    ones first, then country codes, the longer of two with a common start first."""

    def alternation(names: frozenset[str]) -> str:
        ordered = sorted(names, key=lambda name: (-len(name), name))
        return f"(?:{'|'.join(map(re.escape, ordered))})(?={_AFTER_TLD}|$)"

    return re.compile(f"{alternation(GENERIC)}|{alternation(COUNTRY)}|{_PUNYCODE.pattern}", _I)


# grapheme costs ~6 ms to import: on first use, so that `tootback --version` does not pay it.
@cache
def _grapheme_count() -> Callable[[str], int]:
    """len() of a text in grapheme clusters.

    grapheme's state machine runs in Python, character by character: most of
    what composing a day costs. Yet characters only ever join into one cluster
    through a character of a few break classes (a combining mark, a joiner, a
    spacing mark, a prepended one, Hangul jamo and syllables, a flag's halves),
    all outside ASCII, or as CR LF; and between two ASCII characters other than
    CR LF there is always a break. So only the runs of non-ASCII characters (and
    CRs), each with the character on either side, can differ from len(), and
    only when they hold one of those characters (grapheme's own tables say
    which): grapheme counts those runs, len() the rest.
    """
    import grapheme
    from grapheme.grapheme_property_group import GraphemePropertyGroup as Group
    from grapheme.grapheme_property_group import get_group

    joining = {
        Group.CR, Group.EXTEND, Group.ZWJ, Group.SPACING_MARK, Group.PREPEND,
        Group.L, Group.V, Group.T, Group.LV, Group.LVT, Group.REGIONAL_INDICATOR,
    }  # fmt: skip

    @cache
    def joins(char: str) -> bool:
        return get_group(char) in joining

    def count(text: str) -> int:
        if text.isascii() and "\r" not in text:
            return len(text)
        total = len(text)
        for start, end in _joinable_runs(text):
            run = text[start:end]
            if any(map(joins, set(run))):
                total -= len(run) - int(grapheme.length(run))
        return total

    return count


def _joinable_runs(text: str) -> list[tuple[int, int]]:
    """The runs of non-ASCII characters and CRs, each widened by the character on
    either side and merged when they touch: the only places where clusters can
    hold more than one character."""
    runs: list[tuple[int, int]] = []
    for match in _SPECIAL_RUN.finditer(text):
        start, end = max(match.start() - 1, 0), min(match.end() + 1, len(text))
        if runs and start <= runs[-1][1]:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    return runs


@cache
def _grapheme_lengths() -> Callable[[str], list[int]]:
    import grapheme

    def lengths(text: str) -> list[int]:
        return list(grapheme.grapheme_lengths(text))

    return lengths
