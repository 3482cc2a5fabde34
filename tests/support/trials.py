"""Kill -9 trials: what an archive's day must leave on an account, and counting what it did.

A trial runs `tootback repost` for one day, kills it with SIGKILL at a random moment
(sometimes twice), runs it again to the end, and counts, from the account's statuses and
the state file: duplicates (a part of a toot on the account more than once), losses (a
tweet not recorded as posted, or a part missing from the account), and whether every
recorded URL is one the server gave (the URL the server lists for the first status).

The archive (`write_archive`) is one day of eight tweets shaped to reach every path that
matters: a thread split into three parts, toots of two parts, a picture, a mention, a link
to an earlier tweet of the same day. `tag` makes its texts unique, so that trials on a real
account, which keeps every earlier trial's statuses, are told apart.

Used by tests/test_e2e_kill.py and tests/test_kill_trials.py (the loopback fake, every
server profile) and by bench/kill_trials.py (a real server).
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from bot.cli import Context, cli
from bot.clock import FakeClock
from bot.rebuild import fingerprint
from bot.state import Posted, State
from tests.support.archives import png, write_old_markdown
from tests.support.processes import Process

DAY = "2026-04-05"
THREAD = "1584000000000000015"  # split into parts; linked to by LINKER
LINKER = "1119000000000000019"
PICTURE = "media/1716-view.png"

WORDS = [
    *("archive", "pickle", "tensor", "stride", "kernel", "thread", "garden", "coffee"),
    *("window", "river", "planet", "signal", "compiler", "lattice", "harbor", "meadow"),
    *("violin", "pocket", "ledger", "silver", "canvas", "orbit", "marble", "engine"),
]


def prose(seed: int, sentences: int) -> str:
    """Deterministic sentences of ordinary words, long enough to split where needed."""
    out = []
    for i in range(sentences):
        words = [WORDS[(seed * 7 + i * 5 + j * 3) % len(WORDS)] for j in range(9)]
        out.append(f"Note {seed}.{i}: " + " ".join(words) + ".")
    return " ".join(out)


@dataclass(frozen=True)
class ArchiveTweet:
    id: str
    year: int
    hour: int
    minute: int
    text: str


def archive_tweets(tag: str = "", length: int = 1) -> list[ArchiveTweet]:
    """The day's tweets; `tag` (a word) starts every text, so each trial's are its own;
    `length` times as many sentences in the long ones (for a server with a high limit)."""
    lead = f"{tag} " if tag else ""
    return [
        ArchiveTweet(
            "1450000000000000014", 2014, 8, 0, f"{lead}Spring cleaning today; found a ZIP drive."
        ),
        ArchiveTweet(THREAD, 2015, 8, 10, lead + prose(15, 14 * length)),
        ArchiveTweet(
            "1716000000000000016", 2016, 8, 20, f"{lead}The view from the office ![]({PICTURE})"
        ),
        ArchiveTweet("1817000000000000017", 2017, 8, 30, lead + prose(17, 8 * length)),
        ArchiveTweet("1918000000000000018", 2018, 8, 40, f"{lead}Lunch with @cHHillee was great"),
        ArchiveTweet(
            LINKER,
            2019,
            8,
            50,
            f"{lead}Four years on, still true: https://twitter.com/me/status/{THREAD}",
        ),
        ArchiveTweet("1220000000000000020", 2020, 9, 0, lead + prose(20, 7 * length)),
        ArchiveTweet("1321000000000000021", 2021, 9, 10, f"{lead}Last one of the day."),
    ]


def write_archive(root: Path, tag: str = "", length: int = 1) -> Path:
    """The day's archive as parser markdown under `root`, with a real (tiny) picture."""
    tweets = [
        (t.id, datetime(t.year, 4, 5, t.hour, t.minute, 7, tzinfo=UTC), t.text)
        for t in archive_tweets(tag, length)
    ]
    return write_old_markdown(root, tweets, media={PICTURE: png((40, 120, 200))})


Parts = dict[str, list[str]]
"""Tweet id -> the fingerprint of each part of its toot, first part first."""


def expected_parts(archive: Path, state: Path) -> Parts:
    """What a complete run posts for DAY, from `tootback preview --json` with the state
    file of a run (which keeps the server's profile: its limit and length rule)."""
    result = CliRunner().invoke(
        cli,
        ["preview", "--date", DAY, "--json", "--archive", str(archive)],
        obj=Context(clock=FakeClock(datetime(2026, 4, 5, tzinfo=UTC))),
        env={"TOOTBACK_STATE__PATH": str(state)},
    )
    assert result.exit_code == 0, result.output
    return {
        toot["tweet_id"]: [fingerprint(p["text"], len(p["media"])) for p in toot["parts"]]
        for toot in json.loads(result.stdout)["toots"]
    }


@dataclass(frozen=True)
class SeenStatus:
    """One status as the account shows it: `text` as sent or as plain text from its HTML."""

    id: str
    url: str
    text: str
    in_reply_to_id: str | None
    media_count: int = 0


@dataclass
class Tally:
    """What a series of trials found; `problems` says where, one line each."""

    trials: int = 0
    kills: int = 0
    left_pending: int = 0  # kills that left a toot pending
    duplicates: int = 0
    losses: int = 0
    urls_checked: int = 0
    bad_urls: int = 0
    problems: list[str] = field(default_factory=list)

    def count(self, label: str, parts: Parts, statuses: Sequence[SeenStatus], state: State) -> None:
        """Count one finished trial: `statuses` are the account's (that trial's only)."""
        self.trials += 1
        found = Counter(fingerprint(s.text, s.media_count) for s in statuses)
        wanted = {fp for fps in parts.values() for fp in fps}
        strays = [s.text[:60] for s in statuses if fingerprint(s.text, s.media_count) not in wanted]
        dups = sum(found[fp] - 1 for fp in wanted if found[fp] > 1)
        lost = [
            f"{tid}/{i}" for tid, fps in parts.items() for i, fp in enumerate(fps) if not found[fp]
        ]
        lost += [f"{tid} not recorded as posted" for tid in parts if not state.is_posted(tid)]
        self.duplicates += dups
        self.losses += len(lost)
        if dups or lost or strays:
            self.problems.append(f"{label}: {dups} duplicates, lost {lost}, unexpected {strays}")
        self._check_records(label, parts, {s.id: s for s in statuses}, state)

    def _check_records(
        self, label: str, parts: Parts, by_id: Mapping[str, SeenStatus], state: State
    ) -> None:
        for tid, fps in parts.items():
            record = state.record(tid)
            if not isinstance(record, Posted):
                continue
            chain = [by_id.get(sid) for sid in record.status_ids]
            self.urls_checked += 1
            if chain[0] is None or record.url != chain[0].url:
                self.bad_urls += 1
                shown = chain[0].url if chain[0] else "no such status"
                self.problems.append(f"{label}: tweet {tid} recorded {record.url}, server {shown}")
            replies = [s.in_reply_to_id if s else "missing" for s in chain[1:]]
            if len(chain) != len(fps) or replies != list(record.status_ids[:-1]):
                self.problems.append(f"{label}: tweet {tid} is no chain of {len(fps)}: {replies}")

    def summary(self, name: str) -> str:
        return (
            f"{name}: {self.trials} trials, {self.kills} kills ({self.left_pending} left a toot "
            f"pending), {self.duplicates} duplicates, {self.losses} losses, "
            f"{self.urls_checked - self.bad_urls}/{self.urls_checked} recorded URLs the server's"
        )


def kill_after(proc: Process, seconds: float, until: Callable[[], bool] | None = None) -> bool:
    """SIGKILL `proc` after `seconds`, or as soon as `until()` is true; False when it ended
    on its own first (nothing to kill)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end and not (until is not None and until()):
        if proc.poll() is not None:
            break
        time.sleep(0.002)
    alive = proc.poll() is None
    if alive:
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    return alive
