"""Backfill: a range of the archive, posted in its original order.

Pure. `plan_backfill` says which tweets a `backfill --from D1 --to D2` posts,
in order, what each costs in Mastodon's budgets (statuses and media
uploads), and what is left out: tweets the filters skip, tweets already
posted (by an earlier backfill, or by "on this day": both go through the same
state file, so neither posts a tweet the other did), and tweets compose
skips. `Progress` follows a run, for the progress bar and its ETA.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.client import Budgets
from bot.model import Skip, Toot, Tweet
from bot.selection import Due, SelectionOptions, tweeted_between

# Compose a tweet as it would be posted now, after the tweets planned before it.
ComposeNow = Callable[[Tweet, Container[str]], "Toot | Skip"]


@dataclass(frozen=True, slots=True)
class Cost:
    """What posting one toot spends: statuses created and media uploaded."""

    statuses: int = 0
    media: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.statuses + other.statuses, self.media + other.media)

    def per_family(self) -> dict[str, int]:
        """As the budgets name them."""
        return {"statuses": self.statuses, "media": self.media}


def cost_of(toot: Toot) -> Cost:
    """The statuses and media uploads of `toot` (a boost is one status: Mastodon counts
    boosts against the statuses budget)."""
    statuses = 1 if toot.boost_of_tweet is not None else len(toot.parts)
    return Cost(statuses, sum(len(part.media) for part in toot.parts))


@dataclass(frozen=True)
class BackfillPlan:
    """What `backfill` posts from `first` to `last` (local dates), and what not.

    jobs: the tweets to post, in original order (due: when they were planned).
    costs: each job's cost, by tweet id.
    posted: how many tweets of the range are posted already.
    skipped: the tweets left out by the filters or by compose, with why.
    """

    first: date
    last: date
    jobs: tuple[Due, ...]
    costs: Mapping[str, Cost]
    posted: int
    skipped: tuple[Skip, ...]

    @property
    def total(self) -> Cost:
        """What posting every job spends."""
        return sum(self.costs.values(), Cost())


def plan_backfill(
    tweets: Iterable[Tweet],
    first: date,
    last: date,
    selection: SelectionOptions,
    compose: ComposeNow,
    posted: Container[str],
    now: datetime,
    failed: Container[str] = frozenset(),
) -> BackfillPlan:
    """The backfill of `first`..`last` for `tweets` (the archive, or enough of it).

    compose: composes a tweet as it would go out now, after the jobs before it
        (a retweet of one of them is its boost); its Toot gives the cost, a Skip
        leaves it out. posted: the tweet ids the state file has posted.
    now: the planning time, the jobs' due time (the footer's "years ago").
    failed: the tweet ids the state file marks failed: left out, as the run skips them.
    """
    kept, skipped = tweeted_between(tweets, first, last, selection)
    jobs: list[Due] = []
    planned: set[str] = set()
    costs: dict[str, Cost] = {}
    done = 0
    for tweet in kept:
        if tweet.id in posted:
            done += 1
            continue
        if tweet.id in failed:
            retry = f"tootback repost --tweet {tweet.id} --retry-failed"
            skipped.append(Skip(tweet.id, f"it failed before ({retry} tries it again)"))
            continue
        toot = compose(tweet, planned)
        if isinstance(toot, Skip):
            skipped.append(toot)
            continue
        jobs.append(Due(tweet, now))
        planned.add(tweet.id)
        costs[tweet.id] = cost_of(toot)
    return BackfillPlan(first, last, tuple(jobs), costs, done, tuple(skipped))


@dataclass
class Progress:
    """A running backfill: how much is done, the rate, and what is left.

    total: how many toots the run posts. left: their cost not yet spent.
    """

    total: int
    left: Cost
    started: datetime
    done: int = 0
    results: dict[str, int] = field(default_factory=dict)

    def record(self, result: str, cost: Cost) -> None:
        """One toot is done (posted, or left out with `result`)."""
        self.done += 1
        self.results[result] = self.results.get(result, 0) + 1
        self.left = Cost(
            max(0, self.left.statuses - cost.statuses), max(0, self.left.media - cost.media)
        )

    def rate(self, now: datetime) -> float:
        """Toots per hour so far (0 before the first)."""
        hours = (now - self.started) / timedelta(hours=1)
        return self.done / hours if hours > 0 else 0.0


def eta(
    budgets: Budgets, left: Cost, toots: int, every: timedelta, now: datetime
) -> tuple[timedelta, str | None]:
    """How long posting `toots` toots that cost `left` takes: at the pace of the
    budget that binds, or one every `every` when that is slower; and what binds
    ("statuses", "media", "--every"; None when nothing is left)."""
    spent, binding = budgets.eta(left.per_family(), now)
    spaced = every * max(0, toots - 1)
    if toots and spaced > spent:
        return spaced, "--every"
    return spent, binding
