"""`python -m bot daemon` as a real process against the loopback fake Mastodon.

The daemon reads the real clock (APScheduler fires on it), so these tests build
their archive from today's real date and wait real seconds: a few, with due
times two seconds apart. Everything else in the suite uses a FakeClock.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.archives import write_old_markdown
from tests.support.fake_mastodon import FakeMastodon
from tests.support.processes import clean_environ

pytestmark = pytest.mark.slow

LEAD = 3  # seconds from now to the first due time: the process must be up by then
TOLERANCE = 2.0  # seconds a toot may arrive after its due time


def on_this_day_archive(folder: Path, today: date, count: int = 3) -> list[str]:
    """An old-generation markdown archive with `count` tweets of today's month-day in
    earlier years; returns their ids, oldest first."""
    years = [y for y in range(today.year - 1, today.year - 40, -1) if _has_day(y, today)][:count]
    tweets = [
        (
            str(1_600_000_000_000_000_000 + n),
            datetime(year, today.month, today.day, 12, 0, tzinfo=UTC),
            f"Toot {n} from {year}, an end-to-end test",
        )
        for n, year in enumerate(sorted(years))
    ]
    write_old_markdown(folder, tweets)
    return [tid for tid, _, _ in tweets]


def _has_day(year: int, day: date) -> bool:
    try:
        day.replace(year=year)
    except ValueError:  # Feb 29 in a common year
        return False
    return True


class Daemon:
    """A `python -m bot daemon` process whose stderr goes to a file."""

    def __init__(self, cwd: Path, env: dict[str, str], log: Path, *args: str) -> None:
        self.log = log
        self._out = log.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "daemon", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._out,
        )

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def wait_for(self, needle: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no {needle!r} in the daemon's log:\n{self.text()}")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> tuple[int, float]:
        """Send `sig`; return the exit code and the seconds it took to exit."""
        sent = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self._out.close()
        return code, time.monotonic() - sent

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._out.close()


def wait_until(condition: Callable[[], object], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_daemon_posts_each_toot_once_on_time_stops_on_sigterm_and_restarts_clean(
    tmp_path: Path, server: FakeMastodon
) -> None:
    now = datetime.now(UTC)
    first_due = now.replace(microsecond=0) + timedelta(seconds=LEAD + 1)
    if (first_due + timedelta(seconds=20)).date() != now.date():
        pytest.skip("too close to midnight UTC: the due times would fall on another day")
    ids = on_this_day_archive(tmp_path / "archive", now.date())
    state_path = tmp_path / "state" / "state.json"
    env = clean_environ(
        PYTHONUNBUFFERED="1",
        MASTODON_API_BASE_URL=server.url,
        MASTODON_ACCESS_TOKEN=server.token,
        TOOTBACK_ARCHIVE__PATH=str(tmp_path / "archive"),
        TOOTBACK_STATE__PATH=str(state_path),
        TOOTBACK_SCHEDULE__MODE="daily",
        TOOTBACK_SCHEDULE__DAILY_AT=first_due.strftime("%H:%M:%S"),
        TOOTBACK_SCHEDULE__MIN_INTERVAL="1",
    )
    daemon = Daemon(tmp_path, env, tmp_path / "first.log")
    try:
        wait_until(lambda: len(server.statuses()) >= 3, timeout=LEAD + 3 + 8)
        time.sleep(0.5)  # a duplicate would arrive about now
        code, took = daemon.stop()
    finally:
        daemon.kill()
    log = daemon.text()
    assert (code, took < 10) == (0, True), log

    posts = server.requests("POST", "/api/v1/statuses")
    assert [r.status for r in posts] == [200, 200, 200], log
    assert not server.duplicates()
    dues = [first_due.timestamp() + n for n in range(3)]
    late = [round(r.at - due, 3) for r, due in zip(posts, dues, strict=True)]
    assert all(-0.05 <= d <= TOLERANCE for d in late), (late, log)
    assert log.count(" posted ") == 3 and " stopped " in log

    data = json.loads(state_path.read_text(encoding="utf-8"))
    assert sorted(data["tweets"]) == ids
    assert {r["status"] for r in data["tweets"].values()} == {"posted"}
    assert sorted(r["status_ids"][0] for r in data["tweets"].values()) == sorted(
        s.id for s in server.statuses()
    )

    again = Daemon(tmp_path, env, tmp_path / "second.log")
    try:
        again.wait_for("0 to catch up now")
        time.sleep(0.5)
        code, _ = again.stop()
    finally:
        again.kill()
    assert code == 0, again.text()
    assert len(server.statuses()) == 3
    assert "3 posted, 0 to come" in again.text()


def test_procfile_command_refuses_the_demo_archive_and_runs_on_your_own(
    tmp_path: Path, server: FakeMastodon
) -> None:
    account = {"MASTODON_API_BASE_URL": server.url, "MASTODON_ACCESS_TOKEN": server.token}
    env = clean_environ(PYTHONUNBUFFERED="1", **account)
    refused = subprocess.run(
        [sys.executable, "-m", "bot", "daemon"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert refused.returncode == 2, refused.stderr
    assert "bundled demo" in refused.stderr and "TOOTBACK_ARCHIVE__PATH" in refused.stderr
    assert server.requests() == []

    on_this_day_archive(tmp_path / "archive", datetime.now(UTC).date(), count=1)
    env = clean_environ(PYTHONUNBUFFERED="1", TOOTBACK_ARCHIVE__PATH="archive", **account)
    daemon = Daemon(tmp_path, env, tmp_path / "daemon.log", "--log-format", "json")
    try:
        daemon.wait_for('"event": "planned"')
        code, took = daemon.stop(signal.SIGINT)
    finally:
        daemon.kill()
    lines = [json.loads(line) for line in daemon.text().splitlines()]
    assert (code, took < 10) == (0, True), daemon.text()
    assert lines[0]["event"] == "started"
    assert "archive" in lines[0]["message"] and "@me on" in lines[0]["message"]
    assert lines[-1]["event"] == "stopped"
    assert not server.duplicates()


def test_a_refused_token_stops_the_daemon_with_exit_2(tmp_path: Path, server: FakeMastodon) -> None:
    on_this_day_archive(tmp_path / "archive", datetime.now(UTC).date(), count=1)
    env = clean_environ(
        PYTHONUNBUFFERED="1",
        MASTODON_API_BASE_URL=server.url,
        MASTODON_ACCESS_TOKEN="revoked",
        TOOTBACK_ARCHIVE__PATH="archive",
    )
    daemon = Daemon(tmp_path, env, tmp_path / "daemon.log")
    try:
        code = daemon.proc.wait(timeout=15)
    finally:
        daemon.kill()
    assert code == 2, daemon.text()
    assert " fatal " in daemon.text() and "tootback login" in daemon.text()


def test_dry_run_needs_no_account_and_posts_nothing(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    if now.hour == 0 and now.minute < 2:
        pytest.skip("the toot due a minute ago would fall on yesterday")
    on_this_day_archive(tmp_path / "archive", now.date(), count=1)
    env = clean_environ(
        PYTHONUNBUFFERED="1",
        TOOTBACK_ARCHIVE__PATH=str(tmp_path / "archive"),
        TOOTBACK_STATE__PATH=str(tmp_path / "state.json"),
        TOOTBACK_SCHEDULE__MODE="daily",
        TOOTBACK_SCHEDULE__DAILY_AT=(now - timedelta(minutes=1)).strftime("%H:%M:%S"),
    )
    daemon = Daemon(tmp_path, env, tmp_path / "daemon.log", "--dry-run", "--log-format", "json")
    try:
        daemon.wait_for('"event": "would-post"')
        code, _ = daemon.stop()
    finally:
        daemon.kill()
    assert code == 0, daemon.text()
    would = [json.loads(line) for line in daemon.text().splitlines() if "would-post" in line]
    assert len(would) == 1 and "an end-to-end test" in would[0]["text"]
    assert not (tmp_path / "state.json").exists()


def test_kill_9_in_flight_then_restart_finishes_the_toot_without_a_duplicate(
    tmp_path: Path, server: FakeMastodon
) -> None:
    now = datetime.now(UTC)
    if now.hour == 0 and now.minute < 2:
        pytest.skip("the toot due a minute ago would fall on yesterday")
    (tid,) = on_this_day_archive(tmp_path / "archive", now.date(), count=1)
    state_path = tmp_path / "state.json"
    env = clean_environ(
        PYTHONUNBUFFERED="1",
        MASTODON_API_BASE_URL=server.url,
        MASTODON_ACCESS_TOKEN=server.token,
        TOOTBACK_ARCHIVE__PATH=str(tmp_path / "archive"),
        TOOTBACK_STATE__PATH=str(state_path),
        TOOTBACK_SCHEDULE__MODE="daily",
        TOOTBACK_SCHEDULE__DAILY_AT=(now - timedelta(minutes=1)).strftime("%H:%M:%S"),
        TOOTBACK_POST__LOOKUP_DELAY="4",  # longer than the server takes, far less than 30 s
    )
    server.slow("/api/v1/statuses", 3.0)  # the server takes 3 s to handle a new status
    daemon = Daemon(tmp_path, env, tmp_path / "first.log")
    try:
        daemon.wait_for(" due ")
        time.sleep(0.5)  # the request is sent and the server is still working on it
        daemon.proc.kill()
        daemon.proc.wait(timeout=5)
    finally:
        daemon.kill()
    record = json.loads(state_path.read_text(encoding="utf-8"))["tweets"][tid]
    assert record["status"] == "pending", daemon.text()

    server.slow("/api/v1/statuses", 0)
    again = Daemon(tmp_path, env, tmp_path / "second.log")
    try:
        # The restart waits until post.lookup_delay after the request, then finds the
        # status the slow request made: nothing is sent again.
        again.wait_for(" posted ")
        code, _ = again.stop()
    finally:
        again.kill()
    assert code == 0, again.text()
    assert "finishing it first" in again.text()
    assert len(server.statuses()) == 1 and not server.duplicates()
    assert len(server.requests("POST", "/api/v1/statuses")) == 1
    assert json.loads(state_path.read_text(encoding="utf-8"))["tweets"][tid]["status"] == "posted"
