"""Post toots exactly once (docs/design.md, "Exactly once, as the code does it").

For each toot, under the state lock (held per toot, so a daemon and a manual
`repost` can run side by side):

1. re-read the state; a posted tweet is skipped;
2. compose now, so self-links see the statuses posted a moment ago;
3. write `pending` with a deterministic Idempotency-Key, before any request;
4. upload media, post each part with its own key, recording each part as it
   succeeds (a reply chain resumes where it stopped);
5. write `posted` with the status ids and the URL of the first part.

A crash anywhere leaves either nothing, or a `pending` record whose next
attempt sends the same keys; Mastodon answers a repeated key with the status
it already created. Keys live one hour on the server, so a `pending` record
older than that is first looked for among the account's own recent statuses;
so are the parts of a tweet retried after a refusal (`failed` keeps no ids).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Literal

from bot.clock import Clock
from bot.errors import Rejected, StateError
from bot.model import Media, Skip, Toot, TootPart
from bot.rebuild import words
from bot.state import (
    Failed,
    Pending,
    Posted,
    State,
    StateStore,
    idempotency_key,
)

if TYPE_CHECKING:  # the client imports Mastodon.py, which only posting needs
    from bot.client import MastodonClient, OwnStatus, PostedStatus

# Mastodon keeps an Idempotency-Key for one hour; a margin keeps us clear of
# the edge, where the server may already have forgotten a key we still trust.
KEY_LIFETIME = timedelta(minutes=55)
# Own statuses searched for a pending toot whose key may have expired.
RECENT_STATUSES = 80

Result = Literal["posted", "already posted", "skipped", "failed", "failed before"]
# The results after which a status went to the server: posted, or refused by it.
SENT: frozenset[Result] = frozenset({"posted", "failed"})
# Composes one toot from the current map tweet id -> status URL (read under the lock).
MakeToot = Callable[[Mapping[str, str]], "Toot | Skip"]


@dataclass(frozen=True, slots=True)
class PostOptions:
    """How every status is posted: visibility and content warning (the language
    and the sensitive mark are each toot's own)."""

    visibility: str = "public"
    spoiler_text: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one tweet: its result, the toot URL, and the reason or error."""

    tweet_id: str
    result: Result
    url: str | None = None
    detail: str = ""

    @property
    def sent(self) -> bool:
        """True when a status went to the server (posted, or refused by it)."""
        return self.result in SENT


class Publisher:
    """Posts toots through `client`, recording every step in `store`.

    store: the state file (locked per toot).
    client: the Mastodon client; its account must match the state's.
    read_media: returns the bytes of an archive media file.
    options: visibility, language and content warning.
    clock: dates the records.
    is_archive_toot: tells whether one of the account's statuses is a toot of
        this archive (see bot.rebuild); used once, when a new state file is
        bound, to refuse posting over toots that a lost state file knew about.
    """

    def __init__(
        self,
        store: StateStore,
        client: MastodonClient,
        read_media: Callable[[Media], bytes],
        options: PostOptions,
        clock: Clock,
        is_archive_toot: Callable[[str], bool] = lambda text: False,
    ) -> None:
        self.store = store
        self.client = client
        self.read_media = read_media
        self.options = options
        self.clock = clock
        self.is_archive_toot = is_archive_toot

    def publish(self, tweet_id: str, make: MakeToot, *, retry_failed: bool = False) -> Outcome:
        """Post one tweet unless it is posted already.

        tweet_id: the tweet to post.
        make: composes its toot from the current map tweet id -> status URL.
        retry_failed: post a tweet the server refused before (else it is reported).

        Returns the Outcome. A 422 marks the tweet failed and is returned, not
        raised; AuthError, RateLimited, Unavailable and Interrupted propagate
        with the tweet left pending, to be finished with the same key later.
        """
        with self.store.lock():
            state = self._bound(self.store.load())
            record = state.record(tweet_id)
            if isinstance(record, Posted):
                return Outcome(tweet_id, "already posted", record.url)
            if isinstance(record, Failed) and not retry_failed:
                return Outcome(tweet_id, "failed before", detail=record.error)
            toot = make(state.posted_urls())
            if isinstance(toot, Skip):
                return Outcome(tweet_id, "skipped", detail=toot.reason)
            return self._post(state, toot)

    def _bound(self, state: State) -> State:
        bound = state.bind_account(self.client.account())
        if bound is not state:
            if not state.tweets:
                self._refuse_if_toots_exist()
            self.store.save(bound)
        return bound

    def _refuse_if_toots_exist(self) -> None:
        if self.client.account().statuses_count == 0:
            return  # a new account: no request needed to know it holds no toots
        found = sum(
            self.is_archive_toot(s.text_plain)
            for s in self.client.own_statuses(limit=RECENT_STATUSES)
        )
        if found:
            raise StateError(
                self.store.path,
                f"is new, but the account already has {found} toots of this archive among its "
                "latest statuses; run `tootback state rebuild` first so nothing is posted twice",
            )

    def _post(self, state: State, toot: Toot) -> Outcome:
        tid = toot.tweet_id
        now = self.clock.now()
        # A failed record forgets the parts posted before the refusal: look for them.
        retrying = isinstance(state.record(tid), Failed)
        state = state.mark_pending(tid, self._key(state, tid, 0), now)
        self.store.save(state)
        pending = state.record(tid)
        assert isinstance(pending, Pending)
        stale = retrying or now - pending.since > KEY_LIFETIME
        ids = list(pending.status_ids)
        urls = [self._status_url(i) for i in ids]
        reply_to = ids[-1] if ids else _parent_status(state, toot)
        for index in range(len(ids), len(toot.parts)):
            try:
                status = self._send(state, toot, index, reply_to, stale)
            except Rejected as exc:
                state = state.mark_failed(tid, _failure(exc, ids), self.clock.now())
                self.store.save(state)
                return Outcome(tid, "failed", detail=str(exc))
            state = state.mark_part_done(tid, status.id)
            self.store.save(state)
            ids.append(status.id)
            urls.append(status.url)
            reply_to = status.id
        state = state.mark_posted(tid, ids, urls[0], self.clock.now())
        self.store.save(state)
        return Outcome(tid, "posted", urls[0])

    def _send(
        self, state: State, toot: Toot, index: int, reply_to: str | None, stale: bool
    ) -> PostedStatus | OwnStatus:
        part = toot.parts[index]
        existing = self._already_sent(part, reply_to) if stale else None
        if existing is not None:
            return existing
        media_ids = [self._upload(m) for m in part.media]
        return self.client.post_status(
            part.text,
            idempotency_key=self._key(state, toot.tweet_id, index),
            in_reply_to_id=reply_to,
            media_ids=media_ids,
            visibility=self.options.visibility,
            language=toot.language,
            spoiler_text=self.options.spoiler_text or None,
            sensitive=toot.sensitive,
            quoted_status_id=_quoted_status(state, toot) if index == 0 else None,
        )

    def _status_url(self, status_id: str) -> str:
        # A chain resumed after a crash knows its first status only by id;
        # Mastodon's status pages live under the account's profile URL.
        return f"{self.client.account().url.rstrip('/')}/{status_id}"

    def _already_sent(self, part: TootPart, reply_to: str | None) -> OwnStatus | None:
        # Compared without links and mentions: Mastodon displays a resolved
        # mention as `@user`, and a self-link may have been rewritten since the
        # crash (its target got posted), yet it is the same toot.
        wanted = words(part.text)
        for status in self.client.own_statuses(limit=RECENT_STATUSES):
            if status.in_reply_to_id == reply_to and words(status.text_plain) == wanted:
                return status
        return None

    def _upload(self, media: Media) -> str:
        name = PurePosixPath(media.path).name
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return self.client.upload_media(self.read_media(media), name, mime, media.description)

    def _key(self, state: State, tweet_id: str, index: int) -> str:
        assert state.account is not None
        return idempotency_key(state.account.id, state.account.instance, tweet_id, index)


def _quoted_status(state: State, toot: Toot) -> str | None:
    """The status a quote post quotes: the first part of the quoted tweet's toot.

    Compose chose the quote form from this same state, so the quoted tweet is
    posted whenever the form is "quote".
    """
    if toot.quote is None or toot.quote.form != "quote":
        return None
    quoted = state.record(toot.quote.tweet_id)
    return quoted.status_ids[0] if isinstance(quoted, Posted) else None


def _parent_status(state: State, toot: Toot) -> str | None:
    """The status a self-reply answers: the last part of its parent's toot, if posted."""
    if toot.in_reply_to_tweet is None:
        return None
    parent = state.record(toot.in_reply_to_tweet)
    return parent.status_ids[-1] if isinstance(parent, Posted) else None


def _failure(exc: Rejected, posted_ids: list[str]) -> str:
    if not posted_ids:
        return str(exc)
    return f"{exc} (after parts {', '.join(posted_ids)} were posted)"
