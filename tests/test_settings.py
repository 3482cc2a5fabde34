"""Settings: precedence, key names, secrets, and one clear line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import SettingsError
from bot.handles import load_handles
from bot.settings import load_settings


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("TOOTBACK_CONFIG", "MASTODON_ACCESS_TOKEN", "MASTODON_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file() -> None:
    s = load_settings()
    assert str(s.archive.path) == "seeds"
    assert str(s.state.path) == "state/state.json"
    assert s.selection.timezone == "UTC"
    assert (s.selection.include_replies, s.selection.include_retweets) == (False, False)
    assert s.schedule.mode == "anniversary" and s.schedule.min_interval == 60
    assert s.mentions.unmapped == "domain" and s.media.missing == "post_without"
    assert s.access_token is None


def test_precedence_cli_over_env_over_dotenv_over_toml(monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        Path("config/tootback.toml"),
        '[selection]\ntimezone = "Asia/Tokyo"\nmax_per_day = 1\n'
        'feb29 = "skip"\n[post]\nlanguage = "ja"\n',
    )
    write(Path(".env"), "TOOTBACK_SELECTION__MAX_PER_DAY=2\nTOOTBACK_SELECTION__FEB29=mar1\n")
    monkeypatch.setenv("TOOTBACK_SELECTION__MAX_PER_DAY", "3")
    s = load_settings()
    assert s.selection.timezone == "Asia/Tokyo"  # toml
    assert s.selection.feb29 == "mar1"  # .env beats toml
    assert s.selection.max_per_day == 3  # environment beats .env
    assert s.post.language == "ja"
    s = load_settings(overrides={"selection": {"max_per_day": 4}})
    assert s.selection.max_per_day == 4  # command line beats everything
    assert s.selection.timezone == "Asia/Tokyo"  # other keys of the section survive


def test_config_named_by_env_or_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    write(Path("a.toml"), '[schedule]\nmode = "daily"\n')
    write(Path("b.toml"), '[schedule]\ndaily_at = "07:30"\n')
    monkeypatch.setenv("TOOTBACK_CONFIG", "a.toml")
    assert load_settings().schedule.mode == "daily"
    assert load_settings(Path("b.toml")).schedule.daily_at.hour == 7
    with pytest.raises(SettingsError, match=r"missing\.toml: not found"):
        load_settings(Path("missing.toml"))


def test_every_problem_names_key_and_source(monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        Path("config/tootback.toml"), '[schedule]\nmode = "weekly"\n[compose]\nfooter = "{nope}"\n'
    )
    monkeypatch.setenv("TOOTBACK_SELECTION__TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError) as info:
        load_settings(overrides={"selection": {"max_per_day": -1}})
    problems = info.value.problems
    assert len(problems) == 4
    assert any(
        p.startswith("selection.timezone: unknown IANA time zone 'Mars/Olympus'")
        and "environment TOOTBACK_SELECTION__TIMEZONE" in p
        for p in problems
    )
    assert any(
        p.startswith("schedule.mode:") and "config/tootback.toml [schedule] mode" in p
        for p in problems
    )
    assert any(p.startswith("compose.footer: unknown field {nope}") for p in problems)
    assert any(p.startswith("selection.max_per_day:") and "command line" in p for p in problems)


def test_unknown_key_or_section_is_an_error_not_a_silent_default() -> None:
    write(Path("config/tootback.toml"), "[selection]\ntimezon = 'UTC'\n")
    with pytest.raises(SettingsError, match=r"selection.timezon: Extra inputs"):
        load_settings()
    write(Path("config/tootback.toml"), "[selektion]\n")
    with pytest.raises(SettingsError, match=r"\[selektion\] is not a section"):
        load_settings()


def test_secrets_only_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    write(Path("config/tootback.toml"), 'MASTODON_ACCESS_TOKEN = "abc"\n')
    with pytest.raises(SettingsError, match="is a secret"):
        load_settings()
    Path("config/tootback.toml").unlink()
    write(
        Path(".env"),
        "MASTODON_ACCESS_TOKEN=s3cret-token\nMASTODON_API_BASE_URL=https://example.social/\n",
    )
    s = load_settings()
    assert s.access_token is not None and s.access_token.get_secret_value() == "s3cret-token"
    assert "s3cret-token" not in repr(s) and "s3cret-token" not in str(s)
    assert s.api_base_url == "https://example.social"


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.social", True),
        ("http://127.0.0.1:8080", True),
        ("http://localhost:3000", True),
        ("http://example.social", False),
        ("ftp://example.social", False),
    ],
)
def test_base_url_https_except_loopback(
    monkeypatch: pytest.MonkeyPatch, url: str, ok: bool
) -> None:
    monkeypatch.setenv("MASTODON_API_BASE_URL", url)
    if ok:
        assert load_settings().api_base_url == url
    else:
        with pytest.raises(SettingsError, match="MASTODON_API_BASE_URL: must be an https://"):
            load_settings()


def test_handles_file() -> None:
    path = write(
        Path("h.toml"), 'cHHillee = "@chilli@mastodon.social"\nBob_1 = "bob@Example.ORG"\n'
    )
    assert load_handles(path) == {
        "chhillee": "@chilli@mastodon.social",
        "bob_1": "@bob@example.org",
    }
    assert load_handles(Path("absent.toml")) == {}
    bad = write(Path("bad.toml"), 'alice = "alice"\n"not a name" = "@x@y.z"\n')
    with pytest.raises(SettingsError) as info:
        load_handles(bad)
    assert len(info.value.problems) == 2
    assert all("bad.toml" in p for p in info.value.problems)
