"""Which of the owner's tweets a retweet of their own tweet repeats.

The official archive keeps a retweet only as its text, `RT @user: …`, cut at
140 characters with a trailing `…`; the retweeted tweet's id is not there
(API-shaped exports carry `retweeted_status`, which the reader keeps). When
the user is the owner, the original is among the archive's tweets: it is the
latest earlier tweet of the owner whose text the retweet repeats. Links are
left out of the comparison, since the retweet holds them shortened or cut
off; a cut retweet matches on the words before the cut.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from bot.archive.text import retweeted
from bot.model import Tweet

_URL = re.compile(r"https?://\S+")
_SPACE = re.compile(r"\s+")
# Originals of cut retweets are found by the first characters of their text.
_KEY = 12
# The most originals a retweet is compared with: an archive of thousands of
# tweets alike (made to be slow) costs a missed link, not minutes.
_SCAN = 200


def link_retweets(tweets: Sequence[Tweet], owner: str | None) -> tuple[Tweet, ...]:
    """tweets (sorted by time), each retweet of the owner's own tweet given the
    id of its original in `retweet_of` when the archive holds that original."""
    if owner is None:
        return tuple(tweets)
    wanted = [i for i, t in enumerate(tweets) if t.retweet_of is None and _is_self(t, owner)]
    if not wanted:
        return tuple(tweets)
    originals = _Originals([t for t in tweets if not t.is_retweet])
    linked = list(tweets)
    for index in wanted:
        tweet = tweets[index]
        original = originals.find(tweet)
        if original is not None:
            linked[index] = replace(tweet, retweet_of=original)
    return tuple(linked)


def _is_self(tweet: Tweet, owner: str) -> bool:
    found = retweeted(tweet.text) if tweet.is_retweet else None
    return found is not None and found[0].casefold() == owner.casefold()


def _plain(text: str) -> str:
    """The text without links, white space runs collapsed."""
    return _SPACE.sub(" ", _URL.sub(" ", text)).strip()


def _key(text: str) -> str | None:
    """`_plain(text)[:_KEY]` read straight off a text that starts plainly (no
    white space but single spaces, no link), None for any other text. Most
    texts do: the index of originals then costs no regex."""
    head = text[:_KEY]
    if (
        len(head) == _KEY
        and head.isprintable()  # so its only white space is " "
        and head[0] != " "
        and head[-1] != " "  # else the plain text might end there
        and "  " not in head
        and "http" not in text[: _KEY + 4]  # a link starting within the key
    ):
        return head
    return None


class _Lazy:
    """`_plain` of each tweet's text, computed when first asked for."""

    def __init__(self, tweets: Sequence[Tweet]) -> None:
        self.tweets = tweets
        self.done: dict[int, str] = {}

    def __getitem__(self, index: int) -> str:
        if index not in self.done:
            self.done[index] = _plain(self.tweets[index].text)
        return self.done[index]


class _Originals:
    """The owner's tweets (in time order) by their plain text, and by its start.

    Lookups are bounded whatever the archive holds: an uncut retweet is found by
    its whole text, a cut one among the tweets sharing its first _KEY characters
    (at most _SCAN of them, latest first); a retweet cut shorter than that says
    too little to tell its original, and is left unlinked.
    """

    def __init__(self, tweets: Sequence[Tweet]) -> None:
        self.tweets = tweets
        self.plain = _Lazy(tweets)
        self.by_key: dict[str, list[int]] = defaultdict(list)
        self.short: dict[str, list[int]] = defaultdict(list)  # plain texts under _KEY
        for index, tweet in enumerate(tweets):
            key = _key(tweet.text) or self.plain[index][:_KEY]
            (self.by_key if len(key) == _KEY else self.short)[key].append(index)

    def find(self, retweet: Tweet) -> str | None:
        """The id of the latest tweet before `retweet` that it repeats, or None."""
        found = retweeted(retweet.text)
        assert found is not None
        body = found[1].rstrip()
        cut = body.endswith("…")
        if cut:
            # The last word (or link) may be cut in the middle: compare the words before it.
            body = " ".join(body[:-1].split()[:-1])
        wanted = _plain(body)
        if not wanted or (cut and len(wanted) < _KEY):
            return None
        if len(wanted) >= _KEY:
            candidates = self.by_key.get(wanted[:_KEY], [])
        else:
            candidates = self.short.get(wanted, [])
        # Candidates are in time order: the latest one not after the retweet comes first.
        end = bisect_right(candidates, retweet.created_at, key=lambda i: self.tweets[i].created_at)
        for index in reversed(candidates[max(0, end - _SCAN) : end]):
            text, tweet = self.plain[index], self.tweets[index]
            repeats = text.startswith(wanted) if cut else text == wanted
            if repeats and tweet.id != retweet.id:
                return tweet.id
        return None
