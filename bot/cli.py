"""The `tootback` command line (also `python -m bot`).

Commands are thin: read the settings once, call the modules that do the work,
print what `bot.render` shapes. The options several commands share
(`--archive`, `--date`, `--json`) are defined once, below. Every TootbackError
is caught here, at the edge, and becomes a message on stderr and its exit
code (docs/design.md, "Exit codes": 0 ok, 1 some toots failed, 2 usage or
settings, 3 state locked, 4 the server unreachable or failing, 130 interrupted).
Commands that post take their archive from `posting_archive`, which refuses
the bundled demo archive.
"""

from __future__ import annotations

import calendar
import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from urllib.parse import quote

import click

from bot import __version__
from bot.clock import Clock, SystemClock
from bot.errors import EXIT_FAILED, EXIT_INTERRUPTED, AuthError, TootbackError, UsageError
from bot.paths import expand_path

if TYPE_CHECKING:
    from bot.archive import Archive
    from bot.archive.source import (
        ArchiveSource,  # pydantic costs ~100 ms to import; `tootback --version` must not pay it
    )
    from bot.backfill import Cost, Progress
    from bot.client import MastodonClient, OnWait
    from bot.exactly_once import Outcome
    from bot.model import InstanceLimits, Media
    from bot.page import MediaSrc
    from bot.preview import DayPreview, Outlook
    from bot.settings import Settings
    from bot.state import State

EMBED_LIMIT = 8 * 1024 * 1024  # bytes of one image embedded in an HTML preview
# Bytes of images embedded in one page: a year of a big archive would embed gigabytes.
EMBED_TOTAL = 64 * 1024 * 1024

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Context:
    """What every command shares: the config file named on the command line, the
    settings given by flags (`--archive`), and the clock.

    Tests pass their own (`CliRunner().invoke(cli, args, obj=Context(clock=FakeClock()))`).
    """

    config: Path | None = None
    clock: Clock = field(default_factory=SystemClock)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)

    def settings(self) -> Settings:
        """Every setting, read and validated once; flags win over everything else."""
        from bot.settings import load_settings

        return load_settings(self.config, self.overrides)


class TootbackGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TootbackError as exc:
            click.secho("tootback: " + "\n".join(exc.lines()), err=True, fg="red")
            ctx.exit(exc.exit_code)
        except (KeyboardInterrupt, click.Abort):
            # click would say "Aborted!" and exit 1, which means "some toots failed".
            click.secho("tootback: interrupted", err=True, fg="red")
            ctx.exit(EXIT_INTERRUPTED)


# --- parameter types shared by several options ---------------------------------------------


class UserPath(click.Path):
    """A path option with `~` and `$VARIABLES` expanded, as in the settings."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            try:
                value = str(expand_path(value))
            except ValueError as exc:
                self.fail(str(exc), param, ctx)
        return super().convert(value, param, ctx)


class Day(click.ParamType):  # type: ignore[type-arg]
    """A date written YYYY-MM-DD; one that does not exist (2026-02-30) says so.

    Years are kept to YEARS: tweets exist from 2006, and a day near the end of
    Python's calendar (9999-12-31) would overflow the arithmetic of a range.
    """

    name = "YYYY-MM-DD"
    YEARS = range(1900, 3000)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, date):
            return value
        text = str(value).strip()
        match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
        if match is None:
            self.fail(f"{text!r} is not a date written YYYY-MM-DD, e.g. 2026-04-05", param, ctx)
        year, month, day = (int(part) for part in match.groups())
        if year not in self.YEARS:
            self.fail(f"{text}: the year must be {self.YEARS[0]} to {self.YEARS[-1]}", param, ctx)
        if not 1 <= month <= 12:
            self.fail(f"{text}: there is no month {month}", param, ctx)
        last = calendar.monthrange(year, month)[1]
        if not 1 <= day <= last:
            self.fail(
                f"{text} does not exist: {date(year, month, 1):%B %Y} has {last} days", param, ctx
            )
        return date(year, month, day)


class Span(click.ParamType):  # type: ignore[type-arg]
    """A span of time written as people do: 90s, 10m, 1h, 1h30m."""

    name = "SPAN"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, timedelta):
            return value
        text = str(value).strip().lower()
        parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
        if not text or parts is None:
            self.fail(f"{text!r} is not a span of time such as 90s, 10m or 1h30m", param, ctx)
        hours, minutes, seconds = (int(p or 0) for p in parts.groups())
        return timedelta(hours=hours, minutes=minutes, seconds=seconds)


# --- options shared by several commands ---------------------------------------------------


def archive_option(command: F) -> F:
    """`--archive PATH`: read this archive (it overrides `archive.path` for the command)."""
    return click.option(
        "--archive",
        type=UserPath(path_type=Path),
        expose_value=False,
        callback=_set_archive,
        help="Archive file, folder or .zip.",
    )(command)


def _set_archive(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.ensure_object(Context).overrides["archive"] = {"path": value}


def date_option(help: str) -> Callable[[F], F]:
    """`--date YYYY-MM-DD`, passed as `day` (a date, None when not given: today)."""
    return click.option(
        "--date",
        "day",
        type=Day(),
        help=help,
    )


def range_options(first_help: str, last_help: str) -> Callable[[F], F]:
    """`--from D1 --to D2`, passed as `first` and `last` (dates, None when not given)."""

    def decorate(command: F) -> F:
        for name, dest, text in (("--to", "last", last_help), ("--from", "first", first_help)):
            command = click.option(name, dest, type=Day(), help=text)(command)
        return command

    return decorate


def json_option(help: str) -> Callable[[F], F]:
    """`--json`, passed as `as_json`: print one JSON object instead of text."""
    return click.option("--json", "as_json", is_flag=True, help=help)


# --- the commands -------------------------------------------------------------------------


@click.group(cls=TootbackGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tootback")
@click.option(
    "--config",
    type=UserPath(path_type=Path, dir_okay=False),
    help="Settings file (default: $TOOTBACK_CONFIG or config/tootback.toml).",
)
@click.pass_context
def cli(ctx: click.Context, config: Path | None) -> None:
    """Re-publish your Twitter/X archive on Mastodon: every day, what you
    tweeted on this day in earlier years, each tweet exactly once.

    \b
    Start here (no account needed):
      tootback preview --date 2026-04-05
      tootback check
    """
    if not isinstance(ctx.obj, Context):
        ctx.obj = Context()
    if config is not None:
        ctx.obj.config = config


def archive_path(settings: Settings) -> Path:
    """The archive to read: `archive.path`, or the bundled demo archive while it is unset."""
    from bot.bundled import demo_archive
    from bot.errors import ArchiveError

    path = settings.archive.path
    if path is not None and not path.exists():  # said here, where its source is known
        raise ArchiveError(path, "does not exist", settings.source_of("archive.path", "--archive"))
    return path or demo_archive()


def posting_archive(settings: Settings, command: str) -> Path:
    """The archive `command` posts from; never the demo archive (see `refuse_demo`)."""
    from bot.bundled import refuse_demo

    path = archive_path(settings)
    refuse_demo(path, command)
    return path


def archive_source(settings: Settings, path: Path | None = None) -> ArchiveSource:
    """The archive to read (path, else `archive_path`), served from its day index."""
    from bot.archive.source import ArchiveSource

    s = settings.archive
    return ArchiveSource(path or archive_path(settings), s.index_dir, s.limits)


def today(ctx: Context, settings: Settings) -> date:
    return ctx.clock.now().astimezone(settings.selection.zone).date()


def _cannot_write(option: str, file: Path, exc: OSError) -> UsageError:
    """The usage error (exit 2) for `file`, given as `option`, that cannot be written."""
    return UsageError(option, f"{file} cannot be written: {exc.strerror or exc}")


@cli.command()
@date_option("The day to preview, YYYY-MM-DD (default: today).")
@range_options("First day of several to preview (with --to).", "Last day of the range.")
@json_option(
    "Print one JSON object (a stable contract); for a range, one per line, a day each "
    "(not with --html)."
)
@click.option("--show-skipped", is_flag=True, help="Also list skipped tweets and why.")
@click.option(
    "--html",
    "html_file",
    type=UserPath(path_type=Path, dir_okay=False),
    help="Write the toots as cards on one self-contained HTML page to this file, "
    "instead of printing them (not with --json).",
)
@archive_option
@click.pass_obj
def preview(
    obj: Context,
    day: date | None,
    first: date | None,
    last: date | None,
    as_json: bool,
    show_skipped: bool,
    html_file: Path | None,
) -> None:
    """Show what `repost` would post on a day, exactly as it would be sent.

    For each toot: its due time, its text with rewritten links and mentions
    and the footer, its length against the limit, media with alt text,
    reply-to, the language it declares, whether it is marked sensitive, and
    for a quote tweet whether it becomes a quote post or a link, and why.
    Needs no account, sends nothing and never writes the state file (it
    reads it, to mark what is already posted). `--from/--to` shows several
    days, each as `--date` shows it. `--html FILE` draws the toots as
    Mastodon shows them, on one page that needs no network (with the
    calendar on top for a range), instead of printing them, so it does not
    go with --json.

    \b
    Examples:
      tootback preview --date 2026-04-05
      tootback preview --date 2026-04-05 --show-skipped
      tootback preview --date 2026-04-05 --json
      tootback preview --from 2026-04-01 --to 2026-04-07
      tootback preview --date 2026-04-18 --html preview.html
      tootback preview --from 2026-03-01 --to 2026-04-30 --html spring.html
      TOOTBACK_SELECTION__INCLUDE_REPLIES=true tootback preview --date 2026-04-05
      tootback preview --archive ~/twitter-2023.zip --date 2026-03-20
    """
    from bot import render

    if html_file is not None and as_json:
        raise click.UsageError("--html writes a page, --json prints the toots: give one of them")
    settings = obj.settings()
    if day is not None and (first or last):
        raise click.UsageError("--date goes alone, or --from with --to")
    if (first is None) != (last is None):
        raise click.UsageError("--from and --to go together")
    days = _days(first, last) if first and last else [day or today(obj, settings)]
    source = archive_source(settings)
    composing = _composing(settings)
    archive, previews = _previews(settings, source, days, composing)
    if html_file is not None:
        _write_page(settings, archive, previews, html_file, with_calendar=first is not None)
    elif first is None:  # one day; without toots, say what the archive holds and what is next
        ahead = None if previews[0].toots else _ahead(settings, source, days[0], composing)
        if as_json:
            output = render.day_json(previews[0], show_skipped, ahead)
            click.echo(json.dumps(output, ensure_ascii=False, indent=2))
        else:
            click.echo(render.day_text(previews[0], show_skipped, ahead))
    else:  # days without toots say what `--date` says of them
        from bot.preview import archive_range, range_outlooks

        covered = archive_range(source.summary(), settings)
        aheads = range_outlooks(
            previews, covered, lambda: _ahead(settings, source, days[-1], composing)
        )
        shown = zip(previews, aheads, strict=True)
        if as_json:
            for result, ahead in shown:
                output = render.day_json(result, show_skipped, ahead)
                click.echo(json.dumps(output, ensure_ascii=False))
        else:
            texts = [render.day_text(result, show_skipped, ahead) for result, ahead in shown]
            click.echo("\n\n\n".join(texts))


# The longest ranges `preview` and `calendar` take: a year of a 100,000-tweet archive is
# every tweet once (about 20 s and 500 MB for `preview`), and a millennium would not end;
# the calendar counts from the index's outline, ten times cheaper a day.
LONGEST_PREVIEW = 366
LONGEST_CALENDAR = 3660


def _days(first: date, last: date, longest: int | None = LONGEST_PREVIEW) -> list[date]:
    """The days `first`..`last`, checked: in order, and at most `longest` of them."""
    from bot.calendar import days_between

    if first > last:
        raise click.BadParameter(f"{first} is after --to {last}", param_hint="--from")
    span = (last - first).days + 1
    if longest is not None and span > longest:
        raise click.BadParameter(
            f"{first} to {last} is {span} days; a range is at most {longest}: ask for it in parts",
            param_hint="--to",
        )
    return list(days_between(first, last))


def _previews(
    settings: Settings, source: ArchiveSource, days: list[date], composing: Composing
) -> tuple[Archive, list[DayPreview]]:
    """The archive and each day's preview, from the index's groups for those days."""
    from bot.archive.alttext import alt_texts_for
    from bot.preview import preview_day

    s = settings.selection
    archive = source.days(days, s.feb29, whole_threads=s.threads == "whole", zone=s.zone)
    c = composing
    alt_texts = alt_texts_for(settings.media.alt_text_file, archive, c.limits.description_limit)
    return archive, [
        preview_day(
            archive, d, settings, c.posted, c.handles, c.limits, alt_texts, c.limit_from, c.failed
        )
        for d in days
    ]


class Composing(NamedTuple):
    """What composing offline uses: the posted map, the handles, the limits (the kept
    server profile's) and where they came from; and what `repost` skips as failed
    (tweet id -> the server's reason)."""

    posted: Mapping[str, str]
    handles: Mapping[str, str]
    limits: InstanceLimits
    limit_from: str
    failed: Mapping[str, str]


def _composing(settings: Settings, state: State | None = None) -> Composing:
    """`Composing` from the state file (`state`, when it was read already) and the
    handles file."""
    from bot.handles import load_handles
    from bot.options import offline_limits
    from bot.state import load_state

    state = state or load_state(settings.state.path)
    handles = load_handles(settings.mentions.handles_file)
    limits, limit_from = offline_limits(settings, state.server)
    failed = {tid: record.error for tid, record in state.failed().items()}
    return Composing(state.posted_urls(), handles, limits, limit_from, failed)


def _ahead(settings: Settings, source: ArchiveSource, day: date, composing: Composing) -> Outlook:
    """For a day without toots: the archive's range and the next day with toots."""
    from bot.options import day_reader
    from bot.preview import outlook

    c, days = composing, day_reader(settings, source)
    return outlook(source.summary(), days, day, settings, c.posted, c.handles, c.limits)


def _write_page(
    settings: Settings,
    archive: Archive,
    previews: list[DayPreview],
    file: Path,
    with_calendar: bool,
) -> None:
    from bot import render
    from bot.page import PageOptions, render_page
    from bot.preview import calendar_of

    first, last = previews[0].day, previews[-1].day
    options = PageOptions(
        owner=archive.username,
        spoiler_text=settings.post.spoiler_text,
        visibility=settings.post.visibility,
        title=f"tootback preview, {first}" + (f" to {last}" if last != first else ""),
        generator=f"tootback {__version__}: a preview; nothing was posted",
    )
    calendar = calendar_of(previews, settings) if with_calendar else None
    page = render_page(previews, _media_src(archive, file), options, calendar)
    try:
        file.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise _cannot_write("--html", file, exc) from None
    click.echo(render.page_written(file, previews))


def _media_src(archive: Archive, page: Path) -> MediaSrc:
    """Each media file for the page: images embedded (each up to EMBED_LIMIT bytes,
    EMBED_TOTAL in all); videos, and images past those limits, linked relative to
    the page where the archive is a folder; nothing else."""
    from bot.errors import ArchiveError
    from bot.page import data_uri

    left = EMBED_TOTAL

    def linked(media: Media) -> str | None:
        if not archive.root.is_dir():
            return None  # inside a zip: a page cannot link into it
        target = os.path.relpath(archive.root / media.path, page.absolute().parent)
        return quote(Path(target).as_posix())

    def src(media: Media) -> str | None:
        nonlocal left
        if media.problem is not None:
            return None
        if media.kind != "image":
            return linked(media)
        try:
            data = archive.read_media(media)
        except ArchiveError:
            return None
        if len(data) > min(EMBED_LIMIT, left):
            return linked(media)
        left -= len(data)
        return data_uri(data, media)

    return src


@cli.command("calendar")
@range_options(
    "First day, YYYY-MM-DD (default: today).",
    "Last day (default: 364 days after the first, a year in all).",
)
@json_option("Print one JSON object: the range, the total and every day's count.")
@archive_option
@click.pass_obj
def calendar_command(obj: Context, first: date | None, last: date | None, as_json: bool) -> None:
    """Show how many toots each day will post under the current settings.

    A month-by-month grid: every day's count, shaded by how busy it is (in
    colour on a terminal), then the total, the busiest days, the days over
    `selection.max_per_day` and the next day with toots. Each day's count is
    what `preview --date` shows for it. Reads the archive's day index (built
    on first use); needs no account and sends nothing.

    \b
    Examples:
      tootback calendar
      tootback calendar --from 2026-03-01 --to 2026-04-30
      tootback calendar --json
    """
    from bot import render
    from bot.preview import Words, calendar_needs_words
    from bot.preview import calendar as count

    settings = obj.settings()
    now = today(obj, settings)
    if first is None and last is not None and last < now:
        raise click.BadParameter(
            f"{last} is before --from, which defaults to today ({now})", param_hint="--to"
        )
    first = first or now
    last = last or first + timedelta(days=364)
    _days(first, last, LONGEST_CALENDAR)  # checks the order and the length
    source = archive_source(settings)
    outline = source.outline()
    c = _composing(settings)
    words = None
    if calendar_needs_words(settings, outline, c.limits):
        words = Words(source.whole(), c.posted, c.handles, c.limits)
    result = count(outline, first, last, settings, words)
    if as_json:
        click.echo(json.dumps(render.calendar_json(result), indent=2))
    else:
        click.echo(render.calendar_text(result, now))


@cli.command()
@click.option(
    "--quick",
    is_flag=True,
    help="Report the archive from its index (no full read): counts, not each problem.",
)
@archive_option
@click.pass_obj
def check(obj: Context, quick: bool) -> None:
    """Check the setup: settings, handles file, state file, archive, alt text.

    Prints what the archive holds (formats, owner, counts by kind, date range)
    and every item that was skipped or degraded while reading it, with
    file:line and the reason; how many media files have alt text, and every
    row of the alt-text file (`media.alt_text_file`) that cannot be used, with
    its line. Exits 2 when something would stop a run. Reading the whole
    archive also refreshes its index; with --quick the archive is reported
    from that index instead (read first only when there is none): problems
    are counted, not listed, and alt text is left out. Says each retry while
    the server is unreachable, on stderr; exit code 4 when it stays so.

    \b
    Examples:
      tootback check
      tootback check --quick
      tootback --config my.toml check
      tootback check --archive ~/twitter-archive.zip
    """
    from bot import render
    from bot.archive import Summary
    from bot.archive.alttext import alt_texts_for
    from bot.archive.index import build_index
    from bot.bundled import is_demo
    from bot.handles import load_handles
    from bot.model import InstanceLimits
    from bot.state import read_posted, resolve_state_path

    settings = obj.settings()
    read = settings.config
    click.echo(render.check_settings(read.path if read else None, read.named_by if read else None))
    handles_file = settings.mentions.handles_file
    handles = load_handles(handles_file)
    click.echo(render.check_handles(len(handles) if handles_file.exists() else None, handles_file))
    posted = read_posted(settings.state.path)
    state_path = resolve_state_path(settings.state.path)
    click.echo(render.check_state(state_path, len(posted) if state_path.exists() else None))
    path = archive_path(settings)
    if quick:
        summary, problems = archive_source(settings).summary(), None
    else:
        archive = build_index(path, settings.archive.index_dir, settings.archive.limits)
        summary, problems = Summary.of(archive), archive.problems
    click.echo(render.archive_report(summary, problems, path, demo=is_demo(path)))
    if settings.access_token is None or settings.api_base_url is None:
        click.echo(render.check_no_account())
        limits = InstanceLimits()
    else:
        limits = _check_account(obj, settings, summary.username)
    if quick:
        return
    if (too_large := render.media_over_limits(archive, limits)) is not None:
        click.secho(too_large, fg="yellow")  # never uploaded
    alt_file = settings.media.alt_text_file
    alt_texts = alt_texts_for(alt_file, archive, limits.description_limit)
    click.echo(render.check_alt_texts(archive, alt_texts, alt_file, limits.description_limit))


def _say_server_wait(obj: Context) -> OnWait:
    """Says each wait for the server (an outage retried, a rate limit) on stderr, as it starts."""
    from bot import render

    return lambda what, why, until: click.echo(
        render.server_waiting(what, why, until, obj.clock.now()), err=True
    )


def _check_account(obj: Context, settings: Settings, owner: str | None) -> InstanceLimits:
    """Check the token, its account and scopes; returns the instance's limits."""
    from bot import render
    from bot.client import MastodonClient, missing_scopes
    from bot.state import load_state
    from bot.wiring import credentials

    client = MastodonClient(*credentials(settings), obj.clock, on_wait=_say_server_wait(obj))
    account = client.account()
    profile = client.profile()
    limits = profile.limits
    click.echo(render.check_account(account, limits, owner))
    click.echo(render.check_server(profile))
    if (warning := render.owner_warning(account, owner)) is not None:
        click.secho(warning, fg="yellow")
    scopes = client.scopes()
    if scopes is not None and (missing := missing_scopes(scopes)):
        raise AuthError(f"the token lacks {', '.join(sorted(missing))}; run `tootback login` again")
    click.echo(render.check_scopes(scopes, profile.known.scopes))  # what login asks there
    load_state(settings.state.path).bind_account(account)  # raises on another account's state
    return limits


@cli.command()
@date_option("The day to post, YYYY-MM-DD (default: today).")
@click.option(
    "--dry-run", is_flag=True, help="Show what would be posted (= preview); post nothing."
)
@click.option(
    "--tweet",
    "tweet_ids",
    multiple=True,
    metavar="ID",
    help="Post only this tweet (repeatable), whatever its date and filters.",
)
@click.option("--retry-failed", is_flag=True, help="Try again tweets the server refused before.")
@json_option("Print one JSON object of results.")
@archive_option
@click.pass_context
def repost(
    ctx: click.Context,
    day: date | None,
    dry_run: bool,
    tweet_ids: tuple[str, ...],
    retry_failed: bool,
    as_json: bool,
) -> None:
    """Post a day's toots now, in order, each at most once.

    First finishes any toot a crash left half-posted, then posts the day's
    toots spaced by `schedule.min_interval`. Already-posted tweets are skipped,
    so running it twice posts nothing twice. Says "next toot in N s" before each
    wait, and each retry while the server is unreachable. Needs your own
    archive (archive.path or --archive: the bundled demo is for looking only),
    MASTODON_API_BASE_URL and MASTODON_ACCESS_TOKEN (see `tootback login`).
    Exit code 1 when a toot failed, 4 when the server could not be reached.

    \b
    Examples:
      tootback repost --date 2026-04-05 --dry-run
      tootback repost --date 2026-04-05
      tootback repost --tweet 1511171364748771329 --retry-failed
    """
    if dry_run:
        ctx.invoke(preview, day=day, as_json=as_json, show_skipped=False)
        return
    from bot import render
    from bot.exactly_once import settled
    from bot.pacing import failed
    from bot.state import load_state
    from bot.wiring import open_run, repost_jobs

    obj: Context = ctx.obj
    settings = obj.settings()
    the_day = day or today(obj, settings)
    source = archive_source(settings, posting_archive(settings, "repost"))
    state = load_state(settings.state.path)
    jobs, lost = repost_jobs(settings, source, state, the_day, tweet_ids, obj.clock.now())
    done = [settled(state, job.tweet.id, retry_failed=retry_failed) for job in jobs]
    show = (lambda outcome: None) if as_json else _print_outcome
    outcomes: list[Outcome] = list(lost)
    for outcome in lost:  # pending toots that will not be finished, and why
        show(outcome)
    if all(done):
        # Nothing to send (a day already posted): no connection, no request.
        for outcome in filter(None, done):
            show(outcome)
            outcomes.append(outcome)
    else:
        run = open_run(
            settings,
            source,
            obj.clock,
            on_outcome=show,
            on_wait=lambda who: click.echo(render.lock_waiting(who), err=True),
            on_server_wait=_say_server_wait(obj),
            on_pace=lambda seconds: click.echo(render.next_toot_in(seconds), err=True),
        )
        if not as_json and len(jobs) > 3:
            click.echo(render.repost_start(len(jobs), settings.schedule.min_interval))
        outcomes += run.runner.run(jobs, retry_failed=retry_failed)
    if as_json:
        click.echo(json.dumps(render.repost_json(the_day, outcomes), indent=2, ensure_ascii=False))
    else:
        click.echo(render.repost_summary(outcomes))
    if failed(outcomes):
        ctx.exit(EXIT_FAILED)


@cli.command()
@range_options(
    "Post the tweets tweeted from this day on, YYYY-MM-DD (required).",
    "Up to this day, included (required).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Say how many toots, what they cost and how long they take; post nothing.",
)
@click.option(
    "--every",
    type=Span(),
    help="At least this long between two toots, e.g. 10m (default: as fast as the "
    "server's rate-limit budgets allow).",
)
@json_option("Print one JSON object (the plan with --dry-run, else every result).")
@archive_option
@click.pass_context
def backfill(
    ctx: click.Context,
    first: date | None,
    last: date | None,
    dry_run: bool,
    every: timedelta | None,
    as_json: bool,
) -> None:
    """Post the tweets of a range of dates now, in their original order.

    The other way to publish an archive: the past in one go, rather than
    each tweet on its anniversary. Goes through the same exactly-once
    publisher and state file as `repost` and the daemon, so a tweet either
    has posted is never posted again. Paced so that it never meets a 429:
    statuses (300 per 3 h on Mastodon) and media (30 per 30 min) are spent
    evenly, as the server's rate-limit headers say. Interrupted anywhere
    (Ctrl-C, a crash, kill -9), the same command goes on where it stopped.
    Toots are `backfill.visibility` (default unlisted: your followers' home
    timelines are not flooded). A progress bar on a terminal, one line per
    toot otherwise. Exit code 1 when a toot failed, 4 when the server could
    not be reached.

    \b
    Examples:
      tootback backfill --from 2022-03-01 --to 2022-04-30 --dry-run
      tootback backfill --from 2022-03-01 --to 2022-04-30
      tootback backfill --from 2022-03-01 --to 2022-04-30 --every 10m
    """
    if first is None or last is None:
        raise click.UsageError("--from and --to are both needed")
    _days(first, last, longest=None)  # checks the order; a range of tweets: any length
    obj: Context = ctx.obj
    settings = obj.settings()
    spacing = every or timedelta(0)
    if dry_run:
        _backfill_dry_run(obj, settings, first, last, spacing, as_json)
        return
    from bot import render
    from bot.backfill import Cost, Progress
    from bot.pacing import failed
    from bot.state import load_state
    from bot.wiring import backfill_jobs, open_run

    source = archive_source(settings, posting_archive(settings, "backfill"))
    show = _BackfillProgress(obj.clock, quiet=as_json)
    run = open_run(
        settings,
        source,
        obj.clock,
        on_outcome=show.outcome,
        on_wait=lambda who: show.say(render.lock_waiting(who)),
        on_server_wait=lambda what, why, until: show.say(
            render.server_waiting(what, why, until, obj.clock.now())
        ),
        backfill=spacing,
    )
    state = load_state(settings.state.path)
    now = obj.clock.now()
    jobs, lost, plan = backfill_jobs(settings, source, state, run.composer, first, last, now)
    left = sum((plan.costs.get(job.tweet.id, Cost(1, 0)) for job in jobs), Cost())
    show.start(Progress(len(jobs), left, now), plan.costs, run.client, spacing)
    outcomes: list[Outcome] = lost + run.runner.run(jobs)
    show.done()
    if as_json:
        output = render.backfill_json_results(plan, outcomes)
        click.echo(json.dumps(output, indent=2, ensure_ascii=False))
    else:
        click.echo(render.repost_summary(outcomes))
    if failed(outcomes):
        ctx.exit(EXIT_FAILED)


def _backfill_dry_run(
    obj: Context, settings: Settings, first: date, last: date, every: timedelta, as_json: bool
) -> None:
    """The count and the ETA, from the index, without an account."""
    from bot import render
    from bot.backfill import eta
    from bot.client import Budgets
    from bot.options import make_composer
    from bot.preview import archive_range
    from bot.state import load_state
    from bot.wiring import backfill_jobs

    now, source = obj.clock.now(), archive_source(settings)
    c = _composing(settings)
    composer = make_composer(settings, source.without_tweets(), c.handles, c.limits)
    state = load_state(settings.state.path)
    _, _, plan = backfill_jobs(settings, source, state, composer, first, last, now)
    span, binding = eta(Budgets(), plan.total, len(plan.jobs), every, now)
    visibility = settings.backfill.visibility
    if as_json:
        click.echo(json.dumps(render.backfill_json(plan, span, visibility), indent=2))
    else:
        covered = archive_range(source.summary(), settings)
        click.echo(render.backfill_text(plan, span, binding, visibility, covered))


class _BackfillProgress:
    """What `backfill` shows while it runs: on a terminal, one line redrawn after
    each toot (a bar, done/total, the rate, the ETA from the budget that binds);
    otherwise one line per toot. Messages (waits, locks) go on lines of their own."""

    def __init__(self, clock: Clock, quiet: bool) -> None:
        self.clock = clock
        self.quiet = quiet
        self.bar = sys.stderr.isatty()
        self.progress: Progress | None = None
        self.costs: Mapping[str, Cost] = {}
        self.client: MastodonClient | None = None
        self.every = timedelta(0)
        self._drawn = False

    def start(
        self,
        progress: Progress,
        costs: Mapping[str, Cost],
        client: MastodonClient,
        every: timedelta,
    ) -> None:
        self.progress, self.costs, self.client, self.every = progress, costs, client, every
        self._draw()

    def outcome(self, outcome: Outcome) -> None:
        from bot.backfill import Cost
        from bot.render import outcome_line

        if self.progress is None:
            return
        self.progress.record(outcome.result, self.costs.get(outcome.tweet_id, Cost(1, 0)))
        if self.quiet:
            return
        if not self.bar or outcome.result == "failed":
            self._line(f"{outcome_line(outcome)}  {self._status()}")
        self._draw()

    def say(self, message: str) -> None:
        self._line(message)
        self._draw()

    def done(self) -> None:
        if self._drawn:
            click.echo("", err=True)
            self._drawn = False

    def _status(self) -> str:
        from bot.backfill import eta
        from bot.render import progress_line

        assert self.progress is not None and self.client is not None
        budgets = self.client.budgets
        assert budgets is not None
        now = self.clock.now()
        left = self.progress.total - self.progress.done
        span, binding = eta(budgets, self.progress.left, left, self.every, now)
        return progress_line(self.progress, now, span, binding)

    def _draw(self) -> None:
        if self.bar and not self.quiet and self.progress is not None:
            click.echo("\r\x1b[2K" + self._status(), nl=False, err=True)
            self._drawn = True

    def _line(self, text: str) -> None:
        if self._drawn:
            click.echo("\r\x1b[2K", nl=False, err=True)
            self._drawn = False
        click.echo(text, err=True)


def _print_outcome(outcome: Outcome) -> None:
    from bot.render import outcome_line

    click.secho(outcome_line(outcome), fg="red" if outcome.result == "failed" else None)


@cli.command()
@json_option("Print one JSON object.")
@archive_option
@click.pass_obj
def status(obj: Context, as_json: bool) -> None:
    """Show what happened: posted, pending and failed counts, the last post,
    and today's toots (posted, to come, due now, missed).

    Reads the state file and the archive; makes no request.

    \b
    Examples:
      tootback status
      tootback status --json
    """
    from bot.options import day_reader, plan
    from bot.render import status_json, status_text
    from bot.state import load_state
    from bot.status import day_status

    settings = obj.settings()
    state = load_state(settings.state.path)
    source = archive_source(settings)
    days = day_reader(settings, source)
    the_day = today(obj, settings)
    day_plan = plan(days(the_day), the_day, settings)
    report = day_status(
        day_plan, state, obj.clock.now(), timedelta(seconds=settings.schedule.catch_up)
    )
    ahead = None
    if not day_plan.due:  # say what the archive holds and when toots come next
        ahead = _ahead(settings, source, the_day, _composing(settings, state))
    zone = settings.selection.timezone
    if as_json:
        click.echo(json.dumps(status_json(state, report, zone, ahead), indent=2))
    else:
        click.echo(status_text(state, report, zone, ahead))


@cli.group(cls=TootbackGroup, name="alt-text")
def alt_text() -> None:
    """Alt text for your media: list the files, describe them, have them used."""


@alt_text.command("export")
@click.argument("file", type=UserPath(path_type=Path, dir_okay=False))
@archive_option
@click.pass_obj
def alt_text_export(obj: Context, file: Path) -> None:
    """Write every media file of the archive to FILE.csv, to describe them.

    One row per file: tweet_id, date, file, archive_alt_text (what the
    archive has, often nothing), alt_text (empty, for you) and tweet_text
    (what the tweet said). Fill in the alt_text column in a spreadsheet or an
    editor, keep the file UTF-8 CSV, and point `media.alt_text_file` at it:
    its descriptions are uploaded with the media, and the archive's own alt
    text is used where you leave the cell empty. An existing FILE is never
    overwritten.

    \b
    Examples:
      tootback alt-text export alt-text.csv
      TOOTBACK_MEDIA__ALT_TEXT_FILE=alt-text.csv tootback check
    """
    from bot import render
    from bot.archive.alttext import write_alt_text_file

    settings = obj.settings()
    archive = archive_source(settings).whole()
    try:
        # utf-8-sig: spreadsheets take a file without the mark for their local codepage.
        with file.open("x", encoding="utf-8-sig", newline="") as handle:
            rows = write_alt_text_file(handle, archive.tweets, settings.selection.zone)
    except FileExistsError:
        raise UsageError(
            "FILE",
            f"{file} exists (it may hold your descriptions); name a new file or move it away first",
        ) from None
    except OSError as exc:
        raise _cannot_write("FILE", file, exc) from None
    with_alt = sum(bool(m.description) for t in archive.tweets for m in t.media if not m.problem)
    click.echo(render.alt_text_exported(file, rows, with_alt))


@cli.group(cls=TootbackGroup)
def state() -> None:
    """Maintain the state file (what was posted as which status)."""


@state.command()
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="How many of the account's latest statuses (boosts included) to read.",
)
@archive_option
@click.pass_obj
def rebuild(obj: Context, limit: int) -> None:
    """Rebuild the state file from the account's own statuses.

    For a lost state file (an ephemeral disk, a new machine): finds this
    archive's toots among the account's latest statuses and records them as
    posted, so they are never posted again; a boost of one of them, as the
    retweet it was posted for. Tweets the state file already
    knows are kept as they are. Says how many statuses of each visibility it
    could see, and warns when the server hides some (toots among them are not
    protected from a repost); where the account's own list leaves out private
    statuses (Takahe), the home timeline is read too. Makes about limit/40
    requests per list.

    \b
    Examples:
      tootback state rebuild
      tootback state rebuild --limit 10000
    """
    from bot.rebuild import Matcher
    from bot.rebuild import rebuild as rebuild_state
    from bot.render import rebuild_report
    from bot.wiring import open_run, seen_statuses

    settings = obj.settings()
    run = open_run(settings, archive_source(settings), obj.clock)
    seen = seen_statuses(run, limit)
    with run.store.lock():
        current = run.store.load().bind_account(run.client.account())
        new, report = rebuild_state(current, seen.statuses, Matcher(run.source.whole().tweets))
        run.store.save(new)
    click.echo(rebuild_report(report, seen, settings.post.visibility))


@state.command()
@click.option("--tweet", "tweet_id", required=True, metavar="ID", help="The tweet to forget.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def forget(obj: Context, tweet_id: str, yes: bool) -> None:
    """Remove one tweet's record (posted, pending or failed) from the state file.

    For a record that stands in the way: a pending toot that can never be
    finished, a failed one you gave up on, or a posted one whose status you
    deleted and want posted again. Shows the record and what forgetting it
    means, and asks first (--yes skips the question; without a terminal,
    --yes is required). The previous file is kept as state.json.bak.

    \b
    Examples:
      tootback state forget --tweet 1511171364748771329
      tootback state forget --tweet 1511171364748771329 --yes
    """
    from bot import render
    from bot.state import StateStore, load_state

    settings = obj.settings()
    path = settings.state.path
    record = load_state(path).record(tweet_id)
    if record is None:
        held = "has no record of" if path.exists() else "does not exist: nothing to forget of"
        raise UsageError("--tweet", f"{path} {held} tweet {tweet_id}")
    question = render.forget_question(tweet_id, record)
    if not yes:
        if not _interactive():
            raise UsageError("--yes", "no terminal to ask for confirmation: add --yes")
        if not click.confirm(question, default=False):
            click.echo("nothing changed")
            return
    # The lock is taken only now: a question left open must not block the daemon.
    store = StateStore(path, obj.clock)
    with store.lock():
        current = store.load()
        if current.record(tweet_id) != record:
            raise UsageError("--tweet", f"tweet {tweet_id}'s record changed meanwhile; run again")
        store.save(current.forget(tweet_id))
    click.echo(render.forgotten(tweet_id, path))


def _interactive() -> bool:
    """Whether a person can answer a question: stdin is a terminal."""
    return sys.stdin is not None and sys.stdin.isatty()


def _writable_here(path: Path) -> Path:
    # Checked before the login, so that the token it gets is never lost to a typo.
    folder = path.parent
    if not folder.is_dir():
        raise click.BadParameter(f"folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise click.BadParameter(f"{path} cannot be written")
    return path


def _instance_url(value: str) -> str:
    from bot.settings import check_base_url

    try:
        return check_base_url(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command()
@click.option(
    "--instance",
    required=True,
    callback=lambda ctx, param, value: _instance_url(value),
    help="Your Mastodon instance, e.g. mastodon.social or https://mastodon.social",
)
@click.option(
    "--env-file",
    type=UserPath(path_type=Path, dir_okay=False),
    default=Path(".env"),
    show_default=True,
    callback=lambda ctx, param, value: _writable_here(value),
    help="Where to save the token.",
)
def login(instance: str, env_file: Path) -> None:
    """Get an access token for your account, without reading API docs.

    Registers tootback on your instance with the few scopes it needs, as
    your server's software honours them (read from its public nodeinfo:
    write:statuses write:media read:accounts read:statuses on Mastodon,
    GoToSocial and Pleroma; read write:statuses write:media on Takahē; read
    write where the software is unknown), shows a page to open in your
    browser, and asks for the code that page shows. The token is written to
    .env (mode 0600) and never printed.

    \b
    Example:
      tootback login --instance mastodon.social
    """
    from bot import render
    from bot.client import finish_login, start_login
    from bot.envfile import save_secrets

    flow = start_login(instance)
    click.echo(render.login_page(flow.authorize_url))
    try:
        code = click.prompt(render.LOGIN_PROMPT, hide_input=True)
    except click.Abort:
        raise UsageError("login", "no code was entered; paste the code the page shows") from None
    token = finish_login(flow, code)
    save_secrets(env_file, instance, token)
    click.echo(render.login_saved(env_file))


@cli.command()
@click.option(
    "--dry-run",
    is_flag=True,
    help="Log what would be posted at each due time; post nothing (no account needed).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="One line per event on stderr, plain or JSON.",
)
@archive_option
@click.pass_context
def daemon(ctx: click.Context, dry_run: bool, log_format: str) -> None:
    """Run for months: post each day's toots at their due times, each once.

    At start it finishes toots a crash left pending, posts the toots that fell
    due while it was down and are at most `schedule.catch_up` late (older ones
    are logged as missed, and `tootback status` lists them), then posts each
    toot at its due time and plans the next day at local midnight.
    Outages are retried with backoff, each failed attempt logged. SIGTERM/SIGINT
    stop it cleanly (exit 0); a refused token stops it with exit 2, and so does
    the bundled demo archive (set archive.path to your own; --dry-run may look
    at the demo). Logs one line per event on stderr.

    \b
    Examples:
      tootback daemon --dry-run
      tootback daemon
      tootback daemon --log-format json
      python -m bot daemon          (the Procfile's worker)
    """
    from bot.daemon import run_daemon

    obj: Context = ctx.obj
    settings = obj.settings()
    # APScheduler fires jobs on real time, so the daemon's clock must be real too.
    clock = obj.clock if isinstance(obj.clock, SystemClock) else SystemClock()
    archive = archive_path(settings) if dry_run else posting_archive(settings, "daemon")
    ctx.exit(run_daemon(settings, archive, clock, dry_run=dry_run, log_format=log_format))


def main() -> None:
    """The console script `tootback`."""
    cli(prog_name="tootback")
