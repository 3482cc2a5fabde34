"""`tootback daemon`'s scheduling: APScheduler 3 wiring, nothing else (DESIGN §4, §6).

The decisions are made elsewhere: which toots to post when (`selection`, sorted
by `dayjobs`), and whether a toot is posted at all (`Publisher`, which re-reads
the state under the lock, so a job that runs twice, after a clock set back or a
day planned twice, posts nothing twice). Here they become jobs: a start job
(connect, finish pending toots, catch up, plan), one date job per toot to come,
a planning job at every local midnight, retries with backoff, and a heartbeat.

Threads: the scheduler's own; one "post" worker, so toots go out one at a time,
in order, at least `schedule.min_interval` apart; one "plan" worker, so
midnight is planned even while yesterday's toots are still going out or
retrying. Signals and the process's exit are `bot.daemon.process`'s.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time as time_module
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from bot.clock import Clock
from bot.daemon.dayjobs import (
    DayJobs,
    is_too_late,
    jobs_for_day,
    lookback_days,
    next_midnight,
    retry_delay,
    startup_batch,
)
from bot.daemon.events import EventLog
from bot.errors import (
    EXIT_OK,
    ArchiveError,
    AuthError,
    MastodonError,
    StateLocked,
    TootbackError,
)
from bot.exactly_once import Outcome
from bot.selection import DayPlan, Due
from bot.settings import Settings
from bot.state import Failed, State

HEARTBEAT_SECONDS = 60
CLOCK_JUMP_SECONDS = 5.0
POST, PLAN = "post", "plan"

# Errors after which the same work is tried again later: the server or the lock
# may be back by then, and the tweet stays pending (or untouched) meanwhile.
# (AuthError is a MastodonError too, but is checked first; a 422 never leaves
# `Publisher`, it marks the tweet failed.)
TRANSIENT = (MastodonError, StateLocked)

# How every job is run, chosen so that nothing is posted twice or skipped silently:
# - max_instances=1: a job never runs beside itself.
# - misfire_grace_time=None: APScheduler never drops a late job on its own (it
#   would only say so in its own log). Whether a late toot still goes out is
#   decided by `is_too_late` with `schedule.catch_up`, the rule `status` shows,
#   and a toot too late is logged as missed with the command that posts it.
# - coalesce=True: a job whose run times piled up (the heartbeat after a suspend
#   or a clock jump) runs once, not once per run time missed.
JOB_DEFAULTS: dict[str, Any] = {"max_instances": 1, "misfire_grace_time": None, "coalesce": True}


class StoppableClock(Clock, Protocol):
    """A clock whose `stop()` ends every current and future wait (SystemClock, FakeClock)."""

    def stop(self) -> None: ...


@dataclass(frozen=True)
class Backend:
    """What the daemon works with once connected.

    plan: a local day's toots with due times.
    state: the state file, re-read at each call.
    pending: jobs that finish toots a crash left pending, and outcomes for those
        that cannot be (Runner.pending_jobs).
    post: posts one toot; returns its Outcome, or None when the backend logged
        the toot itself (dry run).
    describe: who posts where, for the `started` line.
    """

    plan: Callable[[date], DayPlan]
    state: Callable[[], State]
    pending: Callable[[], tuple[list[Due], list[Outcome]]]
    post: Callable[[Due], Outcome | None]
    describe: str


@dataclass(frozen=True, slots=True)
class DaemonOptions:
    """zone: `selection.timezone`; catch_up and min_interval: from `schedule`."""

    zone: ZoneInfo
    catch_up: timedelta
    min_interval: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> DaemonOptions:
        """The options `settings` give."""
        return cls(
            settings.selection.zone,
            timedelta(seconds=settings.schedule.catch_up),
            timedelta(seconds=settings.schedule.min_interval),
        )


class Daemon:
    """Schedules and runs the jobs; the decisions come from the pure half and `Backend`.

    connect: builds the Backend (two requests when live); retried on outages.
    scheduler: an APScheduler 3 scheduler with executors "post" and "plan" (see
        make_scheduler); tests may pass one that is never started.
    clock: every wait and every "now".
    events: the log.
    options: zone, catch-up window, spacing.
    wake: called when a fatal error (a refused token) must end `serve`.
    monotonic: elapsed-time source to notice host clock jumps.
    """

    def __init__(
        self,
        connect: Callable[[], Backend],
        scheduler: Any,
        clock: StoppableClock,
        events: EventLog,
        options: DaemonOptions,
        *,
        wake: Callable[[], None] = lambda: None,
        monotonic: Callable[[], float] = time_module.monotonic,
    ) -> None:
        self.connect = connect
        self.scheduler = scheduler
        self.clock = clock
        self.events = events
        self.options = options
        self.wake = wake
        self.monotonic = monotonic
        self.exit_code = EXIT_OK
        self.backend: Backend | None = None
        self.in_flight: str | None = None
        self._busy = threading.Lock()
        self._stopping = threading.Event()
        self._last_post: datetime | None = None
        self._beat: tuple[datetime, float] | None = None
        self._ids = itertools.count(1)
        scheduler.add_listener(
            self._on_scheduler_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR
        )

    # -- life cycle

    def begin(self) -> None:
        """Queue the start (connect, finish pending, catch up, plan) and the heartbeat."""
        self._at(self.clock.now(), self.start_job, (1,), POST)
        self.scheduler.add_job(
            self.heartbeat_job,
            "interval",
            seconds=HEARTBEAT_SECONDS,
            id="heartbeat",
            executor=PLAN,
            replace_existing=True,
            **JOB_DEFAULTS,
        )

    def stop(self) -> None:
        """Stop posting: no new toot starts and every wait ends now."""
        self._stopping.set()
        self.clock.stop()

    @property
    def stopping(self) -> bool:
        """True once `stop()` was called or a fatal error happened."""
        return self._stopping.is_set()

    def idle(self, timeout: float = 0.0) -> bool:
        """True when no toot is being posted (waits up to `timeout` seconds for that)."""
        if not self._busy.acquire(timeout=timeout):
            return False
        self._busy.release()
        return True

    # -- jobs

    def start_job(self, attempt: int) -> None:
        """Connect, finish pending toots, catch up, and plan the days in the catch-up window."""
        with self._busy:
            if self.stopping:
                return
            try:
                backend = self.connect()
                self.backend = backend
                self.events.emit("started", backend.describe)
                batch = self._plan_start(backend)
            except Exception as exc:
                self._trouble("start", exc, partial(self._at_retry, self.start_job, attempt))
                return
            self._run_batch(batch, 1)

    def plan_job(self, day: date, attempt: int = 1) -> None:
        """Plan local `day` (at its midnight) and queue the next midnight's planning."""
        backend = self.backend
        if self.stopping or backend is None:
            return
        try:
            jobs = self._plan(backend, day, backend.state(), self.clock.now())
        except Exception as exc:
            self._trouble(
                f"planning {day}", exc, partial(self._at_retry, self.plan_job, attempt, day)
            )
            return
        if jobs.catch_up:
            self._at(self.clock.now(), self.batch_job, (jobs.catch_up, 1), POST)
        self._plan_midnight_after(day)

    def toot_job(self, item: Due) -> None:
        """Post one toot at its due time, unless it is more than `catch_up` late by now."""
        with self._busy:
            if self.stopping:
                return
            now = self.clock.now()
            if is_too_late(item.due, now, self.options.catch_up):
                self._missed(item, now)
                return
            self._run_batch((item,), 1)

    def batch_job(self, items: tuple[Due, ...], attempt: int) -> None:
        """Post `items` in order (a catch-up or a retry); attempt numbers the retries."""
        with self._busy:
            if not self.stopping:
                self._run_batch(items, attempt)

    def heartbeat_job(self) -> None:
        """Wake the scheduler every minute and report host clock jumps.

        The scheduler waits in elapsed time; after a suspend or a clock set
        forward it would otherwise notice due toots only when that wait ends.
        """
        wall, elapsed = self.clock.now(), self.monotonic()
        if self._beat is not None:
            jump = (wall - self._beat[0]).total_seconds() - (elapsed - self._beat[1])
            if abs(jump) > CLOCK_JUMP_SECONDS:
                self.events.emit(
                    "clock",
                    f"the host clock moved {jump:+.0f} s against elapsed time (clock change or "
                    "suspend); due times are checked against the new time",
                    jump_seconds=round(jump, 3),
                )
        self._beat = (wall, elapsed)

    # -- planning

    def _plan_start(self, backend: Backend) -> tuple[Due, ...]:
        pending, lost = backend.pending()
        for outcome in lost:
            self._report(outcome)
        state, now = backend.state(), self.clock.now()
        exclude = {d.tweet.id for d in pending}
        days = [
            self._plan(backend, day, state, now, exclude)
            for day in lookback_days(now, self.options.zone, self.options.catch_up)
        ]
        self._plan_midnight_after(days[-1].day)
        for item in pending:
            self.events.emit(
                "planned",
                f"tweet {item.tweet.id}: pending since {self._local(item.due)}, finishing it first",
                tweet_id=item.tweet.id,
                due=item.due.isoformat(),
            )
        return startup_batch(pending, days)

    def _plan(
        self, backend: Backend, day: date, state: State, now: datetime, exclude: Iterable[str] = ()
    ) -> DayJobs:
        plan = backend.plan(day)
        jobs = jobs_for_day(plan, state, now, self.options.catch_up, exclude)
        self.events.emit(
            "planned",
            f"{day} ({self.options.zone.key}): {len(jobs.posted)} posted, {len(jobs.scheduled)} "
            f"to come, {len(jobs.catch_up)} to catch up now, {len(jobs.missed)} missed, "
            f"{len(jobs.failed)} failed before",
            day=day.isoformat(),
            posted=len(jobs.posted),
            scheduled=len(jobs.scheduled),
            catch_up=len(jobs.catch_up),
            missed=len(jobs.missed),
            failed=len(jobs.failed),
        )
        for item in jobs.scheduled:
            self._planned(item, "due")
            self._at(item.due, self.toot_job, (item,), POST, job_id=f"toot-{item.tweet.id}")
        for item in jobs.catch_up:
            self._planned(item, "late, catching up: was due")
        for item in jobs.missed:
            self._missed(item, now)
        for skip in plan.skipped:
            self._report(Outcome(skip.tweet_id, "skipped", detail=skip.reason))
        for item in jobs.failed:
            self._report(
                Outcome(item.tweet.id, "failed before", detail=_failed_detail(state, item))
            )
        return jobs

    def _plan_midnight_after(self, day: date) -> None:
        following = day + timedelta(days=1)
        when = next_midnight(day, self.options.zone)
        self._at(when, self.plan_job, (following,), PLAN, job_id=f"plan-{following}")

    # -- posting

    def _run_batch(self, items: Sequence[Due], attempt: int) -> None:
        backend = self.backend
        assert backend is not None, "posting before the start job connected"
        for index, item in enumerate(items):
            if self.stopping or not self._pace():
                return
            self._due(item)
            self.in_flight = item.tweet.id
            try:
                outcome = backend.post(item)
            except Exception as exc:
                rest = tuple(items[index:])
                retry = partial(self._at_retry, self.batch_job, attempt, rest)
                if self._trouble(f"tweet {item.tweet.id}", exc, retry, toot=True):
                    continue
                return
            finally:
                self.in_flight = None
            if outcome is not None:
                if outcome.result in ("posted", "failed"):  # a status was sent
                    self._last_post = self.clock.now()
                self._report(outcome)

    def _pace(self) -> bool:
        """Wait until `min_interval` after the last post; False if stopped meanwhile."""
        if self._last_post is None:
            return True
        delay = (self._last_post + self.options.min_interval - self.clock.now()).total_seconds()
        return delay <= 0 or self.clock.sleep(delay)

    def _trouble(
        self, what: str, exc: Exception, retry: Callable[[], str], *, toot: bool = False
    ) -> bool:
        """Log `exc` and act on it: abandon (stopping), fail one toot, stop, or retry later.

        toot: `exc` came from posting one toot, not from connecting or planning.
        Returns True when a batch may go on with its next toot.
        """
        if self.stopping:
            self.events.emit("stopping", f"{what}: abandoned on the stop request ({exc})")
        elif toot and isinstance(exc, ArchiveError):
            # Only this toot's media are unreadable; it stays pending for the next start.
            self.events.emit("failed", f"{what}: {exc}", error=str(exc))
            return True
        elif isinstance(exc, AuthError):
            self._fatal(what, exc)
        elif isinstance(exc, TootbackError) and not isinstance(exc, TRANSIENT):
            # Bad settings, a missing archive, a state file that is corrupt or
            # another account's: waiting will not fix them.
            self._fatal(what, exc)
        else:
            at = retry()
            self.events.emit(
                "retried", f"{what}: {_describe(exc)}; next attempt at {at}", error=_describe(exc)
            )
        return False

    def _fatal(self, what: str, exc: TootbackError) -> None:
        self.exit_code = exc.exit_code
        self._stopping.set()
        self.events.emit(
            "fatal",
            f"{what}: {exc} -- the daemon stops (exit {exc.exit_code}); a supervisor should not "
            "restart it until this is fixed",
            error=str(exc),
            exit_code=exc.exit_code,
        )
        self.wake()

    # -- scheduling

    def _at(
        self,
        when: datetime,
        func: Callable[..., None],
        args: tuple[Any, ...],
        executor: str,
        *,
        job_id: str | None = None,
    ) -> None:
        self.scheduler.add_job(
            func,
            "date",
            # In UTC: a local time in a repeated hour compares by its fold otherwise.
            run_date=when.astimezone(UTC),
            args=args,
            id=job_id or f"{func.__name__}-{next(self._ids)}",
            executor=executor,
            replace_existing=True,
            **JOB_DEFAULTS,
        )

    def _at_retry(self, func: Callable[..., None], attempt: int, *first: Any) -> str:
        """Queue `func(*first, attempt + 1)` after the backoff for `attempt`; returns when."""
        when = self.clock.now() + retry_delay(attempt)
        executor = PLAN if func == self.plan_job else POST
        self._at(when, func, (*first, attempt + 1), executor)
        return self._local(when)

    def _on_scheduler_event(self, event: JobEvent) -> None:
        # With the job defaults above these should not happen; if they do, they are logged.
        if event.code == EVENT_JOB_ERROR:
            self.events.emit("failed", f"job {event.job_id} crashed: {event.exception!r}")
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            self.events.emit("skipped", f"job {event.job_id} is already running; not started twice")
        else:
            self.events.emit("missed", f"job {event.job_id} was not run in time")

    # -- log lines

    def _local(self, when: datetime) -> str:
        return when.astimezone(self.options.zone).isoformat(timespec="seconds")

    def _planned(self, item: Due, what: str) -> None:
        self.events.emit(
            "planned",
            f"tweet {item.tweet.id}: {what} {self._local(item.due)}",
            tweet_id=item.tweet.id,
            due=item.due.isoformat(),
        )

    def _due(self, item: Due) -> None:
        late = (self.clock.now() - item.due).total_seconds()
        suffix = f", {late:.0f} s late" if late >= 1 else ""
        self.events.emit(
            "due",
            f"tweet {item.tweet.id}: due {self._local(item.due)}{suffix}",
            tweet_id=item.tweet.id,
            due=item.due.isoformat(),
        )

    def _missed(self, item: Due, now: datetime) -> None:
        late = now - item.due
        self.events.emit(
            "missed",
            f"tweet {item.tweet.id}: was due {self._local(item.due)}, {_duration(late)} late, "
            f"more than schedule.catch_up; post it with: tootback repost --tweet {item.tweet.id}",
            tweet_id=item.tweet.id,
            due=item.due.isoformat(),
            late_seconds=int(late.total_seconds()),
        )

    def _report(self, outcome: Outcome) -> None:
        tid = outcome.tweet_id
        if outcome.result == "posted":
            self.events.emit("posted", f"tweet {tid}: {outcome.url}", tweet_id=tid, url=outcome.url)
        elif outcome.result == "failed":
            self.events.emit(
                "failed",
                f"tweet {tid}: {outcome.detail}; after fixing it: "
                f"tootback repost --tweet {tid} --retry-failed",
                tweet_id=tid,
                error=outcome.detail,
            )
        else:
            reason = outcome.result if not outcome.detail else f"{outcome.result}: {outcome.detail}"
            if outcome.result == "already posted" and outcome.url:
                reason = f"already posted as {outcome.url}"
            self.events.emit("skipped", f"tweet {tid}: {reason}", tweet_id=tid, reason=reason)


def _describe(exc: Exception) -> str:
    return str(exc) if isinstance(exc, TootbackError) else f"{type(exc).__name__}: {exc}"


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _failed_detail(state: State, item: Due) -> str:
    record = state.record(item.tweet.id)
    reason = record.error if isinstance(record, Failed) else "refused"
    return f"{reason}; retry with: tootback repost --tweet {item.tweet.id} --retry-failed"


def make_scheduler() -> Any:
    """A BackgroundScheduler in UTC with one "post" worker and one "plan" worker."""
    # Our listener logs what APScheduler would warn about; its own lines would
    # break the one-line-per-event log.
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)
    return BackgroundScheduler(
        executors={POST: ThreadPoolExecutor(1), PLAN: ThreadPoolExecutor(1)},
        job_defaults=JOB_DEFAULTS,
        timezone=UTC,
    )
