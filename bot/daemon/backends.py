"""What the daemon posts with: a live backend (the account) or a dry-run one (the log).

Both read the state file and the archive, the archive through an `ArchiveSource`:
each day is planned from the day index as it is that morning, and between two
plannings the daemon holds that day's toots and the index's small tables, never
the whole archive. The live one posts through the same exactly-once publisher
as `repost` (which also spaces the toots), the dry one logs `would-post` with
the exact text instead and never writes the state file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from pathlib import Path

from bot.archive.alttext import alt_texts_for
from bot.archive.source import ArchiveSource
from bot.clock import Clock
from bot.daemon.events import EventLog, run_summary
from bot.daemon.scheduler import Backend
from bot.exactly_once import Outcome
from bot.handles import load_handles
from bot.model import InstanceLimits, Skip
from bot.options import day_reader, make_composer, offline_limits, plan
from bot.pacing import pending_jobs
from bot.preview import Outlook, outlook
from bot.selection import DayPlan, Due
from bot.settings import Settings
from bot.state import State, load_state
from bot.wiring import open_run


def live_backend(settings: Settings, archive_path: Path, clock: Clock, events: EventLog) -> Backend:
    """Open a posting run (two requests: the account and the instance)."""
    source = ArchiveSource(archive_path, settings.archive.index_dir, settings.archive.limits)
    run = open_run(
        settings, source, clock, on_wait=events.waiting, on_server_wait=events.server_wait
    )
    account = run.client.account()
    handles = load_handles(settings.mentions.handles_file)
    exclude = settings.selection.exclude_ids
    return Backend(
        plan=_planner(settings, source),
        state=run.store.load,
        pending=lambda: _pending(source, run.store.load(), exclude),
        post=lambda item: run.runner.run([item])[0],
        summary=run_summary(settings, source.summary(), f"@{account.acct} on {account.instance}"),
        ahead=_ahead(
            settings, source, lambda: run.store.load().posted_urls(), handles, run.client.limits()
        ),
    )


def dry_backend(settings: Settings, archive_path: Path, events: EventLog) -> Backend:
    """Read the archive and the state file only; `post` logs the toot instead of sending it."""
    source = ArchiveSource(archive_path, settings.archive.index_dir, settings.archive.limits)
    handles = load_handles(settings.mentions.handles_file)
    limits, _ = offline_limits(settings, load_state(settings.state.path).server)
    archive = source.without_tweets()
    alt_texts = alt_texts_for(settings.media.alt_text_file, archive, limits.description_limit)
    composer = make_composer(settings, archive, handles, limits, alt_texts)
    shown: set[str] = set()

    def state() -> State:
        return load_state(settings.state.path)

    def post(item: Due) -> Outcome | None:
        tid = item.tweet.id
        if tid in shown:
            return Outcome(tid, "already posted", detail="shown before in this dry run")
        # The toots shown before count as posted, as `preview` counts a day's earlier
        # toots: a boost or a quote of one is what the live daemon would send.
        toot = composer(item.tweet, item.due, state().posted_urls(), frozenset(shown))
        if isinstance(toot, Skip):
            return Outcome(tid, "skipped", detail=toot.reason)
        shown.add(tid)
        events.would_post(toot)
        return None

    return Backend(
        plan=_planner(settings, source),
        state=state,
        pending=lambda: _pending(source, state(), settings.selection.exclude_ids),
        post=post,
        summary=run_summary(settings, source.summary(), None),
        ahead=_ahead(settings, source, lambda: state().posted_urls(), handles, limits),
    )


def _planner(settings: Settings, source: ArchiveSource) -> Callable[[date], DayPlan]:
    """Plans a day from the index as it is now; the day's tweets are let go once
    planned, all but the toots the plan keeps."""
    days = day_reader(settings, source)

    def planned(day: date) -> DayPlan:
        source.refresh()
        return plan(days(day), day, settings)

    return planned


def _pending(
    source: ArchiveSource, state: State, exclude: Iterable[str]
) -> tuple[list[Due], list[Outcome]]:
    """The toots a crash left pending, as jobs; only their tweets are read."""
    return pending_jobs(state, source.tweets(state.pending()), exclude)


def _ahead(
    settings: Settings,
    source: ArchiveSource,
    posted: Callable[[], Mapping[str, str]],
    handles: Mapping[str, str],
    limits: InstanceLimits,
) -> Callable[[date], Outlook]:
    """For a day without toots: the archive's range and the next day with toots,
    each later day read from the index in turn."""
    days = day_reader(settings, source)

    def ahead(day: date) -> Outlook:
        return outlook(source.summary(), days, day, settings, posted(), handles, limits)

    return ahead
