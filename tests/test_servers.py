"""`login` and `check` on every server profile of the fake, and a refused token in each form.

Each profile behaves as one server software was measured or read to behave
(tests/support/profiles.py): their version strings, routes, scopes and ways
of refusing a token. The commands run in-process against it, as a user would
run them: `login` with the code fed in, then `check` with the `.env` it wrote.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import Context, cli
from bot.clock import FakeClock
from bot.compose.length import COUNTERS
from bot.errors import EXIT_FAILED, EXIT_USAGE
from bot.software import GRANULAR_SCOPES, software
from bot.state import Failed, load_state
from tests.support import NOON
from tests.support.archives import write_old_markdown
from tests.support.fake_mastodon import FakeMastodon
from tests.support.profiles import PROFILES, TAKAHE

TOKEN = "tok-SECRET-servers-4711"


@pytest.fixture(params=sorted(PROFILES))
def server(request: pytest.FixtureRequest) -> Iterator[FakeMastodon]:
    with FakeMastodon(profile=PROFILES[request.param], token=TOKEN) as fake:
        yield fake


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, isolated: Path, own_archive: Path, server: FakeMastodon
) -> Path:
    """A working directory whose .env names `server` and its token, and an archive."""
    monkeypatch.setenv("TOOTBACK_STATE__PATH", str(isolated / "state" / "state.json"))
    env_file = isolated / ".env"
    env_file.write_text(
        f"MASTODON_API_BASE_URL={server.url}\nMASTODON_ACCESS_TOKEN={TOKEN}\n", encoding="utf-8"
    )
    return env_file


def tootback(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), obj=Context(clock=FakeClock(NOON)), input=input)


def login(server: FakeMastodon, env_file: Path) -> Result:
    return tootback(
        "login", "--instance", server.url, "--env-file", str(env_file), input=server.oauth_code
    )


def test_login_asks_the_scopes_the_server_honours_and_check_passes_with_its_token(
    server: FakeMastodon, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOTBACK_STATE__PATH", str(isolated / "state" / "state.json"))
    result = login(server, isolated / ".env")
    assert result.exit_code == 0, result.output
    name = server.profile.software[0]
    [app] = server.requests("POST", "/api/v1/apps")
    assert app.fields["scopes"] == (software(name).scopes,)
    assert server.token_scopes == tuple(software(name).scopes.split())  # what it granted
    checked = tootback("check")
    assert checked.exit_code == 0, checked.output
    assert f"account: @me on {server.url} (token valid)" in checked.stdout
    assert f"server: {name} " in checked.stdout or f"server: {server.profile.version}" in (
        checked.stdout
    )
    assert TOKEN not in checked.output + result.output
    # Nothing of the API was asked with a trailing slash (Takahē's nodeinfo link has one).
    assert not [r.path for r in server.requests() if r.trailing_slash and "/api/" in r.path]


def test_takahe_gets_plain_read_and_gotosocial_and_mastodon_granular_scopes() -> None:
    assert software("takahe").scopes == "read write:statuses write:media"
    assert software("gotosocial").scopes == software("mastodon").scopes == GRANULAR_SCOPES
    assert software("misskey").scopes == "read write"


@pytest.mark.usefixtures("env")
def test_check_reports_the_servers_limits_and_what_tootback_knows_of_it(
    server: FakeMastodon,
) -> None:
    result = tootback("check")
    assert result.exit_code == 0, result.output
    limits = server.profile.limits
    assert f"instance: {limits.max_characters} characters" in result.stdout
    known = software(server.profile.software[0])
    line = next(x for x in result.stdout.splitlines() if x.startswith("server: "))
    assert f"({known.title})" in line and f"Idempotency-Key {known.key}" in line
    if server.profile.app_credentials != "scopes":  # what login asks for on that server
        assert f"scopes: not reported by the server; tootback needs {known.scopes}" in (
            result.stdout
        )


@pytest.mark.usefixtures("env")
def test_a_granular_token_on_takahe_is_refused_by_check_with_the_reason(
    server: FakeMastodon,
) -> None:
    server.token_scopes = tuple(GRANULAR_SCOPES.split())
    result = tootback("check")
    if server.profile.verify_needs_read:
        assert result.exit_code == EXIT_USAGE
        assert "refused the access token" in result.stderr and "tootback login" in result.stderr
    else:
        assert result.exit_code == 0, result.output


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize("command", [["check"], ["repost", "--date", "2026-04-05"]])
def test_a_refused_token_exits_2_in_every_servers_form(
    server: FakeMastodon, command: list[str]
) -> None:
    server.revoke_token()
    result = tootback(*command)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "refused the access token" in result.stderr
    assert TOKEN not in result.output
    assert server.statuses() == []


@pytest.mark.usefixtures("env")
def test_a_run_recovers_as_the_servers_software_is_known_to_need(server: FakeMastodon) -> None:
    # Keys trusted only where the software keeps them; the home timeline read too where
    # the account's own list hides some visibilities (Takahē).
    from bot.archive.source import ArchiveSource
    from bot.settings import load_settings
    from bot.wiring import open_run

    settings = load_settings(None)
    source = ArchiveSource(Path(os.environ["TOOTBACK_ARCHIVE__PATH"]), settings.archive.index_dir)
    run = open_run(settings, source, FakeClock(NOON))
    known = software(server.profile.software[0])
    assert run.runner.publisher.recovery.software == known
    assert run.store.load().server == run.client.profile()


# --- length rule per server, and preview with the kept profile ------------------------

# Under Mastodon's rule this is 23 + 1 + 440 + footer: one part under 500. As code points
# (GoToSocial, Takahē, Pleroma) its URL counts 120: it must be cut in two.
LONG_URL = "https://example.com/" + "a" * 100
WORDS = " ".join(["word"] * 88)  # 440 characters
LONG_TWEET = ("1511000000000000001", datetime(2021, 4, 5, 9, 0, tzinfo=UTC), f"{LONG_URL} {WORDS}")


@pytest.fixture
def long_archive(env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_old_markdown(env.parent / "long", [LONG_TWEET])
    monkeypatch.setenv("TOOTBACK_ARCHIVE__PATH", str(path))
    return path


@pytest.mark.usefixtures("long_archive")
def test_a_toot_fitted_by_tootback_is_never_refused_for_length(server: FakeMastodon) -> None:
    server.max_characters = 500
    result = tootback("repost", "--date", "2026-04-05")
    assert result.exit_code == 0, result.output
    statuses = server.statuses()
    assert statuses and all(
        server.profile.status_length(s.text, s.spoiler_text) <= 500 for s in statuses
    )
    rule = software(server.profile.software[0]).length
    assert len(statuses) == (1 if rule == "mastodon" else 2)


@pytest.mark.usefixtures("long_archive")
def test_preview_uses_the_limit_and_rule_of_the_kept_server_profile(
    server: FakeMastodon,
) -> None:
    before = json.loads(tootback("preview", "--date", "2026-04-05", "--json").stdout)
    assert (before["max_characters"], before["length_rule"]) == (500, "mastodon")
    assert before["limit_from"].startswith("compose.max_characters")
    assert tootback("check").exit_code == 0  # check asks the server but keeps nothing
    assert json.loads(tootback("preview", "--date", "2026-04-05", "--json").stdout) == before
    assert tootback("state", "rebuild").exit_code == 0  # a run: it keeps the profile
    shown = tootback("preview", "--date", "2026-04-05")
    after = json.loads(tootback("preview", "--date", "2026-04-05", "--json").stdout)
    name, limits = server.profile.software[0], server.profile.limits
    rule = software(name).length
    assert (after["max_characters"], after["length_rule"]) == (limits.max_characters, rule)
    described = f"server profile of {after['limit_from'].split(' of ', 1)[1]}"
    assert after["limit_from"] == described and "read 2026-04-05 12:00 UTC" in described
    counted = "as Mastodon counts" if rule == "mastodon" else "counted in code points"
    assert f"limit: {limits.max_characters} characters, {counted} (server profile of " in (
        shown.stdout
    )
    [toot] = after["toots"]
    lengths = [p["length"] for p in toot["parts"]]
    counter = COUNTERS[rule]
    assert lengths == [counter(p["text"], "", 23) for p in toot["parts"]]


# --- media the server cannot take -------------------------------------------------------

OFFICIAL = Path(__file__).resolve().parent / "fixtures" / "official"
VIDEO_TWEET = "1511238455915446273"  # 2022-04-05, one MP4


@pytest.fixture
def official(env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = env.parent / "official"
    shutil.copytree(OFFICIAL, path)
    monkeypatch.setenv("TOOTBACK_ARCHIVE__PATH", str(path))
    return path


def uploads(server: FakeMastodon) -> list[str]:
    """The names of the files uploaded (or tried)."""
    posts = server.requests("POST")
    return [r.files["file"].filename for r in posts if r.path.endswith("/media")]


def takes_video(server: FakeMastodon) -> bool:
    limits = server.profile.limits
    return "video/mp4" in limits.media_types and limits.video_size_limit != 0


@pytest.mark.usefixtures("official")
def test_a_video_the_server_cannot_take_is_left_out_before_any_upload(
    server: FakeMastodon,
) -> None:
    result = tootback("repost", "--tweet", VIDEO_TWEET)
    assert result.exit_code == 0, result.output
    [status] = server.statuses()
    if takes_video(server):
        assert len(uploads(server)) == 1 and len(status.media_ids) == 1
    else:  # Takahē: no video at all (it would answer 500, over and over)
        assert uploads(server) == [] and status.media_ids == ()
        assert "(video left out: the server takes no video/mp4)" in status.text


def test_fail_tweet_fails_only_that_tweet_and_preview_says_so_first(
    isolated: Path, own_archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOTBACK_ARCHIVE__PATH", str(shutil.copytree(OFFICIAL, isolated / "o")))
    monkeypatch.setenv("TOOTBACK_STATE__PATH", str(isolated / "state" / "state.json"))
    monkeypatch.setenv("TOOTBACK_MEDIA__REFUSED", "fail_tweet")
    with FakeMastodon(profile=TAKAHE, token=TOKEN) as server:
        monkeypatch.setenv("MASTODON_API_BASE_URL", server.url)
        monkeypatch.setenv("MASTODON_ACCESS_TOKEN", TOKEN)
        assert tootback("state", "rebuild").exit_code == 0  # keeps Takahē's profile
        preview = tootback("preview", "--date", "2026-04-05", "--show-skipped")
        reason = "the server cannot take data/tweets_media/1511238455915446273-Kq3VidBuild.mp4"
        assert f"{VIDEO_TWEET}  {reason}: the server takes no video/mp4" in preview.stdout
        shown = json.loads(tootback("preview", "--date", "2026-04-05", "--json").stdout)
        others = sum(len(toot["parts"]) for toot in shown["toots"])
        result = tootback("repost", "--date", "2026-04-05")
        assert result.exit_code == EXIT_FAILED, result.output
        assert not [name for name in uploads(server) if name.endswith(".mp4")]
        assert others and len(server.statuses()) == others  # the day's other toots went out
        record = load_state(isolated / "state" / "state.json").record(VIDEO_TWEET)
        assert isinstance(record, Failed) and record.error.startswith(reason)
        again = tootback("repost", "--date", "2026-04-05")
        assert again.exit_code == 0 and "failed before" in again.stdout
