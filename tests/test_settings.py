"""Settings: precedence, key names, secrets, and one clear line per problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.bundled import default_config
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
    assert s.archive.path is None  # the bundled demo archive
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
    with pytest.raises(SettingsError, match=r"missing\.toml \(from --config\): not found"):
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


def test_a_year_range_that_holds_no_year_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOTBACK_SELECTION__MIN_YEAR", "2023")
    monkeypatch.setenv("TOOTBACK_SELECTION__MAX_YEAR", "2021")
    with pytest.raises(SettingsError) as info:
        load_settings()
    [problem] = info.value.problems
    assert problem.startswith("selection.max_year: 2021 is before min_year 2023")
    monkeypatch.setenv("TOOTBACK_SELECTION__MAX_YEAR", "2023")
    assert load_settings().selection.max_year == 2023


def test_unknown_key_or_section_is_an_error_not_a_silent_default() -> None:
    write(Path("config/tootback.toml"), "[selection]\ntimezon = 'UTC'\n")
    with pytest.raises(SettingsError, match=r"\[selection\] timezon: no such setting"):
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


@pytest.mark.parametrize(
    "url",
    [
        "not a host",
        "https://not a host",
        "exa%20mple.social",
        "example..social",
        "-x.social",
        "https://example.social:port",
        "https://:443",
        "https://☃.net",  # IDNA 2003 would take it; the HTTP library (IDNA 2008) does not
        "https://example.social#",
        "https://example.social?",
        "https://@me@example.social",
    ],
)
def test_a_base_url_without_a_valid_host_name_is_a_settings_error(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("MASTODON_API_BASE_URL", url)
    with pytest.raises(SettingsError, match="MASTODON_API_BASE_URL: ") as info:
        load_settings()
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("mastodon.social", "https://mastodon.social"),
        ("my_host.example", "https://my_host.example"),
        ("bücher.example", "https://bücher.example"),
        ("https://[::1]:8443", "https://[::1]:8443"),
        ("http://[::1]:3000/", "http://[::1]:3000"),
        ("https://192.0.2.7", "https://192.0.2.7"),
    ],
)
def test_a_base_url_with_a_host_name_or_address_is_kept(
    monkeypatch: pytest.MonkeyPatch, url: str, kept: str
) -> None:
    monkeypatch.setenv("MASTODON_API_BASE_URL", url)
    assert load_settings().api_base_url == kept


def test_handles_file() -> None:
    path = write(
        Path("h.toml"), 'cHHillee = "@chilli@mastodon.social"\nBob_1 = "bob@Example.ORG"\n'
    )
    assert load_handles(path) == {
        "chhillee": "@chilli@mastodon.social",
        "bob_1": "@bob@example.org",
    }
    assert load_handles(Path("config/handles.toml")) == {}  # the default: mapping nobody
    with pytest.raises(SettingsError, match=r"mentions.handles_file: absent.toml does not exist"):
        load_handles(Path("absent.toml"))  # named, so a typo in the name would map nobody
    bad = write(Path("bad.toml"), 'alice = "alice"\n"not a name" = "@x@y.z"\n')
    with pytest.raises(SettingsError) as info:
        load_handles(bad)
    assert len(info.value.problems) == 2
    assert all("bad.toml" in p for p in info.value.problems)


def test_the_shipped_config_file_holds_the_defaults_and_names_every_key() -> None:
    shipped = write(Path("shipped.toml"), default_config())
    assert load_settings(shipped).model_dump() == load_settings().model_dump()
    text = default_config()
    for section in ("archive", "state", "selection", "schedule", "links", "mentions"):
        model = type(getattr(load_settings(), section))
        body = text.split(f"[{section}]\n", 1)[1].split("\n[", 1)[0]
        for key in model.model_fields:
            assert re.search(rf"^#? ?{key} = ", body, re.MULTILINE), f"{section}.{key}"


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("TOOTBACK_TIMEZONE", "did you mean TOOTBACK_SELECTION__TIMEZONE?"),
        ("TOOTBACK_SELECTION__TIMEZNE", "did you mean TOOTBACK_SELECTION__TIMEZONE?"),
        ("TOOTBACK_FOO__BAR", "settings are TOOTBACK_SECTION__KEY"),
        ("tootback_state__pth", "did you mean TOOTBACK_STATE__PATH?"),
    ],
)
def test_an_unknown_tootback_variable_is_an_error_naming_the_closest(
    monkeypatch: pytest.MonkeyPatch, name: str, suggestion: str
) -> None:
    monkeypatch.setenv(name, "Europe/Berlin")
    with pytest.raises(SettingsError) as info:
        load_settings()
    [problem] = info.value.problems
    assert problem.startswith(f"{name}: no such setting (from environment)")
    assert suggestion in problem


def test_an_unknown_tootback_variable_in_dotenv_is_an_error_too() -> None:
    write(Path(".env"), "TOOTBACK_SCHEDULE__MIN_INTERVALL=5\n")
    with pytest.raises(
        SettingsError, match=r"\.env\); did you mean TOOTBACK_SCHEDULE__MIN_INTERVAL"
    ):
        load_settings()


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        ("1511171364748771329", ("1511171364748771329",)),
        ("1,2", ("1", "2")),
        (" 1 , 2 ,", ("1", "2")),
        ('["1", 2]', ("1", "2")),
        ("", ()),
    ],
)
def test_lists_in_the_environment_are_comma_separated_or_json(
    monkeypatch: pytest.MonkeyPatch, value: str, ids: tuple[str, ...]
) -> None:
    monkeypatch.setenv("TOOTBACK_SELECTION__EXCLUDE_IDS", value)
    assert load_settings().selection.exclude_ids == ids


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("TOOTBACK_SELECTION__EXCLUDE_PATTERNS", '[("', "is not a JSON list"),
        ("TOOTBACK_SELECTION__EXCLUDE_PATTERNS", "a{1,3}", "write several as a JSON list"),
        ("TOOTBACK_SELECTION__EXCLUDE_IDS", "[1,", "is not a JSON list"),
        ("TOOTBACK_SELECTION__EXCLUDE_IDS", "12,abc", "'abc' is not a tweet id"),
        ("TOOTBACK_STATE__PATH", "$NO_SUCH_VARIABLE/state.json", "$NO_SUCH_VARIABLE is not set"),
    ],
)
def test_a_bad_list_or_path_in_the_environment_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.delenv("NO_SUCH_VARIABLE", raising=False)
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    [problem] = info.value.problems
    key = name.removeprefix("TOOTBACK_").replace("__", ".").lower()
    assert problem.startswith(f"{key}: ") and says in problem
    assert problem.endswith(f"(from environment {name})")


def test_single_patterns_and_json_lists_of_patterns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOTBACK_SELECTION__EXCLUDE_PATTERNS", "^RT ")
    assert load_settings().selection.exclude_patterns == ("^RT ",)
    monkeypatch.setenv("TOOTBACK_SELECTION__EXCLUDE_PATTERNS", '["^RT ", "a{1,3}"]')
    assert load_settings().selection.exclude_patterns == ("^RT ", "a{1,3}")


def test_paths_expand_home_and_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TB", str(tmp_path / "tb"))
    write(
        Path("config/tootback.toml"),
        '[state]\npath = "~/tb/state.json"\n[archive]\npath = "$TB/archive"\n'
        'index_dir = "~/cache"\n[mentions]\nhandles_file = "${TB}/handles.toml"\n',
    )
    s = load_settings()
    assert s.state.path == tmp_path / "home" / "tb" / "state.json"
    assert s.archive.path == tmp_path / "tb" / "archive"
    assert s.archive.index_dir == tmp_path / "home" / "cache"
    assert s.mentions.handles_file == tmp_path / "tb" / "handles.toml"
    assert not Path("~").exists()


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        (
            '[post]\nvisibility = "public"\n\n[selection]\ninclude_replies = true\n'
            'timezon = "Europe/Berlin"\n',
            "config file config/tootback.toml line 6: [selection] timezon: no such setting; "
            "did you mean [selection] timezone?",
        ),
        (
            '[schedule]\n"min_intervall" = 5\n',
            "config file config/tootback.toml line 2: [schedule] min_intervall: no such setting; "
            "did you mean [schedule] min_interval?",
        ),
        (
            "[selection]\nvisibility = 1\n",
            "config file config/tootback.toml line 2: [selection] visibility: no such setting; "
            "the keys of [selection] are timezone, include_replies,",
        ),
        (
            "selection.timezon = 'UTC'\n",  # a dotted key: its line is not looked for
            "config file config/tootback.toml: [selection] timezon: no such setting; "
            "did you mean [selection] timezone?",
        ),
    ],
)
def test_an_unknown_key_in_the_config_file_names_the_file_line_and_closest_key(
    toml: str, problem: str
) -> None:
    write(Path("config/tootback.toml"), toml)
    with pytest.raises(SettingsError) as info:
        load_settings()
    [said] = info.value.problems
    assert said.startswith(problem)


def test_a_key_outside_any_section_names_the_section_it_belongs_in() -> None:
    write(Path("my.toml"), '# mine\ntimezone = "Europe/Berlin"\n[post]\nlanguage = "de"\n')
    with pytest.raises(SettingsError) as info:
        load_settings(Path("my.toml"))
    assert info.value.problems == [
        "config file my.toml line 2: timezone must be inside a section; "
        "did you mean [selection] timezone?"
    ]


def test_a_section_given_a_value_is_blamed_on_the_config_file() -> None:
    write(Path("config/tootback.toml"), "selection = 3\n")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert info.value.problems == [
        "config file config/tootback.toml line 1: selection is a section: "
        "write [selection] and its keys below it"
    ]


def test_a_line_of_dotenv_that_is_not_key_value_is_an_error_naming_its_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    write(Path(".env"), "TOOTBACK_SELECTION__MAX_PER_DAY=2\n\n# a comment\ngarbage line\nA=1\n")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert info.value.problems == [
        ".env line 4: not KEY=VALUE (the line is not shown: it may hold a secret)"
    ]
    assert "python-dotenv could not parse" not in caplog.text


def test_a_secret_on_a_bad_dotenv_line_is_not_shown() -> None:
    write(Path(".env"), "MASTODON_ACCESS_TOKEN abc123secret\n")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "abc123secret" not in str(info.value)
    assert info.value.problems[0].startswith(".env line 1: not KEY=VALUE")


def test_settings_say_which_config_file_was_read_and_where_a_value_came_from(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().config is None
    write(Path("config/tootback.toml"), '[archive]\npath = "~/nope"\n')
    s = load_settings()
    assert s.config is not None and (s.config.path, s.config.named_by) == (
        Path("config/tootback.toml"),
        None,
    )
    assert s.source_of("archive.path") == (
        "archive.path, from config file config/tootback.toml [archive] path"
    )
    assert s.source_of("state.path") == "state.path, from default"
    monkeypatch.setenv("TOOTBACK_ARCHIVE__PATH", "/nope")
    s = load_settings()
    assert s.source_of("archive.path") == "archive.path, from environment TOOTBACK_ARCHIVE__PATH"
    s = load_settings(overrides={"archive": {"path": "/x"}})
    assert s.source_of("archive.path", "--archive") == "--archive"
    monkeypatch.setenv("TOOTBACK_CONFIG", "config/tootback.toml")
    assert load_settings().config.named_by == "TOOTBACK_CONFIG"  # type: ignore[union-attr]
