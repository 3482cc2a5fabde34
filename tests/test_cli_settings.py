"""What `tootback` says about its settings: the config file read, and where a bad
value came from, run through the real entry point like a user would."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import Context, cli
from bot.clock import FakeClock


@pytest.fixture(autouse=True)
def _isolated(isolated: Path) -> None:
    """Run from an empty folder with no settings in the environment."""


def tootback(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=Context(clock=FakeClock()))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def first_line(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output.splitlines()[0]


def test_check_says_there_is_no_config_file() -> None:
    result = tootback("check", "--quick")
    assert first_line(result) == "settings: ok (no config file: defaults and environment)"


def test_check_names_the_default_config_file_when_it_is_read() -> None:
    write(Path("config/tootback.toml"), "[selection]\ntimezone = 'Europe/Berlin'\n")
    result = tootback("check", "--quick")
    assert first_line(result) == "settings: ok (config file config/tootback.toml)"


def test_check_names_the_config_file_given_and_what_named_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write(Path("my.toml"), "")
    result = tootback("--config", "my.toml", "check", "--quick")
    assert first_line(result) == "settings: ok (config file my.toml, from --config)"
    monkeypatch.setenv("TOOTBACK_CONFIG", "my.toml")
    result = tootback("check", "--quick")
    assert first_line(result) == "settings: ok (config file my.toml, from TOOTBACK_CONFIG)"


def test_a_typo_in_the_config_file_names_file_line_and_the_key_meant() -> None:
    write(Path("config/tootback.toml"), '[selection]\ntimezon = "Europe/Berlin"\n')
    result = tootback("check")
    assert result.exit_code == 2
    assert (
        "config file config/tootback.toml line 2: [selection] timezon: no such setting; "
        "did you mean [selection] timezone?"
    ) in result.output


def test_a_bad_dotenv_line_is_one_error_naming_file_and_line() -> None:
    write(Path(".env"), "garbage line\n")
    result = tootback("check")
    assert result.exit_code == 2
    assert result.output.count("line 1") == 1
    assert ".env line 1: not KEY=VALUE" in result.output
    assert "python-dotenv" not in result.output


@pytest.mark.parametrize(
    ("how", "source"),
    [
        ("environment", "archive.path, from environment TOOTBACK_ARCHIVE__PATH"),
        ("config", "archive.path, from config file config/tootback.toml [archive] path"),
        ("dotenv", "archive.path, from .env TOOTBACK_ARCHIVE__PATH"),
        ("option", "--archive"),
    ],
)
@pytest.mark.parametrize("command", [["check"], ["check", "--quick"], ["preview"]])
def test_a_missing_archive_names_the_setting_and_its_source(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, how: str, source: str, command: list[str]
) -> None:
    missing = tmp_path / "nope"
    option: list[str] = []
    if how == "environment":
        monkeypatch.setenv("TOOTBACK_ARCHIVE__PATH", str(missing))
    elif how == "config":
        write(Path("config/tootback.toml"), f"[archive]\npath = '{missing}'\n")
    elif how == "dotenv":
        write(Path(".env"), f"TOOTBACK_ARCHIVE__PATH={missing}\n")
    else:
        option = ["--archive", str(missing)]
    result = tootback(*command, *option)
    assert result.exit_code == 2
    assert f"archive {missing}: does not exist ({source})" in result.output


def test_the_demo_archive_is_still_read_while_archive_path_is_unset() -> None:
    result = tootback("check", "--quick")
    assert first_line(result).startswith("settings: ok")
    assert "archive: the bundled demo archive" in result.output
