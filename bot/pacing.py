"""Posting due toots in order, at least `schedule.min_interval` apart.

`Pacer` is the one place where posts are spaced: `repost` and the daemon both
wait on it before a toot, and it counts only posts that sent a status (one
already posted, skipped or refused before costs no wait). `Runner` posts a
list of due toots through the exactly-once `Publisher`, in order, paced;
`pending_jobs` turns the toots a crash left pending into jobs, finished first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from bot.clock import Clock
from bot.errors import Interrupted
from bot.exactly_once import Outcome, Publisher
from bot.model import Skip, Toot, Tweet
from bot.selection import Due
from bot.state import State

ComposeFn = Callable[[Tweet, datetime, Mapping[str, str]], "Toot | Skip"]


class Pacer:
    """Keeps posts at least `min_interval` apart, measured on `clock` (real time).

    `wait()` before a post, `record(outcome)` after it. `on_wait`, if given, is
    told the seconds of each wait before it starts (`repost` says "next toot in
    58 s": a quiet minute is not a hang).
    """

    def __init__(
        self,
        clock: Clock,
        min_interval: timedelta,
        on_wait: Callable[[float], None] | None = None,
    ) -> None:
        self.clock = clock
        self.min_interval = min_interval
        self.on_wait = on_wait
        self._last: datetime | None = None

    def wait(self) -> bool:
        """Wait until `min_interval` after the last post that sent a status.

        Returns False when a stop request ended the wait (see `Clock.sleep`).
        """
        if self._last is None:
            return True
        delay = (self._last + self.min_interval - self.clock.now()).total_seconds()
        if delay <= 0:
            return True
        if self.on_wait is not None:
            self.on_wait(delay)
        return self.clock.sleep(delay)

    def record(self, outcome: Outcome) -> None:
        """Count `outcome` when it sent a status: the next post waits from now."""
        if outcome.sent:
            self._last = self.clock.now()


@dataclass(frozen=True, slots=True)
class Runner:
    """Posts due tweets through `publisher`, composing each with `compose`.

    pacer: spaces the posts (shared by every `run` of this Runner).
    on_outcome: told about each tweet as soon as it is done (progress, logs).
    """

    publisher: Publisher
    compose: ComposeFn
    pacer: Pacer
    on_outcome: Callable[[Outcome], None] = lambda outcome: None

    def pending_jobs(self, tweets: Mapping[str, Tweet]) -> tuple[list[Due], list[Outcome]]:
        """Jobs that finish the toots a crash left pending, and the ones that cannot be
        (see `pending_jobs`)."""
        return pending_jobs(self.publisher.store.load(), tweets)

    def run(self, jobs: Iterable[Due], *, retry_failed: bool = False) -> list[Outcome]:
        """Post `jobs` in order, paced; return every outcome.

        Stops early, re-raising, on AuthError, RateLimited, Unavailable and
        Interrupted (also when a stop request cuts the pacing short): the tweet
        in flight stays pending for the next run.
        """
        outcomes: list[Outcome] = []
        for job in jobs:
            if not self.pacer.wait():
                raise Interrupted("stopped while waiting for the next post")
            make = partial(self.compose, job.tweet, job.due)
            outcome = self.publisher.publish(job.tweet.id, make, retry_failed=retry_failed)
            self.pacer.record(outcome)
            outcomes.append(outcome)
            self.on_outcome(outcome)
        return outcomes


def pending_jobs(state: State, tweets: Mapping[str, Tweet]) -> tuple[list[Due], list[Outcome]]:
    """The pending toots of `state` as jobs dated when their posting began (so the footer
    says what it said then), and an outcome for each one missing from the archive."""
    jobs: list[Due] = []
    lost: list[Outcome] = []
    for tid, record in sorted(state.pending().items()):
        if tid in tweets:
            jobs.append(Due(tweets[tid], record.since))
        else:
            lost.append(Outcome(tid, "skipped", detail="pending, but not in this archive"))
    return jobs, lost


def failed(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """The outcomes that count as failures for the exit code."""
    return [o for o in outcomes if o.result == "failed"]
