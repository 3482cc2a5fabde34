"""Each exit code means one thing: `bot.errors.EXIT_CODES`, the README's table, and the
code of every error class, kept equal here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner

from bot import errors
from bot.cli import cli
from bot.errors import EXIT_CODES, TootbackError

ROOT = Path(__file__).resolve().parent.parent

# Every error class and the code it exits with. A new class must be added here, with
# the code that means what happened (see EXIT_CODES), and drawn in the errors docstring.
EXPECTED = {
    "TootbackError": 2,
    "UsageError": 2,
    "SettingsError": 2,
    "ArchiveError": 2,
    "DemoArchive": 2,
    "StateError": 2,
    "StateCorrupt": 2,
    "StateLocked": 3,
    "AccountMismatch": 2,
    "MastodonError": 4,
    "AuthError": 2,
    "RateLimited": 4,
    "Rejected": 4,
    "Unavailable": 4,
    "Unconfirmed": 4,
    "Interrupted": 130,
}


def error_classes() -> dict[str, type[TootbackError]]:
    return {
        name: value
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, TootbackError)
    }


def test_every_error_class_exits_with_its_code() -> None:
    classes = error_classes()
    assert sorted(classes) == sorted(EXPECTED)
    assert {name: cls.exit_code for name, cls in classes.items()} == EXPECTED
    assert set(EXPECTED.values()) <= set(EXIT_CODES)


def test_the_readme_table_says_what_each_code_means() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", section, re.MULTILINE)
    assert {int(code): meaning for code, meaning in rows} == EXIT_CODES


def test_the_tree_in_the_errors_docstring_is_the_class_tree() -> None:
    parents: list[str] = []
    drawn: dict[str, str | None] = {}
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^ {4}((?:[│ ] {3}|[├└]── )*)(\w+)\s", line)
        if match is None:
            continue
        depth = len(match[1]) // 4
        del parents[depth:]
        drawn[match[2]] = parents[-1] if parents else None
        parents.append(match[2])
    classes = error_classes()
    assert sorted(drawn) == sorted(classes)
    for name, parent in drawn.items():
        base = classes[name].__bases__[0].__name__
        assert base == (parent or "Exception"), name


def test_a_server_that_cannot_be_reached_at_login_exits_4(unused_port: int) -> None:
    result = CliRunner().invoke(cli, ["login", "--instance", f"http://127.0.0.1:{unused_port}"])
    assert result.exit_code == errors.EXIT_SERVER
    assert "the server cannot be reached (Connection refused)" in result.stderr


def test_a_bare_host_name_is_an_https_instance() -> None:
    from bot.settings import check_base_url

    assert check_base_url("mastodon.social") == "https://mastodon.social"
    assert check_base_url(" https://example.social/ ") == "https://example.social"
    for bad in ("http://example.social", "mastodon.social/@me", "https://"):
        with pytest.raises(ValueError):
            check_base_url(bad)


@responses.activate
def test_login_refuses_an_instance_that_is_no_host_name_before_any_request() -> None:
    result = CliRunner().invoke(cli, ["login", "--instance", "not a host"])
    assert result.exit_code == errors.EXIT_USAGE
    assert "Invalid value for '--instance'" in result.stderr
    assert "not a valid host name" in result.stderr
    assert len(responses.calls) == 0


@responses.activate
def test_login_takes_a_bare_host_name_and_survives_an_odd_answer(tmp_path: Path) -> None:
    # The app registration answers 200 without the client id Mastodon.py expects.
    responses.post("https://mastodon.social/api/v1/apps", json={"error": "nope"})
    result = CliRunner().invoke(
        cli, ["login", "--instance", "mastodon.social", "--env-file", str(tmp_path / ".env")]
    )
    assert result.exit_code == errors.EXIT_SERVER, result.output
    assert result.stderr.startswith("tootback: registering tootback on https://mastodon.social:")
    assert "answered something unexpected" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    # First the public nodeinfo (unregistered here: no nodeinfo, "read write" asked), then the app.
    assert responses.calls[-1].request.url == "https://mastodon.social/api/v1/apps"


def test_login_checks_where_the_token_goes_before_asking_for_it(
    unused_port: int, tmp_path: Path
) -> None:
    instance = f"http://127.0.0.1:{unused_port}"
    result = CliRunner().invoke(
        cli, ["login", "--instance", instance, "--env-file", str(tmp_path / "no" / ".env")]
    )
    assert result.exit_code == errors.EXIT_USAGE
    assert (
        f"Invalid value for '--env-file': folder {tmp_path / 'no'} does not exist" in result.output
    )
