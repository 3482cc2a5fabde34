"""The README's examples are true: its `tootback` commands exist with those options, the
ones that need no account run (on the demo archive, from an empty folder), its JSON
example is what the program prints, and it starts with the install and the tests."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bot.cli import Context, cli
from bot.clock import FakeClock

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# What a command needs to run offline: nothing of the user's but what `setup` makes.
OFFLINE = ("preview", "check", "status")


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", README, re.MULTILINE | re.DOTALL)


def commands() -> list[list[str]]:
    """Every `tootback …` line of the sh blocks, as words (environment assignments first)."""
    found = []
    for block in blocks("sh"):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            program = [w for w in words if not re.fullmatch(r"[A-Z_]+=.*", w)][:1]
            if program == ["tootback"]:
                found.append(words)
    return found


def split(words: list[str]) -> tuple[dict[str, str], list[str]]:
    """The environment assignments before `tootback`, and its arguments after it."""
    at = words.index("tootback")
    env = dict(word.split("=", 1) for word in words[:at] if "=" in word)
    return env, words[at + 1 :]


def command_name(args: list[str]) -> str:
    return next(a for a in args if not a.startswith("-") and not a.endswith(".toml"))


def test_there_are_commands_to_check() -> None:
    assert len(commands()) > 20


# Click 8.2 deprecates `protected_args` (where a group leaves its subcommand's name) in
# favour of `args` in 9.0; reading both works with either.
@pytest.mark.filterwarnings("ignore:'protected_args' is deprecated:DeprecationWarning")
@pytest.mark.parametrize("words", commands(), ids=lambda w: " ".join(w))
def test_every_command_has_those_options(words: list[str]) -> None:
    _, args = split(words)
    group = cli.make_context("tootback", list(args), resilient_parsing=False)
    command: click.Command = cli
    rest = [*getattr(group, "protected_args", []), *group.args]
    context = group
    while isinstance(command, click.Group) and rest:
        name, *rest = rest
        found = command.get_command(context, name)
        assert found is not None, f"no command {name!r}"
        command = found
        context = command.make_context(name, list(rest), parent=context)
        rest = [*getattr(context, "protected_args", []), *context.args]
    assert rest == []


@pytest.fixture
def setup(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> None:
    """The files the examples name: an archive in ~/Downloads, a settings file, a
    filled-in alt-text file (of no rows)."""
    home = isolated / "home"
    (home / "Downloads").mkdir(parents=True)
    for name in ("twitter-2023-01-01.zip", "twitter-archive.zip"):
        shutil.copy(FIXTURES / "official.zip", home / "Downloads" / name)
    monkeypatch.setenv("HOME", str(home))
    (isolated / "my-settings.toml").write_text("", encoding="utf-8")
    (isolated / "alt-text.csv").write_text("tweet_id,file,alt_text\n", encoding="utf-8")


OFFLINE_COMMANDS = [
    w
    for w in commands()
    if command_name(split(w)[1]) in OFFLINE
    or (command_name(split(w)[1]) == "repost" and "--dry-run" in w)
]


@pytest.mark.usefixtures("setup")
@pytest.mark.parametrize("words", OFFLINE_COMMANDS, ids=lambda w: " ".join(w))
def test_every_command_that_needs_no_account_runs(
    monkeypatch: pytest.MonkeyPatch, words: list[str]
) -> None:
    env, args = split(words)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    clock = FakeClock(datetime(2026, 4, 5, 12, tzinfo=UTC))
    result = CliRunner().invoke(cli, args, obj=Context(clock=clock))
    assert result.exit_code == 0, result.output


@pytest.mark.usefixtures("isolated")
def test_the_json_example_is_what_preview_prints() -> None:
    example = README.split("`tootback preview --date 2026-04-05 --json --show-skipped` prints:")[1]
    shown = json.loads(example.split("```json\n", 1)[1].split("```", 1)[0])
    args = ["preview", "--date", "2026-04-05", "--json", "--show-skipped"]
    result = CliRunner().invoke(cli, args, obj=Context(clock=FakeClock()))
    assert shown == json.loads(result.stdout)


def test_it_starts_with_the_install_and_the_tests() -> None:
    first, second = blocks("sh")[:2]
    assert first.strip() == (
        "python3 -m venv .venv && . .venv/bin/activate && pip install . "
        "&& tootback preview --date 2026-04-05"
    )
    assert second.strip() == (
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && pytest"
    )
    assert "Python 3.11 or later" in README.split("```sh", 1)[0]
