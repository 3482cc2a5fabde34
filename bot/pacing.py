"""Posting due toots in order, pending ones first.

`Runner` posts a list of due toots through the exactly-once `Publisher`, in
order; the publisher spaces them `schedule.min_interval` apart, counted from
the last status request of any process, kept in the state file (so `repost`,
the daemon and a restarted daemon all keep it). `pending_jobs` turns the
toots a crash left pending into jobs, finished first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from bot.compose import Draft
from bot.exactly_once import Outcome, Publisher
from bot.model import Skip, Toot, Tweet
from bot.selection import Due
from bot.state import State

ComposeFn = Callable[[Tweet, datetime, Mapping[str, str]], "Toot | Skip"]


@dataclass(frozen=True, slots=True)
class Runner:
    """Posts due tweets through `publisher`, composing each with `compose`.

    exclude: tweet ids never to post (`selection.exclude_ids`), pending ones included.
    on_outcome: told about each tweet as soon as it is done (progress, logs).
    """

    publisher: Publisher
    compose: ComposeFn
    exclude: frozenset[str] = frozenset()
    on_outcome: Callable[[Outcome], None] = lambda outcome: None

    def pending_jobs(self, tweets: Mapping[str, Tweet]) -> tuple[list[Due], list[Outcome]]:
        """Jobs that finish the toots a crash left pending, and the ones that cannot or
        may not be (see `pending_jobs`)."""
        return pending_jobs(self.publisher.store.load(), tweets, self.exclude)

    def run(self, jobs: Iterable[Due], *, retry_failed: bool = False) -> list[Outcome]:
        """Post `jobs` in order, spaced by the publisher; return every outcome.

        A toot that fails goes on to the next. Stops early, re-raising, on
        AuthError, RateLimited, Unavailable (the server answers nothing) and
        Interrupted: the tweet in flight stays pending for the next run.
        """
        outcomes: list[Outcome] = []
        for job in jobs:
            draft = self._draft(job)
            outcome = self.publisher.publish(
                job.tweet.id, draft.for_state, retry_failed=retry_failed
            )
            outcomes.append(outcome)
            self.on_outcome(outcome)
        return outcomes

    def _draft(self, job: Due) -> Draft:
        """The job's toot composed now, before the state lock is taken, against the
        state as it is (read without the lock: the file is always whole)."""
        posted = self.publisher.store.load().posted_urls()
        compose = partial(self.compose, job.tweet, job.due)
        return Draft.compose(compose, job.tweet, posted)


def pending_jobs(
    state: State, tweets: Mapping[str, Tweet], exclude: Iterable[str] = ()
) -> tuple[list[Due], list[Outcome]]:
    """The pending toots of `state` as jobs dated when their posting began (so the footer
    says what it said then), and an outcome for each one missing from the archive or
    excluded by `selection.exclude_ids` (its record is kept: `tootback state forget`
    removes it)."""
    jobs: list[Due] = []
    dropped: list[Outcome] = []
    excluded = set(exclude)
    for tid, record in sorted(state.pending().items()):
        if tid in excluded:
            why = "pending, but excluded by selection.exclude_ids; not finished"
            dropped.append(Outcome(tid, "skipped", detail=why))
        elif tid in tweets:
            jobs.append(Due(tweets[tid], record.since))
        else:
            dropped.append(Outcome(tid, "skipped", detail="pending, but not in this archive"))
    return jobs, dropped


def failed(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """The outcomes that count as failures for the exit code: failed, or left pending."""
    return [o for o in outcomes if o.result in ("failed", "left pending")]
