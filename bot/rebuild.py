"""Recognise this archive's toots among an account's statuses (`state rebuild`).

A toot's text is the tweet's text rewritten (links, mentions), maybe split
into numbered parts, plus a footer; the server returns it as HTML. So a toot
is recognised by the words of its beginning, with links, mentions and part
markers left out: those are what rewriting and splitting change.

Short tweets are the risk: "Spam spam spam" could be an ordinary post. A
fingerprint shorter than MIN_WORDS matches only a status that is no more than
the tweet and a footer; an ambiguous status (two tweets of the same words) is
reported and not taken.

A boost has no words: it is recognised by what it boosts. A boost of the toot
of tweet T is the toot of the archive's retweet of T (a retweet of your own
tweet is posted as a boost), so a lost state file cannot make it boosted again
(GoToSocial boosts a status a second time when asked).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.model import Tweet
from bot.state import Posted, State

if TYPE_CHECKING:  # the client imports Mastodon.py; rebuilding needs only its values
    from bot.client import OwnStatus

FINGERPRINT_WORDS = 12
MIN_WORDS = 4
FOOTER_WORDS = 10

_LINK = re.compile(r"https?://\S+|\b[\w.-]+\.[a-z]{2,}/\S*", re.IGNORECASE)
_MENTION = re.compile(r"[@＠][\w.@-]+")
_MARKER = re.compile(r"\((\d+)/(\d+)\)")
_FIRST_PART = re.compile(r"\(1/(\d+)\)\s*$")
_WORD = re.compile(r"\w+")
_MENTION_SIGN = re.compile(r"(?<![\w@])@(?=\w)")


def words(text: str) -> list[str]:
    """The comparable words of a text: links, mentions and part markers removed, casefolded."""
    text = _MARKER.sub(" ", _MENTION.sub(" ", _LINK.sub(" ", text)))
    return _WORD.findall(text.casefold())


def fingerprint(text: str, media_count: int = 0) -> str:
    """A short hash of what a status says: its comparable words (`words`) and its number
    of media. The same for the text tootback sent and the status the server shows (which
    renders links, mentions and markup its own way), so a status is recognised as the
    one a part sent, whatever the settings say by the time it is looked for."""
    material = " ".join(words(text)) + f"\nmedia: {media_count}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:16]


def _fingerprint(text: str) -> tuple[str, ...]:
    return tuple(words(text)[:FINGERPRINT_WORDS])


class Matcher:
    """Finds which tweet of an archive a status is the (first part of the) toot of."""

    def __init__(self, tweets: Iterable[Tweet]) -> None:
        self._ids: dict[tuple[str, ...], list[str]] = defaultdict(list)
        self._retweets: dict[str, list[str]] = defaultdict(list)
        for tweet in tweets:
            if tweet.retweet_of is not None:
                self._retweets[tweet.retweet_of].append(tweet.id)
            # `mentions.unmapped = "plain"` leaves a mention's name in the toot as a word.
            plain = _MENTION_SIGN.sub("", tweet.text)
            for key in {_fingerprint(tweet.text), _fingerprint(plain)}:
                if key:
                    self._ids[key].append(tweet.id)
        self._lengths = sorted({len(k) for k in self._ids}, reverse=True)

    def match(self, text: str) -> str | None:
        """The tweet id `text` is a toot of; None when none, or more than one, fits."""
        found = words(text)
        for length in self._lengths:
            ids = self._ids.get(tuple(found[:length]))
            if ids is None:
                continue
            if length < MIN_WORDS and len(found) > length + FOOTER_WORDS:
                continue
            return ids[0] if len(ids) == 1 else None
        return None

    def retweet(self, tweet_id: str) -> str | None:
        """The id of the archive's retweet of tweet `tweet_id`; None when none, or more
        than one (then no boost can be told apart)."""
        ids = self._retweets.get(tweet_id, [])
        return ids[0] if len(ids) == 1 else None

    def __call__(self, text: str) -> bool:
        return self.match(text) is not None


@dataclass(frozen=True, slots=True)
class RebuildReport:
    """What `state rebuild` found: tweets recovered, statuses matched twice (`duplicates`:
    later toots of a tweet; `boosted_twice`: later boosts of a toot), the rest, and how
    many statuses of each visibility it saw (`visibilities`: (name, count) pairs)."""

    recovered: int
    already_known: int
    duplicates: tuple[str, ...]
    unmatched: int
    visibilities: tuple[tuple[str, int], ...] = ()
    boosted_twice: tuple[str, ...] = ()

    @property
    def seen(self) -> int:
        """How many statuses were seen."""
        return sum(n for _, n in self.visibilities)


def rebuild(
    state: State, statuses: Sequence[OwnStatus], matcher: Matcher
) -> tuple[State, RebuildReport]:
    """Add a `posted` record for every toot of the archive found in `statuses`.

    statuses: the account's own statuses, boosts included, any order. Tweets the
    state already knows are left as they are. A tweet found twice keeps its oldest
    toot; the later ones are reported as duplicates (they exist on the server).
    """
    # Oldest first (ids break ties: they grow with time), so a first part comes
    # before the later parts of its chain, and the first toot of a tweet before
    # any duplicate of it.
    ordered = sorted(statuses, key=lambda s: (s.created_at, len(s.id), s.id))
    found, duplicates, unmatched = _toots(ordered, matcher)
    boosted_twice, boosts_unmatched = _boosts(ordered, matcher, found, state)
    unmatched += boosts_unmatched
    known = {tid for tid in found if state.record(tid) is not None}
    tweets = {**{t: r for t, r in found.items() if t not in known}, **state.tweets}
    seen = Counter(s.visibility for s in statuses)
    visibilities = tuple(sorted(seen.items(), key=lambda item: _visibility_order(item[0])))
    report = RebuildReport(
        len(found) - len(known),
        len(known),
        tuple(duplicates),
        unmatched,
        visibilities,
        tuple(boosted_twice),
    )
    return replace(state, tweets=tweets), report


def _toots(
    ordered: Sequence[OwnStatus], matcher: Matcher
) -> tuple[dict[str, Posted], list[str], int]:
    """The toots of the archive's tweets among `ordered` (oldest first), by tweet id; the
    URLs of later toots of a tweet found already; how many statuses match no tweet."""
    by_parent = {s.in_reply_to_id: s for s in ordered if s.boost_of is None}
    found: dict[str, Posted] = {}
    in_chains: set[str] = set()
    duplicates: list[str] = []
    unmatched = 0
    for status in ordered:
        if status.id in in_chains or status.boost_of is not None:
            continue  # a later part of a split toot, found through its first part; a boost
        tid = matcher.match(status.text_plain)
        if tid is None:
            unmatched += 1
            continue
        chain = _chain(status, by_parent)
        in_chains.update(s.id for s in chain)
        if tid in found:
            duplicates.append(status.url)
        else:
            found[tid] = Posted(tuple(s.id for s in chain), status.url, status.created_at)
    return found, duplicates, unmatched


def _boosts(
    ordered: Sequence[OwnStatus], matcher: Matcher, found: dict[str, Posted], state: State
) -> tuple[list[str], int]:
    """Add to `found` the retweet that each boost of a known toot was posted for.

    Returns the URLs of later boosts of a toot already boosted, and how many boosts
    are of no toot of this archive's tweets.
    """
    # The first record of a status wins: on Takahē a boost's record holds the id of the
    # status it boosts (its answer is that status), and the boosted toot came first.
    toots: dict[str, tuple[str, str]] = {}
    for tid, record in [*found.items(), *state.tweets.items()]:
        if isinstance(record, Posted) and record.status_ids:
            toots.setdefault(record.status_ids[0], (tid, record.url))
    duplicates: list[str] = []
    unmatched = 0
    for status in ordered:
        if status.boost_of is None:
            continue
        tid, url = toots.get(status.boost_of, ("", ""))
        retweet = matcher.retweet(tid) if tid else None
        if retweet is None:
            unmatched += 1
        elif retweet in found:
            duplicates.append(status.url)
        else:
            found[retweet] = Posted((status.id,), url, status.created_at)
    return duplicates, unmatched


def _visibility_order(name: str) -> tuple[int, str]:
    order = ("public", "unlisted", "private", "direct")
    return (order.index(name) if name in order else len(order), name)


def _chain(first: OwnStatus, by_parent: dict[str | None, OwnStatus]) -> list[OwnStatus]:
    chain = [first]
    marker = _FIRST_PART.search(first.text_plain)
    total = int(marker[1]) if marker else 1
    while len(chain) < total and chain[-1].id in by_parent:
        chain.append(by_parent[chain[-1].id])
    return chain
