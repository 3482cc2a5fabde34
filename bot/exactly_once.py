"""Post toots exactly once, on any Mastodon-API server.

See docs/design.md, "Exactly once, as the code does it". For each toot,
under the state lock (held per toot, so a daemon and a manual `repost` can
run side by side):

1. re-read the state; a posted tweet is skipped, one that failed before is
   reported unless retried; take the toot the caller composed before taking
   the lock (`make`, see `compose.Draft`): composed again only if a tweet it
   depends on was posted meanwhile, so self-links see the statuses posted a
   moment ago and the lock is never held for composing; if the last status
   request of any process was less than `min_interval` ago, let go of the
   lock, wait, and start again;
2. write `pending` with a deterministic Idempotency-Key, before any request;
3. for each part not yet confirmed: if its request may have gone out before
   (a fingerprint of it is recorded), look for it among the account's latest
   statuses first, and take it when found; otherwise upload its media, record
   its fingerprint and the time, then send it with its own key;
4. write `posted` with the status ids and the first part's URL, as the server
   gave it.

A status request whose outcome is unknown (a crash, a lost answer, a 5xx, a
replayed key answered without the status) is never sent again blindly: many
servers ignore Idempotency-Key, so a second request would make a second
status. It is looked for first, once any request still under way on the
server must have finished (`lookup_delay` after it was sent; at once where
the server is known to keep the key), and only then sent again, with the same
key. A tweet that keeps failing after the retry budget is marked `failed`
while the server answers other requests, so the run goes on to the next
toot; when the server answers nothing, it stays pending and the run stops.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Literal

from bot.clock import Clock
from bot.compose.media import media_type
from bot.errors import Interrupted, Rejected, StateError, Unavailable, Unconfirmed
from bot.model import Media, Skip, Toot
from bot.rebuild import fingerprint
from bot.software import UNKNOWN, Software
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

# A key is trusted this much less long than the server keeps it, clear of the edge.
KEY_MARGIN = timedelta(minutes=5)
# Pages of statuses are read back to this long before the request (clock skew)...
CLOCK_MARGIN = timedelta(minutes=10)
# ... and at most this many statuses (usually the first page of 40 reaches back far enough).
LOOKUP_LIMIT = 200
# Own statuses searched when nothing says when the request went out (an older record),
# and by the check that a new state file does not post over a lost one's toots.
RECENT_STATUSES = 80

Result = Literal["posted", "already posted", "skipped", "failed", "failed before", "left pending"]
# The toot for the current map tweet id -> status URL (read under the lock); cheap:
# composed beforehand, and again only when that map changed where it matters.
MakeToot = Callable[[Mapping[str, str]], "Toot | Skip"]


@dataclass(frozen=True, slots=True)
class PostOptions:
    """How every status is posted: visibility and content warning (the language
    and the sensitive mark are each toot's own)."""

    visibility: str = "public"
    spoiler_text: str = ""


@dataclass(frozen=True, slots=True)
class Recovery:
    """How a status whose outcome is unknown is recovered.

    lookup_delay: how long after its request a status is looked for (a request
        still under way on the server must have finished, and its status be listed).
    min_interval: at least this long between the last status request and a new toot.
    software: what the server's software is known to do where exactly-once depends on
        it (its row of bot.software): how long it answers a repeated Idempotency-Key
        with the status it made, and which visibilities its own list hides (the home
        timeline is read too, then); UNKNOWN assumes no key is kept.
    """

    lookup_delay: timedelta = timedelta(seconds=30)
    min_interval: timedelta = timedelta(0)
    software: Software = UNKNOWN


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one tweet: its result, the toot URL, and the reason or error."""

    tweet_id: str
    result: Result
    url: str | None = None
    detail: str = ""


class Publisher:
    """Posts toots through `client`, recording every step in `store`.

    store: the state file (locked per toot).
    client: the Mastodon client; its account must match the state's.
    read_media: returns the bytes of an archive media file.
    options: visibility and content warning (the language is each toot's own).
    clock: dates the records, and every wait sleeps on it.
    is_archive_toot: tells whether one of the account's statuses is a toot of
        this archive (see bot.rebuild); used once, when a new state file is
        bound, to refuse posting over toots that a lost state file knew about.
    recovery: spacing, lookup delay, what the server is known to do.
    on_pace: told the seconds before a wait for `min_interval` starts.
    """

    def __init__(
        self,
        store: StateStore,
        client: MastodonClient,
        read_media: Callable[[Media], bytes],
        options: PostOptions,
        clock: Clock,
        is_archive_toot: Callable[[str], bool] = lambda text: False,
        recovery: Recovery = Recovery(),
        on_pace: Callable[[float], None] | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.read_media = read_media
        self.options = options
        self.clock = clock
        self.is_archive_toot = is_archive_toot
        self.recovery = recovery
        self.on_pace = on_pace

    def publish(self, tweet_id: str, make: MakeToot, *, retry_failed: bool = False) -> Outcome:
        """Post one tweet unless it is posted already.

        tweet_id: the tweet to post.
        make: its toot for the current map tweet id -> status URL (see `compose.Draft`).
        retry_failed: post a tweet that failed before (else it is reported).

        Returns the Outcome. A refusal (4xx), or failing after the retry budget
        while the server answers other requests, marks the tweet failed and is
        returned, not raised; so is a status the server confirmed without showing
        it ("left pending"). AuthError, RateLimited, Unavailable (the server
        answers nothing) and Interrupted propagate with the tweet left pending,
        to be finished, after a look for what was sent, by a later run.
        """
        while True:
            with self.store.lock():
                state = self._bound(self.store.load())
                done = settled(state, tweet_id, retry_failed=retry_failed)
                if done is not None:
                    return done
                record = state.record(tweet_id)
                toot = make(state.posted_urls())
                if isinstance(toot, Skip) and toot.failed:  # decided before any upload
                    return self._failed(tweet_id, toot.reason, refused=True)
                if isinstance(toot, Skip):
                    return Outcome(tweet_id, "skipped", detail=toot.reason)
                wait = self._turn(state, record)
                if wait <= 0:
                    return self._post(state, toot)
            self._wait_turn(wait)

    def _turn(self, state: State, record: object) -> float:
        """Seconds until this toot may start: `min_interval` after the last status request
        of any process; 0 for a toot whose requests began (the rest follows at once)."""
        if (isinstance(record, Pending) and record.fingerprints != ()) or not state.last_post_at:
            return 0.0
        ready = state.last_post_at + self.recovery.min_interval
        return (ready - self.clock.now()).total_seconds()

    def _wait_turn(self, seconds: float) -> None:
        if self.on_pace is not None:
            self.on_pace(seconds)
        if not self.clock.sleep(seconds):
            raise Interrupted("stopped while waiting for the next post")

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

    # -- one toot

    def _post(self, state: State, toot: Toot) -> Outcome:
        if toot.boost_of_tweet is not None:
            return self._boost(state, toot, toot.boost_of_tweet)
        tid = toot.tweet_id
        state = state.mark_pending(tid, self._key(state, tid, 0), self.clock.now())
        self.store.save(state)
        first_url: str | None = None
        try:
            for index in range(len(_pending(state, tid).status_ids), len(toot.parts)):
                state, status = self._part(state, toot, index)
                if index == 0:
                    first_url = status.url
            ids = _pending(state, tid).status_ids
            url = first_url or self.client.status(ids[0]).url
        except Rejected as exc:
            return self._failed(tid, str(exc), refused=True)
        except Unconfirmed as exc:
            if not exc.answered:
                return self._unless_down(tid, exc)
            detail = (
                f"{exc}; the status was not found among the account's latest statuses: the "
                "tweet stays pending, and the next run looks for it again before sending it"
            )
            return Outcome(tid, "left pending", detail=detail)
        except Unavailable as exc:
            return self._unless_down(tid, exc)
        if not url:
            raise Unavailable(f"status {ids[0]}: the server gives no URL; tweet {tid} is pending")
        self.store.save(state.mark_posted(tid, ids, url, self.clock.now()))
        return Outcome(tid, "posted", url)

    def _part(self, state: State, toot: Toot, index: int) -> tuple[State, PostedStatus | OwnStatus]:
        """Confirm part `index`: found where an earlier request may have made it, else
        sent (again, with the same key) until the server confirms it or the budget ends."""
        tid, part = toot.tweet_id, toot.parts[index]
        what = f"tweet {tid}, part {index + 1}"
        sent = fingerprint(part.text, len(part.media))
        media_ids: list[str] | None = None
        failures = 0
        while True:
            record = _pending(state, tid)
            reply_to = record.status_ids[-1] if record.status_ids else _parent_status(state, toot)
            unknown = record.unconfirmed
            if unknown is not None:
                # "" is an older tootback's record: it did not say what it sent.
                found = self._look_up(what, record, unknown or sent, reply_to)
                if found is not None:
                    return self._confirmed(state, tid, found), found
            if media_ids is None:
                media_ids = [self._upload(m) for m in part.media]
            state = state.mark_sending(tid, index, sent, self.clock.now())
            self.store.save(state)
            try:
                status = self._send(state, toot, index, reply_to, media_ids)
            except Unconfirmed as exc:
                failures += 1
                self._back_off(what, exc, failures)
                continue
            return self._confirmed(state, tid, status), status

    def _back_off(self, what: str, exc: Unconfirmed, failures: int) -> None:
        """After the `failures`-th request whose outcome is unknown: wait the client's
        backoff before looking and trying again, or raise `exc` when the budget is spent."""
        attempts = self.client.max_retries + 1
        if failures >= attempts:
            raise exc
        why = f"{exc} (attempt {failures} of {attempts})"
        self.client.wait(what, self.client.retry_delay(failures), why)

    def _boost(self, state: State, toot: Toot, original_id: str) -> Outcome:
        """A retweet of the owner's own tweet: one boost of that tweet's first status.

        Recorded like any toot (pending, the request marked before it goes out,
        then posted), so a re-run sends nothing. A boost whose outcome is unknown
        is looked for among the account's latest statuses before it is sent
        again. The record keeps the boost's id and the boosted toot's URL (a
        boost has no page of its own: a link to the retweet leads to that toot).
        """
        tid = toot.tweet_id
        original = state.record(original_id)
        if not isinstance(original, Posted):  # compose saw the same state; kept for safety
            return Outcome(tid, "skipped", detail=f"tweet {original_id} is not posted yet")
        target = original.status_ids[0]
        state = state.mark_pending(tid, self._key(state, tid, 0), self.clock.now())
        self.store.save(state)
        what = f"tweet {tid}, a boost of status {target}"
        try:
            boost_id = self._boost_once(state, tid, target, what)
        except Rejected as exc:
            return self._failed(tid, str(exc), refused=True)
        except Unavailable as exc:  # Unconfirmed included: the retry budget is spent
            return self._unless_down(tid, exc)
        self.store.save(
            self.store.load().mark_posted(tid, [boost_id], original.url, self.clock.now())
        )
        return Outcome(tid, "posted", original.url)

    def _boost_once(self, state: State, tid: str, target: str, what: str) -> str:
        """The id of the one boost of `target`: found, if an earlier request may have
        made it, else requested (again) until the server confirms it or the budget ends."""
        failures = 0
        while True:
            record = _pending(state, tid)
            if record.unconfirmed is not None:
                self._settle(what, record)
                found = self.client.own_boost(target)
                if found is not None:
                    return found
            state = state.mark_sending(tid, 0, f"boost {target}", self.clock.now())
            self.store.save(state)
            try:
                return self.client.reblog(target, visibility=self.options.visibility).id
            except Unconfirmed as exc:
                failures += 1
                self._back_off(what, exc, failures)

    def _send(
        self,
        state: State,
        toot: Toot,
        index: int,
        reply_to: str | None,
        media_ids: list[str],
    ) -> PostedStatus:
        part = toot.parts[index]
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

    def _confirmed(self, state: State, tid: str, status: PostedStatus | OwnStatus) -> State:
        state = state.mark_part_done(tid, status.id)
        self.store.save(state)
        return state

    # -- recovery

    def _look_up(
        self, what: str, record: Pending, wanted: str, reply_to: str | None
    ) -> OwnStatus | None:
        """The status a request with fingerprint `wanted` made, among the account's latest
        statuses (where the server shows every visibility); None when it is not there."""
        self._settle(what, record)
        sent_at = record.sent_at if record.fingerprints is not None else None
        since = None if sent_at is None else sent_at - CLOCK_MARGIN
        limit = RECENT_STATUSES if since is None else LOOKUP_LIMIT
        statuses = self.client.own_statuses(limit=limit, since=since)
        if self.recovery.software.own_list_hides:
            statuses += self.client.own_statuses(limit=limit, since=since, home=True)
        # Not filtered by time: a server's clock may be off by more than any margin.
        found = [
            s
            for s in statuses
            if s.in_reply_to_id == reply_to and fingerprint(s.text_plain, s.media_count) == wanted
        ]
        # Oldest first: if an older tootback already made a duplicate, the first one counts.
        return min(found, key=lambda s: (s.created_at, len(s.id), s.id), default=None)

    def _settle(self, what: str, record: Pending) -> None:
        """Wait until a request of `record` still under way on the server must have ended,
        unless the server is known to answer its key (then a new request is harmless)."""
        sent_at = record.sent_at or record.since
        if self._key_answers(record):
            return
        ready = sent_at + self.recovery.lookup_delay
        wait = (ready - self.clock.now()).total_seconds()
        if wait > 0:
            why = (
                "its answer was lost; it is looked for among the account's statuses once its "
                f"request (sent {sent_at:%H:%M:%S} UTC) must have ended on the server"
            )
            self.client.wait(what, wait, why)

    def _key_answers(self, record: Pending) -> bool:
        """True when the server still answers this record's keys with their statuses."""
        seconds = self.recovery.software.key.seconds
        if seconds is None or record.sent_at is None or record.sent_at < record.since:
            # No key kept; or a record resumed from `failed`, whose keys may be older than
            # its `since` says.
            return False
        return self.clock.now() - record.since < timedelta(seconds=seconds) - KEY_MARGIN

    def _unless_down(self, tid: str, exc: Unavailable) -> Outcome:
        """A toot that kept failing: `failed` when the server answers other requests (so
        the run goes on), else it stays pending and `exc` stops the run."""
        if not self.client.reachable():
            raise exc
        return self._failed(tid, f"{exc} (the server answers other requests)", refused=False)

    def _failed(self, tid: str, error: str, *, refused: bool) -> Outcome:
        # Re-read: the parts confirmed and the fingerprints sent are in the file.
        state = self.store.load().mark_failed(tid, error, self.clock.now(), refused=refused)
        self.store.save(state)
        return Outcome(tid, "failed", detail=_with_parts(error, state.record(tid)))

    def _upload(self, media: Media) -> str:
        name = PurePosixPath(media.path).name
        data = self.read_media(media)
        return self.client.upload_media(data, name, media_type(media), media.description)

    def _key(self, state: State, tweet_id: str, index: int) -> str:
        assert state.account is not None
        return idempotency_key(state.account.id, state.account.instance, tweet_id, index)


def settled(state: State, tweet_id: str, *, retry_failed: bool = False) -> Outcome | None:
    """The outcome `state` already gives a tweet, with no request: "already posted",
    or "failed before" (unless retry_failed); None when it is still to be posted."""
    record = state.record(tweet_id)
    if isinstance(record, Posted):
        return Outcome(tweet_id, "already posted", record.url)
    if isinstance(record, Failed) and not retry_failed:
        return Outcome(tweet_id, "failed before", detail=record.error)
    return None


def _quoted_status(state: State, toot: Toot) -> str | None:
    """The status a quote post quotes: the first part of the quoted tweet's toot.

    Compose chose the quote form from this same state, so the quoted tweet is
    posted whenever the form is "quote".
    """
    if toot.quote is None or toot.quote.form != "quote":
        return None
    quoted = state.record(toot.quote.tweet_id)
    return quoted.status_ids[0] if isinstance(quoted, Posted) else None


def _pending(state: State, tweet_id: str) -> Pending:
    record = state.record(tweet_id)
    assert isinstance(record, Pending), f"tweet {tweet_id} is not pending"
    return record


def _parent_status(state: State, toot: Toot) -> str | None:
    """The status a self-reply answers: the last part of its parent's toot, if posted."""
    if toot.in_reply_to_tweet is None:
        return None
    parent = state.record(toot.in_reply_to_tweet)
    return parent.status_ids[-1] if isinstance(parent, Posted) else None


def _with_parts(error: str, record: object) -> str:
    if not isinstance(record, Failed) or not record.status_ids:
        return error
    return f"{error} (after parts {', '.join(record.status_ids)} were posted)"
