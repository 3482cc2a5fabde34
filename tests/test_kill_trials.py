"""Kill -9 trials at random moments, on every server profile of the loopback fake.

For each profile (Mastodon, GoToSocial, Takahe, Pleroma, and a server that answers a
repeated key without the status), TRIALS trials: from an empty state file on a reset
server, `tootback repost` runs as a real process and is killed with SIGKILL at a random
moment (a third of the time its rerun is killed too), then it runs to the end; the
account's statuses and the state file are then counted (`tests.support.trials.Tally`):
0 duplicates, 0 losses, every recorded URL the server's.

A kill lands, drawn at random, at any moment of the run, or while the server holds a
status request before handling it, or after a status was created and before its answer
left. A held request is let go at a random moment up to RELEASE after the kill, as a
server finishes the request of a client that vanished, so the rerun may start while it
is still under way: that is what `post.lookup_delay` (here LOOKUP_DELAY) waits out.

KILL_TRIALS sets the number of trials per profile (default 6, so that the whole
file stays within a minute; the issue's count is 30: `KILL_TRIALS=30 pytest -s
tests/test_kill_trials.py`), KILL_SEED the random seed (printed with the counts).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.state import load_state
from tests.support.fake_mastodon import FakeMastodon
from tests.support.processes import ForkedRun, clean_environ
from tests.support.profiles import PROFILES, ServerProfile
from tests.support.trials import (
    DAY,
    Parts,
    SeenStatus,
    Tally,
    expected_parts,
    kill_after,
    write_archive,
)

pytestmark = pytest.mark.slow

TRIALS = int(os.environ.get("KILL_TRIALS", "6"))
SEED = int(os.environ.get("KILL_SEED", str(random.SystemRandom().randrange(10**6))))
TOKEN = "tok-SECRET-trials-1618"
STATUSES = "/api/v1/statuses"
LOOKUP_DELAY = 0.5  # seconds; every held request is let go well before
RELEASE = 0.3  # a held request is handled at most this long after the kill
HOLD = 10.0  # the longest a request is held, if nothing lets it go
DEADLINE = 20.0
KINDS = ("any moment", "request held", "answer held")


@dataclass
class Bench:
    root: Path
    archive: Path
    server: FakeMastodon
    rng: random.Random
    parts: Parts = field(default_factory=dict)  # known once a run kept the server's profile
    window: float = 0.0  # how long a whole run from an empty state file takes
    release: threading.Timer | None = None  # lets held requests go after a kill

    def start(self, state: Path) -> ForkedRun:
        env = clean_environ(
            MASTODON_API_BASE_URL=self.server.url,
            MASTODON_ACCESS_TOKEN=TOKEN,
            TOOTBACK_STATE__PATH=str(state),
            TOOTBACK_ARCHIVE__PATH=str(self.archive),
            TOOTBACK_SCHEDULE__MIN_INTERVAL="0",
            TOOTBACK_POST__LOOKUP_DELAY=str(LOOKUP_DELAY),
        )
        return ForkedRun(["repost", "--date", DAY], env=env, cwd=self.root)

    def finish(self, state: Path) -> str:
        """Run to the end; return what it printed (for a problem report)."""
        proc = self.start(state)
        out, err = proc.communicate(timeout=DEADLINE)
        text = out.decode() + err.decode()
        assert proc.returncode == 0, text
        return text


@pytest.fixture(params=sorted(PROFILES), scope="module")
def bench(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Bench]:
    profile: ServerProfile = PROFILES[request.param]
    root = tmp_path_factory.mktemp(profile.name)
    archive = write_archive(root / "archive")
    clock = FakeClock(datetime.fromtimestamp(1_775_000_000, UTC))
    with FakeMastodon(token=TOKEN, clock=clock, profile=profile) as server:
        rng = random.Random(f"{SEED}-{profile.name}")
        bench = Bench(root, archive, server, rng)
        calibration = root / "calibration" / "state.json"
        started = time.monotonic()
        bench.finish(calibration)
        # Only a run from an empty state file, as every trial's first run is: a rerun
        # that finishes a pending toot waits `post.lookup_delay` and lasts longer, and
        # a moment drawn from its length would mostly fall after a fresh run's end.
        bench.window = time.monotonic() - started
        bench.parts = expected_parts(archive, calibration)
        yield bench


def seen(server: FakeMastodon) -> list[SeenStatus]:
    return [
        SeenStatus(s.id, s.url, s.text, s.in_reply_to_id, len(s.media_ids))
        for s in server.statuses()
    ]


def kill_somewhere(bench: Bench, state: Path) -> bool:
    """Start a run and kill it at a random moment of a random kind; True if it was killed."""
    server, rng = bench.server, bench.rng
    if bench.release is not None:
        bench.release.join()  # the last kill's release must not let this one's hold go
    kind = rng.choice(KINDS)
    held = None
    if kind != "any moment":
        server.slow(STATUSES, HOLD, after_processing=kind == "answer held", skip=rng.randrange(6))
        held = lambda: any(r.path == STATUSES for r in server.in_flight())  # noqa: E731
    proc = bench.start(state)
    killed = kill_after(proc, rng.uniform(0.0, bench.window) if held is None else DEADLINE, held)
    server.slow(STATUSES, 0)
    # The server finishes what it holds a moment later, maybe while the rerun starts.
    bench.release = threading.Timer(rng.uniform(0.0, RELEASE), server.release_held)
    bench.release.start()
    return killed


def trial(bench: Bench, tally: Tally, number: int, tmp_path: Path) -> None:
    server = bench.server
    server.reset()
    server.add_local_account("cHHillee")  # a namesake the mention must never reach
    state = tmp_path / f"trial{number}" / "state.json"
    for _ in range(1 + (bench.rng.random() < 1 / 3)):
        if kill_somewhere(bench, state):
            tally.kills += 1
            tally.left_pending += bool(load_state(state).pending())
    output = bench.finish(state)
    end = time.monotonic() + DEADLINE
    while server.in_flight() and time.monotonic() < end:
        time.sleep(0.005)
    before = len(tally.problems)
    tally.count(f"trial {number}", bench.parts, seen(server), load_state(state))
    if len(tally.problems) > before:
        tally.problems.append(f"trial {number} output:\n{output}")
    if any(s.mentions for s in server.statuses()):
        tally.problems.append(f"trial {number}: a mention reached the local namesake")


def test_kill_9_at_random_moments_leaves_no_duplicate_no_loss_and_the_servers_urls(
    bench: Bench, tmp_path: Path
) -> None:
    tally = Tally()
    for number in range(TRIALS):
        trial(bench, tally, number, tmp_path)
    print(f"\n{tally.summary(bench.server.profile.name)} (seed {SEED})")
    assert tally.problems == []
    assert tally.trials == TRIALS and tally.urls_checked == TRIALS * len(bench.parts)
    assert tally.duplicates == tally.losses == tally.bad_urls == 0
    assert tally.kills >= TRIALS // 3  # the runs were caught alive, not after their end
