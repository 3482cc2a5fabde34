"""Running `tootback` as a separate process, as a user (or a supervisor) would.

`clean_environ` gives a run the environment of a fresh shell. `ForkedRun` starts
`tootback ARGS` as a real process that can be killed at any point, without the
half second a new interpreter spends importing tootback and its libraries: it is
forked from a server process (multiprocessing's "forkserver") that imported them
once. Everything else is the process's own, as with `python -m bot ARGS`: its
environment, working directory, stdin, stdout and stderr, its state-file lock
and its exit code (-9 after SIGKILL).

`wait_for` and `kill_then_settle` are what the kill tests do around such a run:
poll the fake server for a kill point, then SIGKILL the run and let the server
finish what it holds.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.support.fake_mastodon import FakeMastodon

DEADLINE = 20.0  # no single wait of the kill tests may take longer

# What `tootback repost` imports on its way, so the forked runs find them loaded.
PRELOAD = [
    "bot.cli",
    "bot.settings",
    "bot.handles",
    "bot.wiring",
    "bot.archive.loader",
    "bot.client",
    "bot.compose",
    "bot.exactly_once",
    "bot.pacing",
    "bot.rebuild",
    "bot.render",
    "bot.state",
    "grapheme",
]

_FORKSERVER = multiprocessing.get_context("forkserver")
_FORKSERVER.set_forkserver_preload(PRELOAD)


def clean_environ(**extra: str) -> dict[str, str]:
    """The environment of a fresh shell: the caller's, without its TOOTBACK_* and MASTODON_*
    settings, plus `extra`."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("TOOTBACK_", "MASTODON_"))}
    return {**keep, **extra}


class ForkedRun:
    """`tootback ARGS` as its own process, forked from one that has tootback imported.

    Offers what the tests use of `subprocess.Popen`: `pid`, `returncode`, `poll`,
    `wait`, `send_signal`, `kill` and `communicate` (stdout and stderr as bytes).
    """

    def __init__(self, args: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="tootback-run-"))
        self._out, self._err = self._folder / "stdout", self._folder / "stderr"
        self._process = _FORKSERVER.Process(
            target=_run,
            args=(list(args), dict(env), str(cwd), str(self._out), str(self._err)),
        )
        self._process.start()

    @property
    def pid(self) -> int:
        pid = self._process.pid
        assert pid is not None
        return pid

    @property
    def returncode(self) -> int | None:
        """The exit code once it exited (negative: the signal that ended it), else None."""
        return self._process.exitcode

    def poll(self) -> int | None:
        """The exit code (negative: the signal that ended it), None while it runs."""
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the exit; raise subprocess.TimeoutExpired after `timeout` seconds."""
        self._process.join(timeout)
        code = self._process.exitcode
        if code is None:
            raise subprocess.TimeoutExpired(["tootback"], timeout or 0.0)
        return code

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        """SIGKILL, as `kill -9`."""
        self.send_signal(signal.SIGKILL)

    def communicate(self, timeout: float | None = None) -> tuple[bytes, bytes]:
        """Wait for the exit, then return everything it wrote to stdout and stderr."""
        self.wait(timeout)
        try:
            # A run killed before it opened them wrote nothing.
            return tuple(f.read_bytes() if f.exists() else b"" for f in (self._out, self._err))  # type: ignore[return-value]
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)


def _run(args: list[str], env: dict[str, str], cwd: str, out: str, err: str) -> None:
    """In the forked process: become `tootback ARGS` in `cwd` with `env`."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    for fd, path in ((1, out), (2, err)):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(handle, fd)
        os.close(handle)
    from bot.cli import main

    sys.argv = ["tootback", *args]
    main()  # exits with the command's code; multiprocessing passes it on as `exitcode`


Process = ForkedRun | subprocess.Popen[bytes]


def wait_for(condition: Callable[[], bool], proc: Process | None = None) -> bool:
    """Poll `condition` every millisecond or so, at most DEADLINE; False if `proc` ended first."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if condition():
            return True
        if proc is not None and proc.poll() is not None:
            return condition()
        time.sleep(0.001)
    raise AssertionError("timed out waiting for the server")


def kill_then_settle(proc: Process, server: FakeMastodon) -> None:
    """SIGKILL `proc`, then let the server finish what it holds, before anything else runs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=DEADLINE)
    server.release_held()
    wait_for(lambda: not server.in_flight())
