"""Self-threads: which tweets continue a thread of the owner's, and where it starts.

Pure. A tweet continues a thread when it replies to another tweet of the
same archive (the archive holds only the owner's tweets, so that is the owner
answering themself). Its thread starts at the oldest ancestor the archive
holds; a chain whose first tweet is missing from the archive starts at the
first one it has.

`selection.threads = "whole"` posts a whole thread on the day of its first
tweet (see bot.selection); this module only finds the threads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.model import Tweet


@dataclass(frozen=True, slots=True)
class Threads:
    """The archive's self-threads.

    first: the id of each later tweet of a thread -> the id of its thread's
        first tweet (tweets that start no thread and continue none are absent).
    later: the id of each thread's first tweet -> the ids of its later tweets,
        oldest first.
    """

    first: Mapping[str, str] = field(default_factory=dict)
    later: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def start(self, tweet_id: str) -> str:
        """The id of the first tweet of `tweet_id`'s thread (itself when it continues none)."""
        return self.first.get(tweet_id, tweet_id)


NO_THREADS = Threads()


def find_threads(tweets: Iterable[Tweet]) -> Threads:
    """The threads among `tweets` (the whole archive, or its outline).

    A reply chain that loops (possible only in a doctored archive) is cut
    where it would come back on itself.
    """
    ordered = sorted(tweets, key=lambda t: (t.created_at, t.id))
    known = {t.id for t in ordered}
    parent = {
        t.id: t.in_reply_to_id
        for t in ordered
        if t.in_reply_to_id is not None and t.in_reply_to_id in known
    }
    top: dict[str, str] = {}  # every tweet met so far -> its thread's first tweet
    for tweet in ordered:
        path: dict[str, None] = {}  # the ancestors not met before, in order (a set that keeps it)
        at = tweet.id
        while at not in top and at not in path:
            path[at] = None
            if at not in parent:
                break
            at = parent[at]
        # An ancestor met before knows its start; else the chain ends here (or loops back).
        start = top[at] if at in top else next(reversed(path))
        top.update(dict.fromkeys(path, start))
    first = {tid: start for tid, start in top.items() if tid != start}
    later: dict[str, list[str]] = {}
    for tweet in ordered:
        if tweet.id in first:
            later.setdefault(first[tweet.id], []).append(tweet.id)
    return Threads(first, {k: tuple(v) for k, v in later.items()})
