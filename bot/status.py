"""Where a day's toots stand, for `tootback status` and the daemon.

Pure: computed from the state, the day's plan and the time; no network.
A toot of today that is not posted is *next* while it is not yet due, *due*
while it may still go out (at most `schedule.catch_up` late), and *missed*
after that: the daemon leaves it, and `repost --tweet ID` posts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.selection import DayPlan, Due
from bot.state import State


@dataclass(frozen=True, slots=True)
class DayStatus:
    """Today's toots by where they stand."""

    day: date
    posted: tuple[Due, ...]
    next: tuple[Due, ...]
    due: tuple[Due, ...]
    missed: tuple[Due, ...]


def day_status(plan: DayPlan, state: State, now: datetime, catch_up: timedelta) -> DayStatus:
    """Sort `plan`'s toots into posted, next (not yet due), due (catch-up window) and missed."""
    posted, upcoming, due, missed = [], [], [], []
    for item in plan.due:
        if state.is_posted(item.tweet.id):
            posted.append(item)
        elif item.due > now:
            upcoming.append(item)
        elif now - item.due <= catch_up:
            due.append(item)
        else:
            missed.append(item)
    return DayStatus(plan.day, tuple(posted), tuple(upcoming), tuple(due), tuple(missed))
