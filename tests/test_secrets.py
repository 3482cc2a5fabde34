"""The access token never shows: not in any output, log line, file or message.

The token is validated when read (white space around it stripped; a control
character, a space or non-ASCII is a settings error that does not show it),
and every message made from what a library or a server said is redacted in
every form the token may take there: as is, after `Bearer `, escaped as
`repr` or JSON escape it, URL-encoded. `test_no_error_path_shows_the_token`
drives every way a command can fail with a token full of characters that
change under those escapes, and greps every output and file for any of them.
"""

from __future__ import annotations

import json
import os
import signal
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from bot.cli import Context, cli
from bot.client.policy import redact
from bot.clock import FakeClock
from bot.errors import SettingsError
from bot.settings import load_settings
from tests.support import NOON
from tests.support.archives import caught_up_archive, noon_zone, write_old_markdown
from tests.support.fake_mastodon import FakeMastodon
from tests.support.processes import ForkedRun, clean_environ, wait_for

# Characters that `repr`, JSON and URL-encoding each write differently.
TOKEN = "tok-SECRET-7f3a/+=\\'\"%x"
CORE = "SECRET-7f3a"  # in every form of TOKEN: found anywhere, something leaked
STATUSES = "/api/v1/statuses"


def forms(token: str) -> list[str]:
    """The token as a library or a server may print it."""
    return [
        token,
        repr(token),
        json.dumps(token),
        quote(token, safe=""),
        quote_plus(token),
        f"Bearer {token}",
        repr(f"Bearer {token}\n"),
    ]


ECHO = "token " + " | ".join(forms(TOKEN))  # a server that repeats what it was sent


def leaks(text: str) -> list[str]:
    return [f for f in [*forms(TOKEN), CORE] if f in text]


# --- validation when read -------------------------------------------------------------


@pytest.mark.parametrize("raw", [TOKEN + "\n", f"  {TOKEN}\t", f"\n{TOKEN}\r\n"])
def test_white_space_around_the_token_is_stripped(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", raw)
    token = load_settings(None, env_file=None).access_token
    assert token is not None and token.get_secret_value() == TOKEN


@pytest.mark.parametrize(
    "bad", [f"tok\x01{CORE}", f"tok{CORE}\x7f", f"tok {CORE}", f"tok\n{CORE}", f"tök{CORE}"]
)
def test_a_token_with_a_character_no_token_has_is_a_settings_error_that_hides_it(
    bad: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", bad)
    with pytest.raises(SettingsError) as info:
        load_settings(None, env_file=None)
    message = str(info.value)
    assert "MASTODON_ACCESS_TOKEN: holds a character no access token has" in message
    assert CORE not in message and "tok" not in message.split("MASTODON_ACCESS_TOKEN")[0]
    assert info.value.exit_code == 2


def test_an_empty_token_is_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", " \n")
    assert load_settings(None, env_file=None).access_token is None


@pytest.mark.parametrize("form", forms(TOKEN))
def test_redaction_covers_every_form(form: str) -> None:
    assert leaks(redact(f"the server said: {form}; then {form}!", TOKEN)) == []
    assert redact("nothing secret here", TOKEN) == "nothing secret here"


@pytest.mark.parametrize("form", forms(TOKEN))
def test_a_real_token_is_redacted_whatever_stands_next_to_it(form: str) -> None:
    glued = [f"Bearer%20{form}", f"access_token%3D{form}", f"line\\n{form}", f"a{form}b"]
    assert leaks(redact(" ".join(glued), TOKEN)) == []


@pytest.mark.parametrize("form", forms("x"))
def test_a_short_token_is_redacted_only_where_it_stands_whole(form: str) -> None:
    text = f"Max retries exceeded, said {form}; token={form}&x=1, in 'x' and xx"
    redacted = redact(text, "x")
    assert redacted.startswith("Max retries exceeded, said ")
    assert redacted.endswith("&[token]=1, in '[token]' and xx")
    assert "x" not in redacted.replace("Max retries exceeded", "").replace("xx", "")


# --- every error path, as the user runs it ---------------------------------------------


@pytest.fixture
def echoing() -> Iterator[FakeMastodon]:
    with FakeMastodon(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The folder everything of these runs is in: archive, state, logs."""
    write_old_markdown(
        tmp_path / "archive",
        [("1511171364748771329", datetime(2022, 4, 5, 2, 38, tzinfo=UTC), "Hello again")],
    )
    return tmp_path


def tootback(home: Path, url: str, *args: str) -> tuple[int, str]:
    """`tootback ARGS` as a process, with TOKEN (and a trailing newline, as a `.env` line
    copied from a terminal may have); returns the exit code and all it wrote."""
    env = clean_environ(
        MASTODON_API_BASE_URL=url,
        MASTODON_ACCESS_TOKEN=TOKEN + "\n",
        TOOTBACK_ARCHIVE__PATH=str(home / "archive"),
        TOOTBACK_STATE__PATH=str(home / "state" / "state.json"),
        TOOTBACK_SCHEDULE__MIN_INTERVAL="0",
    )
    run = ForkedRun(args, env=env, cwd=home)
    out, err = run.communicate(timeout=120)
    return run.returncode or 0, out.decode() + err.decode()


def every_file(home: Path) -> dict[str, str]:
    return {
        str(p.relative_to(home)): p.read_bytes().decode("utf-8", "replace")
        for p in home.rglob("*")
        if p.is_file() and p.name != ".env"
    }


def closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_no_error_path_shows_the_token(echoing: FakeMastodon, home: Path) -> None:
    server, url = echoing, echoing.url
    outputs: dict[str, tuple[int, str]] = {}
    # A refused token, the server echoing what it was sent: at the first request...
    server.fail_next("/api/v1/accounts/verify_credentials", 401, error=ECHO)
    outputs["check, 401"] = tootback(home, url, "check")
    server.fail_next("/api/v1/accounts/verify_credentials", 403, error=ECHO)
    outputs["repost, 403"] = tootback(home, url, "repost", "--date", "2026-04-05")
    # ...a status refused (422: the toot is marked failed, with the server's reason)...
    server.fail_next(STATUSES, 422, method="POST", error=ECHO)
    outputs["repost, 422"] = tootback(home, url, "repost", "--date", "2026-04-05")
    # ...an error of the server's own (500), said at once, then retried.
    server.fail_next("/api/v1/accounts/verify_credentials", 500, error=ECHO)
    outputs["repost, 500 once"] = tootback(home, url, "repost", "--date", "2026-04-05")
    outputs["status"] = tootback(home, url, "status")
    codes = {what: code for what, (code, _) in outputs.items()}
    assert codes == {
        "check, 401": 2,
        "repost, 403": 2,
        "repost, 422": 1,
        "repost, 500 once": 0,
        "status": 0,
    }, outputs
    for what in ("check, 401", "repost, 403", "repost, 422", "repost, 500 once"):
        assert "[token]" in outputs[what][1], what  # the echo was there, and redacted
    for what, (_, text) in outputs.items():
        assert leaks(text) == [], (what, text)
        assert "Traceback" not in text, (what, text)
    for name, text in every_file(home).items():
        assert leaks(text) == [], name


def test_no_server_at_all_shows_no_token_either(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A network failure is retried with backoff (on the injected clock), then exit 4."""
    monkeypatch.chdir(home)
    env = {
        "MASTODON_API_BASE_URL": closed_port(),
        "MASTODON_ACCESS_TOKEN": TOKEN + "\n",
        "TOOTBACK_ARCHIVE__PATH": str(home / "archive"),
        "TOOTBACK_STATE__PATH": str(home / "state" / "state.json"),
        "TOOTBACK_SCHEDULE__MIN_INTERVAL": "0",
    }
    clock = FakeClock(NOON)
    result = CliRunner(env=env).invoke(
        cli, ["repost", "--date", "2026-04-05"], obj=Context(clock=clock)
    )
    text = result.output
    assert result.exit_code == 4, text
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert len(clock.sleeps) == 5 and text.count("trying again in") == 5  # each retry said
    assert leaks(text) == [] and "Traceback" not in text
    for name, content in every_file(home).items():
        assert leaks(content) == [], name


def test_the_daemon_log_never_shows_the_token(echoing: FakeMastodon, home: Path) -> None:
    now = datetime.now(UTC)  # a daemon runs on the real clock (APScheduler)
    caught_up_archive(home / "archive", now)
    # One 500 echoing the token (logged as `retried`), then a refusal (logged as `failed`).
    echoing.fail_next(STATUSES, 500, method="POST", error=ECHO)
    echoing.fail_next(STATUSES, 422, method="POST", error=ECHO)
    env = clean_environ(
        MASTODON_API_BASE_URL=echoing.url,
        MASTODON_ACCESS_TOKEN=TOKEN + "\n",
        TOOTBACK_ARCHIVE__PATH=str(home / "archive"),
        TOOTBACK_STATE__PATH=str(home / "state" / "state.json"),
        TOOTBACK_SELECTION__TIMEZONE=noon_zone(now),
    )
    daemon = ForkedRun(["daemon", "--log-format", "json"], env=env, cwd=home)
    try:
        assert wait_for(lambda: bool(echoing.requests("POST", STATUSES)[1:]), daemon)
        state = home / "state" / "state.json"
        assert wait_for(lambda: state.exists() and "failed" in _state(home), daemon)
    finally:
        daemon.send_signal(signal.SIGTERM)
        out, err = daemon.communicate(timeout=30)
    log = out.decode() + err.decode()
    events = [json.loads(line)["event"] for line in log.splitlines() if line.startswith("{")]
    assert "retried" in events and "failed" in events, log
    assert "[token]" in log
    assert leaks(log) == [], log
    for name, text in every_file(home).items():
        assert leaks(text) == [], name


def test_a_token_with_a_control_character_stops_before_any_request(
    echoing: FakeMastodon, home: Path
) -> None:
    env = clean_environ(
        MASTODON_API_BASE_URL=echoing.url,
        MASTODON_ACCESS_TOKEN=f"tok\x01{CORE}",
        TOOTBACK_ARCHIVE__PATH=str(home / "archive"),
        TOOTBACK_STATE__PATH=str(home / "state" / "state.json"),
    )
    for args in (["repost", "--date", "2026-04-05"], ["daemon"], ["check"]):
        run = ForkedRun(args, env=env, cwd=home)
        out, err = run.communicate(timeout=60)
        text = out.decode() + err.decode()
        assert run.returncode == 2, text
        assert CORE not in text and "Traceback" not in text
        assert "MASTODON_ACCESS_TOKEN: holds a character no access token has" in text
    assert echoing.requests() == []


def test_login_writes_the_token_to_env_only(
    echoing: FakeMastodon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli,
        ["login", "--instance", echoing.url],
        obj=Context(clock=FakeClock(NOON)),
        input=echoing.oauth_code + "\n",
    )
    assert result.exit_code == 0, result.output
    assert leaks(result.output) == []
    assert f"MASTODON_ACCESS_TOKEN={TOKEN}\n" in (tmp_path / ".env").read_text()
    assert [p.name for p in tmp_path.iterdir()] == [".env"]


def _state(home: Path) -> str:
    return (home / "state" / "state.json").read_text(encoding="utf-8")


def test_secret_str_and_env_are_private(tmp_path: Path) -> None:
    from bot.envfile import save_secrets

    save_secrets(tmp_path / ".env", "https://example.social", SecretStr(TOKEN + "\n"))
    assert (tmp_path / ".env").stat().st_mode & 0o777 == 0o600
    assert os.listdir(tmp_path) == [".env"]
