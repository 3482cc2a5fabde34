"""Every printed shape of the commands, for people and for scripts.

Pure: each function returns a line, a few lines, or a JSON-ready dict; the
CLI prints them. The `--json` shapes are contracts (docs/design.md, "The commands"):
fields may be added, never renamed. The daemon's log lines are
worded in `bot.daemon.events`, with the commands they suggest spelled here.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot.archive import Archive, Problem, Summary
from bot.archive.alttext import AltTexts
from bot.model import InstanceLimits, LengthRule, Quote, Toot, TootPart
from bot.state import Failed, Pending, Posted, State

if TYPE_CHECKING:  # types only: render must stay cheap to import for `preview`
    from bot.backfill import BackfillPlan, Progress
    from bot.calendar import Calendar, DayCount
    from bot.client import Account
    from bot.exactly_once import Outcome
    from bot.preview import DayPreview, Outlook
    from bot.profile import ServerProfile
    from bot.rebuild import RebuildReport
    from bot.status import DayStatus
    from bot.wiring import SeenStatuses

# --- the commands a message suggests ------------------------------------------------------


def repost_command(tweet_id: str) -> str:
    """The command that posts one tweet now, whatever its date (a missed toot)."""
    return f"tootback repost --tweet {tweet_id}"


def retry_command(tweet_id: str) -> str:
    """The command that posts again a tweet the server refused."""
    return f"{repost_command(tweet_id)} --retry-failed"


# --- preview ------------------------------------------------------------------------------


def day_json(
    preview: DayPreview, show_skipped: bool, ahead: Outlook | None = None
) -> dict[str, Any]:
    """The `preview --json` object: date, timezone, max_characters, length_rule,
    limit_from, toots, skipped; on a day without toots also `archive_range` and
    `next_day` (see `outlook_json`)."""
    shown = {
        "date": preview.day.isoformat(),
        "timezone": preview.timezone,
        "max_characters": preview.max_characters,
        "length_rule": preview.length_rule,
        "limit_from": preview.limit_from,
        "toots": [_toot_json(toot, preview) for toot in preview.toots],
        "skipped": [
            {"tweet_id": skip.tweet_id, "reason": skip.reason}
            for skip in (preview.skipped if show_skipped else ())
        ],
    }
    return shown | (outlook_json(ahead) if ahead else {})


def outlook_json(ahead: Outlook) -> dict[str, Any]:
    """`archive_range`: {"first", "last"}, the local dates of the archive's first and
    last tweets (null when it has none); `next_day`: {"date", "toots"} of the next day
    with toots, null when no day of the next four years has any."""
    return {
        "archive_range": None
        if ahead.first is None or ahead.last is None
        else {"first": ahead.first.isoformat(), "last": ahead.last.isoformat()},
        "next_day": None
        if ahead.next_day is None
        else {"date": ahead.next_day.isoformat(), "toots": ahead.next_toots},
    }


def outlook_text(ahead: Outlook) -> str:
    """What a day without toots says: the archive's range, and the next day with toots."""
    if ahead.first is None or ahead.last is None:
        return "The archive holds no tweets."
    text = f"The archive's tweets run from {ahead.first} to {ahead.last}"
    if ahead.next_day is None:
        return text + "; no day in the next four years has toots (filters and settings?)."
    return (
        f"{text}; the next day with toots is {ahead.next_day:%a %Y-%m-%d} "
        f"({plural(ahead.next_toots, 'toot')}): tootback preview --date {ahead.next_day}"
    )


def _toot_json(toot: Toot, preview: DayPreview) -> dict[str, Any]:
    return {
        "tweet_id": toot.tweet_id,
        "tweeted_at": toot.tweeted_at.astimezone(toot.due.tzinfo).isoformat(),
        "due": toot.due.isoformat(),
        "in_reply_to_tweet": toot.in_reply_to_tweet,
        "already_posted": toot.tweet_id in preview.posted,
        "failed_before": preview.failed.get(toot.tweet_id),
        "language": toot.language,
        "sensitive": toot.sensitive,
        "quote": _quote_json(toot.quote),
        "boost_of_tweet": toot.boost_of_tweet,
        "parts": [_part_json(part) for part in toot.parts],
    }


def _quote_json(quote: Quote | None) -> dict[str, str] | None:
    if quote is None:
        return None
    return {"tweet_id": quote.tweet_id, "form": quote.form, "reason": quote.reason}


def _part_json(part: TootPart) -> dict[str, Any]:
    return {
        "text": part.text,
        "length": part.length,
        "media": [{"path": m.path, "description": m.description} for m in part.media],
    }


def limit_line(max_characters: int, rule: LengthRule, source: str) -> str:
    """What the lengths are measured against, and where that came from."""
    counted = "as Mastodon counts" if rule == "mastodon" else "counted in code points"
    return f"limit: {max_characters} characters, {counted}" + (f" ({source})" if source else "")


def day_text(preview: DayPreview, show_skipped: bool, ahead: Outlook | None = None) -> str:
    """The human `preview`: each toot exactly as sent, then a one-line summary (and on a
    day without toots, the `outlook_text`)."""
    lines = [
        f"{preview.day:%a %Y-%m-%d} ({preview.timezone}): on this day in earlier years",
        limit_line(preview.max_characters, preview.length_rule, preview.limit_from),
        "",
    ]
    for toot in preview.toots:
        lines += _toot_text(toot, preview)
    if show_skipped and preview.skipped:
        lines.append("skipped:")
        lines += [f"  {skip.tweet_id}  {skip.reason}" for skip in preview.skipped]
        lines.append("")
    lines.append(_summary(preview, show_skipped))
    if ahead is not None:
        lines.append(outlook_text(ahead))
    if preview.alt_text_problems:
        lines.append(
            f"The alt-text file has {plural(len(preview.alt_text_problems), 'row')} "
            "that cannot be used; `tootback check` lists them."
        )
    return "\n".join(lines)


def _toot_text(toot: Toot, preview: DayPreview) -> list[str]:
    limit = preview.max_characters
    mark = "  [already posted]" if toot.tweet_id in preview.posted else ""
    lines = [
        f"{toot.due:%H:%M} due {toot.due:%Y-%m-%d %H:%M %Z}  tweet {toot.tweet_id} "
        f"of {toot.tweeted_at.astimezone(toot.due.tzinfo):%Y-%m-%d %H:%M}{mark}"
    ]
    if toot.tweet_id in preview.failed:
        lines.append(
            f"  failed before: {preview.failed[toot.tweet_id]}; repost skips it "
            f"({retry_command(toot.tweet_id)} tries it again)"
        )
    if toot.in_reply_to_tweet:
        lines.append(f"  reply to tweet {toot.in_reply_to_tweet} (its toot, if posted)")
    if toot.boost_of_tweet is not None:
        lines.append(
            f"  a boost of the toot of tweet {toot.boost_of_tweet}: a retweet of your own tweet"
        )
    if toot.quote is not None:
        form = "a quote post" if toot.quote.form == "quote" else "a link"
        lines.append(f"  quotes tweet {toot.quote.tweet_id}: {form}, as {toot.quote.reason}")
    marks = ([f"language {toot.language}"] if toot.language else []) + (
        ["marked sensitive"] if toot.sensitive else []
    )
    if marks:
        lines.append(f"  {', '.join(marks)}")
    for number, part in enumerate(toot.parts, 1):
        if len(toot.parts) > 1:
            lines.append(
                f"  part {number}/{len(toot.parts)}, a reply to the part before"
                if number > 1
                else f"  part 1/{len(toot.parts)}"
            )
        lines += [f"  │ {line}" for line in part.text.split("\n")]
        lines.append(f"  └ {part.length}/{limit} characters{_media_text(part)}")
    lines.append("")
    return lines


def _media_text(part: TootPart) -> str:
    return "".join(
        f"\n    media: {m.path}"
        + (f"  alt: {m.description!r}" if m.description else "  (no alt text)")
        for m in part.media
    )


def _summary(preview: DayPreview, show_skipped: bool) -> str:
    parts = sum(len(t.parts) for t in preview.toots)
    boosts = sum(t.boost_of_tweet is not None for t in preview.toots)
    posted = sum(t.tweet_id in preview.posted for t in preview.toots)
    made = plural(parts, "status", "statuses") + (f", {plural(boosts, 'boost')}" if boosts else "")
    text = f"{plural(len(preview.toots), 'toot')} ({made})"
    if posted:
        text += f", {posted} already posted"
    if preview.failed:
        text += f", {len(preview.failed)} failed before"
    text += f", {len(preview.skipped)} skipped"
    if preview.skipped and not show_skipped:
        text += " (--show-skipped lists them)"
    return text + ". Nothing was posted."


def plural(count: int, one: str, many: str | None = None) -> str:
    """ "1 toot", "2 toots" ("status" takes `many`="statuses")."""
    return f"{count} {one if count == 1 else many or one + 's'}"


# --- repost -------------------------------------------------------------------------------


def repost_start(toots: int, min_interval: int) -> str:
    """Said before a long run, so that a quiet minute is not taken for a hang."""
    return f"{toots} toots to go, one every {min_interval} s at most"


def next_toot_in(seconds: float) -> str:
    """Said once before each wait between two toots."""
    return f"next toot in {math.ceil(seconds)} s"


def server_waiting(what: str, why: str, until: datetime, now: datetime) -> str:
    """Said once before each wait for the server: an outage retried, a rate limit."""
    return f"{what}: {why}; trying again in {math.ceil((until - now).total_seconds())} s"


def lock_waiting(holder: str) -> str:
    """Another process holds the state lock; `holder` names it."""
    return f"waiting for the state lock: {holder}"


def outcome_line(outcome: Outcome) -> str:
    """One tweet's result as `repost` prints it as soon as it is known."""
    text = f"{outcome.result:<15} tweet {outcome.tweet_id}"
    if outcome.url:
        text += f"  {outcome.url}"
    if outcome.detail:
        text += f"  ({outcome.detail})"
    return text


def repost_summary(outcomes: Sequence[Outcome]) -> str:
    """The last line of `repost`: how many tweets had each result."""
    counts = Counter(o.result for o in outcomes)
    if not outcomes:
        return "nothing to post"
    return ", ".join(f"{n} {result}" for result, n in sorted(counts.items()))


def repost_json(day: date, outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The `repost --json` object: date, results, counts."""
    return {"date": day.isoformat()} | _results_json(outcomes)


def _results_json(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    return {
        "results": [
            {"tweet_id": o.tweet_id, "result": o.result, "url": o.url, "detail": o.detail}
            for o in outcomes
        ],
        "counts": dict(Counter(o.result for o in outcomes)),
    }


# --- status -------------------------------------------------------------------------------


def status_json(
    state: State, today: DayStatus, timezone: str, ahead: Outlook | None = None
) -> dict[str, Any]:
    """The `status --json` object; on a day without toots, `today` also holds the
    archive's range and the next day with toots (`outlook_json`)."""
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
            **(outlook_json(ahead) if ahead else {}),
        },
    }


def status_text(state: State, today: DayStatus, timezone: str, ahead: Outlook | None = None) -> str:
    """The human `status` (on a day without toots, with the `outlook_text`)."""
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
        f"post it with: {repost_command(d.tweet.id)}"
        for d in today.missed
    ]
    if ahead is not None:
        lines.append(f"  nothing to post today. {outlook_text(ahead)}")
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
            f"{retry_command(tweet_id)}"
        )
    return f"posted: tweet {tweet_id}"


# --- check --------------------------------------------------------------------------------


def check_settings(config: Path | None, named_by: str | None = None) -> str:
    """The settings were read and are valid; `config` the config file read (None: there
    was none), `named_by` what named it (--config, TOOTBACK_CONFIG; None: the default)."""
    if config is None:
        return "settings: ok (no config file: defaults and environment)"
    return f"settings: ok (config file {config}{f', from {named_by}' if named_by else ''})"


def check_handles(mapped: int | None, path: Path) -> str:
    """How many names the handles file maps; None: there is no such file (the default
    one may be missing)."""
    if mapped is None:
        return f"handles: none ({path} does not exist: every mention follows mentions.unmapped)"
    return f"handles: {mapped} mapped in {path}"


def check_state(path: Path, posted: int | None) -> str:
    """What the state file says; `posted` None: there is no file yet."""
    if posted is None:
        return f"state: {path}: no file yet (nothing posted; repost creates it)"
    return f"state: {path}: {plural(posted, 'tweet')} posted"


# The kinds of tweet `check` counts (`archive.base.tweet_kind`), as one of each is said.
_ONE_KIND = {
    "originals": "original",
    "retweets": "retweet",
    "replies to others": "reply to others",
    "self-replies": "self-reply",
}


def archive_report(
    summary: Summary, problems: Sequence[Problem] | None, path: Path, demo: bool = False
) -> str:
    """What `check` says about an archive: formats, counts by kind, range, problems.

    path: the archive as given (a file, a folder or a .zip; `summary.root` is the
        folder a single file's media are found in).
    problems: every item skipped or degraded (a full read), or None when the
        summary comes from the index (`check --quick`): then only their number.
    demo: it is the bundled demo archive, which the posting commands refuse.
    """
    where = "the bundled demo archive" if demo else str(path)
    kinds = ", ".join(
        f"{n} {_ONE_KIND.get(kind, kind) if n == 1 else kind}"
        for kind, n in sorted(summary.kinds.items())
    )
    lines = [
        f"archive: {where} ({', '.join(summary.formats)}), owner @{summary.username or '?'}",
        f"  {summary.count} tweets: {kinds}",
        f"  {summary.with_media} with media",
    ]
    if summary.first and summary.last:
        lines.append(f"  from {summary.first:%Y-%m-%d} to {summary.last:%Y-%m-%d}")
    if demo:
        lines.append("  for looking only: to post, set archive.path to your own archive")
    if problems is None and summary.problems:
        lines.append(
            f"  {plural(summary.problems, 'item')} skipped or degraded when it was last read whole "
            "(`tootback check` lists them)"
        )
    elif problems:
        lines.append(f"  {plural(len(problems), 'item')} skipped or degraded:")
        lines += [f"    {p.where}: {p.reason}" for p in problems]
    return "\n".join(lines)


def check_alt_texts(
    archive: Archive, alt_texts: AltTexts, path: Path | None, description_limit: int
) -> str:
    """How many media files have alt text, from where, and the alt-text file's bad rows."""
    media = [(t.id, m) for t in archive.tweets for m in t.media if m.problem is None]
    from_file = sum(alt_texts.description(tid, m) is not None for tid, m in media)
    from_archive = sum(
        bool(m.description) and alt_texts.description(tid, m) is None for tid, m in media
    )
    line = f"alt text: {from_file + from_archive} of {plural(len(media), 'media file')}"
    if path is None:
        line += " (from the archive; `tootback alt-text export FILE.csv` lists them to fill in)"
        return line
    line += f" ({from_archive} from the archive, {from_file} from {path})"
    if not alt_texts.problems:
        return line
    lines = [
        line,
        f"  {plural(len(alt_texts.problems), 'row')} of {path} not used "
        f"(descriptions up to {description_limit} characters):",
    ]
    return "\n".join(lines + [f"    {problem}" for problem in alt_texts.problems])


def alt_text_exported(path: Path, rows: int, with_alt: int) -> str:
    """What `alt-text export` wrote, and what to do next."""
    return (
        f"wrote {plural(rows, 'media file')} to {path} ({with_alt} with alt text from the "
        "archive).\nFill in its alt_text column (keep it UTF-8), then set "
        f'media.alt_text_file = "{path}"; `tootback check` says how many have alt text.'
    )


def check_no_account() -> str:
    """No token yet: nothing more to check."""
    return "account: not set up (needed to post; `tootback login` gets a token)"


def check_account(account: Account, limits: InstanceLimits, owner: str | None) -> str:
    """The token's account beside the archive's owner, and the instance's limits."""
    return (
        f"account: @{account.acct} on {account.instance} (token valid); "
        f"archive owner: @{owner or '?'}\n"
        f"instance: {limits.max_characters} characters, {limits.max_media_attachments} "
        f"media, alt text up to {limits.description_limit} characters"
    )


def check_server(profile: ServerProfile) -> str:
    """The server's software and what tootback knows of how it behaves (bot.software)."""
    known = profile.known
    length = "as Mastodon counts" if known.length == "mastodon" else "in code points"
    hidden = " and ".join(sorted(known.own_list_hides, reverse=True))
    own = f"hides {hidden} statuses" if hidden else "shows every visibility"
    return (
        f"server: {profile.describe()} ({known.title}): Idempotency-Key {known.key}, "
        f"length counted {length}, the account's own list {own}"
    )


def media_over_limits(archive: Archive, limits: InstanceLimits) -> str | None:
    """The archive's media files the server cannot take (their type or size, against
    its profile: `compose.media`), which are never uploaded; None if there are none."""
    from bot.compose.media import MediaLimits

    media = MediaLimits.of(limits)
    found = [
        (m, why)
        for t in archive.tweets
        for m in t.media
        if m.problem is None and (why := media.refusal(m)) is not None
    ]
    if not found:
        return None
    lines = [
        f"media: {len(found)} files the server cannot take are never uploaded "
        "(`media.refused` says what becomes of their tweets):"
    ]
    lines += [f"  {m.path}: {why}" for m, why in found[:20]]
    if len(found) > 20:
        lines.append(f"  … and {len(found) - 20} more")
    return "\n".join(lines)


def owner_warning(account: Account, owner: str | None) -> str | None:
    """A warning when the archive's owner and the account's name differ, else None.

    Only a warning: many people took another name on Mastodon.
    """
    local = account.acct.partition("@")[0]
    if owner is None or owner.casefold() == local.casefold():
        return None
    return (
        f"warning: the archive is @{owner}'s and the account is @{local}: make sure the "
        "archive is your own before posting (names often differ between the two networks)"
    )


def check_scopes(scopes: Sequence[str] | None, needed: str) -> str:
    """The token's scopes (None: the server does not say)."""
    if scopes is None:
        return f"scopes: not reported by the server; tootback needs {needed}"
    return f"scopes: {' '.join(scopes)}"


# --- state rebuild ------------------------------------------------------------------------


def rebuild_report(report: RebuildReport, seen: SeenStatuses, visibility: str) -> str:
    """What `state rebuild` found, what it could see, and what it could not."""
    kinds = ", ".join(f"{n} {name}" for name, n in report.visibilities) or "none"
    where = "the account's own list and its home timeline" if seen.home else "the account's list"
    lines = [
        f"read {plural(report.seen, 'status', 'statuses')} ({kinds}) from {where}: "
        f"{report.recovered} toots "
        f"recovered, {report.already_known} already known, {report.unmatched} not from this "
        "archive"
    ]
    lines += [f"  a second toot of the same tweet exists: {url}" for url in report.duplicates]
    lines += [f"  a second boost of the same toot exists: {url}" for url in report.boosted_twice]
    if seen.hidden:
        hidden = " and ".join(sorted(seen.hidden))
        where = "were looked for in" if seen.home else "could not be looked for in"
        lines.append(
            f"note: this server leaves {hidden} statuses out of the account's own list; "
            f"they {where} the home timeline"
        )
    missing = (seen.reported or 0) - report.seen
    if missing > 0 and not seen.limit_reached:
        lines.append(
            f"warning: the server says the account has {seen.reported} statuses and showed "
            f"{report.seen}: {missing} are hidden from tootback, and toots among them are not "
            f"protected from a repost (this account posts {visibility}). Check that none of "
            "this archive's toots is among them before the next repost"
        )
    if seen.limit_reached:
        lines.append(
            "note: the --limit was reached; older statuses were not read "
            "(tootback state rebuild --limit N reads more)"
        )
    return "\n".join(lines)


# --- state forget -------------------------------------------------------------------------


def forget_question(tweet_id: str, record: Pending | Failed | Posted) -> str:
    """What `state forget` is about to remove, what that means, and the question."""
    if isinstance(record, Posted):
        what = (
            f"tweet {tweet_id} is posted as {record.url} "
            f"({plural(len(record.status_ids), 'status', 'statuses')}, {record.posted_at:%Y-%m-%d})"
        )
        then = (
            "Forgotten, it may be posted again by `repost` or the daemon; the status stays "
            "on the server (delete it there first if you want it gone)."
        )
    elif isinstance(record, Pending):
        what = f"tweet {tweet_id} is pending since {record.since:%Y-%m-%d %H:%M %Z}"
        then = (
            "Its status may already be on the server: forgotten, the record no longer lets "
            "tootback look for it there, and posting the tweet again may make a second one."
        )
    else:
        what = f"tweet {tweet_id} failed ({record.attempts}x): {record.error}"
        then = "Forgotten, it is posted like a new tweet on its day or with `repost --tweet`."
    return f"{what}\n{then}\nRemove this record from the state file?"


def forgotten(tweet_id: str, path: Path) -> str:
    return f"forgot tweet {tweet_id} (the previous file is kept as {path.name}.bak)"


# --- login --------------------------------------------------------------------------------

LOGIN_PROMPT = "Then paste the code it shows here"


def login_page(authorize_url: str) -> str:
    """Where the user approves tootback."""
    return f"Open this page, log in and approve tootback:\n\n  {authorize_url}\n"


def login_saved(env_file: Path) -> str:
    """The token is saved; what to do next."""
    return (
        f"Saved MASTODON_API_BASE_URL and MASTODON_ACCESS_TOKEN to {env_file} (mode 0600).\n"
        "Check the setup with: tootback check"
    )


# -- calendar ---------------------------------------------------------------------------

SHADES = " ░▒▓█"  # heat levels 0..4, drawn beside each count: readable without colour
_HEAT_COLOURS = ("", "cyan", "blue", "magenta", "red")
_WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_CELL = 4  # a count of up to 999 and its shade
_MONTH_WIDTH = 7 * (_CELL + 1) - 1
_LISTED = 10  # days listed under "over max_per_day" before "and N more"


def calendar_json(calendar: Calendar) -> dict[str, Any]:
    """The `calendar --json` object: the range, the total and every day's count."""
    return {
        "from": calendar.first.isoformat(),
        "to": calendar.last.isoformat(),
        "timezone": calendar.timezone,
        "max_per_day": calendar.max_per_day,
        "total": calendar.total,
        "days": [
            {"date": d.day.isoformat(), "toots": d.toots, "trimmed": d.trimmed}
            for d in calendar.days
        ],
    }


def calendar_text(calendar: Calendar, today: date) -> str:
    """The `calendar` grid, months side by side: each day's number, and under it
    its count with a shade of its heat (colour too, on a terminal); then the
    totals, the busiest days, the days over the cap and the next day."""
    peak = max((d.toots for d in calendar.days), default=0)
    counts = {d.day: d for d in calendar.days}
    months = sorted({(d.day.year, d.day.month) for d in calendar.days})
    lines = [calendar_totals(calendar), ""]
    for i in range(0, len(months), 2):
        blocks = [_month_lines(y, m, counts, peak) for y, m in months[i : i + 2]]
        for row in range(max(len(b) for b in blocks)):
            cells = [b[row] if row < len(b) else "" for b in blocks]
            lines.append("    ".join(_pad(cell) for cell in cells).rstrip())
        lines.append("")
    if peak:  # no shade to explain on a calendar without toots
        lines.append(
            f"{SHADES[1]} up to 1/4 of the busiest day's {peak}, {SHADES[2]} up to 1/2, "
            f"{SHADES[3]} up to 3/4, {SHADES[4]} more; · none; ! trimmed by max_per_day"
        )
    return "\n".join(lines + _calendar_notes(calendar, today))


def calendar_totals(calendar: Calendar) -> str:
    """One line: the range, the zone, the toots and on how many days."""
    return (
        f"{calendar.first:%Y-%m-%d} to {calendar.last:%Y-%m-%d} ({calendar.timezone}): "
        f"{plural(calendar.total, 'toot')} on {plural(calendar.active, 'day')} "
        f"of {len(calendar.days)}"
    )


def _calendar_notes(calendar: Calendar, today: date) -> list[str]:
    busiest = ", ".join(f"{d.day:%a %Y-%m-%d} ({d.toots})" for d in calendar.busiest(5))
    lines = [f"busiest days: {busiest or 'none'}"]
    over = calendar.over_cap()
    if calendar.max_per_day:
        listed = ", ".join(f"{d.day:%Y-%m-%d} (+{d.trimmed})" for d in over[:_LISTED])
        more = f" and {len(over) - _LISTED} more" if len(over) > _LISTED else ""
        lines.append(
            f"over max_per_day ({calendar.max_per_day}): {listed}{more}"
            if over
            else f"no day over max_per_day ({calendar.max_per_day})"
        )
    upcoming = calendar.next_day(today)
    if upcoming is not None:
        count = plural(upcoming.toots, "toot")
        lines.append(f"next day with toots: {upcoming.day:%a %Y-%m-%d} ({count})")
    elif today > calendar.last:
        lines.append(f"the range is over: it ends before today, {today:%Y-%m-%d}")
    else:
        lines.append(f"no day with toots from {today:%Y-%m-%d} to {calendar.last:%Y-%m-%d}")
    return lines


def _month_lines(year: int, month: int, counts: Mapping[date, DayCount], peak: int) -> list[str]:
    from bot.calendar import month_days

    days = month_days(year, month)
    total = sum(counts[d].toots for d in days if d in counts)
    lines = [f"{days[0]:%B %Y}: {total}".center(_MONTH_WIDTH).rstrip()]
    lines.append(" ".join(f"{name:>{_CELL - 1}} " for name in _WEEKDAYS))
    slots: list[date | None] = [None] * days[0].weekday() + list(days)
    slots += [None] * (-len(slots) % 7)
    for at in range(0, len(slots), 7):
        week = slots[at : at + 7]
        lines.append(" ".join(f"{d.day:>{_CELL - 1}} " if d else " " * _CELL for d in week))
        lines.append(" ".join(_count_cell(counts.get(d) if d else None, peak) for d in week))
    return lines


def _count_cell(count: DayCount | None, peak: int) -> str:
    if count is None:
        return " " * _CELL
    if not count.toots:
        return f"{'·':>{_CELL - 1}} "
    from bot.calendar import heat_level

    level = heat_level(count.toots, peak)
    cell = f"{count.toots:>{_CELL - 1}}{'!' if count.trimmed else SHADES[level]}"
    return click.style(cell, fg=_HEAT_COLOURS[level], bold=level >= 3)


def _pad(cell: str) -> str:
    """`cell` padded to a month's width, colour codes not counted."""
    return cell + " " * (_MONTH_WIDTH - len(click.unstyle(cell)))


def page_written(file: Path, previews: Sequence[DayPreview]) -> str:
    """What `preview --html` says once the page is written."""
    toots = sum(len(p.toots) for p in previews)
    statuses = sum(len(t.parts) or 1 for p in previews for t in p.toots)  # a boost: one
    return (
        f"wrote {file}: {plural(toots, 'toot')} ({plural(statuses, 'status', 'statuses')}) "
        f"on {plural(len(previews), 'day')}; open it in a browser. Nothing was posted."
    )


# --- backfill ---------------------------------------------------------------------------


def backfill_text(
    plan: BackfillPlan,
    eta: timedelta,
    binding: str | None,
    visibility: str,
    covered: tuple[date, date] | None = None,
) -> str:
    """What `backfill --dry-run` says: the count, the cost and how long it takes; for a
    range without tweets, the archive's range (`covered`): a backfill's dates are the
    days tweeted on, which a user may take for anniversaries."""
    cost = plan.total
    lines = [
        f"backfill {plan.first:%Y-%m-%d} to {plan.last:%Y-%m-%d}: "
        f"{plural(len(plan.jobs), 'toot')} to post ({plural(cost.statuses, 'status', 'statuses')}, "
        f"{cost.media} media), {plan.posted} already posted, {len(plan.skipped)} skipped",
    ]
    if covered and not (plan.jobs or plan.posted or plan.skipped):
        lines.append(
            f"No tweet of the archive was tweeted from {plan.first} to {plan.last}: its tweets "
            f"run from {covered[0]} to {covered[1]} (backfill takes the days tweets were "
            "tweeted on)."
        )
    if plan.jobs and binding == "--every":
        lines.append(
            f"ETA {duration(eta)} at one toot per --every (slower than Mastodon's budgets); "
            f"toots are posted {visibility}"
        )
    elif plan.jobs:
        lines.append(
            f"ETA {duration(eta)} at Mastodon's budgets (300 statuses per 3 h, 30 media per "
            f"30 min: the {binding} budget binds); toots are posted {visibility}"
        )
    lines.append("Nothing was posted.")
    return "\n".join(lines)


def backfill_json(plan: BackfillPlan, eta: timedelta, visibility: str) -> dict[str, Any]:
    """The `backfill --dry-run --json` object."""
    cost = plan.total
    return {
        "from": plan.first.isoformat(),
        "to": plan.last.isoformat(),
        "toots": len(plan.jobs),
        "statuses": cost.statuses,
        "media": cost.media,
        "already_posted": plan.posted,
        "skipped": [{"tweet_id": s.tweet_id, "reason": s.reason} for s in plan.skipped],
        "eta_seconds": round(eta.total_seconds()),
        "visibility": visibility,
        "tweet_ids": [job.tweet.id for job in plan.jobs],
    }


def progress_line(progress: Progress, now: datetime, eta: timedelta, binding: str | None) -> str:
    """One line of the progress bar: bar, done/total, rate, ETA and the binding budget."""
    width = 24
    share = progress.done / progress.total if progress.total else 1.0
    filled = round(width * share)
    bar = "█" * filled + "·" * (width - filled)
    text = f"[{bar}] {progress.done}/{progress.total} toots, {progress.rate(now):.0f}/h"
    if progress.done < progress.total:
        text += f", ETA {duration(eta)}"
        if binding:
            text += f" ({binding})" if binding == "--every" else f" ({binding} budget)"
    return text


def backfill_json_results(plan: BackfillPlan, outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The `backfill --json` object: the range, each tweet's result, the counts."""
    return {"from": plan.first.isoformat(), "to": plan.last.isoformat()} | _results_json(outcomes)


def duration(span: timedelta) -> str:
    """A span for people: "45 s", "12 min", "3 h 05 min", "2 d 4 h"."""
    seconds = round(span.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"
