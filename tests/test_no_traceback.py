"""No command ends in a traceback, whatever it is given.

Hypothesis drives every command with generated arguments, environment variables,
config files, `.env` files and handles files, and checks that each run ends with a
documented exit code (bot.errors.EXIT_CODES) and a short message: one line, or one
line per settings problem naming the setting. No network: `responses` answers every
HTTP request with a connection error, as a closed port would. The daemon's process
(`run_daemon`, which runs until a signal) is replaced by a stub: everything the
command does before it, settings, archive and the demo check, runs for real.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import chdir, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pytest
import responses
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.bundled import demo_archive
from bot.cli import Context, cli
from bot.clock import FakeClock
from bot.errors import EXIT_CODES
from bot.settings import known_variables

ENV_NAMES = [n for n in known_variables() if n != "TOOTBACK_CONFIG"]
TYPOS = ["TOOTBACK_TIMEZONE", "TOOTBACK_FOO__BAR", "TOOTBACK_SELECTION", "TOOTBACK_CONFIG"]
SECTIONS = sorted({n.removeprefix("TOOTBACK_").split("__")[0].lower() for n in ENV_NAMES})

# Characters an environment variable can hold (no NUL, no lone surrogate).
SAFE = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
NASTY = [
    "", " ", "[", '[("', "[1,", "{", '{"a": ', "1,2", "a{1,3}", '["a", 1]', "abc", "-1",
    "0", "99999999999999999999", "1e999", "true", "nan", "~", "~/x", "~nobody/x",
    "$NO_SUCH_VARIABLE/x", "${NO_SUCH", "é", "Europe/Berlin", "Mars/Base", "09:00",
    "25:61", "2026-02-30", "http://", "https://", "https://[::1", "127.0.0.1:9",
    "http://127.0.0.1:9", "ftp://x", "archive", "dir", "garbage.bin", "/dev/null", ".",
]  # fmt: skip
values = st.sampled_from(NASTY) | st.text(SAFE, max_size=12)
paths = st.sampled_from(
    ["archive", "archive/000_431246c2810b9def.txt", "missing", "dir", "garbage.bin",
     "config.toml", "~/nope", "$NO_SUCH_VARIABLE/x", "", ".", "/dev/null"]
)  # fmt: skip
dates = st.dates().map(str) | st.sampled_from(
    ["2026-02-30", "2026-13-01", "0000-01-01", "9999-12-01", "9999-12-31", "2026-4-5",
     "05/04/2026", "x", "1899-12-31", "2999-12-31", "3000-01-01"]
)  # fmt: skip
# For a range: days near the end of the years allowed and of Python's, none far apart (a
# range of centuries is slow to preview, not wrong).
range_ends = st.sampled_from(
    ["2999-12-30", "2999-12-31", "3000-01-01", "9999-12-30", "9999-12-31", "2026-13-01", "x"]
)
toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(SAFE, max_size=10),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=4,
)


def _toml_value(value: Any) -> str:
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value if v is not None) + "]"
    return json.dumps(value)  # strings and numbers; NaN and Infinity make a broken file


KEYS = ["path", "timezone", "exclude_ids", "exclude_patterns", "min_interval", "daily_at",
        "footer", "feb29", "visibility", "handles_file", "typo"]  # fmt: skip
tables = st.dictionaries(
    st.sampled_from([*SECTIONS, "nonsense", "access_token"]),
    st.dictionaries(st.sampled_from(KEYS), toml_values, max_size=3),
    max_size=3,
)
# Mostly nothing, so that most runs get past the settings and into the command.
config_files = (
    st.just(b"")
    | tables.map(
        lambda data: "".join(
            f"[{section}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in keys.items())
            for section, keys in data.items()
        )
    ).map(str.encode)
    | st.binary(max_size=40)
)

option_sets: dict[tuple[str, ...], dict[str, Any]] = {
    ("preview",): {
        "--date": dates, "--json": None, "--show-skipped": None, "--archive": paths
    },
    ("preview", "--html", "page.html"): {"--from": range_ends, "--to": range_ends},
    ("calendar",): {"--from": range_ends, "--to": range_ends, "--json": None, "--archive": paths},
    ("check",): {"--archive": paths},
    ("status",): {"--json": None, "--archive": paths},
    ("repost",): {
        "--date": dates, "--dry-run": None, "--tweet": values, "--retry-failed": None,
        "--json": None, "--archive": paths,
    },
    ("daemon",): {"--dry-run": None, "--log-format": values, "--archive": paths},
    ("login",): {"--instance": values, "--env-file": paths},
    ("state", "rebuild"): {"--limit": values, "--archive": paths},
    ("state", "forget"): {"--tweet": values, "--yes": None},
}  # fmt: skip


@st.composite
def invocations(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(sorted(option_sets)))
    args: list[str] = []
    if draw(st.booleans()):
        args += ["--config", draw(paths)]
    args += list(command)
    options = option_sets[command]
    for name in draw(st.lists(st.sampled_from(sorted(options)), max_size=3, unique=True)):
        strategy = options[name]
        args += [name] if strategy is None else [name, draw(strategy)]
    return args


environments: st.SearchStrategy[dict[str, str]] = st.just({}) | st.dictionaries(
    st.sampled_from(ENV_NAMES + TYPOS), values, min_size=1, max_size=3
)


@contextmanager
def no_network() -> Iterator[None]:
    """Every HTTP request fails as if nothing listened (responses' ConnectionError)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        yield


def lay_out(root: Path, config: bytes, dotenv: bytes, handles: bytes) -> None:
    shutil.copytree(demo_archive(), root / "archive")
    (root / "dir").mkdir()
    (root / "garbage.bin").write_bytes(b"\x00\xff PK\x03\x04 not an archive")
    (root / "config.toml").write_bytes(config)
    (root / ".env").write_bytes(dotenv)
    (root / "config").mkdir()
    (root / "config" / "handles.toml").write_bytes(handles)


# What a settings problem starts with: a key (`selection.timezone`, or a section), a
# variable (`TOOTBACK_…`, `MASTODON_…`), or the file it is about.
SUBJECT = re.compile(
    r"  (([a-z_]+(\.[a-z0-9_]+)?|[A-Z][A-Z0-9_]+|\.env( line \d+)?): |(config|handles) file )"
)


def check_result(args: list[str], code: int, output: str, stderr: str) -> None:
    assert code in EXIT_CODES, (args, code, output)
    assert "Traceback" not in output, (args, output)
    if code != 2:
        return
    lines = stderr.strip().splitlines()
    assert lines, (args, output)
    if lines[0].startswith("Usage:"):  # click's own usage error: the last line says it
        assert lines[-1].startswith("Error: "), (args, output)
    elif lines[0] == "tootback: invalid settings:":
        for problem in lines[1:]:  # each names the setting, variable or file it is about
            assert SUBJECT.match(problem), (args, problem)
    else:
        assert len(lines) == 1 and lines[0].startswith("tootback: "), (args, output)


@pytest.fixture
def no_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.daemon.process.run_daemon", lambda *args, **kwargs: 0)


@pytest.mark.usefixtures("no_daemon")
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    args=invocations(),
    env=environments,
    config=config_files,
    dotenv=st.sampled_from([b"", b"", b"TOOTBACK_SELECTION__MAX_PER_DAY=x\n", b"\xff\xfe", b"=\n"])
    | st.binary(max_size=30),
    handles=st.sampled_from([b"", b'a = "@a@b.c"\n', b"a = 1\n", b"[x]\n"])
    | st.binary(max_size=20),
    token=st.booleans(),
)
def test_no_command_ends_in_a_traceback(
    tmp_path: Path,
    args: list[str],
    env: dict[str, str],
    config: bytes,
    dotenv: bytes,
    handles: bytes,
    token: bool,
) -> None:
    runner = CliRunner()
    cleared: dict[str, str | None] = {
        name: None for name in os.environ if name.startswith(("TOOTBACK_", "MASTODON_"))
    }
    account = {"MASTODON_API_BASE_URL": "http://127.0.0.1:9", "MASTODON_ACCESS_TOKEN": "t"}
    with TemporaryDirectory(dir=tmp_path) as where, chdir(where), no_network():
        lay_out(Path(where), config, dotenv, handles)
        result = runner.invoke(
            cli,
            args,
            env={**cleared, **(account if token else {}), **env},
            obj=Context(clock=FakeClock(datetime(2026, 4, 5, 12, tzinfo=UTC))),
            input="",
        )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    check_result(args, result.exit_code, result.output, result.stderr)
    event(f"exit {result.exit_code}")


# Each command that takes dates, run on the demo archive with no settings, so that every
# run gets as far as its dates: a day near the end of Python's calendar must not crash it.
DATED: dict[tuple[str, ...], dict[str, st.SearchStrategy[str]]] = {
    ("preview",): {"--date": dates, "--from": range_ends, "--to": range_ends},
    ("preview", "--html", "page.html"): {"--date": dates, "--from": range_ends, "--to": range_ends},
    ("calendar",): {"--from": range_ends, "--to": range_ends},
    ("repost", "--dry-run"): {"--date": dates},
    ("backfill", "--dry-run"): {"--from": range_ends, "--to": range_ends},
}


@st.composite
def dated_invocations(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(sorted(DATED)))
    options = DATED[command]
    names = draw(st.lists(st.sampled_from(sorted(options)), min_size=1, unique=True))
    return [*command, *(part for name in names for part in (name, draw(options[name])))]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=dated_invocations())
def test_no_date_ends_in_a_traceback(args: list[str]) -> None:
    cleared: dict[str, str | None] = {
        name: None for name in os.environ if name.startswith(("TOOTBACK_", "MASTODON_"))
    }
    with TemporaryDirectory() as where, chdir(where), no_network():
        result = CliRunner().invoke(
            cli,
            args,
            env=cleared,
            obj=Context(clock=FakeClock(datetime(2026, 4, 5, 12, tzinfo=UTC))),
        )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    check_result(args, result.exit_code, result.output, result.stderr)
    event(f"exit {result.exit_code}")
