"""Kill -9 trials against a real Mastodon-API server: duplicates, losses, URLs, counted.

    MASTODON_ACCESS_TOKEN=… python -m bench.kill_trials --url http://127.0.0.1:8480 \\
        --trials 20 [--visibility private] [--length 12] [--lookup-delay 30] [--seed N] \\
        [--work DIR]

Each trial writes the kill trials' archive (`tests/support/trials.py`) with a tag word
of its own in every text, so that its statuses are told apart from every earlier trial's
on the same account (`--length N` makes its long tweets N times longer, so that they are
still split on a server with a high limit); runs `python -m bot repost` for its day from
an empty state file; kills it with SIGKILL at a random moment while it posts (from its
first write of the state file, up to as long as a whole run posts; a third of the time
the rerun too); runs it again to the end; then reads the account's statuses (its own
list, and its home timeline where the own list leaves out the visibility posted with)
and counts, for that trial's tag: duplicates, losses, and whether each recorded URL is
the one the server lists. It prints one line per trial and a total. The token is read
from the environment, never printed.

Nothing here changes the server. It is not run in CI (CI keeps the loopback fake).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from tempfile import mkdtemp
from typing import Any

import requests

from bot.client.content import html_to_text
from bot.state import load_state
from tests.support.trials import DAY, SeenStatus, Tally, expected_parts, kill_after, write_archive

PAGE = 40


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8480")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--visibility", default="public", choices=["public", "unlisted", "private"])
    parser.add_argument("--lookup-delay", type=float, default=30.0, help="post.lookup_delay")
    parser.add_argument("--length", type=int, default=1, help="long tweets N times longer")
    parser.add_argument("--seed", type=int, default=random.SystemRandom().randrange(10**6))
    parser.add_argument("--work", type=Path, default=None, help="where trials keep their files")
    args = parser.parse_args()
    token = os.environ.get("MASTODON_ACCESS_TOKEN", "")
    if not token:
        sys.exit("MASTODON_ACCESS_TOKEN is not set")
    server = Server(args.url.rstrip("/"), token)
    work = args.work or Path(mkdtemp(prefix="tootback-trials-"))
    rng = random.Random(args.seed)
    tally = Tally()
    print(
        f"{server.url}: {server.software()}, {args.trials} trials, {args.visibility}, "
        f"lookup_delay {args.lookup_delay:g} s, seed {args.seed}, files in {work}"
    )
    window = 0.0
    series = secrets.token_hex(3)  # earlier series' statuses stay on the account
    for number in range(args.trials):
        tag = f"kt{series}x{number:02d}"
        folder = work / tag
        archive = write_archive(folder / "archive", tag, args.length)
        state = folder / "state" / "state.json"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TOOTBACK_")},
            "MASTODON_API_BASE_URL": server.url,
            "TOOTBACK_ARCHIVE__PATH": str(archive),
            "TOOTBACK_STATE__PATH": str(state),
            "TOOTBACK_SCHEDULE__MIN_INTERVAL": "0",
            "TOOTBACK_POST__VISIBILITY": args.visibility,
            "TOOTBACK_POST__LOOKUP_DELAY": str(args.lookup_delay),
        }
        started = time.monotonic()
        kills = 0
        # The first trial runs whole: how long posting a day takes, the kills' window.
        for _ in range(0 if not window else 1 + (rng.random() < 1 / 3)):
            proc = start(env, folder)
            began = posting(proc, state)
            if kill_after(proc, rng.uniform(0.0, window), lambda: False) and began:
                kills += 1
                tally.left_pending += bool(load_state(state).pending())
        tally.kills += kills
        proc = start(env, folder)
        began = posting(proc, state)
        _, err = proc.communicate(timeout=3600)
        if proc.returncode != 0:
            tally.problems.append(f"{tag}: the last run exited {proc.returncode}: {err[-400:]!r}")
        if not window:
            window = time.monotonic() - (began or started)
        statuses = tagged(server.own_statuses(args.visibility), tag)
        before = (tally.duplicates, tally.losses, tally.bad_urls)
        # What the day makes on this server: preview with the profile the runs kept.
        parts = expected_parts(archive, state)
        tally.count(tag, parts, statuses, load_state(state))
        after = (tally.duplicates, tally.losses, tally.bad_urls)
        took = time.monotonic() - started
        print(
            f"trial {number + 1:2}: {kills} kill(s), {len(statuses)} statuses, "
            f"duplicates +{after[0] - before[0]}, losses +{after[1] - before[1]}, "
            f"bad URLs +{after[2] - before[2]}  ({took:.0f} s)",
            flush=True,
        )
    print(tally.summary(server.software()))
    for problem in tally.problems:
        print("  " + problem)
    sys.exit(1 if tally.problems else 0)


def tagged(statuses: list[SeenStatus], tag: str) -> list[SeenStatus]:
    """The statuses of one trial: those with its tag (the first parts), and the replies
    down their chains (later parts carry no tag)."""
    ids = {s.id for s in statuses if tag in s.text}
    grew = True
    while grew:
        more = {s.id for s in statuses if s.in_reply_to_id in ids} - ids
        ids |= more
        grew = bool(more)
    return [s for s in statuses if s.id in ids]


def posting(proc: subprocess.Popen[bytes], state: Path) -> float | None:
    """Wait until `proc` first writes the state file (it starts posting); return when (a
    monotonic time), None when it ended first."""
    before = state.stat().st_mtime_ns if state.exists() else 0
    while proc.poll() is None:
        if state.exists() and state.stat().st_mtime_ns != before:
            return time.monotonic()
        time.sleep(0.002)
    return None


def start(env: dict[str, str], folder: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "repost", "--date", DAY],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


class Server:
    """What the harness reads from the server, with requests: never through tootback."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.headers["User-Agent"] = "tootback-kill-trials"

    def get(self, path: str, **params: Any) -> Any:
        for _ in range(30):
            answer = self.session.get(self.url + path, params=params, timeout=30)
            if answer.status_code != 429:  # GoToSocial's rate limit: wait it out
                answer.raise_for_status()
                return answer.json()
            time.sleep(10)
        answer.raise_for_status()

    def software(self) -> str:
        return str(self.get("/api/v1/instance").get("version", "?"))

    def own_statuses(self, visibility: str) -> list[SeenStatus]:
        """The account's statuses from its own list, and from home too for a non-public
        visibility (Takahe leaves private ones out of the own list), newest 80 each: a
        trial's are the newest."""
        me = self.get("/api/v1/accounts/verify_credentials")["id"]
        seen: dict[str, SeenStatus] = {}
        lists = [f"/api/v1/accounts/{me}/statuses"]
        if visibility != "public":
            lists.append("/api/v1/timelines/home")
        for path in lists:
            for raw in self._pages(path):
                if str(raw["account"]["id"]) == str(me) and not raw.get("reblog"):
                    seen.setdefault(str(raw["id"]), _seen(raw))
        return list(seen.values())

    def _pages(self, path: str, limit: int = 80) -> Iterator[dict[str, Any]]:
        max_id: str | None = None
        read = 0
        while read < limit:
            params: dict[str, Any] = {"limit": PAGE}
            if max_id:
                params["max_id"] = max_id
            page = self.get(path, **params)
            yield from page
            read += len(page)
            if len(page) < PAGE:
                return
            max_id = str(page[-1]["id"])


def _seen(raw: dict[str, Any]) -> SeenStatus:
    reply = raw.get("in_reply_to_id")
    return SeenStatus(
        id=str(raw["id"]),
        url=str(raw.get("url") or raw.get("uri") or ""),
        text=html_to_text(str(raw.get("content") or "")),
        in_reply_to_id=None if reply is None else str(reply),
        media_count=len(raw.get("media_attachments") or ()),
    )


if __name__ == "__main__":
    main()
