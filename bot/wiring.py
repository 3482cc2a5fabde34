"""A posting run assembled from settings: archive, client, state, composer, publisher, runner.

The one place where the I/O modules are wired together, for `repost`,
`state rebuild` and the daemon; each command then only decides what to run.
`repost_jobs` says what `repost` runs: pending toots first, then a day or the
tweets named by id. None of it reads the whole archive: the archive is an
`ArchiveSource`, which serves a day and tweets by id from the day index.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from pydantic import SecretStr

from bot.archive.alttext import alt_texts_for
from bot.archive.source import ArchiveSource
from bot.backfill import BackfillPlan, plan_backfill
from bot.clock import Clock
from bot.compose import Composer
from bot.errors import Rejected, SettingsError, UsageError
from bot.exactly_once import Outcome, PostOptions, Publisher, Recovery
from bot.handles import load_handles
from bot.options import day_reader, make_composer, plan, selection_options
from bot.pacing import Runner, pending_jobs
from bot.profile import ServerProfile
from bot.rebuild import Matcher
from bot.selection import Due
from bot.settings import Settings
from bot.state import AccountLike, State, StateStore

if TYPE_CHECKING:  # Mastodon.py costs ~100 ms to import: only runs that connect pay it
    from bot.client import MastodonClient, OnWait, OwnStatus


@dataclass(frozen=True)
class Run:
    """Everything one posting run uses, built once."""

    settings: Settings
    source: ArchiveSource
    client: MastodonClient
    store: StateStore
    composer: Composer
    runner: Runner


def credentials(settings: Settings) -> tuple[str, SecretStr]:
    """The instance URL and access token, or a SettingsError saying how to get them."""
    missing = [
        name
        for name, value in (
            ("MASTODON_API_BASE_URL", settings.api_base_url),
            ("MASTODON_ACCESS_TOKEN", settings.access_token),
        )
        if not value
    ]
    if missing:
        raise SettingsError(
            [
                f"{name}: not set; run `tootback login --instance https://your.instance` "
                "or set it in the environment or .env"
                for name in missing
            ]
        )
    assert settings.api_base_url is not None and settings.access_token is not None
    return settings.api_base_url, settings.access_token


def open_run(
    settings: Settings,
    source: ArchiveSource,
    clock: Clock,
    *,
    on_outcome: Callable[[Outcome], None] = lambda outcome: None,
    on_wait: Callable[[str], None] | None = None,
    on_server_wait: OnWait | None = None,
    on_pace: Callable[[float], None] | None = None,
    backfill: timedelta | None = None,
) -> Run:
    """Connect, read the handles, ask the server about the account and itself, and
    wire a Runner.

    Costs two requests (the account and the instance), both cached for the run,
    plus two for nodeinfo when the state file keeps no profile of this server
    at this version; the profile is kept in the state file.
    Told as things happen: on_outcome (each toot's result), on_wait (another
    process holds the state lock), on_server_wait (an outage or a rate limit is
    waited out), on_pace (seconds until the next toot may go out).
    backfill: wire a backfill instead, whose toots are at least this far apart
        (0: as fast as the budgets allow): `backfill.visibility`, and every
        status and upload paced by Mastodon's budgets (`client.Budgets`).
    """
    from bot.client import Budgets, MastodonClient

    base_url, token = credentials(settings)
    budgets = Budgets() if backfill is not None else None
    client = MastodonClient(base_url, token, clock, on_wait=on_server_wait, budgets=budgets)
    account = client.account()  # now, so that a bad token fails before anything else happens
    store = StateStore(settings.state.path, clock, on_wait=on_wait)
    profile = remember_server(store, client.profile(store.load().server), account)
    limits = profile.limits
    archive = source.without_tweets()  # the owner, the ids for self-links, the media
    alt_texts = alt_texts_for(settings.media.alt_text_file, archive, limits.description_limit)
    handles = load_handles(settings.mentions.handles_file)
    composer = make_composer(settings, archive, handles, limits, alt_texts)
    # Only a new state file needs it (see Publisher), and it needs every tweet.
    matcher = cache(lambda: Matcher(source.whole().tweets))
    spacing = timedelta(seconds=settings.schedule.min_interval) if backfill is None else backfill
    recovery = Recovery(
        lookup_delay=timedelta(seconds=settings.post.lookup_delay),
        min_interval=spacing,
        software=profile.known,
    )
    publisher = Publisher(
        store,
        client,
        archive.read_media,
        PostOptions(
            settings.backfill.visibility if backfill is not None else settings.post.visibility,
            settings.post.spoiler_text,
        ),
        clock,
        is_archive_toot=lambda text: matcher()(text),
        recovery=recovery,
        on_pace=on_pace,
    )
    exclude = frozenset(settings.selection.exclude_ids)
    runner = Runner(publisher, composer, exclude, on_outcome)
    return Run(settings, source, client, store, composer, runner)


def remember_server(
    store: StateStore, profile: ServerProfile, account: AccountLike
) -> ServerProfile:
    """Keep the server's profile in the state file, so offline commands use its limits.

    Writes only when the profile says something new. A state file of another
    account is left alone (AccountMismatch is raised, as posting would).
    """
    with store.lock():
        state = store.load()
        state.bind_account(account)  # a check only: binding is the publisher's, under its rules
        new = state.with_server(profile)
        if new is not state:
            store.save(new)
    return profile


def repost_jobs(
    settings: Settings,
    source: ArchiveSource,
    state: State,
    day: date,
    tweet_ids: Sequence[str],
    now: datetime,
) -> tuple[list[Due], list[Outcome]]:
    """What `repost` posts, in order, each tweet once: the toots `state` has pending
    first, then the tweets named by id (due now, whatever their date and filters)
    or else `day`'s plan. Also returns the pending ones that cannot or may not be
    finished. Only the tweets of these ids and of `day` are read.

    Raises UsageError naming the ids that are not in the archive.
    """
    tweets = source.tweets([*state.pending(), *tweet_ids])
    exclude = frozenset(settings.selection.exclude_ids)
    jobs, lost = pending_jobs(state, tweets, exclude)
    if tweet_ids:
        unknown = [tid for tid in tweet_ids if tid not in tweets]
        if unknown:
            raise UsageError("--tweet", f"not a tweet of this archive: {', '.join(unknown)}")
        local_now = now.astimezone(settings.selection.zone)
        jobs += [Due(tweets[tid], local_now) for tid in tweet_ids]
    else:
        jobs += plan(day_reader(settings, source)(day), day, settings).due
    # A pending tweet that is also due today, or one named twice, is posted once.
    first = {job.tweet.id: job for job in reversed(jobs)}
    return [job for job in jobs if first[job.tweet.id] is job], lost


def backfill_jobs(
    settings: Settings,
    source: ArchiveSource,
    state: State,
    composer: Composer,
    first: date,
    last: date,
    now: datetime,
) -> tuple[list[Due], list[Outcome], BackfillPlan]:
    """What `backfill` posts, in order, each tweet once: the toots `state` has
    pending first (a run that was interrupted), then the tweets of `first`..`last`
    not posted yet, in their original order. Also the pending ones that cannot
    or may not be finished, and the plan (costs, already posted, skipped).

    Only the tweets of the range (found in the index's outline) and the pending
    ones are read. composer: composes each tweet to price it (as it would go out
    `now`, self-links as the state has them).
    """
    in_range = tweets_between(settings, source, first, last)
    tweets = source.tweets([*state.pending(), *in_range])
    jobs, lost = pending_jobs(state, tweets, frozenset(settings.selection.exclude_ids))
    posted = state.posted_urls()
    plan = plan_backfill(
        [tweets[tid] for tid in in_range if tid in tweets],
        first,
        last,
        selection_options(settings, source.without_tweets().username),
        lambda tweet, planned: composer(tweet, now, posted, planned),
        posted,
        now,
        frozenset(state.failed()),
    )
    pending = {job.tweet.id for job in jobs}
    return jobs + [job for job in plan.jobs if job.tweet.id not in pending], lost, plan


def tweets_between(settings: Settings, source: ArchiveSource, first: date, last: date) -> list[str]:
    """The ids of the tweets tweeted from `first` to `last` (local dates), from the
    outline: what a backfill of that range reads."""
    zone = settings.selection.zone
    return [
        o.tweet.id
        for o in source.outline().outlines
        if first <= o.tweet.created_at.astimezone(zone).date() <= last
    ]


@dataclass(frozen=True)
class SeenStatuses:
    """The account's statuses as `state rebuild` could see them.

    statuses: own statuses, newest first, each once.
    home: the home timeline was read too (the own list hides some visibilities).
    hidden: visibilities the server is known to leave out of the own list.
    limit_reached: `limit` statuses were read from a list: older ones were not seen.
    reported: how many statuses the account has, as the server says (None: not said).
    """

    statuses: list[OwnStatus]
    home: bool
    hidden: frozenset[str]
    limit_reached: bool
    reported: int | None


def seen_statuses(run: Run, limit: int) -> SeenStatuses:
    """The account's latest statuses (at most `limit` from each list read) wherever the
    server shows them: its own list, and the home timeline too where the own list is known
    to hide some visibilities, or where it shows fewer than the account says it has."""
    client = run.client
    hidden = run.runner.publisher.recovery.software.own_list_hides
    own = client.own_statuses(limit=limit, boosts=True)
    reported = client.account().statuses_count
    short = reported is not None and len(own) < min(limit, reported)
    home = bool(hidden) or short
    statuses = own
    if home:
        known = {s.id for s in own}
        try:
            extra = client.own_statuses(limit=limit, home=True, boosts=True)
        except Rejected:  # no home timeline here: what the own list shows is all there is
            extra, home = [], False
        statuses = own + [s for s in extra if s.id not in known]
        limit_reached = len(own) >= limit or len(extra) >= limit
    else:
        limit_reached = len(own) >= limit
    return SeenStatuses(statuses, home, hidden, limit_reached, reported)
