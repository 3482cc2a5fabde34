"""`tootback preview` and `tootback check`, run through the real entry point like a user would."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.bundled import demo_archive
from bot.cli import Context, cli
from bot.clock import FakeClock

ROOT = Path(__file__).resolve().parent.parent
SEEDS = demo_archive()
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ORIGINALS_2022_04_05 = ["1511171364748771329", "1511175633543565315"]
# Mastodon would read these as mentions of a local account.
BARE_MENTION = re.compile(r"(?<![\w@/])@\w+(?![\w@.])")


@pytest.fixture(autouse=True)
def _seeds(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> None:
    """Run from an empty folder with no settings in the environment, on the seeds."""
    monkeypatch.setenv("TOOTBACK_ARCHIVE__PATH", str(SEEDS))


def tootback(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=Context(clock=FakeClock()))


def preview_json(*args: str) -> dict[str, Any]:
    result = tootback("preview", "--json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def texts(data: dict[str, Any]) -> list[str]:
    return [part["text"] for toot in data["toots"] for part in toot["parts"]]


def test_seeds_day_lists_exactly_the_original_tweets() -> None:
    data = preview_json("--date", "2026-04-05")
    assert data["date"] == "2026-04-05"
    assert data["timezone"] == "UTC"
    assert data["max_characters"] == 500
    assert [t["tweet_id"] for t in data["toots"]] == ORIGINALS_2022_04_05
    first = data["toots"][0]
    assert first["tweeted_at"] == "2022-04-05T02:38:24+00:00"
    assert first["due"] == "2026-04-05T02:38:24+00:00"
    assert first["in_reply_to_tweet"] is None and first["already_posted"] is False
    assert first["parts"][0]["text"].startswith("So I have a data collection script")
    assert first["parts"][0]["text"].endswith("(tweeted 4 years ago, 2022-04-05)")
    assert first["parts"][0]["media"] == []
    assert data["skipped"] == []


def test_replies_join_when_included_but_retweets_do_not(monkeypatch: pytest.MonkeyPatch) -> None:
    skipped = preview_json("--date", "2026-04-05", "--show-skipped")["skipped"]
    replies = [s["tweet_id"] for s in skipped if s["reason"].startswith("reply to @")]
    assert replies and all(s["reason"].startswith("reply to @") for s in skipped)
    monkeypatch.setenv("TOOTBACK_SELECTION__INCLUDE_REPLIES", "true")
    data = preview_json("--date", "2026-04-05")
    ids = [t["tweet_id"] for t in data["toots"]]
    assert set(ids) == set(ORIGINALS_2022_04_05) | set(replies)
    assert ids == sorted(ids, key=lambda i: [t["due"] for t in data["toots"]][ids.index(i)])
    for text in texts(data):
        assert not BARE_MENTION.search(text), text


def test_retweets_are_skipped_with_a_reason() -> None:
    skipped = preview_json("--date", "2026-03-12", "--show-skipped")["skipped"]
    assert {"tweet_id": "1502717052821426177", "reason": "retweet"} in skipped


def test_seeds_mojibake_comes_out_as_the_original_characters() -> None:
    joined = "\n".join(texts(preview_json("--date", "2026-03-12")))
    assert "Vibing “program transformations by symbolically executing an interpreter”" in joined
    # The 😂 tweet is a reply, so replies must be included to see it.
    runner = CliRunner(env={"TOOTBACK_SELECTION__INCLUDE_REPLIES": "true"})
    result = runner.invoke(
        cli, ["preview", "--json", "--date", "2026-03-09"], obj=Context(clock=FakeClock())
    )
    joined = "\n".join(texts(json.loads(result.output)))
    assert "ssh into machines 😂" in joined
    for bad in ("\uf8ff", "‚Ä", "üò", "â€"):
        assert bad not in joined


def test_unmapped_mention_is_never_bare() -> None:
    result = tootback("preview", "--date", "2026-03-20")
    assert result.exit_code == 0
    assert "Cc @cHHillee@twitter.com who was asking about this" in result.output
    assert not re.search(r"@cHHillee(?!@twitter\.com)", result.output)


def test_mapped_handle_becomes_the_fediverse_mention(tmp_path: Path) -> None:
    (tmp_path / "handles.toml").write_text('chhillee = "@chilli@types.pl"\n', encoding="utf-8")
    runner = CliRunner(env={"TOOTBACK_MENTIONS__HANDLES_FILE": str(tmp_path / "handles.toml")})
    result = runner.invoke(cli, ["preview", "--date", "2026-03-20"], obj=Context(clock=FakeClock()))
    assert "Cc @chilli@types.pl who was asking about this" in result.output


def test_human_output_shows_due_time_length_and_summary() -> None:
    result = tootback("preview", "--date", "2026-04-05")
    assert result.exit_code == 0
    assert "02:38 due 2026-04-05 02:38 UTC  tweet 1511171364748771329" in result.output
    assert re.search(r"└ \d+/500 characters", result.output)
    assert result.output.rstrip().endswith("Nothing was posted.")
    assert "2 toots (2 statuses)" in result.output


def test_date_defaults_to_today_in_the_zone() -> None:
    from datetime import UTC, datetime

    clock = FakeClock(datetime(2026, 4, 5, 23, 0, tzinfo=UTC))
    result = CliRunner().invoke(cli, ["preview", "--json"], obj=Context(clock=clock))
    assert json.loads(result.output)["date"] == "2026-04-05"
    runner = CliRunner(env={"TOOTBACK_SELECTION__TIMEZONE": "Asia/Tokyo"})
    result = runner.invoke(cli, ["preview", "--json"], obj=Context(clock=clock))
    assert json.loads(result.output)["date"] == "2026-04-06"


@pytest.mark.parametrize("archive", ["official", "official.zip"])
def test_official_archive_as_folder_and_zip(archive: str) -> None:
    data = preview_json(
        "--archive", str(FIXTURES / archive), "--date", "2026-04-05", "--show-skipped"
    )
    ids = [t["tweet_id"] for t in data["toots"]]
    assert "1379142320124854273" not in ids  # the retweet
    assert {"tweet_id": "1379142320124854273", "reason": "retweet"} in data["skipped"]
    thread = next(t for t in data["toots"] if t["tweet_id"] == "1114095375217590273")
    assert thread["in_reply_to_tweet"] == "1114094070789046273"
    plant = next(t for t in data["toots"] if t["tweet_id"] == "1379146820613046273")
    media = plant["parts"][0]["media"]
    assert media[0]["path"] == "data/tweets_media/1379146820613046273-EyPlant01.png"
    assert media[0]["description"]
    # Entities are unescaped exactly once: the tweet literally said "&amp;" at its end.
    assert any(
        text.startswith(
            "Spring cleaning my dotfiles & finding aliases from 2012 <3 — "
            "one is literally named &amp;\n"
        )
        for text in texts(data)
    )


def test_folder_and_zip_preview_the_same_toots() -> None:
    folder = preview_json("--archive", str(FIXTURES / "official"), "--date", "2026-04-05")
    zipped = preview_json("--archive", str(FIXTURES / "official.zip"), "--date", "2026-04-05")
    assert folder["toots"] == zipped["toots"]


def test_long_note_tweet_is_whole_and_split_into_parts() -> None:
    data = preview_json("--archive", str(FIXTURES / "official"), "--date", "2027-01-15")
    (toot,) = data["toots"]
    parts = toot["parts"]
    assert len(parts) >= 2
    assert all(p["length"] <= 500 for p in parts)
    assert parts[0]["text"].endswith(f"(1/{len(parts)})")
    assert "(tweeted 4 years ago, 2023-01-15)" in parts[-1]["text"]
    assert "(tweeted" not in parts[0]["text"]


def test_bad_items_are_reported_and_the_rest_previews() -> None:
    bad = str(FIXTURES / "official-bad")
    data = preview_json("--archive", bad, "--date", "2026-04-05")
    assert len(data["toots"]) >= 3
    check = tootback("check", "--archive", bad)
    assert check.exit_code == 0, check.output
    assert "data/tweets.js#11: unparseable date 'Foo 31 2022'; item skipped" in check.output
    assert "is outside the archive; refused" in check.output
    assert "data/tweets-part1.js#1: truncated or broken file" in check.output


def test_evil_media_path_is_never_attached() -> None:
    data = preview_json("--archive", str(FIXTURES / "official-bad"), "--date", "2026-07-05")
    (toot,) = data["toots"]
    assert all(part["media"] == [] for part in toot["parts"])


def test_missing_archive_is_one_clear_error_exit_2(tmp_path: Path) -> None:
    result = tootback("preview", "--archive", str(tmp_path / "nope"), "--date", "2026-04-05")
    assert result.exit_code == 2
    assert "nope" in result.output and "Traceback" not in result.output


def test_bad_setting_exits_2_naming_key_and_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOTBACK_SCHEDULE__MODE", "weekly")
    result = tootback("preview", "--date", "2026-04-05")
    assert result.exit_code == 2
    assert "schedule.mode" in result.output
    assert "environment TOOTBACK_SCHEDULE__MODE" in result.output


def test_preview_reads_state_for_already_posted_and_self_links(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps(
            {
                "version": 1,
                "account": {"id": "1", "acct": "me", "instance": "https://example.social"},
                "tweets": {
                    "1511171364748771329": {
                        "status": "posted",
                        "status_ids": ["99"],
                        "url": "https://example.social/@me/99",
                        "posted_at": "2026-04-05T02:38:30+00:00",
                    }
                },
            }
        ),
        encoding="utf-8",
    )
    before = state.read_bytes()
    runner = CliRunner(env={"TOOTBACK_STATE__PATH": str(state)})
    result = runner.invoke(
        cli, ["preview", "--json", "--date", "2026-04-05"], obj=Context(clock=FakeClock())
    )
    marks = {t["tweet_id"]: t["already_posted"] for t in json.loads(result.output)["toots"]}
    assert marks == {"1511171364748771329": True, "1511175633543565315": False}
    assert state.read_bytes() == before


def test_a_tweet_that_failed_before_is_shown_as_repost_will_skip_it(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    failed = {"status": "failed", "error": "422 Validation failed", "attempts": 1}
    state.write_text(
        json.dumps({"version": 1, "tweets": {"1511175633543565315": failed}}), encoding="utf-8"
    )
    runner = CliRunner(env={"TOOTBACK_STATE__PATH": str(state)})
    args = ["preview", "--date", "2026-04-05"]
    data = json.loads(runner.invoke(cli, [*args, "--json"], obj=Context(clock=FakeClock())).output)
    marks = {t["tweet_id"]: t["failed_before"] for t in data["toots"]}
    assert marks == {"1511171364748771329": None, "1511175633543565315": "422 Validation failed"}
    text = runner.invoke(cli, args, obj=Context(clock=FakeClock())).output
    assert (
        "  failed before: 422 Validation failed; repost skips it "
        "(tootback repost --tweet 1511175633543565315 --retry-failed tries it again)"
    ) in text
    assert "2 toots (2 statuses), 1 failed before, 4 skipped" in text
    page = tmp_path / "page.html"
    runner.invoke(cli, [*args, "--html", str(page)], obj=Context(clock=FakeClock()))
    assert "failed before (422 Validation failed): repost skips it" in page.read_text("utf-8")


def test_check_reports_the_seeds() -> None:
    result = tootback("check")
    assert result.exit_code == 0, result.output
    assert "owner @ezyang" in result.output
    assert "126 tweets" in result.output
    assert "from 2022-03-02 to 2022-04-30" in result.output
    assert "handles: none (config/handles.toml does not exist" in result.output
    assert "state: " in result.output and ": no file yet (nothing posted" in result.output


def test_check_counts_each_kind_in_words_that_fit_its_number() -> None:
    result = tootback("check", "--archive", str(FIXTURES / "official"))
    assert "20 tweets: 16 originals, 1 reply to others, 2 retweets, 1 self-reply" in (result.output)


def test_check_names_a_single_file_archive_as_that_file(tmp_path: Path) -> None:
    seeds = sorted(p for p in demo_archive().iterdir() if p.suffix == ".txt")
    single = tmp_path / "march.txt"
    single.write_bytes(seeds[0].read_bytes())
    result = tootback("check", "--archive", str(single))
    assert result.exit_code == 0, result.output
    assert f"archive: {single} (markdown)" in result.output


def test_check_quick_reports_from_the_index_and_counts_the_problems(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, loads: list[Path]
) -> None:
    monkeypatch.setenv("TOOTBACK_ARCHIVE__PATH", str(FIXTURES / "official-bad"))
    monkeypatch.setenv("TOOTBACK_ARCHIVE__INDEX_DIR", str(tmp_path / "index"))
    full = tootback("check")  # a full read, which writes the index
    assert full.exit_code == 0, full.output
    del loads[:]  # from here on
    quick = tootback("check", "--quick")
    assert quick.exit_code == 0, quick.output
    assert loads == []
    listed = [line for line in full.output.splitlines() if line.startswith("    ")]
    counted = f"  {len(listed)} items skipped or degraded when it was last read whole"
    assert listed and counted in quick.output
    same = [line for line in full.output.splitlines() if not line.startswith("    ")]
    assert same[-1].startswith("alt text: ")  # needs every tweet: not with --quick
    assert [line for line in same[:-1] if "skipped or degraded" not in line] == [
        line for line in quick.output.splitlines() if "skipped or degraded" not in line
    ]


@pytest.mark.parametrize("command", ["preview", "check", "repost", "status", "login", "daemon"])
def test_every_command_teaches_with_an_example(command: str) -> None:
    result = tootback(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output
    assert "tootback " + command in result.output


def test_python_dash_m_bot_is_the_same_program() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bot", "preview", "--date", "2026-04-05", "--json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert [t["tweet_id"] for t in json.loads(run.stdout)["toots"]] == ORIGINALS_2022_04_05


def test_preview_measures_against_compose_max_characters() -> None:
    runner = CliRunner(env={"TOOTBACK_COMPOSE__MAX_CHARACTERS": "120"})
    result = runner.invoke(
        cli, ["preview", "--json", "--date", "2026-04-05"], obj=Context(clock=FakeClock())
    )
    data = json.loads(result.output)
    assert data["max_characters"] == 120
    first = data["toots"][0]["parts"]
    assert len(first) >= 2 and all(part["length"] <= 120 for part in first)


@pytest.mark.parametrize("command", [["preview"], ["check"], ["status"], ["repost", "--dry-run"]])
def test_archive_names_the_archive_of_every_command(command: list[str], tmp_path: Path) -> None:
    missing = tmp_path / "no-such-archive"
    result = tootback(*command, "--archive", str(missing))
    assert result.exit_code == 2
    assert f"archive {missing}: does not exist" in result.output


@pytest.mark.parametrize("command", ["preview", "repost"])
def test_a_date_that_is_not_yyyy_mm_dd_is_a_usage_error(command: str) -> None:
    result = tootback(command, "--date", "05/04/2026")
    assert result.exit_code == 2
    assert "'05/04/2026' is not a date written YYYY-MM-DD, e.g. 2026-04-05" in result.output


@pytest.mark.parametrize(
    ("day", "says"),
    [
        ("2026-02-30", "2026-02-30 does not exist: February 2026 has 28 days"),
        ("2028-02-30", "2028-02-30 does not exist: February 2028 has 29 days"),
        ("2026-04-31", "2026-04-31 does not exist: April 2026 has 30 days"),
        ("2026-13-01", "2026-13-01: there is no month 13"),
        ("2026-00-10", "2026-00-10: there is no month 0"),
        ("2026-4-31", "2026-4-31 does not exist: April 2026 has 30 days"),
        ("0000-01-01", "0000-01-01: the year must be 1900 to 2999"),
    ],
)
def test_an_impossible_date_says_that_day_does_not_exist(day: str, says: str) -> None:
    result = tootback("preview", "--date", day)
    assert result.exit_code == 2
    assert f"Invalid value for '--date': {says}" in result.output
