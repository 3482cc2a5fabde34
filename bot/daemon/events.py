"""The daemon's log: one line per event, plain text or JSON, and the words of each line.

Every line carries the time, the event name and a sentence; JSON lines add the
event's fields (`tweet_id`, `due`, `url`, `reason`, `error`, `exit_code`, …)
for log shippers. Event names are a contract, listed in the README's "The
log": started, planned, due, would-post, posted, skipped, retried, failed,
missed, waiting, clock, stopping, stopped, fatal. Each has a method here, so
the rest of the daemon never words a line itself; the commands a line
suggests are spelled by `bot.render`, as `tootback status` spells them.

Lines are written whole under a lock and flushed at once, so lines from the
posting and planning threads never interleave and none is lost on a hard exit.
"""

from __future__ import annotations

import json
import threading
from datetime import date, datetime
from typing import Literal, TextIO
from zoneinfo import ZoneInfo

from bot.archive import Summary
from bot.clock import Clock
from bot.daemon.dayjobs import DayJobs
from bot.errors import TootbackError
from bot.exactly_once import Outcome
from bot.model import Toot
from bot.preview import Outlook
from bot.render import duration, lock_waiting, outlook_text, repost_command, retry_command
from bot.selection import Due
from bot.settings import Settings

LogFormat = Literal["text", "json"]
FieldValue = str | int | float | bool | None


class EventLog:
    """Writes events to `stream`.

    stream: where lines go (the daemon passes stderr).
    clock: dates each line.
    fmt: "text" (`<time> <event> <message>`) or "json" (one object per line).
    zone: the time zone times are written in (the daemon's `selection.timezone`).
    """

    def __init__(
        self, stream: TextIO, clock: Clock, fmt: LogFormat = "text", zone: ZoneInfo | None = None
    ) -> None:
        self.stream = stream
        self.clock = clock
        self.fmt = fmt
        self.zone = zone or ZoneInfo("UTC")
        self._lock = threading.Lock()

    def emit(self, event: str, message: str, **fields: FieldValue) -> None:
        """Write one line for `event`.

        event: the event name (see the module doc).
        message: one human sentence; it must never contain a secret.
        fields: machine-readable details, written by the JSON format only
            (None values are left out).
        """
        when = self.local(self.clock.now())
        if self.fmt == "json":
            data: dict[str, FieldValue] = {"time": when, "event": event, "message": message}
            data.update({k: v for k, v in fields.items() if v is not None})
            line = json.dumps(data, ensure_ascii=False)
        else:
            line = f"{when} {event:<10} {message}"
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    def local(self, when: datetime) -> str:
        """`when` in the log's zone, to the second (ISO 8601)."""
        return when.astimezone(self.zone).isoformat(timespec="seconds")

    # -- the daemon's life

    def started(self, summary: str) -> None:
        """Connected: `summary` says who posts where, from which archive, on which schedule."""
        self.emit("started", summary)

    def stopping(self, signal_name: str) -> None:
        """A stop signal arrived."""
        self.emit(
            "stopping",
            f"{signal_name}: stopping; the toot in flight is finished or abandoned "
            "(a second signal exits at once)",
        )

    def stopped(self, exit_code: int) -> None:
        """Shut down cleanly with `exit_code`."""
        self.emit("stopped", f"exit {exit_code}", exit_code=exit_code)

    def abandoned_in_flight(self, tweet_id: str | None, exit_code: int) -> None:
        """The grace period ran out while a toot was in flight."""
        self.emit(
            "stopped",
            f"tweet {tweet_id} abandoned in flight; it stays pending and the next start "
            "finishes it with the same Idempotency-Key",
            exit_code=exit_code,
        )

    def second_signal(self, exit_code: int) -> None:
        """A second signal during shutdown: the process exits at once."""
        self.emit("stopped", "second signal: exiting now", exit_code=exit_code)

    def clock_jumped(self, seconds: float) -> None:
        """The host clock moved `seconds` against elapsed time."""
        self.emit(
            "clock",
            f"the host clock moved {seconds:+.0f} s against elapsed time (clock change or "
            "suspend); due times are checked against the new time",
            jump_seconds=round(seconds, 3),
        )

    def waiting(self, holder: str) -> None:
        """Another process holds the state lock; `holder` names it."""
        self.emit("waiting", lock_waiting(holder))

    # -- planning

    def planned_day(self, jobs: DayJobs) -> None:
        """A day was planned: how many of its toots are in each category."""
        self.emit(
            "planned",
            f"{jobs.day} ({self.zone.key}): {len(jobs.posted)} posted, {len(jobs.scheduled)} "
            f"to come, {len(jobs.catch_up)} to catch up now, {len(jobs.missed)} missed, "
            f"{len(jobs.failed)} failed before",
            day=jobs.day.isoformat(),
            posted=len(jobs.posted),
            scheduled=len(jobs.scheduled),
            catch_up=len(jobs.catch_up),
            missed=len(jobs.missed),
            failed=len(jobs.failed),
        )

    def nothing_on(self, day: date, ahead: Outlook) -> None:
        """A day without toots: the archive's range and the next day with toots."""
        self.emit(
            "planned",
            f"{day}: nothing to post. {outlook_text(ahead)}",
            day=day.isoformat(),
            next_day=None if ahead.next_day is None else ahead.next_day.isoformat(),
            next_toots=ahead.next_toots if ahead.next_day else None,
        )

    def scheduled(self, item: Due) -> None:
        """A toot to come, at its due time."""
        self._planned(item, f"due {self.local(item.due)}")

    def catching_up(self, item: Due) -> None:
        """A toot that fell due while the daemon was down, posted now."""
        self._planned(item, f"late, catching up: was due {self.local(item.due)}")

    def finishing(self, item: Due) -> None:
        """A toot a crash left pending, finished first."""
        self._planned(item, f"pending since {self.local(item.due)}, finishing it first")

    def _planned(self, item: Due, what: str) -> None:
        tid = item.tweet.id
        self.emit("planned", f"tweet {tid}: {what}", tweet_id=tid, due=item.due.isoformat())

    # -- posting

    def due(self, item: Due, now: datetime) -> None:
        """A toot is being posted now (`now` tells how late)."""
        late = (now - item.due).total_seconds()
        suffix = f", {late:.0f} s late" if late >= 1 else ""
        tid = item.tweet.id
        self.emit(
            "due",
            f"tweet {tid}: due {self.local(item.due)}{suffix}",
            tweet_id=tid,
            due=item.due.isoformat(),
        )

    def missed(self, item: Due, now: datetime) -> None:
        """A toot more than `schedule.catch_up` late: left for a manual repost."""
        late = now - item.due
        tid = item.tweet.id
        self.emit(
            "missed",
            f"tweet {tid}: was due {self.local(item.due)}, {duration(late)} late, "
            f"more than schedule.catch_up; post it with: {repost_command(tid)}",
            tweet_id=tid,
            due=item.due.isoformat(),
            late_seconds=int(late.total_seconds()),
        )

    def would_post(self, toot: Toot) -> None:
        """Dry run: the exact text that would be posted, or the status that would be boosted."""
        tid = toot.tweet_id
        if toot.boost_of_tweet is not None:
            self.emit(
                "would-post",
                f"tweet {tid}: a boost of the toot of tweet {toot.boost_of_tweet}",
                tweet_id=tid,
                parts=0,
                boost_of_tweet=toot.boost_of_tweet,
            )
            return
        self.emit(
            "would-post",
            f"tweet {tid} ({len(toot.parts)} part(s)): {toot.parts[0].text!r}",
            tweet_id=tid,
            parts=len(toot.parts),
            text="\n\n".join(p.text for p in toot.parts),
        )

    def outcome(self, outcome: Outcome) -> None:
        """What happened to one tweet: posted, failed (422), or skipped and why."""
        tid = outcome.tweet_id
        if outcome.result == "posted":
            self.emit("posted", f"tweet {tid}: {outcome.url}", tweet_id=tid, url=outcome.url)
        elif outcome.result == "failed":
            self.emit(
                "failed",
                f"tweet {tid}: {outcome.detail}; after fixing it: {retry_command(tid)}",
                tweet_id=tid,
                error=outcome.detail,
            )
        else:
            reason = outcome.result if not outcome.detail else f"{outcome.result}: {outcome.detail}"
            if outcome.result == "already posted" and outcome.url:
                reason = f"already posted as {outcome.url}"
            self.emit("skipped", f"tweet {tid}: {reason}", tweet_id=tid, reason=reason)

    def failed_before(self, tweet_id: str, error: str) -> None:
        """A toot of the day the server refused before: left for `--retry-failed`."""
        detail = f"{error}; retry with: {retry_command(tweet_id)}"
        self.outcome(Outcome(tweet_id, "failed before", detail=detail))

    # -- trouble (see bot.daemon.policy for which error leads to which)

    def retried(self, what: str, exc: Exception, at: datetime) -> None:
        """`what` failed and is tried again at `at`."""
        text = _error_text(exc)
        self.emit("retried", f"{what}: {text}; next attempt at {self.local(at)}", error=text)

    def server_wait(self, what: str, why: str, until: datetime) -> None:
        """The client waits for the server (an outage, a rate limit) until `until`: said
        at every failed attempt, from the first, not only when the client gives up."""
        self.emit("retried", f"{what}: {why}; next attempt at {self.local(until)}", error=why)

    def toot_failed(self, what: str, exc: Exception) -> None:
        """Posting one toot failed on our side; the batch goes on with the next."""
        self.emit("failed", f"{what}: {exc}", error=str(exc))

    def abandoned(self, what: str, exc: Exception) -> None:
        """`what` was cut short by the stop request."""
        self.emit("stopping", f"{what}: abandoned on the stop request ({exc})")

    def fatal(self, what: str, exc: Exception, exit_code: int) -> None:
        """The daemon stops with `exit_code`."""
        self.emit(
            "fatal",
            f"{what}: {exc} -- the daemon stops (exit {exit_code}); a supervisor should not "
            "restart it until this is fixed",
            error=str(exc),
            exit_code=exit_code,
        )

    def job_crashed(self, job_id: str, exc: BaseException | None) -> None:
        """APScheduler caught an exception a job let through (a bug)."""
        self.emit("failed", f"job {job_id} crashed: {exc!r}")

    def job_running(self, job_id: str) -> None:
        """APScheduler did not start a job beside its running self."""
        self.emit("skipped", f"job {job_id} is already running; not started twice")

    def job_late(self, job_id: str) -> None:
        """APScheduler dropped a job it ran too late."""
        self.emit("missed", f"job {job_id} was not run in time")


def run_summary(settings: Settings, archive: Summary, posting_as: str | None) -> str:
    """The `started` line: who posts (None: a dry run), from which archive, on which schedule."""
    s = settings.schedule
    mode = f"daily from {s.daily_at}" if s.mode == "daily" else "anniversary times"
    who = (
        f"posting as {posting_as}"
        if posting_as
        else "dry run: nothing is posted and the state file is not written"
    )
    return (
        f"{who}; archive {settings.archive.path or archive.root} ({archive.count} tweets); "
        f"state {settings.state.path}; {settings.selection.timezone}, {mode}, "
        f"{s.min_interval} s apart, catch-up {s.catch_up} s"
    )


def _error_text(exc: Exception) -> str:
    """Our errors say what happened in their message; anything else also names its type."""
    return str(exc) if isinstance(exc, TootbackError) else f"{type(exc).__name__}: {exc}"
