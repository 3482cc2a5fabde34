"""The `tootback daemon` process: backends, signals, shutdown, exit code.

SIGTERM/SIGINT stop the clock, which ends every wait at once (pacing, backoff,
rate limit, state lock); the toot in flight finishes or, if its request hangs,
is abandoned after SHUTDOWN_GRACE seconds. Either way its state record is
`pending` or `posted` on disk, never half-written (saves are atomic), and the
next start finishes a pending one with the same Idempotency-Key. A second
signal exits at once. A fatal error (a refused token) ends the process with
its exit code (2), so that a supervisor does not restart-loop it silently.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time as time_module
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Protocol, TextIO

from bot.archive import Archive, load_archive
from bot.clock import Clock
from bot.daemon.dayjobs import pending_due
from bot.daemon.events import EventLog, LogFormat
from bot.daemon.scheduler import Backend, Daemon, DaemonOptions, StoppableClock, make_scheduler
from bot.exactly_once import Outcome
from bot.handles import load_handles
from bot.model import InstanceLimits, Skip
from bot.options import make_composer, plan
from bot.selection import Due
from bot.settings import Settings
from bot.state import State, load_state
from bot.wiring import open_run

SHUTDOWN_GRACE = 8.0  # seconds; with the exit itself, well inside a supervisor's 10


def live_backend(settings: Settings, archive_path: Path, clock: Clock, events: EventLog) -> Backend:
    """Open a posting run (the archive, then two requests: the account and the instance)."""
    run = open_run(
        settings,
        archive_path,
        clock,
        on_wait=lambda who: events.emit("waiting", f"waiting for the state lock: {who}"),
    )
    tweets = {t.id: t for t in run.archive.tweets}
    account = run.client.account()
    return Backend(
        plan=lambda day: plan(run.archive, day, settings),
        state=run.store.load,
        pending=lambda: run.runner.pending_jobs(tweets),
        post=lambda item: run.runner.run([item])[0],
        describe=f"posting as @{account.acct} on {account.instance}; "
        f"{_about(settings, run.archive)}",
    )


def dry_backend(settings: Settings, archive_path: Path, events: EventLog) -> Backend:
    """Read the archive and the state file only; `post` logs the toot instead of sending it."""
    archive = load_archive(archive_path)
    handles = load_handles(settings.mentions.handles_file)
    composer = make_composer(
        settings, archive, handles, InstanceLimits(settings.compose.max_characters)
    )
    tweets = {t.id: t for t in archive.tweets}
    shown: set[str] = set()

    def state() -> State:
        return load_state(settings.state.path)

    def post(item: Due) -> Outcome | None:
        tid = item.tweet.id
        if tid in shown:
            return Outcome(tid, "already posted", detail="shown before in this dry run")
        toot = composer(item.tweet, item.due, state().posted_urls())
        if isinstance(toot, Skip):
            return Outcome(tid, "skipped", detail=toot.reason)
        shown.add(tid)
        events.emit(
            "would-post",
            f"tweet {tid} ({len(toot.parts)} part(s)): {toot.parts[0].text!r}",
            tweet_id=tid,
            parts=len(toot.parts),
            text="\n\n".join(p.text for p in toot.parts),
        )
        return None

    return Backend(
        plan=lambda day: plan(archive, day, settings),
        state=state,
        pending=lambda: pending_due(state(), tweets),
        post=post,
        describe=f"dry run: nothing is posted and the state file is not written; "
        f"{_about(settings, archive)}",
    )


def _about(settings: Settings, archive: Archive) -> str:
    s = settings.schedule
    mode = f"daily from {s.daily_at}" if s.mode == "daily" else "anniversary times"
    return (
        f"archive {archive.root} ({len(archive.tweets)} tweets); state {settings.state.path}; "
        f"{settings.selection.timezone}, {mode}, {s.min_interval} s apart, catch-up {s.catch_up} s"
    )


# --- signals and the main loop ----------------------------------------------------------


class Signals(Protocol):
    """How `serve` waits for SIGTERM/SIGINT (tests pass a fake)."""

    def wait(self) -> int | None:
        """Block until a stop signal (return its number) or a `wake()` (return None)."""
        ...

    def poll(self, timeout: float) -> int | None:
        """A stop signal received within `timeout` seconds, or None."""
        ...


class ProcessSignals:
    """SIGTERM and SIGINT taken synchronously with sigwait, not by handlers.

    A Python handler runs between two bytecodes of the main thread, possibly
    while that thread holds a lock the handler needs; taking the signals with
    sigwait in a thread that does nothing else avoids that. They are blocked in
    every thread, so this must be created before any thread starts (the
    threads inherit the mask). `wake()` lets another thread end `wait()`
    (SIGUSR1, the daemon's own).
    """

    STOP = frozenset({signal.SIGTERM, signal.SIGINT})
    WAKE = signal.SIGUSR1

    def __init__(self) -> None:
        self._main = threading.get_ident()
        signal.pthread_sigmask(signal.SIG_BLOCK, {*self.STOP, self.WAKE})

    def wait(self) -> int | None:
        """Block until SIGTERM or SIGINT (return its number) or a `wake()` (return None)."""
        signum = signal.sigwait({*self.STOP, self.WAKE})
        return None if signum == self.WAKE else int(signum)

    def poll(self, timeout: float) -> int | None:
        """SIGTERM or SIGINT received within `timeout` seconds, else None."""
        info = signal.sigtimedwait(self.STOP, max(0.0, timeout))
        return None if info is None else int(info.si_signo)

    def wake(self) -> None:
        """End a `wait()` in the main thread from any thread."""
        signal.pthread_kill(self._main, self.WAKE)

    def release(self) -> None:
        """Drop signals still pending and unblock them (default actions again)."""
        everything = {*self.STOP, self.WAKE}
        while signal.sigtimedwait(everything, 0) is not None:
            pass
        signal.pthread_sigmask(signal.SIG_UNBLOCK, everything)


def _hard_exit(code: int) -> None:
    # Threads stuck in a request would keep a normal exit waiting; the state on
    # disk is consistent at every instant, so leaving them is safe.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def serve(
    daemon: Daemon,
    signals: Signals,
    *,
    grace: float = SHUTDOWN_GRACE,
    exit_now: Callable[[int], None] = _hard_exit,
) -> int:
    """Run `daemon` until a stop signal or a fatal error; return the exit code.

    daemon: its scheduler must not be started yet.
    signals: where stop signals come from.
    grace: seconds the toot in flight may take to finish after a stop signal;
        after that it is abandoned (it stays pending) and `exit_now(0)` is called.
    exit_now: ends the process at once (a second signal: 128 + its number).
    """
    daemon.begin()
    daemon.scheduler.start()
    signum = signals.wait()
    if signum is not None:
        daemon.events.emit(
            "stopping",
            f"{signal.Signals(signum).name}: stopping; the toot in flight is finished or "
            "abandoned (a second signal exits at once)",
        )
    daemon.stop()
    daemon.scheduler.shutdown(wait=False)
    deadline = time_module.monotonic() + grace
    while not daemon.idle(0):
        left = deadline - time_module.monotonic()
        if left <= 0:
            daemon.events.emit(
                "stopped",
                f"tweet {daemon.in_flight} abandoned in flight; it stays pending and the next "
                "start finishes it with the same Idempotency-Key",
                exit_code=daemon.exit_code,
            )
            exit_now(daemon.exit_code)
            return daemon.exit_code
        second = signals.poll(min(0.1, left))
        if second is not None:
            daemon.events.emit("stopped", "second signal: exiting now", exit_code=128 + second)
            exit_now(128 + second)
            return 128 + second
    daemon.events.emit("stopped", f"exit {daemon.exit_code}", exit_code=daemon.exit_code)
    return daemon.exit_code


def run_daemon(
    settings: Settings,
    archive_path: Path,
    clock: StoppableClock,
    *,
    dry_run: bool = False,
    log_format: str = "text",
    stream: TextIO | None = None,
) -> int:
    """`tootback daemon`: run until SIGTERM/SIGINT (exit 0) or a fatal error (its exit code).

    settings, archive_path: what to post, where from (the CLI resolves the path).
    clock: the real clock in production; `stop()` is called on shutdown.
    dry_run: log what would be posted at each due time; no account needed.
    log_format: "text" or "json" lines on `stream` (default stderr).
    """
    signals = ProcessSignals()  # first: before the scheduler starts any thread
    try:
        fmt: LogFormat = "json" if log_format == "json" else "text"
        events = EventLog(stream or sys.stderr, clock, fmt, settings.selection.zone)
        if dry_run:
            connect = partial(dry_backend, settings, archive_path, events)
        else:
            connect = partial(live_backend, settings, archive_path, clock, events)
        options = DaemonOptions.from_settings(settings)
        daemon = Daemon(connect, make_scheduler(), clock, events, options, wake=signals.wake)
        return serve(daemon, signals)
    finally:
        signals.release()
