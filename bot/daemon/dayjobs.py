"""The daemon's decisions for a day, as pure functions (docs/design.md, "Selection").

Nothing new is decided here: a day's plan comes from `selection`, and which of
its toots are posted, to come, due or missed is `status.day_status`, the rule
`tootback status` shows. This module sorts that into what the daemon does: one
job per toot to come, a batch to post at once on start (pending toots first,
then the ones at most `schedule.catch_up` late), log lines for the missed and
failed ones; and it says when to retry and when the next local day begins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.selection import DayPlan, Due, local_instant
from bot.state import Failed, State
from bot.status import day_status

RETRY_FIRST = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class DayJobs:
    """One day's toots, sorted by what the daemon does with them.

    posted: already out; nothing to do.
    scheduled: not yet due; one job each, at its due time.
    catch_up: due, at most `catch_up` late and not posted: post now.
    missed: more than `catch_up` late: left for `tootback repost --tweet ID`.
    failed: refused by the server before: left for `--retry-failed`.
    """

    day: date
    posted: tuple[Due, ...] = ()
    scheduled: tuple[Due, ...] = ()
    catch_up: tuple[Due, ...] = ()
    missed: tuple[Due, ...] = ()
    failed: tuple[Due, ...] = ()


def jobs_for_day(
    plan: DayPlan,
    state: State,
    now: datetime,
    catch_up: timedelta,
    exclude: Iterable[str] = (),
) -> DayJobs:
    """Sort `plan`'s toots into posted, scheduled, catch-up, missed and failed at `now`.

    plan: the day's toots with their due times (`selection.plan_day`).
    state: the state file's content.
    now: the current time, aware.
    catch_up: how late a toot may still go out (`schedule.catch_up`); a toot
        exactly that late still does.
    exclude: tweet ids handled elsewhere (pending ones, finished first).

    Returns a DayJobs whose categories keep the plan's order.
    """
    today = day_status(plan, state, now, catch_up)
    failed = {d.tweet.id for d in plan.due if isinstance(state.record(d.tweet.id), Failed)}
    skip = failed | set(exclude)

    def open_(items: tuple[Due, ...]) -> tuple[Due, ...]:
        return tuple(d for d in items if d.tweet.id not in skip)

    return DayJobs(
        day=plan.day,
        posted=today.posted,
        scheduled=open_(today.next),
        catch_up=open_(today.due),
        missed=open_(today.missed),
        failed=tuple(d for d in plan.due if d.tweet.id in failed - set(exclude)),
    )


def lookback_days(now: datetime, zone: ZoneInfo, catch_up: timedelta) -> tuple[date, ...]:
    """The local days a start must look at: from the day of `now - catch_up` to today.

    With the default six hours that is today, plus yesterday before 06:00, so a
    toot due at 23:50 still goes out after a restart at 00:10.
    """
    first = (now - catch_up).astimezone(zone).date()
    last = now.astimezone(zone).date()
    return tuple(first + timedelta(days=n) for n in range((last - first).days + 1))


def startup_batch(pending: Sequence[Due], days: Sequence[DayJobs]) -> tuple[Due, ...]:
    """What a start posts at once: pending toots first, then every catch-up toot by due time.

    Each tweet appears once, at its first place.
    """
    late = sorted((d for day in days for d in day.catch_up), key=lambda d: (d.due, d.tweet.id))
    seen: set[str] = set()
    batch: list[Due] = []
    for item in (*pending, *late):
        if item.tweet.id not in seen:
            seen.add(item.tweet.id)
            batch.append(item)
    return tuple(batch)


def is_too_late(due: datetime, now: datetime, catch_up: timedelta) -> bool:
    """True when a toot due at `due` is more than `catch_up` late at `now` (as in `status`)."""
    return now - due > catch_up


def retry_delay(attempt: int) -> timedelta:
    """How long to wait after failed attempt number `attempt` (1, 2, …): 1 min doubling to 1 h."""
    return min(RETRY_CAP, RETRY_FIRST * (1 << min(max(0, attempt - 1), 16)))


def next_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant (UTC) the local day after `day` begins in `zone`.

    A midnight that does not exist (a DST change at 00:00) is the instant the
    pre-transition offset gives it, as for every due time (`selection`).
    """
    return local_instant(day + timedelta(days=1), time(0), zone)
