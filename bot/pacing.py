"""Runs publishing for a list of due tweets: pending first, in order, paced.

Shared by `repost` (a day, now) and the daemon (each toot at its due time).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from bot.clock import Clock
from bot.daemon.dayjobs import pending_due
from bot.errors import Interrupted
from bot.exactly_once import Outcome, Publisher
from bot.model import Skip, Toot, Tweet
from bot.selection import Due

ComposeFn = Callable[[Tweet, datetime, Mapping[str, str]], "Toot | Skip"]

# Results after which the next post needs no spacing: nothing was sent.
_NOTHING_SENT = {"already posted", "skipped", "failed before"}


@dataclass(frozen=True, slots=True)
class Runner:
    """Posts due tweets through `publisher`, composing each with `compose`.

    min_interval: the least time between two posts.
    on_outcome: told about each tweet as soon as it is done (progress, logs).
    """

    publisher: Publisher
    compose: ComposeFn
    clock: Clock
    min_interval: timedelta
    on_outcome: Callable[[Outcome], None] = lambda outcome: None

    def pending_jobs(self, tweets: Mapping[str, Tweet]) -> tuple[list[Due], list[Outcome]]:
        """Jobs that finish the toots a crash left pending, and the ones that cannot be
        (see `dayjobs.pending_due`)."""
        return pending_due(self.publisher.store.load(), tweets)

    def run(self, jobs: Iterable[Due], *, retry_failed: bool = False) -> list[Outcome]:
        """Post `jobs` in order, at least `min_interval` apart; return every outcome.

        Stops early, re-raising, on AuthError, RateLimited, Unavailable and
        Interrupted: the tweet in flight stays pending for the next run.
        """
        outcomes: list[Outcome] = []
        last_post: datetime | None = None
        for job in jobs:
            if last_post is not None:
                self._wait_until(last_post + self.min_interval)
            make = partial(self.compose, job.tweet, job.due)
            outcome = self.publisher.publish(job.tweet.id, make, retry_failed=retry_failed)
            if outcome.result not in _NOTHING_SENT:
                last_post = self.clock.now()
            outcomes.append(outcome)
            self.on_outcome(outcome)
        return outcomes

    def _wait_until(self, moment: datetime) -> None:
        delay = (moment - self.clock.now()).total_seconds()
        if delay > 0 and not self.clock.sleep(delay):
            raise Interrupted("stopped while waiting for the next post")


def failed(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """The outcomes that count as failures for the exit code."""
    return [o for o in outcomes if o.result == "failed"]
