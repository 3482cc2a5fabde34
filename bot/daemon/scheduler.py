"""`tootback daemon`'s scheduling: APScheduler 3 wiring, nothing else.

The decisions are made elsewhere: which toots to post when (`selection`, sorted
by `dayjobs`), whether a toot is posted at all (the exactly-once publisher,
which re-reads the state under the lock, so a job that runs twice, after a
clock set back or a day planned twice, posts nothing twice, and spaces the
posts from the state file), what to do about an error (`policy`), and how
each line of the log reads (`events`). Here they become jobs: a start job
(connect, finish pending toots, catch up, plan), one date job per toot to
come, a planning job at every local midnight, retries with backoff, and a
heartbeat.

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
from bot.daemon.clockwatch import ClockWatch
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
from bot.daemon.policy import Action, action_for
from bot.errors import EXIT_OK, EXIT_USAGE, Interrupted, TootbackError
from bot.exactly_once import Outcome
from bot.preview import Outlook
from bot.selection import DayPlan, Due
from bot.settings import Settings
from bot.state import Failed, State

HEARTBEAT_SECONDS = 60
POST, PLAN = "post", "plan"

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
    """What the daemon works with once connected (see `bot.daemon.backends`).

    plan: a local day's toots with due times.
    state: the state file, re-read at each call.
    pending: jobs that finish toots a crash left pending, and outcomes for those
        that cannot be (`bot.pacing.pending_jobs`).
    post: posts one toot, at least `schedule.min_interval` after the last post of
        any process; returns its Outcome, or None when the backend logged the toot
        itself (dry run).
    summary: who posts where, for the `started` line.
    ahead: for a day without toots, the archive's range and the next day with
        toots (`bot.preview.outlook`), logged when such a day is planned.
    """

    plan: Callable[[date], DayPlan]
    state: Callable[[], State]
    pending: Callable[[], tuple[list[Due], list[Outcome]]]
    post: Callable[[Due], Outcome | None]
    summary: str
    ahead: Callable[[date], Outlook] | None = None


@dataclass(frozen=True, slots=True)
class DaemonOptions:
    """zone: `selection.timezone`; catch_up: `schedule.catch_up` (the spacing of the
    toots is the publisher's: `schedule.min_interval`, counted from the state file)."""

    zone: ZoneInfo
    catch_up: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> DaemonOptions:
        """The options `settings` give."""
        return cls(settings.selection.zone, timedelta(seconds=settings.schedule.catch_up))


class Daemon:
    """Schedules and runs the jobs; the decisions come from the pure half and `Backend`.

    connect: builds the Backend (two requests when live); retried on outages.
    scheduler: an APScheduler 3 scheduler with executors "post" and "plan" (see
        make_scheduler); tests may pass one that is never started.
    clock: every wait and every "now".
    events: the log.
    options: zone, catch-up window.
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
        self._watch = ClockWatch()
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
                self.events.started(backend.summary)
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
            jobs = self._plan(backend, day, backend.state(), self.clock.now(), say_next=True)
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
                self.events.missed(item, now)
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
        jump = self._watch.jump(self.clock.now(), self.monotonic())
        if jump is not None:
            self.events.clock_jumped(jump)

    # -- planning

    def _plan_start(self, backend: Backend) -> tuple[Due, ...]:
        pending, lost = backend.pending()
        for outcome in lost:
            self.events.outcome(outcome)
        state, now = backend.state(), self.clock.now()
        exclude = {d.tweet.id for d in pending}
        lookback = lookback_days(now, self.options.zone, self.options.catch_up)
        days = [
            self._plan(backend, day, state, now, exclude, say_next=day == lookback[-1])
            for day in lookback
        ]
        self._plan_midnight_after(days[-1].day)
        for item in pending:
            self.events.finishing(item)
        return startup_batch(pending, days)

    def _plan(
        self,
        backend: Backend,
        day: date,
        state: State,
        now: datetime,
        exclude: Iterable[str] = (),
        *,
        say_next: bool = False,
    ) -> DayJobs:
        """Plan `day`; with say_next (today), a day without toots also logs what comes."""
        plan = backend.plan(day)
        jobs = jobs_for_day(plan, state, now, self.options.catch_up, exclude)
        self.events.planned_day(jobs)
        if say_next and not plan.due and backend.ahead is not None:
            self.events.nothing_on(day, backend.ahead(day))
        for item in jobs.scheduled:
            self.events.scheduled(item)
            self._at(item.due, self.toot_job, (item,), POST, job_id=f"toot-{item.tweet.id}")
        for item in jobs.catch_up:
            self.events.catching_up(item)
        for item in jobs.missed:
            self.events.missed(item, now)
        for skip in plan.skipped:
            self.events.outcome(Outcome(skip.tweet_id, "skipped", detail=skip.reason))
        for item in jobs.failed:
            record = state.record(item.tweet.id)
            self.events.failed_before(
                item.tweet.id, record.error if isinstance(record, Failed) else "refused"
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
            if self.stopping:
                return
            self.events.due(item, self.clock.now())
            self.in_flight = item.tweet.id
            try:
                outcome = backend.post(item)
            except Exception as exc:
                rest = tuple(items[index:])
                retry = partial(self._at_retry, self.batch_job, attempt, rest)
                if self._trouble(f"tweet {item.tweet.id}", exc, retry, posting=True):
                    continue
                return
            finally:
                self.in_flight = None
            if outcome is not None:
                self.events.outcome(outcome)

    def _trouble(
        self, what: str, exc: Exception, retry: Callable[[], datetime], *, posting: bool = False
    ) -> bool:
        """Log `exc` and act on it as `policy` says (abandon it when stopping).

        posting: `exc` came from posting one toot, not from connecting or planning.
        Returns True when a batch may go on with its next toot.
        """
        # Interrupted: a wait was ended by the clock's stop, which only a stop request does.
        if self.stopping or isinstance(exc, Interrupted):
            self.events.abandoned(what, exc)
            return False
        action = action_for(exc, posting=posting)
        if action is Action.NEXT_TOOT:
            self.events.toot_failed(what, exc)
            return True
        if action is Action.STOP:
            self._fatal(what, exc)
        else:
            self.events.retried(what, exc, retry())
        return False

    def _fatal(self, what: str, exc: Exception) -> None:
        self.exit_code = exc.exit_code if isinstance(exc, TootbackError) else EXIT_USAGE
        self._stopping.set()
        self.events.fatal(what, exc, self.exit_code)
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

    def _at_retry(self, func: Callable[..., None], attempt: int, *first: Any) -> datetime:
        """Queue `func(*first, attempt + 1)` after the backoff for `attempt`; returns when."""
        when = self.clock.now() + retry_delay(attempt)
        executor = PLAN if func == self.plan_job else POST
        self._at(when, func, (*first, attempt + 1), executor)
        return when

    def _on_scheduler_event(self, event: JobEvent) -> None:
        # With the job defaults above these should not happen; if they do, they are logged.
        if event.code == EVENT_JOB_ERROR:
            self.events.job_crashed(event.job_id, event.exception)
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            self.events.job_running(event.job_id)
        else:
            self.events.job_late(event.job_id)


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
