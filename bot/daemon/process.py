"""The `tootback daemon` process: signals, shutdown, exit code.

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

from bot.daemon.backends import dry_backend, live_backend
from bot.daemon.events import EventLog, LogFormat
from bot.daemon.scheduler import Daemon, DaemonOptions, StoppableClock, make_scheduler
from bot.settings import Settings

SHUTDOWN_GRACE = 8.0  # seconds; with the exit itself, well inside a supervisor's 10


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
        daemon.events.stopping(signal.Signals(signum).name)
    daemon.stop()
    daemon.scheduler.shutdown(wait=False)
    deadline = time_module.monotonic() + grace
    while not daemon.idle(0):
        left = deadline - time_module.monotonic()
        if left <= 0:
            daemon.events.abandoned_in_flight(daemon.in_flight, daemon.exit_code)
            exit_now(daemon.exit_code)
            return daemon.exit_code
        second = signals.poll(min(0.1, left))
        if second is not None:
            daemon.events.second_signal(128 + second)
            exit_now(128 + second)
            return 128 + second
    daemon.events.stopped(daemon.exit_code)
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
