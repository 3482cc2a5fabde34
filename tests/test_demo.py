"""The bundled demo archive is for looking: every posting command refuses it, `check`
shows whose archive it is beside the account, and archives are read by content."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.archive import load_archive
from bot.bundled import demo_archive, is_demo, refuse_demo
from bot.cli import Context, cli
from bot.clock import FakeClock
from bot.errors import EXIT_USAGE, ArchiveError, DemoArchive
from tests.support.fake_mastodon import FakeMastodon

APRIL = "000_431246c2810b9def.txt"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> Iterator[FakeMastodon]:
    """An account set up (token and instance), in an empty working folder."""
    with FakeMastodon(username="bot") as fake:
        monkeypatch.setenv("MASTODON_API_BASE_URL", fake.url)
        monkeypatch.setenv("MASTODON_ACCESS_TOKEN", fake.token)
        yield fake


def tootback(*args: str) -> Result:
    clock = FakeClock(datetime(2026, 4, 5, 12, tzinfo=UTC))
    return CliRunner().invoke(cli, list(args), obj=Context(clock=clock))


@pytest.mark.parametrize(
    "args",
    [
        ["repost"],
        ["repost", "--date", "2026-04-05"],
        ["repost", "--tweet", "1511171364748771329"],
        ["repost", "--archive", str(demo_archive())],
        ["repost", "--archive", str(demo_archive() / APRIL)],
        ["daemon"],
    ],
)
def test_posting_commands_refuse_the_demo_and_say_how_to_set_your_own(
    server: FakeMastodon, args: list[str]
) -> None:
    result = tootback(*args)
    assert result.exit_code == EXIT_USAGE
    [line] = result.stderr.splitlines()
    assert "bundled demo (someone else's tweets, for looking only)" in line
    assert "--archive PATH, TOOTBACK_ARCHIVE__PATH=PATH" in line
    assert server.requests() == []  # refused before anything was asked of the server


@pytest.mark.usefixtures("server")
def test_looking_at_the_demo_is_fine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.daemon.process.run_daemon", lambda *args, **kwargs: 0)
    for args in (["preview"], ["repost", "--dry-run"], ["status"], ["daemon", "--dry-run"]):
        assert tootback(*args).exit_code == 0, args


def test_a_copy_of_the_demo_is_an_archive_like_any_other(tmp_path: Path) -> None:
    shutil.copytree(demo_archive(), tmp_path / "mine")
    assert is_demo(demo_archive()) and is_demo(demo_archive() / APRIL)
    assert not is_demo(tmp_path / "mine") and not is_demo(tmp_path)
    refuse_demo(tmp_path / "mine", "repost")
    with pytest.raises(DemoArchive):
        refuse_demo(demo_archive() / ".." / "seeds", "backfill")


def test_check_shows_the_owner_beside_the_account_and_warns_when_they_differ(
    server: FakeMastodon,
) -> None:
    result = tootback("check")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "archive: the bundled demo archive (markdown), owner @ezyang" in out
    assert "  for looking only: to post, set archive.path to your own archive" in out
    assert f"account: @bot on {server.url} (token valid); archive owner: @ezyang" in out
    assert (
        "warning: the archive is @ezyang's and the account is @bot: make sure the archive "
        "is your own before posting (names often differ between the two networks)"
    ) in out


def test_check_says_nothing_more_when_the_names_match(isolated: Path) -> None:
    shutil.copytree(demo_archive(), isolated / "mine")
    with FakeMastodon(username="EZYang") as fake:
        result = CliRunner().invoke(
            cli,
            ["check", "--archive", "mine"],
            env={"MASTODON_API_BASE_URL": fake.url, "MASTODON_ACCESS_TOKEN": fake.token},
            obj=Context(clock=FakeClock()),
        )
    assert result.exit_code == 0, result.output
    assert "archive owner: @ezyang" in result.stdout and "warning" not in result.stdout
    assert "archive: mine (markdown), owner @ezyang" in result.stdout


# --- archives are read by their content -------------------------------------------------


def test_a_named_file_is_read_by_its_content_whatever_its_name(tmp_path: Path) -> None:
    odd = tmp_path / "export (1).data"
    shutil.copy(demo_archive() / APRIL, odd)
    archive = load_archive(odd)
    assert len(archive.tweets) == 77 and archive.username == "ezyang"


def test_a_folder_reads_txt_files_of_parser_markdown_and_passes_over_others(
    tmp_path: Path,
) -> None:
    shutil.copytree(demo_archive(), tmp_path / "archive")
    (tmp_path / "archive" / "README.txt").write_text("My notes.\n----\nNothing here.\n")
    (tmp_path / "archive" / "notes.md").write_text("# Notes\n")
    archive = load_archive(tmp_path / "archive")
    assert len(archive.tweets) == 126
    assert not any("README" in p.where or "notes" in p.where for p in archive.problems)


def test_a_named_file_that_is_not_an_archive_says_what_was_expected(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("Just some notes, no tweets.\n")
    with pytest.raises(ArchiveError, match="not twitter-archive-parser markdown"):
        load_archive(tmp_path / "notes.txt")


# --- paths in options, as in settings -----------------------------------------------------


def test_path_options_expand_home_and_variables(
    monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    monkeypatch.setenv("HOME", str(isolated / "home"))
    monkeypatch.setenv("ARCHIVES", str(isolated / "archives"))
    shutil.copytree(demo_archive(), isolated / "home" / "mine")
    shutil.copytree(demo_archive(), isolated / "archives" / "theirs")
    (isolated / "home" / "my.toml").write_text('[selection]\ntimezone = "Asia/Tokyo"\n')
    result = tootback("--config", "~/my.toml", "check", "--archive", "~/mine")
    assert result.exit_code == 0, result.output
    assert f"config file {isolated / 'home' / 'my.toml'}, from --config" in result.stdout
    assert f"archive: {isolated / 'home' / 'mine'} (markdown)" in result.stdout
    result = tootback("preview", "--archive", "${ARCHIVES}/theirs", "--date", "2026-04-05")
    assert result.exit_code == 0, result.output
    unset = tootback("preview", "--archive", "$NO_SUCH_VARIABLE/x")
    assert unset.exit_code == EXIT_USAGE
    assert "environment variable $NO_SUCH_VARIABLE is not set" in unset.output
    assert not (isolated / "~").exists()
