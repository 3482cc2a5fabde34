"""`tootback calendar` and `tootback preview` over a range or as a page, like a user runs them:
every day's count in the calendar is what `preview` of that day shows."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.bundled import demo_archive
from bot.cli import Context, cli
from bot.clock import FakeClock
from tests.support import NOON
from tests.support.archives import (
    JPEG,
    account_item,
    entities,
    js_file,
    media_item,
    reply_fields,
    snowflake,
    tweet_item,
    write_tree,
)

SEEDS = demo_archive()


@pytest.fixture(autouse=True)
def _seeds(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> None:
    """Run from an empty folder with no settings in the environment, on the seeds."""
    monkeypatch.setenv("TOOTBACK_ARCHIVE__PATH", str(SEEDS))


def tootback(*args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(cli, list(args), obj=Context(clock=FakeClock(NOON)), env=env)
    return result


def ok(*args: str, env: dict[str, str] | None = None) -> str:
    result = tootback(*args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


def counts(*args: str, env: dict[str, str] | None = None) -> dict[str, int]:
    data = json.loads(ok("calendar", "--json", *args, env=env))
    return {d["date"]: d["toots"] for d in data["days"]}


def previewed(first: str, last: str, env: dict[str, str] | None = None) -> dict[str, int]:
    lines = ok("preview", "--from", first, "--to", last, "--json", env=env).splitlines()
    return {d["date"]: len(d["toots"]) for d in map(json.loads, lines)}


# -- the seeds ------------------------------------------------------------------------------


def test_on_the_seeds_every_day_s_count_is_preview_s() -> None:
    calendar = counts("--from", "2026-03-01", "--to", "2026-04-30")
    assert len(calendar) == 61 and sum(calendar.values()) == 60
    for day, count in calendar.items():
        shown = json.loads(ok("preview", "--date", day, "--json"))
        assert count == len(shown["toots"]), day
    assert previewed("2026-03-01", "2026-04-30") == calendar


def test_the_grid_shows_counts_totals_busiest_and_the_next_day() -> None:
    text = ok("calendar", "--from", "2026-03-01", "--to", "2026-04-30")
    lines = text.splitlines()
    assert lines[0] == "2026-03-01 to 2026-04-30 (UTC): 60 toots on 29 days of 61"
    assert "March 2026: 23" in lines[2] and "April 2026: 37" in lines[2]
    # April 18th, a Saturday, the busiest day: its number, and under it its count and shade.
    week = next(i for i, line in enumerate(lines) if line.split()[-7:] == [
        "13", "14", "15", "16", "17", "18", "19"])  # fmt: skip
    assert lines[week + 1].split()[-7:] == ["5█", "1░", "3▒", "·", "1░", "6█", "·"]
    assert "busiest days: Sat 2026-04-18 (6), Mon 2026-04-13 (5)," in text
    assert "next day with toots: Sun 2026-04-05 (2 toots)" in text  # today is 2026-04-05
    assert "\x1b[" not in text  # no colour codes where the output is not a terminal


def test_a_range_in_the_past_says_so_instead_of_a_next_day() -> None:
    text = ok("calendar", "--from", "2026-03-01", "--to", "2026-03-31")
    assert text.splitlines()[-1] == "the range is over: it ends before today, 2026-04-05"
    text = ok("calendar", "--from", "2026-04-19", "--to", "2026-04-21")
    assert text.splitlines()[-1] == "no day with toots from 2026-04-05 to 2026-04-21"
    assert "busiest day's" not in text  # no shades to explain without toots


def test_a_cap_shows_the_days_it_trims() -> None:
    env = {"TOOTBACK_SELECTION__MAX_PER_DAY": "4"}
    text = ok("calendar", "--from", "2026-04-01", "--to", "2026-04-30", env=env)
    assert "over max_per_day (4): 2026-04-13 (+1), 2026-04-18 (+2)" in text
    data = json.loads(
        ok("calendar", "--json", "--from", "2026-04-18", "--to", "2026-04-18", env=env)
    )
    assert data["days"] == [{"date": "2026-04-18", "toots": 4, "trimmed": 2}]
    assert data["max_per_day"] == 4


def test_the_default_is_a_year_from_today_in_the_zone() -> None:
    data = json.loads(
        ok("calendar", "--json", env={"TOOTBACK_SELECTION__TIMEZONE": "Pacific/Kiritimati"})
    )
    # Noon UTC on April 5th is already April 6th in Kiritimati (UTC+14).
    assert (data["from"], data["to"]) == ("2026-04-06", "2027-04-05")
    assert len(data["days"]) == 365 and data["timezone"] == "Pacific/Kiritimati"
    assert json.loads(ok("calendar", "--json", "--from", "2026-05-01"))["to"] == "2027-04-30"


def test_a_range_backwards_is_a_usage_error() -> None:
    result = tootback("calendar", "--from", "2026-04-05", "--to", "2026-04-04")
    assert result.exit_code == 2 and "is after --to" in result.output
    result = tootback("preview", "--from", "2026-04-05")
    assert result.exit_code == 2 and "--from and --to go together" in result.output
    result = tootback("preview", "--date", "2026-04-05", "--to", "2026-04-06")
    assert result.exit_code == 2


@pytest.mark.parametrize(("command", "longest"), [("preview", 366), ("calendar", 3660)])
def test_a_range_has_a_longest(command: str, longest: int) -> None:
    """A year of a big archive is every tweet once; a millennium would never end."""
    result = tootback(command, "--from", "2026-01-01", "--to", "2999-12-31")
    assert result.exit_code == 2
    assert f"2026-01-01 to 2999-12-31 is 355746 days; a range is at most {longest}" in (
        result.output
    )
    last = date(2028, 1, 1) + timedelta(days=longest - 1)
    assert tootback(command, "--from", "2028-01-01", "--to", str(last)).exit_code == 0


def test_to_before_today_says_that_from_defaults_to_today() -> None:
    result = tootback("calendar", "--to", "2026-04-01")  # the clock says 2026-04-05
    assert result.exit_code == 2
    assert (
        "Invalid value for --to: 2026-04-01 is before --from, which defaults to today "
        "(2026-04-05)" in result.output
    )


@pytest.mark.parametrize(
    "args",
    [
        ["calendar", "--from", "9999-12-01"],
        ["calendar", "--from", "9999-12-01", "--to", "9999-12-31"],
        ["preview", "--from", "9999-12-30", "--to", "9999-12-31", "--html", "x.html"],
        ["preview", "--date", "1899-12-31"],
        ["repost", "--date", "3000-01-01", "--dry-run"],
        ["backfill", "--from", "2026-01-01", "--to", "9999-12-31", "--dry-run"],
    ],
)
def test_a_year_out_of_range_is_a_usage_error_that_gives_the_range(args: list[str]) -> None:
    result = tootback(*args)
    assert result.exit_code == 2, result.output
    assert "the year must be 1900 to 2999" in result.output


def test_the_last_year_in_range_works() -> None:
    data = json.loads(ok("calendar", "--json", "--from", "2999-12-31"))
    assert (data["from"], data["to"]) == ("2999-12-31", "3000-12-30")


# -- preview of a range, and the page ---------------------------------------------------------


@pytest.mark.parametrize("target", ["nodir/x.html", "/dev/full", "preview.html/x"])
def test_a_page_that_cannot_be_written_is_a_usage_error_naming_it(target: str) -> None:
    if target == "/dev/full" and not Path(target).exists():
        pytest.skip("no /dev/full here")
    Path("preview.html").write_text("a file, not a folder\n", encoding="utf-8")
    result = tootback("preview", "--date", "2026-04-18", "--html", target)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"tootback: --html: {target} cannot be written: ")


def test_html_and_json_do_not_go_together() -> None:
    result = tootback("preview", "--date", "2026-04-18", "--html", "page.html", "--json")
    assert result.exit_code == 2
    assert "--html writes a page, --json prints the toots: give one of them" in result.output
    assert not Path("page.html").exists()


def test_a_range_previews_each_day_as_a_single_day_does() -> None:
    text = ok("preview", "--from", "2026-04-04", "--to", "2026-04-05")
    days = text.split("\n\n\n")
    assert days[0].startswith("Sat 2026-04-04 (UTC)")
    assert days[1] == ok("preview", "--date", "2026-04-05")
    lines = ok("preview", "--from", "2026-04-04", "--to", "2026-04-05", "--json").splitlines()
    assert json.loads(lines[1]) == json.loads(ok("preview", "--date", "2026-04-05", "--json"))


@pytest.mark.parametrize(
    ("first", "last"), [("2026-04-18", "2026-04-23"), ("2026-04-29", "2026-05-02")]
)
def test_every_day_of_a_range_even_without_toots_is_what_date_shows(first: str, last: str) -> None:
    """Days without toots too: the archive's range and the next day with toots."""
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    days = [str(start + timedelta(n)) for n in range((end - start).days + 1)]
    texts = ok("preview", "--from", first, "--to", last).split("\n\n\n")
    lines = ok("preview", "--from", first, "--to", last, "--json").splitlines()
    assert len(texts) == len(lines) == len(days)
    for day, text, line in zip(days, texts, lines, strict=True):
        assert text.rstrip("\n") == ok("preview", "--date", day).rstrip("\n")
        assert json.loads(line) == json.loads(ok("preview", "--date", day, "--json"))


def test_the_page_of_a_range_has_every_status_and_the_calendar(tmp_path: Path) -> None:
    page = tmp_path / "spring.html"
    out = ok("preview", "--from", "2026-03-01", "--to", "2026-04-30", "--html", str(page))
    assert out.startswith(f"wrote {page}: 60 toots (60 statuses) on 61 days")
    html = page.read_text(encoding="utf-8")
    assert html.count('<article class="status"') == 60
    assert '<section class="calendar">' in html and "<caption>April 2026" in html
    # The Mac Roman mojibake of the March file is repaired on the page too.
    assert "doesn’t accrue" in html and "‚Äô" not in html


# -- random archives, written as the official export -----------------------------------------


@st.composite
def official_archives(draw: st.DrawFn) -> list[dict[str, Any]]:
    """tweets.js items over a few Marches: self-threads, replies, retweets, media (some
    missing), ids in Twitter's shape."""
    items: list[dict[str, Any]] = []
    ids: list[str] = []
    for i in range(draw(st.integers(1, 25))):
        year = draw(st.sampled_from([2019, 2021, 2024]))
        at = datetime(year, 2, 27, tzinfo=UTC) + timedelta(minutes=draw(st.integers(0, 6 * 1440)))
        tweet_id = snowflake(at, i)
        kind = draw(st.sampled_from(["plain", "plain", "thread", "reply", "retweet", "media"]))
        text = f"Tweet {i} about the weather"
        extra: dict[str, Any] = {}
        media: list[dict[str, Any]] = []
        if kind == "thread" and ids:
            extra = reply_fields(draw(st.sampled_from(ids)), "1", "me")
        elif kind == "reply":
            extra = reply_fields("1234", "2", "someone")
            text = f"@someone {text}"
        elif kind == "retweet":
            text = f"RT @someone: {text}"
        elif kind == "media":
            media = [media_item(
                media_id=str(900 + i), kind="photo", short=f"https://t.co/m{i}",
                expanded=f"https://twitter.com/me/status/{tweet_id}/photo/1",
                image_url=f"https://pbs.twimg.com/media/M{i}.jpg", indices=["0", "0"],
                sizes={}, display=f"pic.twitter.com/m{i}",
            )]  # fmt: skip
            extra = {"extended_entities": {"media": media}}
        items.append(tweet_item(tweet_id, at, text, entities=entities(media=media), **extra))
        ids.append(tweet_id)
    return items


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    official_archives(),
    st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata"]),
    st.sampled_from(["by_day", "whole"]),
    st.sampled_from(["0", "2"]),
    st.sampled_from(["post_without", "skip_tweet"]),
)
def test_calendar_counts_are_the_sum_of_day_previews_on_any_archive(
    tmp_path_factory: pytest.TempPathFactory,
    items: list[dict[str, Any]],
    zone: str,
    threads: str,
    cap: str,
    missing: str,
) -> None:
    folder = tmp_path_factory.mktemp("archive")
    owner = account_item(
        "me", "1", email="me@example.com", created_at="2010-01-01T00:00:00.000Z", display_name="Me"
    )
    files: dict[str, bytes | str] = {
        "data/tweets.js": js_file("tweets.part0", items),
        "data/account.js": js_file("account", [owner]),
    }
    # Every other tweet's picture is in the archive; the rest are missing.
    for n, item in enumerate(i for i in items if "extended_entities" in i["tweet"]):
        if n % 2 == 0:
            files[f"data/tweets_media/{item['tweet']['id_str']}-M.jpg"] = JPEG
    write_tree(folder, files)
    env = {
        "TOOTBACK_ARCHIVE__PATH": str(folder),
        "TOOTBACK_SELECTION__TIMEZONE": zone,
        "TOOTBACK_SELECTION__THREADS": threads,
        "TOOTBACK_SELECTION__MAX_PER_DAY": cap,
        "TOOTBACK_MEDIA__MISSING": missing,
    }
    first, last = "2026-02-26", "2026-03-06"
    calendar = counts("--from", first, "--to", last, env=env)
    assert calendar == previewed(first, last, env)
    leap = "2028-02-27", "2028-03-02"
    assert counts("--from", leap[0], "--to", leap[1], env=env) == previewed(*leap, env)
    # A day without toots names the next day that has some: the calendar's.
    empty = next((day for day, n in calendar.items() if not n), None)
    if empty is not None:
        said = json.loads(ok("preview", "--date", empty, "--json", env=env))["next_day"]
        ahead = [
            (d, n) for d, n in counts("--from", empty, "--to", "2030-12-31", env=env).items() if n
        ]
        assert said == ({"date": ahead[0][0], "toots": ahead[0][1]} if ahead else None)
