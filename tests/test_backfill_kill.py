"""End to end: `tootback backfill` as a real process, killed with SIGKILL and run again.

Each trial starts from an empty state file against a fresh account, holds the answer to
status n (created on the server, not yet delivered: the worst moment to die) or lets the
run go for a while, SIGKILLs it there, and runs the same command to completion. Then
every part of every toot of the range must be on the account exactly once (counted by
Idempotency-Key and by text) and the state file must say posted for every tweet.
The server's budgets are large, so the pace costs nothing here (the pace is tested
with a fake clock in test_backfill.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.state import idempotency_key, load_state
from tests.support.fake_mastodon import Budget, FakeMastodon
from tests.support.processes import DEADLINE, ForkedRun, clean_environ, kill_then_settle, wait_for
from tests.test_backfill import RANGE, official_archive

pytestmark = pytest.mark.slow

TOKEN = "tok-SECRET-backfill-kill-4669"
STATUSES = "/api/v1/statuses"
MEDIA = "/api/v2/media"
HOLD = 10.0  # seconds a held answer waits at most; released as soon as the run is dead
PLENTY = Budget(1_000_000, 60.0)


@dataclass
class Bench:
    root: Path
    server: FakeMastodon
    cost: dict[str, tuple[int, int]]  # tweet id -> (statuses, media)
    problems: list[str] = field(default_factory=list)
    trials: int = 0

    def start(self, state: Path) -> ForkedRun:
        env = clean_environ(
            MASTODON_API_BASE_URL=self.server.url,
            MASTODON_ACCESS_TOKEN=TOKEN,
            TOOTBACK_STATE__PATH=str(state),
            TOOTBACK_ARCHIVE__PATH=str(self.root / "archive"),
            TOOTBACK_POST__LOOKUP_DELAY="0.3",  # a lost answer is looked for soon
        )
        return ForkedRun(["backfill", *RANGE], env=env, cwd=self.root)

    def verify(self, state_path: Path, label: str) -> None:
        server = self.server
        wait_for(lambda: not server.in_flight())
        account, instance = server.account_id, server.url
        parts = {
            idempotency_key(account, instance, tid, i): (tid, i)
            for tid, (n, _) in self.cost.items()
            for i in range(n)
        }
        statuses = server.statuses()
        per_part = Counter(parts.get(s.idempotency_key or "") for s in statuses)
        dups = sum(n - 1 for n in per_part.values()) + sum(
            n - 1 for n in server.duplicates().texts.values()
        )
        state = load_state(state_path)
        lost = [tid for tid in self.cost if not state.is_posted(tid)]
        lost += [f"{tid}/{i}" for tid, i in parts.values() if per_part[(tid, i)] == 0]
        self.trials += 1
        if dups or lost or None in per_part:
            self.problems.append(f"{label}: duplicates {dups}, lost {lost}")


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    root = tmp_path_factory.mktemp("backfill-kill")
    cost = official_archive(root / "archive", count=12)
    clock = FakeClock(datetime.fromtimestamp(1_775_000_000, UTC))
    with FakeMastodon(
        token=TOKEN, clock=clock, statuses_budget=PLENTY, media_budget=PLENTY, api_budget=PLENTY
    ) as server:
        yield Bench(root, server, cost)


def run_to_the_end(bench: Bench, state: Path, label: str) -> None:
    bench.server.slow(STATUSES, 0)
    bench.server.slow(MEDIA, 0)
    proc = bench.start(state)
    _, err = proc.communicate(timeout=DEADLINE)
    if proc.returncode != 0:
        bench.problems.append(f"{label}: the rerun exited {proc.returncode}: {err[-400:]!r}")


def reached(server: FakeMastodon, how: str, n: int) -> bool:
    """Whether the run got to kill point `n` of kind `how`."""
    if how == "status answer held":
        return len(server.requests("POST", STATUSES)) > n
    if how == "media answer held":
        return len(server.requests("POST", MEDIA)) > n
    return len(server.requests()) >= n


def test_killed_anywhere_a_rerun_finishes_with_no_duplicate_and_no_loss(
    bench: Bench, tmp_path: Path
) -> None:
    server = bench.server
    statuses = sum(n for n, _ in bench.cost.values())
    uploads = sum(m for _, m in bench.cost.values())
    points = [("status answer held", n) for n in range(statuses)]
    points += [("media answer held", n) for n in range(uploads)]
    points += [("after requests", n) for n in (2, 9, 17)]
    for number, (how, n) in enumerate(points):
        server.reset()
        state = tmp_path / f"trial{number}" / "state.json"
        if how == "status answer held":
            server.slow(STATUSES, HOLD, after_processing=True, skip=n, times=1)
        elif how == "media answer held":
            server.slow(MEDIA, HOLD, after_processing=True, skip=n, times=1)
        proc = bench.start(state)
        try:
            landed = wait_for(partial(reached, server, how, n), proc)
        finally:
            kill_then_settle(proc, server)
        if not landed:
            bench.problems.append(f"{how} {n}: the run ended before the kill point")
        run_to_the_end(bench, state, f"{how} {n}")
        bench.verify(state, f"{how} {n}")
    print(f"\nbackfill kill trials: {bench.trials}, problems: {len(bench.problems)}")
    assert bench.problems == []
    assert bench.trials == len(points) >= 20
