"""`tootback daemon`: posts each day's toots at their due times, for months.

    process.py     the process: signals, shutdown, exit code (`run_daemon`)
    backends.py    what it posts with: the account, or the log in a dry run
    scheduler.py   APScheduler wiring: start, toot, planning, retry and heartbeat jobs
    events.py      the event log: one line per event, and the words of each line
    policy.py      what the daemon does about an error, as a table
    clockwatch.py  noticing host clock jumps
    dayjobs.py     the pure decisions for a day: scheduled, catch up, missed, backoff

`run_daemon` is imported on first use: the pure modules need no APScheduler.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.daemon.process import run_daemon

__all__ = ["run_daemon"]


def __getattr__(name: str) -> Any:
    if name == "run_daemon":
        from bot.daemon.process import run_daemon

        return run_daemon
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
