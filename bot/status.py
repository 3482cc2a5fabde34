"""What `tootback status` reports: the state file's counts and today's progress.

Pure: computed from the state, today's plan and the time; no network.
A toot of today that is not posted is *next* while it is not yet due, *due*
while it may still go out (at most `schedule.catch_up` late), and *missed*
after that: the daemon leaves it, and `repost --date` posts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.selection import DayPlan, Due
from bot.state import Failed, Pending, Posted, State


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


def status_json(state: State, today: DayStatus, timezone: str) -> dict[str, Any]:
    """The `status --json` object."""
    counts = state.counts()
    last = state.last_posted()
    return {
        "state_path": str(state.source) if state.source else None,
        "account": None
        if state.account is None
        else {
            "id": state.account.id,
            "acct": state.account.acct,
            "instance": state.account.instance,
        },
        "counts": {"posted": counts.posted, "pending": counts.pending, "failed": counts.failed},
        "last_posted": None
        if last is None
        else {"tweet_id": last[0], "url": last[1].url, "posted_at": last[1].posted_at.isoformat()},
        "pending": [
            {"tweet_id": tid, "since": rec.since.isoformat(), "parts_done": rec.parts_done}
            for tid, rec in sorted(state.pending().items())
        ],
        "failed": [
            {"tweet_id": tid, "error": rec.error, "attempts": rec.attempts}
            for tid, rec in sorted(state.failed().items())
        ],
        "today": {
            "date": today.day.isoformat(),
            "timezone": timezone,
            **{
                name: [{"tweet_id": d.tweet.id, "due": d.due.isoformat()} for d in items]
                for name, items in (
                    ("posted", today.posted),
                    ("next", today.next),
                    ("due", today.due),
                    ("missed", today.missed),
                )
            },
        },
    }


def status_text(state: State, today: DayStatus, timezone: str) -> str:
    """The human `status`."""
    counts = state.counts()
    where = f"{state.source}" if state.source else "state"
    owner = f" (@{state.account.acct} on {state.account.instance})" if state.account else ""
    lines = [
        f"{where}{owner}: {counts.posted} posted, {counts.pending} pending, {counts.failed} failed"
    ]
    last = state.last_posted()
    if last:
        lines.append(
            f"last posted: tweet {last[0]} at {last[1].posted_at:%Y-%m-%d %H:%M %Z}, {last[1].url}"
        )
    lines += [
        _record_line(tid, rec)
        for tid, rec in sorted(state.tweets.items())
        if not isinstance(rec, Posted)
    ]
    lines.append(
        f"today {today.day} ({timezone}): {len(today.posted)} posted, {len(today.next)} to come, "
        f"{len(today.due)} due now, {len(today.missed)} missed"
    )
    lines += [f"  next: tweet {d.tweet.id} at {d.due:%H:%M}" for d in today.next[:5]]
    lines += [f"  due:  tweet {d.tweet.id} since {d.due:%H:%M}" for d in today.due]
    lines += [
        f"  missed: tweet {d.tweet.id} (was due {d.due:%H:%M}); "
        f"post it with: tootback repost --tweet {d.tweet.id}"
        for d in today.missed
    ]
    return "\n".join(lines)


def _record_line(tweet_id: str, record: Pending | Failed | Posted) -> str:
    if isinstance(record, Pending):
        return (
            f"pending: tweet {tweet_id} since {record.since:%Y-%m-%d %H:%M %Z} "
            f"({record.parts_done} parts done); the next run finishes it"
        )
    if isinstance(record, Failed):
        return (
            f"failed: tweet {tweet_id} ({record.attempts}x): {record.error}; retry with "
            f"tootback repost --tweet {tweet_id} --retry-failed"
        )
    return f"posted: tweet {tweet_id}"
