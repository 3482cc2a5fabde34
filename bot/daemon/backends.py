"""What the daemon posts with: a live backend (the account) or a dry-run one (the log).

Both read the archive and the state file; the live one posts through the same
exactly-once publisher as `repost` (which also spaces the toots), the dry one logs `would-post`
with the exact text instead and never writes the state file.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bot.archive import load_archive
from bot.archive.alttext import alt_texts_for
from bot.clock import Clock
from bot.daemon.events import EventLog, run_summary
from bot.daemon.scheduler import Backend
from bot.exactly_once import Outcome
from bot.handles import load_handles
from bot.model import InstanceLimits, Skip
from bot.options import make_composer, plan
from bot.pacing import pending_jobs
from bot.preview import Outlook, outlook
from bot.selection import Due
from bot.settings import Settings
from bot.state import State, load_state
from bot.wiring import open_run


def live_backend(settings: Settings, archive_path: Path, clock: Clock, events: EventLog) -> Backend:
    """Open a posting run (the archive, then two requests: the account and the instance)."""
    run = open_run(
        settings, archive_path, clock, on_wait=events.waiting, on_server_wait=events.server_wait
    )
    tweets = {t.id: t for t in run.archive.tweets}
    account = run.client.account()
    handles = load_handles(settings.mentions.handles_file)

    def ahead(day: date) -> Outlook:
        posted = run.store.load().posted_urls()
        return outlook(run.archive, day, settings, posted, handles, run.client.limits())

    return Backend(
        plan=lambda day: plan(run.archive, day, settings),
        state=run.store.load,
        pending=lambda: run.runner.pending_jobs(tweets),
        post=lambda item: run.runner.run([item])[0],
        summary=run_summary(settings, run.archive, f"@{account.acct} on {account.instance}"),
        ahead=ahead,
    )


def dry_backend(settings: Settings, archive_path: Path, events: EventLog) -> Backend:
    """Read the archive and the state file only; `post` logs the toot instead of sending it."""
    archive = load_archive(archive_path, settings.archive.limits)
    handles = load_handles(settings.mentions.handles_file)
    limits = InstanceLimits(settings.compose.max_characters)
    alt_texts = alt_texts_for(settings.media.alt_text_file, archive, limits.description_limit)
    composer = make_composer(settings, archive, handles, limits, alt_texts)
    tweets = {t.id: t for t in archive.tweets}
    shown: set[str] = set()

    def state() -> State:
        return load_state(settings.state.path)

    def post(item: Due) -> Outcome | None:
        tid = item.tweet.id
        if tid in shown:
            return Outcome(tid, "already posted", detail="shown before in this dry run")
        toot = composer(item.tweet, item.due, state().posted_urls())
        if isinstance(toot, Skip):
            return Outcome(tid, "skipped", detail=toot.reason)
        shown.add(tid)
        events.would_post(toot)
        return None

    return Backend(
        plan=lambda day: plan(archive, day, settings),
        state=state,
        pending=lambda: pending_jobs(state(), tweets, settings.selection.exclude_ids),
        post=post,
        summary=run_summary(settings, archive, None),
        ahead=lambda day: outlook(archive, day, settings, state().posted_urls(), handles, limits),
    )
