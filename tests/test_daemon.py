"""The daemon's wiring (bot.daemon, bot.daemon.process) under a controlled clock.

`Scheduler` below stands in for APScheduler: it keeps the jobs the daemon adds
(same keyword arguments) and `run_until` runs them in time order, moving a
FakeClock to each job's time, so whole days pass without waiting. `Poster`
stands in for Publisher + Mastodon where only "posted once, when" matters; the
real Publisher runs against the loopback fake Mastodon further down.
"""

from __future__ import annotations

import io
import json
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from bot.daemon.backends import dry_backend, live_backend
from bot.daemon.events import EventLog
from bot.daemon.process import serve
from bot.daemon.scheduler import (
    JOB_DEFAULTS,
    PLAN,
    POST,
    Backend,
    Daemon,
    DaemonOptions,
    make_scheduler,
)
from bot.errors import AuthError, Interrupted, StateCorrupt, Unavailable
from bot.exactly_once import Outcome
from bot.model import Tweet
from bot.selection import DayPlan, Due, ScheduleOptions, SelectionOptions, plan_day
from bot.settings import Settings, load_settings
from bot.state import Failed, Posted, State, load_state
from tests.support.archives import write_old_markdown
from tests.support.fake_mastodon import FakeMastodon
from tests.support.profiles import GOTOSOCIAL, PROFILES
from tests.test_index import age

UTC_ZONE = ZoneInfo("UTC")
DEFAULT_SCHEDULE = ScheduleOptions()
DAY = date(2026, 4, 5)


# --- stand-ins -----------------------------------------------------------------------------


@dataclass
class Job:
    id: str
    func: Callable[..., None]
    trigger: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    @property
    def when(self) -> datetime:
        return self.kwargs["run_date"]  # type: ignore[no-any-return]


@dataclass
class Scheduler:
    """Keeps jobs by id like APScheduler (replace_existing) and runs them in time order."""

    jobs: dict[str, Job] = field(default_factory=dict)
    listeners: list[Any] = field(default_factory=list)
    started: bool = False
    shut_down: bool = False

    def add_job(self, func: Callable[..., None], trigger: str, **kwargs: Any) -> None:
        assert kwargs["replace_existing"] is True
        self.jobs[kwargs["id"]] = Job(kwargs["id"], func, trigger, kwargs.get("args", ()), kwargs)

    def add_listener(self, callback: Any, mask: int) -> None:
        self.listeners.append((callback, mask))

    def start(self) -> None:
        self.started = True

    def shutdown(self, wait: bool = True) -> None:
        self.shut_down = True

    def dated(self) -> list[Job]:
        return sorted(
            (j for j in self.jobs.values() if j.trigger == "date"), key=lambda j: (j.when, j.id)
        )

    def run_until(self, clock: FakeClock, until: datetime) -> None:
        """Run every date job due up to `until`, each at its time (or now, if later)."""
        while (jobs := self.dated()) and jobs[0].when <= until:
            job = jobs[0]
            del self.jobs[job.id]
            if job.when > clock.now():
                clock.set(job.when)
            job.func(*job.args)
        if until > clock.now():
            clock.set(until)


@dataclass
class Poster:
    """Posts once per tweet like the live backend's publisher (re-reads what is posted, waits
    until `min_interval` after the last post it made); can fail on demand."""

    clock: FakeClock
    min_interval: timedelta
    state: State = field(default_factory=State)
    posts: list[tuple[str, datetime]] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)

    def post(self, item: Due) -> Outcome:
        tid = item.tweet.id
        if self.failures:
            raise self.failures.pop(0)
        record = self.state.record(tid)
        if isinstance(record, Posted):
            return Outcome(tid, "already posted", record.url)
        if self.state.last_post_at is not None:
            wait = self.state.last_post_at + self.min_interval - self.clock.now()
            if wait > timedelta(0) and not self.clock.sleep(wait.total_seconds()):
                raise Interrupted("stopped while waiting for the next post")
        url = f"https://ex.social/@me/{len(self.posts) + 1}"
        now = self.clock.now()
        self.posts.append((tid, now))
        posted = Posted(("1",), url, now)
        self.state = State(tweets={**self.state.tweets, tid: posted}, last_post_at=now)
        return Outcome(tid, "posted", url)


def tweet(tid: str, when: datetime) -> Tweet:
    return Tweet(tid, when, f"tweet {tid}", f"https://twitter.com/me/status/{tid}")


TWEETS = [
    tweet("1", datetime(2022, 4, 5, 8, 0, tzinfo=UTC)),
    tweet("2", datetime(2021, 4, 5, 12, 0, tzinfo=UTC)),
    tweet("3", datetime(2020, 4, 5, 18, 30, tzinfo=UTC)),
    tweet("4", datetime(2019, 4, 6, 9, 0, tzinfo=UTC)),  # the next day
]


@dataclass
class World:
    clock: FakeClock
    instance: Poster
    scheduler: Scheduler
    log: io.StringIO
    daemon: Daemon
    woken: list[bool]
    connects: list[int]

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in self.log.getvalue().splitlines()]
        return [e for e in lines if name is None or e["event"] == name]

    def run_until(self, until: datetime) -> None:
        self.scheduler.run_until(self.clock, until)


def make_world(
    now: datetime,
    *,
    tweets: list[Tweet] = TWEETS,
    schedule: ScheduleOptions = DEFAULT_SCHEDULE,
    catch_up: timedelta = timedelta(hours=6),
    state: State | None = None,
    connect_failures: list[Exception] | None = None,
) -> World:
    clock = FakeClock(now)
    instance = Poster(clock, schedule.min_interval, state or State())
    scheduler = Scheduler()
    log = io.StringIO()
    woken: list[bool] = []
    connects: list[int] = []
    failures = list(connect_failures or [])
    selection = SelectionOptions(zone=UTC_ZONE, owner="me")

    def plan(day: date) -> DayPlan:
        return plan_day(tweets, day, selection, schedule)

    def pending() -> tuple[list[Due], list[Outcome]]:
        return [], []

    def connect() -> Backend:
        connects.append(1)
        if failures:
            raise failures.pop(0)
        return Backend(plan, lambda: instance.state, pending, instance.post, "test backend")

    options = DaemonOptions(UTC_ZONE, catch_up)
    events = EventLog(log, clock, "json", UTC_ZONE)
    daemon = Daemon(connect, scheduler, clock, events, options, wake=lambda: woken.append(True))
    return World(clock, instance, scheduler, log, daemon, woken, connects)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), UTC)


# --- a day under a controlled clock -------------------------------------------------------


def test_start_plans_today_and_the_next_midnight_and_queues_a_heartbeat() -> None:
    world = make_world(at(0))
    world.daemon.begin()
    jobs = world.scheduler.jobs
    assert jobs["heartbeat"].trigger == "interval"
    assert jobs["heartbeat"].kwargs["executor"] == PLAN
    world.run_until(at(0))
    toots = {j.id: j for j in world.scheduler.dated() if j.id.startswith("toot-")}
    assert {k: v.when for k, v in toots.items()} == {
        "toot-1": at(8),
        "toot-2": at(12),
        "toot-3": at(18, 30),
    }
    assert all(j.kwargs["executor"] == POST for j in toots.values())
    plan_job = world.scheduler.jobs["plan-2026-04-06"]
    assert (plan_job.when, plan_job.kwargs["executor"]) == (at(0, day=date(2026, 4, 6)), PLAN)
    assert [e["event"] for e in world.events()][:2] == ["started", "planned"]


def test_every_job_is_added_with_the_documented_apscheduler_options() -> None:
    world = make_world(at(0))
    world.daemon.begin()
    world.run_until(at(0))
    assert JOB_DEFAULTS == {"max_instances": 1, "misfire_grace_time": None, "coalesce": True}
    for job in world.scheduler.jobs.values():
        assert {k: job.kwargs[k] for k in JOB_DEFAULTS} == JOB_DEFAULTS


def test_a_whole_day_posts_each_toot_once_at_its_time_then_plans_the_next_day() -> None:
    world = make_world(at(0))
    world.daemon.begin()
    world.run_until(at(12, day=date(2026, 4, 6)))
    assert world.instance.posts == [
        ("1", at(8)),
        ("2", at(12)),
        ("3", at(18, 30)),
        ("4", at(9, day=date(2026, 4, 6))),
    ]
    posted = [e["tweet_id"] for e in world.events("posted")]
    assert posted == ["1", "2", "3", "4"]
    assert "plan-2026-04-07" in world.scheduler.jobs
    assert world.connects == [1]


def test_restart_mid_day_posts_only_what_is_due_and_not_posted() -> None:
    first = make_world(at(0))
    first.daemon.begin()
    first.run_until(at(9))  # toot 1 went out at 08:00; then the daemon died
    again = make_world(at(13), state=first.instance.state)
    again.daemon.begin()
    again.run_until(at(23, 59))
    assert [tid for tid, _ in again.instance.posts] == ["2", "3"]
    assert again.instance.posts[0] == ("2", at(13))  # an hour late: caught up at once
    assert [e["tweet_id"] for e in again.events("due")] == ["2", "3"]


def test_a_restart_after_the_catch_up_window_reports_the_toot_missed_with_the_command() -> None:
    world = make_world(at(14, 1))  # toot 1 (08:00) is 6 h 1 min late
    world.daemon.begin()
    world.run_until(at(23, 59))
    assert [tid for tid, _ in world.instance.posts] == ["2", "3"]
    (missed,) = world.events("missed")
    assert missed["tweet_id"] == "1"
    assert "tootback repost --tweet 1" in missed["message"]


def test_filtered_and_failed_before_toots_are_logged_as_skipped_with_the_reason() -> None:
    when = datetime(2020, 4, 5, 10, tzinfo=UTC)
    retweet = Tweet("rt", when, "RT @bob: hi", "https://twitter.com/me/status/rt", is_retweet=True)
    refused = State(tweets={"2": Failed("422 Validation failed", 1, at(0))})
    world = make_world(at(0), tweets=[*TWEETS, retweet], state=refused)
    world.daemon.begin()
    world.run_until(at(23, 59))
    assert [tid for tid, _ in world.instance.posts] == ["1", "3"]
    reasons = {e["tweet_id"]: e["reason"] for e in world.events("skipped")}
    assert reasons["rt"] == "skipped: retweet"
    assert reasons["2"].startswith("failed before: 422 Validation failed; retry with:")
    assert "tootback repost --tweet 2 --retry-failed" in reasons["2"]


def test_a_toot_job_run_too_late_is_missed_not_posted() -> None:
    # The host slept through the whole catch-up window: the job fires hours late.
    world = make_world(at(0), catch_up=timedelta(hours=1))
    world.daemon.begin()
    world.run_until(at(0))
    world.clock.set(at(9, 1))  # toot 1 was due at 08:00
    job = world.scheduler.jobs.pop("toot-1")
    job.func(*job.args)
    assert world.instance.posts == []
    assert [e["tweet_id"] for e in world.events("missed")] == ["1"]


def test_a_job_run_again_after_the_clock_was_set_back_posts_nothing_twice() -> None:
    world = make_world(at(0))
    world.daemon.begin()
    world.run_until(at(0))
    job = world.scheduler.jobs["toot-1"]
    world.run_until(at(8, 30))
    world.clock.set(at(7, 59))  # the host clock jumps back; the day is planned again
    job.func(*job.args)
    world.daemon.plan_job(DAY)
    world.run_until(at(23, 59))
    assert [tid for tid, _ in world.instance.posts] == ["1", "2", "3"]
    assert any("already posted" in e["message"] for e in world.events("skipped"))


def test_midnight_plans_the_new_day_while_yesterdays_toots_still_go_out() -> None:
    # Daily mode at 23:58, one every 2 minutes: the second toot is due after midnight.
    tweets = [tweet(str(n), datetime(2020 + n, 4, 5, 10, tzinfo=UTC)) for n in range(2)]
    tweets.append(tweet("next", datetime(2019, 4, 6, 10, tzinfo=UTC)))
    schedule = ScheduleOptions("daily", time(23, 58), timedelta(minutes=2))
    world = make_world(at(23, 0), tweets=tweets, schedule=schedule)
    world.daemon.begin()
    world.run_until(at(23, 59, day=date(2026, 4, 6)))
    tomorrow = date(2026, 4, 6)
    assert world.instance.posts == [
        ("0", at(23, 58)),
        ("1", at(0, 0, day=tomorrow)),
        ("next", at(23, 58, day=tomorrow)),
    ]


def test_catch_up_toots_go_out_paced_by_min_interval() -> None:
    world = make_world(at(18, 45), catch_up=timedelta(hours=12))  # 1, 2, 3 fell due while down
    world.daemon.begin()
    world.run_until(at(18, 45))
    assert [(t, p - at(18, 45)) for t, p in world.instance.posts] == [
        ("1", timedelta(0)),
        ("2", timedelta(seconds=60)),
        ("3", timedelta(seconds=120)),
    ]
    assert world.clock.sleeps == [60.0, 60.0]


# --- outages, a refused token, stopping ---------------------------------------------------


def test_an_outage_is_retried_with_backoff_and_the_toot_goes_out_once() -> None:
    world = make_world(at(7, 0))
    world.daemon.begin()
    world.run_until(at(7, 0))
    world.instance.failures = [Unavailable("503 down"), Unavailable("503 still down")]
    world.run_until(at(8, 0))  # first failure: retry in 1 min
    world.run_until(at(8, 1))  # second failure: retry in 2 min
    assert world.instance.posts == []
    world.run_until(at(8, 3))
    assert world.instance.posts == [("1", at(8, 3))]
    retried = world.events("retried")
    assert [r["message"].split("next attempt at ")[1] for r in retried] == [
        "2026-04-05T08:01:00+00:00",
        "2026-04-05T08:03:00+00:00",
    ]
    assert world.woken == []


def test_an_outage_at_start_retries_the_start() -> None:
    world = make_world(at(7, 0), connect_failures=[Unavailable("network down")])
    world.daemon.begin()
    world.run_until(at(7, 0))
    assert world.connects == [1]
    assert len(world.events("retried")) == 1
    world.run_until(at(8, 0))
    assert world.connects == [1, 1]
    assert world.instance.posts == [("1", at(8))]


def test_a_refused_token_stops_the_daemon_with_exit_2_loudly() -> None:
    world = make_world(at(7, 0))
    world.daemon.begin()
    world.run_until(at(7, 0))
    world.instance.failures = [AuthError("401 The access token is invalid", 401)]
    world.run_until(at(23, 59))
    assert world.daemon.exit_code == 2
    assert world.woken == [True]
    assert world.instance.posts == []
    (fatal,) = world.events("fatal")
    assert "401" in fatal["message"] and fatal["exit_code"] == 2


def test_a_corrupt_state_file_at_start_is_fatal() -> None:
    world = make_world(at(7, 0), connect_failures=[StateCorrupt("state.json", "is not JSON")])
    world.daemon.begin()
    world.run_until(at(23, 59))
    assert (world.daemon.exit_code, world.woken, world.connects) == (2, [True], [1])


def test_stop_during_pacing_abandons_the_rest_quietly() -> None:
    world = make_world(at(18, 45), catch_up=timedelta(hours=12))
    world.daemon.begin()
    world.clock.stop()  # SIGTERM arrived: the first post is done, the wait is cut short
    world.run_until(at(18, 45))
    assert [tid for tid, _ in world.instance.posts] == ["1"]
    assert world.events("retried") == world.events("fatal") == []


def test_the_heartbeat_reports_a_host_clock_jump_once() -> None:
    world = make_world(at(7, 0))
    elapsed = [0.0]
    world.daemon.monotonic = lambda: elapsed[0]
    world.daemon.heartbeat_job()
    world.clock.advance(60)
    elapsed[0] += 60
    world.daemon.heartbeat_job()  # in step: nothing to say
    world.clock.advance(3600 + 60)  # set forward an hour (or a suspend) during a minute
    elapsed[0] += 60
    world.daemon.heartbeat_job()
    (jump,) = world.events("clock")
    assert jump["jump_seconds"] == 3600


# --- the process loop, with fake signals --------------------------------------------------


@dataclass
class Signals:
    first: int | None  # None: woken by a fatal error
    second: list[int | None] = field(default_factory=list)

    def wait(self) -> int | None:
        return self.first

    def poll(self, timeout: float) -> int | None:
        return self.second.pop(0) if self.second else None


def test_serve_stops_cleanly_on_sigterm_with_exit_0() -> None:
    world = make_world(at(7, 0))
    exits: list[int] = []
    code = serve(world.daemon, Signals(signal.SIGTERM), exit_now=exits.append)
    assert (code, exits) == (0, [])
    assert world.scheduler.started and world.scheduler.shut_down
    assert world.daemon.stopping and world.clock.stopped
    assert [e["event"] for e in world.events()] == ["stopping", "stopped"]


def test_serve_returns_the_fatal_exit_code_when_woken() -> None:
    world = make_world(at(7, 0))
    world.daemon.exit_code = 2
    assert serve(world.daemon, Signals(None), exit_now=lambda code: None) == 2
    assert "stopping" not in [e["event"] for e in world.events()]


def test_serve_abandons_a_toot_stuck_in_flight_after_the_grace_period() -> None:
    world = make_world(at(7, 0))
    exits: list[int] = []
    with busy(world.daemon):
        serve(world.daemon, Signals(signal.SIGTERM), grace=0, exit_now=exits.append)
    assert exits == [0]
    assert "abandoned in flight" in world.events("stopped")[0]["message"]


def test_a_second_signal_exits_at_once() -> None:
    world = make_world(at(7, 0))
    exits: list[int] = []
    with busy(world.daemon):
        serve(
            world.daemon, Signals(signal.SIGTERM, [signal.SIGINT]), grace=60, exit_now=exits.append
        )
    assert exits == [128 + signal.SIGINT]


@contextmanager
def busy(daemon: Daemon) -> Iterator[None]:
    """Holds the daemon's posting lock, as a toot in flight does."""
    with daemon._busy:
        yield


# --- the real scheduler accepts our jobs --------------------------------------------------


def test_the_real_apscheduler_takes_the_jobs_as_configured() -> None:
    world = make_world(at(0))
    scheduler = make_scheduler()
    daemon = Daemon(
        lambda: world.daemon.connect(),
        scheduler,
        world.clock,
        world.daemon.events,
        world.daemon.options,
    )
    daemon.begin()
    jobs = {job.id.split("-")[0]: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"start_job", "heartbeat"}
    start = jobs["start_job"]
    assert (start.executor, start.max_instances, start.misfire_grace_time, start.coalesce) == (
        POST,
        1,
        None,
        True,
    )
    assert start.trigger.run_date == at(0)
    assert jobs["heartbeat"].executor == PLAN


# --- backends against the loopback Mastodon -----------------------------------------------


ARCHIVE = [
    ("1511000000000000001", datetime(2022, 4, 5, 8, 0, tzinfo=UTC), "Breakfast thoughts"),
    ("1511000000000000002", datetime(2021, 4, 5, 9, 0, tzinfo=UTC), "A mid-morning note"),
    ("1511000000000000003", datetime(2020, 4, 5, 20, 0, tzinfo=UTC), "Evening musings"),
]


def settings_for(tmp_path: Path, server: FakeMastodon | None) -> Settings:
    overrides: dict[str, dict[str, Any]] = {
        "archive": {"path": write_old_markdown(tmp_path / "archive", ARCHIVE)},
        "state": {"path": tmp_path / "state" / "state.json"},
        "mentions": {"handles_file": tmp_path / "handles.toml"},
    }
    (tmp_path / "handles.toml").write_text("", encoding="utf-8")
    config = tmp_path / "empty.toml"
    config.write_text("", encoding="utf-8")
    settings = load_settings(config, overrides, env_file=None)
    if server is None:
        return settings
    return settings.model_copy(
        update={"api_base_url": server.url, "access_token": _secret(server.token)}
    )


def archive_of(settings: Settings) -> Path:
    assert settings.archive.path is not None
    return settings.archive.path


def _secret(value: str) -> Any:
    from pydantic import SecretStr

    return SecretStr(value)


@dataclass
class Live:
    daemon: Daemon
    scheduler: Scheduler
    clock: FakeClock

    def run_until(self, until: datetime) -> None:
        self.scheduler.run_until(self.clock, until)


def live_world(tmp_path: Path, server: FakeMastodon, now: datetime) -> Live:
    clock = FakeClock(now)
    settings = settings_for(tmp_path, server)
    events = EventLog(io.StringIO(), clock, "json", UTC_ZONE)
    scheduler = Scheduler()

    def connect() -> Backend:
        return live_backend(settings, archive_of(settings), clock, events)

    daemon = Daemon(connect, scheduler, clock, events, DaemonOptions.from_settings(settings))
    return Live(daemon, scheduler, clock)


def log_of(daemon: Daemon) -> list[dict[str, Any]]:
    stream = daemon.events.stream
    assert isinstance(stream, io.StringIO)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_live_start_catches_up_through_the_real_publisher_and_a_restart_reposts_nothing(
    tmp_path: Path, server: FakeMastodon
) -> None:
    live = live_world(tmp_path, server, at(10))
    live.daemon.begin()
    live.run_until(at(10))
    assert [s.text.splitlines()[0] for s in server.statuses()] == [
        "Breakfast thoughts",
        "A mid-morning note",
    ]
    state = load_state(tmp_path / "state" / "state.json")
    assert state.counts().posted == 2 and state.counts().pending == 0
    again = live_world(tmp_path, server, at(10, 30))
    again.daemon.begin()
    again.run_until(at(10, 30))
    assert len(server.statuses()) == 2
    assert "toot-1511000000000000003" in again.scheduler.jobs
    # A job run again (the host clock set back) goes through Publisher, which re-reads
    # the state under the lock: nothing is posted twice.
    backend = again.daemon.backend
    assert backend is not None
    first_toot = backend.plan(DAY).due[0]
    again.clock.set(first_toot.due)
    again.daemon.toot_job(first_toot)
    assert len(server.statuses()) == 2
    assert "already posted as http" in log_of(again.daemon)[-1]["message"]


def test_live_outage_leaves_the_toot_pending_and_the_retry_posts_it_once(
    tmp_path: Path, server: FakeMastodon
) -> None:
    server.profile = GOTOSOCIAL  # keys ignored: a lost answer is looked for once settled
    live = live_world(tmp_path, server, at(13, 30))
    live.daemon.begin()
    live.run_until(at(13, 30))  # the two morning toots are caught up
    # The server answers nothing: the status request, the look for it, the check.
    server.fail_next("/api/v1/", 503, times=8)
    live.run_until(at(20, 0))
    state = load_state(tmp_path / "state" / "state.json")
    assert list(state.pending()) == ["1511000000000000003"]
    retried = [e["message"] for e in log_of(live.daemon) if e["event"] == "retried"]
    # Every wait is logged with the next attempt's time, from the first: the lost answer,
    # the wait before looking for its status, the client's five retries of that look,
    # then the daemon's own retry once the server proved down.
    assert len(retried) == 8
    assert "the outcome is unknown" in retried[0]
    assert "its answer was lost; it is looked for" in retried[1]
    assert [f"attempt {n} of 6" in message for n, message in enumerate(retried[2:7], 1)] == [
        True
    ] * 5
    assert all("next attempt at 2026-04-05T" in message for message in retried)
    live.run_until(at(21, 0))
    assert len(server.statuses()) == 3
    assert not server.duplicates()
    assert load_state(tmp_path / "state" / "state.json").is_posted("1511000000000000003")


def test_live_a_toot_that_keeps_failing_is_marked_failed_and_the_day_goes_on(
    tmp_path: Path, server: FakeMastodon
) -> None:
    live = live_world(tmp_path, server, at(7, 59))
    live.daemon.begin()
    # Only this toot's request fails; the server answers everything else.
    server.fail_next("/api/v1/statuses", 500, times=6, method="POST")
    live.run_until(at(20, 0))
    state = load_state(tmp_path / "state" / "state.json")
    record = state.record("1511000000000000001")
    assert isinstance(record, Failed)
    assert "500" in record.error and "the server answers other requests" in record.error
    assert record.fingerprints and record.sent_at  # --retry-failed looks for it first
    assert [s.text.splitlines()[0] for s in server.statuses()] == [
        "A mid-morning note",
        "Evening musings",
    ]
    assert [e["event"] for e in log_of(live.daemon)].count("failed") == 1


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_live_revoked_token_at_start_is_fatal_in_every_servers_form(
    tmp_path: Path, profile: str
) -> None:
    # 401 (Mastodon, GoToSocial), 403 (Pleroma), 400 text/html "Invalid Bearer token" (Takahē)
    with FakeMastodon(profile=PROFILES[profile]) as server:
        woken: list[bool] = []
        live = live_world(tmp_path, server, at(10))
        live.daemon.wake = lambda: woken.append(True)
        server.revoke_token()
        live.daemon.begin()
        live.run_until(at(10))
        assert (live.daemon.exit_code, woken) == (2, [True])
        assert [e["event"] for e in log_of(live.daemon)].count("retried") == 0
        assert server.statuses() == []


def test_every_day_is_planned_from_the_index_not_from_the_whole_archive(
    tmp_path: Path, server: FakeMastodon, loads: list[Path]
) -> None:
    settings = settings_for(tmp_path, server)
    age(archive_of(settings))  # an archive that just changed is not indexed yet

    def started(now: datetime) -> tuple[Daemon, Scheduler, FakeClock]:
        clock = FakeClock(now)
        events = EventLog(io.StringIO(), clock, "json", UTC_ZONE)
        scheduler = Scheduler()
        daemon = Daemon(
            lambda: live_backend(settings, archive_of(settings), clock, events),
            scheduler,
            clock,
            events,
            DaemonOptions.from_settings(settings),
        )
        daemon.begin()
        return daemon, scheduler, clock

    daemon, scheduler, clock = started(at(10))
    scheduler.run_until(clock, at(10, day=DAY + timedelta(days=2)))
    planned = [e["day"] for e in log_of(daemon) if e["event"] == "planned" and "posted" in e]
    assert planned == ["2026-04-05", "2026-04-06", "2026-04-07"]
    assert len(server.statuses()) == 3
    assert len(loads) == 1  # the index, written at the start; every day read from it
    _, scheduler, clock = started(at(10, day=DAY + timedelta(days=2)))
    scheduler.run_until(clock, at(10, day=DAY + timedelta(days=2)))
    assert len(loads) == 1


def dry_daemon(settings: Settings, clock: FakeClock) -> tuple[Daemon, Scheduler, io.StringIO]:
    """A dry-run daemon on `clock` (not begun), its scheduler and its JSON log."""
    stream = io.StringIO()
    events = EventLog(stream, clock, "json", UTC_ZONE)
    scheduler = Scheduler()
    daemon = Daemon(
        lambda: dry_backend(settings, archive_of(settings), events),
        scheduler,
        clock,
        events,
        DaemonOptions.from_settings(settings),
    )
    return daemon, scheduler, stream


def test_dry_run_logs_each_toot_at_its_due_time_and_writes_nothing(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, None)
    clock = FakeClock(at(8, 30))
    daemon, scheduler, stream = dry_daemon(settings, clock)
    daemon.begin()
    scheduler.run_until(clock, at(23, 0))
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    would = [(e["time"], e["tweet_id"]) for e in lines if e["event"] == "would-post"]
    assert would == [
        ("2026-04-05T08:30:00+00:00", "1511000000000000001"),  # caught up at start
        ("2026-04-05T09:00:00+00:00", "1511000000000000002"),
        ("2026-04-05T20:00:00+00:00", "1511000000000000003"),
    ]
    assert "Evening musings" in [e for e in lines if e["event"] == "would-post"][2]["text"]
    assert not (tmp_path / "state").exists()
    assert not [e for e in lines if e["event"] == "posted"]


def test_a_day_without_toots_is_planned_with_what_comes_next(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, None)
    clock = FakeClock(at(12, day=date(2026, 4, 3)))
    daemon, scheduler, _ = dry_daemon(settings, clock)
    daemon.begin()
    scheduler.run_until(clock, at(1, day=date(2026, 4, 5)))
    planned = [e for e in log_of(daemon) if e["event"] == "planned" and "next_day" in e]
    # April 3 at start, April 4 at its midnight: nothing, and April 5 comes next; April 5
    # itself has toots and says nothing more.
    assert [(e["day"], e["next_day"], e["next_toots"]) for e in planned] == [
        ("2026-04-03", "2026-04-05", 3),
        ("2026-04-04", "2026-04-05", 3),
    ]
    assert planned[0]["message"] == (
        "2026-04-03: nothing to post. The archive's tweets run from 2020-04-05 to 2022-04-05; "
        "the next day with toots is Sun 2026-04-05 (3 toots): tootback preview --date 2026-04-05"
    )


# --- the log -----------------------------------------------------------------------------------


def test_text_log_lines_carry_time_event_and_message_only() -> None:
    stream = io.StringIO()
    log = EventLog(stream, FakeClock(at(9)), "text", ZoneInfo("Europe/Berlin"))
    log.emit("posted", "tweet 1: https://ex.social/@me/1", tweet_id="1", url="https://x")
    assert (
        stream.getvalue()
        == "2026-04-05T11:00:00+02:00 posted     tweet 1: https://ex.social/@me/1\n"
    )


def test_json_log_lines_carry_the_fields_without_nones() -> None:
    stream = io.StringIO()
    log = EventLog(stream, FakeClock(at(9)), "json")
    log.emit("retried", "tweet 1: down", tweet_id="1", error="503", url=None)
    assert json.loads(stream.getvalue()) == {
        "time": "2026-04-05T09:00:00+00:00",
        "event": "retried",
        "message": "tweet 1: down",
        "tweet_id": "1",
        "error": "503",
    }


def test_dry_run_shows_a_boost_of_a_toot_it_showed_earlier_that_day(tmp_path: Path) -> None:
    """As `preview` does: the day's earlier toots count as posted for a boost."""
    settings = settings_for(tmp_path, None)
    settings = settings.model_copy(
        update={"selection": settings.selection.model_copy(update={"include_retweets": True})}
    )
    write_old_markdown(
        archive_of(settings),
        [
            ("1511000000000000001", datetime(2022, 4, 5, 8, 0, tzinfo=UTC), "Breakfast thoughts"),
            (
                "1511000000000000004",
                datetime(2023, 4, 5, 9, 0, tzinfo=UTC),
                "RT @me: Breakfast thoughts",
            ),
        ],
        user="me",
    )
    clock = FakeClock(at(7, 0))
    stream = io.StringIO()
    events = EventLog(stream, clock, "json", UTC_ZONE)
    backend = dry_backend(settings, archive_of(settings), events)
    for item in backend.plan(DAY).due:
        assert backend.post(item) is None, item.tweet.id  # logged as would-post
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    shown = [(e["tweet_id"], e.get("boost_of_tweet")) for e in lines if e["event"] == "would-post"]
    assert shown == [
        ("1511000000000000001", None),
        ("1511000000000000004", "1511000000000000001"),
    ]
