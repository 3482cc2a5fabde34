"""What a quote tweet and a retweet of one's own tweet become on the fediverse.

Pure. A quote of one of the owner's tweets that is already posted becomes a
real quote post where the server takes them (Mastodon API version 7 and
later): the toot's first part carries the quoted status, and the quoted
tweet's link, which ended the tweet, is left out (Mastodon shows the quoted
toot itself). Otherwise the link stays: it
points at the posted status as any link to the owner's own tweet does, or
follows `links.self_unposted` while that tweet is not posted, and a quote of
someone else keeps its link (`links.twitter_host` applies).

A retweet of the owner's own tweet (`RT @owner: …`) becomes a boost of that
tweet's status, never a copy; while that tweet is not posted it is skipped,
with the reason, and a later run boosts it. Retweets of others are copied as
they always were.

`planned`: tweets that a run posts before this one (a day's earlier toots in
`preview`); they count as posted for these decisions, since by the time this
toot is sent they will be.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping

from bot.compose.rewrite import url_spans
from bot.model import Quote, Skip, Tweet


def quote_form(
    tweet: Tweet,
    owner_ids: Container[str],
    posted: Mapping[str, str],
    planned: Container[str],
    quote_posts: bool | None,
) -> Quote | None:
    """How `tweet` quotes (None when it quotes nothing).

    owner_ids: the ids of the owner's tweets. posted: tweet id -> status URL.
    quote_posts: whether the server takes quote posts; None when not known
        (an offline preview before the server was asked).
    """
    quoted = tweet.quote_of
    if quoted is None:
        return None
    if quoted not in owner_ids and quoted not in posted:
        return Quote(quoted, "link", "it is someone else's tweet")
    if quoted not in posted and quoted not in planned:
        return Quote(quoted, "link", "it is not posted yet (links.self_unposted applies)")
    if quote_posts is None:
        return Quote(quoted, "link", "whether the server takes quote posts is not known offline")
    if not quote_posts:
        return Quote(quoted, "link", "the server takes no quote posts")
    return Quote(quoted, "quote", "it is posted and the server takes quote posts")


def without_quote_link(text: str, quoted: str) -> str:
    """text without the link to tweet `quoted` that ends it, when one does."""
    stripped = text.rstrip()
    spans = url_spans(stripped)
    if spans and spans[-1][1] == len(stripped):
        start = spans[-1][0]
        if re.search(rf"/status(?:es)?/{quoted}(?![0-9])", stripped[start:]):
            return stripped[:start].rstrip()
    return text


def boost_target(
    tweet: Tweet,
    owner: str | None,
    owner_ids: Container[str],
    posted: Mapping[str, str],
    planned: Container[str],
) -> str | Skip | None:
    """For a retweet of the owner's own tweet: the tweet whose status to boost,
    or a Skip saying why it cannot be boosted (yet). None for any other tweet,
    a retweet of someone else's included."""
    if not tweet.is_retweet:
        return None
    original = tweet.retweet_of
    known = original is not None and (original in owner_ids or original in posted)
    by_owner = owner is not None and tweet.text.casefold().startswith(f"rt @{owner.casefold()}:")
    if not (known or by_owner):
        return None
    if original is None or not known:
        return Skip(tweet.id, "a retweet of your own tweet that is not in this archive")
    if original in posted or original in planned:
        return original
    return Skip(tweet.id, f"a retweet of your tweet {original}, which is not posted yet")
