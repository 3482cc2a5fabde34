"""The `tootback` command line (also `python -m bot`).

Commands are thin: read settings once, call the pipeline, print. Every
TootbackError is caught here, at the edge, and becomes a message on stderr and
the exit code of DESIGN §9 (0 ok, 1 some toots failed, 2 usage or settings,
3 state locked).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from bot import __version__
from bot.errors import EXIT_USAGE, TootbackError
from bot.settings import DEFAULT_ARCHIVE, Settings, load_settings

# The seeds archive beside the package (a source or editable install), so that
# `tootback preview` works out of the box even outside the project folder.
BUNDLED_SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@dataclass
class Context:
    """What every command shares: the config file named on the command line, and the clock."""

    config: Path | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def settings(self, **overrides: dict[str, Any]) -> Settings:
        clean = {k: {kk: vv for kk, vv in v.items() if vv is not None} for k, v in overrides.items()}
        return load_settings(self.config, {k: v for k, v in clean.items() if v})


class TootbackGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TootbackError as exc:
            click.secho(f"tootback: {exc}", err=True, fg="red")
            ctx.exit(exc.exit_code)


DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.group(cls=TootbackGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tootback")
@click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
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
    """The archive to read; the default `seeds` falls back to the bundled copy."""
    path = settings.archive.path
    if path == DEFAULT_ARCHIVE and not path.exists() and BUNDLED_SEEDS.is_dir():
        return BUNDLED_SEEDS
    return path


def today(ctx: Context, settings: Settings) -> date:
    return ctx.now().astimezone(settings.selection.zone).date()


@cli.command()
@click.option("--date", "day", type=DATE, help="The day to preview, YYYY-MM-DD (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (a stable contract).")
@click.option("--show-skipped", is_flag=True, help="Also list skipped tweets and why.")
@click.option("--archive", type=click.Path(path_type=Path), help="Archive file, folder or .zip.")
@click.pass_obj
def preview(
    obj: Context, day: datetime | None, as_json: bool, show_skipped: bool, archive: Path | None
) -> None:
    """Show what `repost` would post on a day, exactly as it would be sent.

    For each toot: its due time, its text with rewritten links and mentions
    and the footer, its length against the limit, media and reply-to. Needs no
    account, sends nothing and never writes the state file (it reads it, to
    mark what is already posted).

    \b
    Examples:
      tootback preview --date 2026-04-05
      tootback preview --date 2026-04-05 --show-skipped
      tootback preview --date 2026-04-05 --json
      TOOTBACK_SELECTION__INCLUDE_REPLIES=true tootback preview --date 2026-04-05
      tootback preview --archive ~/twitter-2023.zip --date 2026-03-20
    """
    from bot.archive import load_archive
    from bot.pipeline import preview_day
    from bot.render import day_json, day_text
    from bot.settings import load_handles
    from bot.state import read_posted

    settings = obj.settings(archive={"path": archive})
    the_day = day.date() if day else today(obj, settings)
    loaded = load_archive(archive_path(settings))
    result = preview_day(
        loaded,
        the_day,
        settings,
        posted=read_posted(settings.state.path),
        handles=load_handles(settings.mentions.handles_file),
    )
    if as_json:
        click.echo(json.dumps(day_json(result, show_skipped), ensure_ascii=False, indent=2))
    else:
        click.echo(day_text(result, show_skipped))


@cli.command()
@click.option("--archive", type=click.Path(path_type=Path), help="Archive file, folder or .zip.")
@click.pass_obj
def check(obj: Context, archive: Path | None) -> None:
    """Check the setup: settings, handles file, state file and archive.

    Prints what the archive holds (formats, owner, counts by kind, date range)
    and every item that was skipped or degraded while reading it, with
    file:line and the reason. Exits 2 when something would stop a run.

    \b
    Examples:
      tootback check
      tootback --config my.toml check
      tootback check --archive ~/twitter-archive.zip
    """
    from bot.archive import load_archive
    from bot.render import archive_report
    from bot.settings import load_handles
    from bot.state import read_posted

    settings = obj.settings(archive={"path": archive})
    click.echo(f"settings: ok (config {obj.config or 'default'})")
    handles = load_handles(settings.mentions.handles_file)
    click.echo(f"handles: {len(handles)} mapped in {settings.mentions.handles_file}")
    posted = read_posted(settings.state.path)
    click.echo(f"state: {settings.state.path}: {len(posted)} tweets posted")
    click.echo(archive_report(load_archive(archive_path(settings))))
    if settings.access_token is None:
        click.echo("account: no MASTODON_ACCESS_TOKEN set (needed to post; `tootback login` gets one)")


@cli.command()
@click.option("--dry-run", is_flag=True, help="Log what would be posted; post nothing.")
def daemon(dry_run: bool) -> None:
    """Run for months: post each day's toots at their due times.

    \b
    Not built yet; until then post a day by hand:
      tootback preview --date 2026-04-05
    """
    click.secho("tootback: the daemon is not implemented yet", err=True, fg="red")
    raise SystemExit(EXIT_USAGE)


def main() -> None:
    """The console script `tootback`."""
    cli(prog_name="tootback")
