"""`tootback backfill`: a range posted in original order, exactly once, paced by the
budgets, resumable; run through click against the loopback fake on a FakeClock that
the server shares, so the pace is measured without sleeping."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.cli import Context, cli
from bot.clock import FakeClock
from bot.errors import EXIT_INTERRUPTED
from bot.state import load_state
from tests.support import NOON
from tests.support.archives import (
    account_item,
    entities,
    js_file,
    media_item,
    png,
    snowflake,
    tweet_item,
    write_tree,
)
from tests.support.fake_mastodon import Budget, FakeMastodon

TOKEN = "tok-SECRET-backfill-1618"
STATUSES = "/api/v1/statuses"
MEDIA = "/api/v2/media"
START = datetime(2022, 3, 1, 9, 0, tzinfo=UTC)
MASTODON_STATUSES, MASTODON_MEDIA = Budget(300, 3 * 3600.0), Budget(30, 1800.0)
SENTENCE = "A sentence about compilers, gardens and the weather, long enough to count. "


def official_archive(folder: Path, count: int = 30) -> dict[str, tuple[int, int]]:
    """`count` tweets from 2022-03-01 on, a few hours apart: every third with a picture,
    every fifth long enough for two parts. Returns tweet id -> (statuses, media)."""
    items, files, cost = [], {}, {}
    for i in range(count):
        at = START + timedelta(hours=7 * i)
        tweet_id = snowflake(at, i)
        text = f"Tweet {i}. " + (SENTENCE * 8 if i % 5 == 4 else SENTENCE)
        media = []
        if i % 3 == 0:
            media = [media_item(
                media_id=str(900 + i), kind="photo", short=f"https://t.co/m{i}",
                expanded=f"https://twitter.com/me/status/{tweet_id}/photo/1",
                image_url=f"https://pbs.twimg.com/media/P{i}.png", indices=["0", "0"],
                sizes={}, display=f"pic.twitter.com/m{i}", alt=f"picture {i}",
            )]  # fmt: skip
            files[f"data/tweets_media/{tweet_id}-P{i}.png"] = png((i, 100, 200))
        extra: dict[str, Any] = {"extended_entities": {"media": media}} if media else {}
        items.append(tweet_item(tweet_id, at, text, entities=entities(media=media), **extra))
        cost[tweet_id] = (2 if i % 5 == 4 else 1, len(media))
    owner = account_item(
        "me", "1", email="me@example.com", created_at="2010-01-01T00:00:00.000Z", display_name="Me"
    )
    files |= {
        "data/tweets.js": js_file("tweets.part0", items),
        "data/account.js": js_file("account", [owner]),
    }
    write_tree(folder, files)
    return cost


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOON)


@pytest.fixture
def setup(
    monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> tuple[Path, dict[str, tuple[int, int]]]:
    archive = isolated / "archive"
    cost = official_archive(archive)
    monkeypatch.setenv("TOOTBACK_ARCHIVE__PATH", str(archive))
    monkeypatch.setenv("TOOTBACK_STATE__PATH", str(isolated / "state" / "state.json"))
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", TOKEN)
    return isolated / "state" / "state.json", cost


@contextmanager
def served(
    monkeypatch: pytest.MonkeyPatch,
    clock: FakeClock,
    statuses_budget: Budget = MASTODON_STATUSES,
    media_budget: Budget = MASTODON_MEDIA,
) -> Iterator[FakeMastodon]:
    """The fake server on `clock`, with these budgets, as MASTODON_API_BASE_URL."""
    with FakeMastodon(
        token=TOKEN, clock=clock, statuses_budget=statuses_budget, media_budget=media_budget
    ) as server:
        monkeypatch.setenv("MASTODON_API_BASE_URL", server.url)
        yield server


def tootback(clock: FakeClock, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=Context(clock=clock))


RANGE = ("--from", "2022-03-01", "--to", "2022-03-31")


def test_the_range_goes_out_in_original_order_once_and_unlisted(
    monkeypatch: pytest.MonkeyPatch, setup: Any, clock: FakeClock
) -> None:
    state_path, cost = setup
    with served(monkeypatch, clock) as server:
        result = tootback(clock, "backfill", *RANGE)
        assert result.exit_code == 0, result.output
        statuses = server.statuses()
        assert len(statuses) == sum(s for s, _ in cost.values())
        firsts = [s.text.split(".")[0] for s in statuses if s.in_reply_to_id is None]
        assert firsts == [f"Tweet {i}" for i in range(30)]  # the original order
        posts = server.requests("POST", STATUSES)
        assert {r.fields["visibility"] for r in posts} == {("unlisted",)}
        assert len(server.requests("POST", MEDIA)) == sum(m for _, m in cost.values())
        assert all(load_state(state_path).is_posted(tid) for tid in cost)
        assert "30 posted" in result.stdout
        again = tootback(clock, "backfill", *RANGE)
        assert again.exit_code == 0 and "nothing to post" in again.stdout
        assert len(server.statuses()) == len(statuses)


def test_spending_the_budgets_evenly_never_meets_a_429_and_takes_the_time_they_allow(
    monkeypatch: pytest.MonkeyPatch, setup: Any, clock: FakeClock
) -> None:
    _, cost = setup
    statuses, media = (sum(c[k] for c in cost.values()) for k in (0, 1))
    with served(
        monkeypatch,
        clock,
        statuses_budget=Budget(8, 100.0),  # one every 12.5 s
        media_budget=Budget(3, 60.0),  # one every 20 s
    ) as server:
        result = tootback(clock, "backfill", *RANGE)
        assert result.exit_code == 0, result.output
        answers = Counter(r.status for r in server.requests())
        assert answers[429] == 0
        assert len(server.statuses()) == statuses
        took = clock.now() - NOON
        # The fastest the budgets allow: each spent at its own rate, the slower one binds.
        fastest = max(
            (statuses - 1) * timedelta(seconds=100) / 8, (media - 1) * timedelta(seconds=20)
        )
        print(f"\nbackfill of {statuses} statuses and {media} media: {took}, fastest {fastest}")
        assert fastest * 0.9 <= took <= fastest * 1.1, (took, fastest)


def test_a_run_stopped_midway_goes_on_where_it_stopped(
    monkeypatch: pytest.MonkeyPatch, setup: Any, clock: FakeClock
) -> None:
    state_path, cost = setup
    with served(monkeypatch, clock, statuses_budget=Budget(300, 300.0)) as server:
        original = clock.sleep
        sleeps = 0

        def stop_after_a_while(seconds: float) -> bool:
            nonlocal sleeps
            sleeps += 1
            if sleeps == 12:  # a stop request (SIGTERM, Ctrl-C) in the middle of the run
                clock.stop()
            return original(seconds)

        monkeypatch.setattr(clock, "sleep", stop_after_a_while)
        first = tootback(clock, "backfill", *RANGE)
        assert first.exit_code == EXIT_INTERRUPTED, first.output
        done = len(server.statuses())
        assert 0 < done < sum(s for s, _ in cost.values())
        later = FakeClock(clock.now() + timedelta(minutes=5))
        server.clock = later
        rest = tootback(later, "backfill", *RANGE)
        assert rest.exit_code == 0, rest.output
        keys = Counter(s.idempotency_key for s in server.statuses())
        assert len(keys) == sum(s for s, _ in cost.values()) and max(keys.values()) == 1
        assert all(load_state(state_path).is_posted(tid) for tid in cost)


def test_without_a_terminal_each_toot_is_a_line_with_the_progress(
    monkeypatch: pytest.MonkeyPatch, setup: Any, clock: FakeClock
) -> None:
    with served(monkeypatch, clock):
        result = tootback(clock, "backfill", "--from", "2022-03-01", "--to", "2022-03-02")
        assert result.exit_code == 0, result.output
        lines = [line for line in result.stderr.splitlines() if line.startswith("posted")]
        assert len(lines) == 6
        assert "  [████····" in lines[0] and "] 1/6 toots, " in lines[0]
        assert "/h, ETA 3 min (statuses budget)" in lines[0]
        assert lines[-1].endswith("] 6/6 toots, 100/h")


def test_the_dry_run_needs_no_account_and_says_the_count_and_the_eta(
    monkeypatch: pytest.MonkeyPatch, setup: Any, clock: FakeClock
) -> None:
    monkeypatch.delenv("MASTODON_ACCESS_TOKEN")
    result = tootback(clock, "backfill", *RANGE, "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # 30 toots: 36 statuses and 10 pictures; 35 more statuses at one per 36 s bind.
    assert lines[0] == (
        "backfill 2022-03-01 to 2022-03-31: 30 toots to post (36 statuses, 10 media), "
        "0 already posted, 0 skipped"
    )
    assert lines[1].startswith("ETA 21 min at Mastodon's budgets")
    assert "the statuses budget binds" in lines[1] and "posted unlisted" in lines[1]
    data = json.loads(tootback(clock, "backfill", *RANGE, "--dry-run", "--json").stdout)
    assert (data["toots"], data["statuses"], data["media"]) == (30, 36, 10)
    assert data["eta_seconds"] == 36 * 36  # 36 s a status: 300 per 3 h


def test_what_on_this_day_posted_is_not_posted_again_and_the_other_way_round(
    monkeypatch: pytest.MonkeyPatch, isolated: Path, own_archive: Path, clock: FakeClock
) -> None:
    monkeypatch.setenv("TOOTBACK_STATE__PATH", str(isolated / "state" / "state.json"))
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("TOOTBACK_SCHEDULE__MIN_INTERVAL", "0")
    with served(monkeypatch, clock) as server:
        day = tootback(clock, "repost", "--date", "2026-04-05")
        assert day.exit_code == 0 and day.stdout.splitlines()[-1] == "2 posted", day.output
        plan = json.loads(
            tootback(clock, "backfill", "--from", "2022-04-05", "--to", "2022-04-06",
                     "--dry-run", "--json").stdout
        )  # fmt: skip
        assert plan["already_posted"] == 2 and plan["toots"] == 3  # April 6th's three
        backfilled = tootback(clock, "backfill", "--from", "2022-04-05", "--to", "2022-04-06")
        assert backfilled.exit_code == 0, backfilled.output
        assert backfilled.stdout.splitlines()[-1] == "3 posted"
        assert len(server.statuses()) == 5
        # The other way round: what the backfill posted, April 6th's repost does not.
        again = tootback(clock, "repost", "--date", "2026-04-06")
        assert again.exit_code == 0, again.output
        assert again.stdout.splitlines()[-1] == "3 already posted"
        assert len(server.statuses()) == 5
        visibilities = [r.fields["visibility"][0] for r in server.requests("POST", STATUSES)]
        assert visibilities == ["public"] * 2 + ["unlisted"] * 3


def dry_run(clock: FakeClock, first: str, last: str) -> list[str]:
    """The lines `backfill --dry-run` prints for `first`..`last`."""
    result = tootback(clock, "backfill", "--from", first, "--to", last, "--dry-run")
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def test_on_the_seeds_the_dry_run_gives_the_count_and_an_eta(
    isolated: Path, clock: FakeClock
) -> None:
    assert dry_run(clock, "2022-03-01", "2022-04-30") == [
        "backfill 2022-03-01 to 2022-04-30: 60 toots to post (60 statuses, 0 media), "
        "0 already posted, 66 skipped",
        "ETA 36 min at Mastodon's budgets (300 statuses per 3 h, 30 media per 30 min: "
        "the statuses budget binds); toots are posted unlisted",
        "Nothing was posted.",
    ]
    refused = tootback(clock, "backfill", "--from", "2022-03-01", "--to", "2022-04-30")
    assert refused.exit_code == 2 and "demo" in refused.output  # the demo is for looking only


def test_a_range_without_tweets_says_what_the_archive_covers(
    isolated: Path, clock: FakeClock
) -> None:
    """Backfill dates are the dates tweeted on, not their anniversaries."""
    assert dry_run(clock, "2026-04-05", "2026-04-05") == [
        "backfill 2026-04-05 to 2026-04-05: 0 toots to post (0 statuses, 0 media), "
        "0 already posted, 0 skipped",
        "No tweet of the archive was tweeted from 2026-04-05 to 2026-04-05: its tweets run "
        "from 2022-03-02 to 2022-04-30 (backfill takes the days tweets were tweeted on).",
        "Nothing was posted.",
    ]
