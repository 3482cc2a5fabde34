"""End to end: `tootback repost` as a real process, killed with SIGKILL at many points.

Each trial starts from an empty state file, kills the first run at one point, reruns
to completion and checks the account against the archive: every part of every toot
exactly once (counted by its Idempotency-Key), reply chains intact, the state file
saying posted for every tweet. The loopback FakeMastodon holds chosen requests
(`slow(..., skip=n, times=1)`), so a kill lands exactly where it is meant to: after a
status was created but before its answer arrived, or while the request waits to be
processed; once the run is dead, the held request is let go (`release_held`), so the
server finishes it before the rerun, as a server does for a client that vanished.
Waits here are short, bounded polls for what the server has seen.

The runs are real processes forked from one that imported tootback once
(`tests.support.processes.ForkedRun`), so a trial costs its work, not two interpreter
starts; one test runs `python -m bot` itself. `pytest -s` shows the trial counts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import Context, cli
from bot.clock import FakeClock
from bot.state import Posted, idempotency_key, load_state
from tests.support.fake_mastodon import FakeMastodon
from tests.support.processes import (
    DEADLINE,
    ForkedRun,
    clean_environ,
    kill_then_settle,
    wait_for,
)
from tests.support.trials import DAY, LINKER, THREAD, write_archive

pytestmark = pytest.mark.slow

TOKEN = "tok-SECRET-e2e-2718"
STATUSES = "/api/v1/statuses"
MEDIA = "/api/v2/media"
HOLD = 10.0  # seconds a held request waits at most; it is released as soon as the run is dead


@dataclass
class Bench:
    """One archive, one server, and what a complete run must leave behind."""

    root: Path
    server: FakeMastodon
    parts: dict[str, int]  # tweet id -> number of statuses, in posting order
    trials: int = 0
    left_pending: int = 0  # trials whose kill left a toot half-posted
    duplicates: int = 0
    losses: int = 0
    problems: list[str] = field(default_factory=list)
    output: str = ""  # of the last run to completion

    def env(self, state: Path) -> dict[str, str]:
        return clean_environ(
            MASTODON_API_BASE_URL=self.server.url,
            MASTODON_ACCESS_TOKEN=TOKEN,
            TOOTBACK_STATE__PATH=str(state),
            TOOTBACK_ARCHIVE__PATH=str(self.root / "archive"),
            TOOTBACK_SCHEDULE__MIN_INTERVAL="0",
            # Held requests are let go as soon as a killed run is dead: they end in far
            # less than this.
            TOOTBACK_POST__LOOKUP_DELAY="0.3",
        )

    def start(self, state: Path) -> ForkedRun:
        # cwd: no .env and no config/ here
        return ForkedRun(["repost", "--date", DAY], env=self.env(state), cwd=self.root)

    def start_cold(self, state: Path) -> subprocess.Popen[bytes]:
        """The same run from a fresh interpreter, `python -m bot`."""
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "repost", "--date", DAY],
            cwd=self.root,
            env=self.env(state),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def finish(self, state: Path, *, cold: bool = False) -> None:
        """Run to completion, as the user would after a crash."""
        proc = self.start_cold(state) if cold else self.start(state)
        out, err = proc.communicate(timeout=DEADLINE)
        if proc.returncode != 0:
            self.problems.append(f"rerun exited {proc.returncode}: {err.decode()[-500:]}")
        self.output = out.decode() + err.decode()

    @property
    def total(self) -> int:
        return sum(self.parts.values())


def verify(bench: Bench, state_path: Path, label: str) -> None:
    """Count duplicates and losses on the server and in the state file after a trial."""
    server = bench.server
    wait_for(lambda: not server.in_flight())
    state = load_state(state_path)
    account, instance = server.account_id, server.url
    where = {
        idempotency_key(account, instance, tid, i): (tid, i)
        for tid, n in bench.parts.items()
        for i in range(n)
    }
    statuses = server.statuses()
    per_part = Counter(where.get(s.idempotency_key or "") for s in statuses)
    same_text = server.duplicates().texts
    dups = max(
        sum(n - 1 for part, n in per_part.items() if part is not None),
        sum(n - 1 for n in same_text.values()),
    )
    lost = [tid for tid in bench.parts if not state.is_posted(tid)]
    lost += [f"{tid}/{i}" for (tid, i) in where.values() if per_part[(tid, i)] == 0]
    bench.trials += 1
    bench.duplicates += dups
    bench.losses += len(lost)
    if dups or lost or None in per_part:
        bench.problems.append(
            f"{label}: duplicates {dups}, lost {lost}, per part {per_part}, "
            f"state file exists: {state_path.exists()}, last output:\n{bench.output}"
        )
    by_id = {s.id: s for s in statuses}
    for tid in bench.parts:
        record = state.record(tid)
        if not isinstance(record, Posted):
            continue
        chain = [by_id.get(sid) for sid in record.status_ids]
        replies = [s.in_reply_to_id if s else "missing" for s in chain[1:]]
        if replies != list(record.status_ids[:-1]):
            bench.problems.append(f"{label}: tweet {tid} is not a reply chain: {replies}")
    thread = state.record(THREAD)
    linker = state.record(LINKER)
    if isinstance(thread, Posted) and isinstance(linker, Posted):
        text = by_id[linker.status_ids[0]].text
        if thread.url not in text:
            bench.problems.append(f"{label}: self-link not rewritten: {text!r}")


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    root = tmp_path_factory.mktemp("e2e")
    write_archive(root / "archive")
    clock = FakeClock(datetime.fromtimestamp(1_775_000_000, UTC))
    with FakeMastodon(token=TOKEN, clock=clock) as server:
        server.add_local_account("cHHillee")
        yield Bench(root, server, expected_parts(root / "archive"))


def expected_parts(archive: Path) -> dict[str, int]:
    result = CliRunner().invoke(
        cli,
        ["preview", "--date", DAY, "--json", "--archive", str(archive)],
        obj=Context(clock=FakeClock(datetime(2026, 4, 5, tzinfo=UTC))),
        env={"TOOTBACK_STATE__PATH": str(archive.parent / "none" / "state.json")},
    )
    assert result.exit_code == 0, result.output
    toots = json.loads(result.stdout)["toots"]
    return {t["tweet_id"]: len(t["parts"]) for t in toots}


@pytest.fixture(autouse=True)
def _fresh(bench: Bench) -> None:
    """Each test reports its own problems."""
    bench.problems.clear()
    bench.output = ""


@pytest.fixture
def state_path(bench: Bench, tmp_path: Path) -> Path:
    bench.server.reset()
    bench.server.add_local_account("cHHillee")
    return tmp_path / "state" / "state.json"


def test_the_archive_makes_split_toots_and_media(bench: Bench) -> None:
    assert len(bench.parts) == 8
    assert sorted(bench.parts.values()) == [1, 1, 1, 1, 1, 2, 2, 3]


def posts_seen(server: FakeMastodon) -> int:
    return len(server.requests("POST", STATUSES))


def test_killed_at_every_point_and_rerun_posts_each_part_exactly_once(
    bench: Bench, tmp_path: Path
) -> None:
    server = bench.server
    total = bench.total
    points: list[tuple[str, int]] = [("answer held", n) for n in range(total)]
    points += [("request held", n) for n in range(0, total, 3)]
    points += [("after request", k) for k in (3, 7, 11, 15)]
    points += [("media answer held", 0), ("answer dropped", 0)]
    # Rerun two hours later: the server has forgotten the keys; own statuses are searched.
    points += [("answer held, 2 h later", n) for n in (0, 2, 4, 7, 10)]
    points += [("request held, 2 h later", n) for n in (3, 8)]
    for number, (how, n) in enumerate(points):
        server.reset()
        server.add_local_account("cHHillee")
        state = tmp_path / f"trial{number}" / "state.json"
        landed = kill_at(bench, state, how, n)
        if not landed:
            bench.problems.append(f"{how} {n}: the run ended before the kill point")
        if load_state(state).pending():
            bench.left_pending += 1
        elif "held" in how:
            bench.problems.append(f"{how} {n}: the kill left nothing pending")
        if how.endswith("2 h later"):
            later(state, server, hours=2)
        server.slow(STATUSES, 0)
        server.slow(MEDIA, 0)
        bench.finish(state)
        verify(bench, state, f"{how} {n}")
    print(
        f"\nkill trials: {bench.trials} ({bench.left_pending} left a toot pending), "
        f"duplicates {bench.duplicates}, losses {bench.losses}"
    )
    assert bench.problems == []
    assert bench.trials == len(points)
    assert bench.duplicates == bench.losses == 0


def later(state: Path, server: FakeMastodon, hours: float) -> None:
    """Move the server's clock and the state file's pending records `hours` into the past.

    The rerun's clock is the real one, so "two hours later" is made by dating the
    pending records two hours earlier, editing the file as a user's script could.
    """
    data = json.loads(state.read_text(encoding="utf-8"))
    for record in data["tweets"].values():
        if record["status"] == "pending":
            since = datetime.fromisoformat(record["since"]) - timedelta(hours=hours)
            record["since"] = since.isoformat()
    state.write_text(json.dumps(data), encoding="utf-8")
    assert isinstance(server.clock, FakeClock)
    server.clock.advance(hours * 3600)


def kill_at(bench: Bench, state: Path, how: str, n: int) -> bool:
    """Start a run and SIGKILL it at point `n` of kind `how`; True when the kill landed there.

    "answer held": status n created, its answer not yet delivered. "request held": pending
    written, status request n sent, not yet processed. "after request": anywhere after the
    server answered request n (of any kind). "media answer held": upload n done, its answer
    not yet delivered. "answer dropped": the first status created and its connection closed;
    killed in the backoff before the retry.
    """
    server = bench.server
    how = how.removesuffix(", 2 h later")
    if how in ("answer held", "request held"):
        server.slow(STATUSES, HOLD, after_processing=how == "answer held", skip=n, times=1)
    elif how == "media answer held":
        server.slow(MEDIA, HOLD, after_processing=True, skip=n, times=1)
    elif how == "answer dropped":
        server.drop_after_create()
    proc = bench.start(state)
    try:
        return wait_for(lambda: reached(server, how, n), proc)
    finally:
        kill_then_settle(proc, server)


def reached(server: FakeMastodon, how: str, n: int) -> bool:
    """Whether the server has seen the run get to kill point `n` of kind `how`."""
    if how == "answer held":
        return posts_seen(server) > n
    if how == "request held":
        return any(r.path == STATUSES for r in server.in_flight())
    if how == "after request":
        return len(server.requests()) >= n
    if how == "media answer held":
        return len(server.requests("POST", MEDIA)) > n
    return None in [r.status for r in server.requests("POST", STATUSES)]


def test_killed_again_and_again_until_done(bench: Bench, state_path: Path) -> None:
    server = bench.server
    kills = 0
    for _ in range(bench.total + 2):
        seen_before = posts_seen(server)
        # Each run: finish what is pending, post one more part, die waiting for the next answer.
        server.slow(STATUSES, HOLD, after_processing=True, skip=2, times=1)
        proc = bench.start(state_path)
        if wait_for(lambda: posts_seen(server) > seen_before + 2, proc):  # noqa: B023
            kill_then_settle(proc, server)
            kills += 1
            continue
        assert proc.wait(timeout=DEADLINE) == 0
        break
    else:
        pytest.fail("the runs never finished")
    verify(bench, state_path, "again and again")
    print(f"\nrepeated kills: {kills} runs killed before one finished, problems {bench.problems}")
    assert kills >= bench.total // 3
    assert bench.problems == []


def test_a_server_that_drops_answers_after_creating_causes_no_duplicate(
    bench: Bench, state_path: Path
) -> None:
    server = bench.server
    server.drop_after_create(times=1)
    bench.finish(state_path)
    assert [r.status for r in server.requests("POST", STATUSES)].count(None) == 1
    assert posts_seen(server) == bench.total  # the lost one found, not sent again
    verify(bench, state_path, "dropped answer")
    assert bench.problems == []


def test_two_concurrent_runs_post_each_toot_once(bench: Bench, tmp_path: Path) -> None:
    server = bench.server
    rounds = 3
    for number in range(rounds):
        server.reset()
        state = tmp_path / f"round{number}" / "state.json"
        first, second = bench.start(state), bench.start(state)
        outputs = []
        for proc in (first, second):
            out, err = proc.communicate(timeout=DEADLINE)
            assert proc.returncode == 0, err.decode()
            outputs.append(out.decode() + err.decode())
        bench.output = "\n".join(outputs)
        verify(bench, state, f"concurrent round {number}")
    print(f"\nconcurrent rounds: {rounds}, problems {bench.problems}")
    assert bench.problems == []


def test_no_mention_reaches_the_local_namesake(bench: Bench, state_path: Path) -> None:
    bench.finish(state_path, cold=True)  # as a user runs it: python -m bot
    [lunch] = [s for s in bench.server.statuses() if s.text.startswith("Lunch")]
    assert "@cHHillee@twitter.com" in lunch.text
    assert all(s.mentions == () for s in bench.server.statuses())
