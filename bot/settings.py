"""Settings: the one place that reads the environment, `.env` and config files.

Precedence, highest first: CLI flags (passed in as `overrides`) > environment >
`.env` > `config/tootback.toml` (or `--config` / `TOOTBACK_CONFIG`) > defaults.
Keys are `[section] key` in TOML and `TOOTBACK_SECTION__KEY` in the
environment. The two secrets, `MASTODON_ACCESS_TOKEN` and
`MASTODON_API_BASE_URL`, are read from the environment or `.env` only.
"""

from __future__ import annotations

import os
import re
import string
import sys
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.errors import SettingsError

ENV_PREFIX = "TOOTBACK_"
DEFAULT_CONFIG = Path("config/tootback.toml")
DEFAULT_ARCHIVE = Path("seeds")
FOOTER_FIELDS = frozenset({"date", "url", "years_ago", "ago"})
SECRET_NAMES = ("MASTODON_ACCESS_TOKEN", "MASTODON_API_BASE_URL")


class Section(BaseModel):
    # A typo in a key must fail loudly rather than silently use the default.
    model_config = ConfigDict(extra="forbid", frozen=True)


def user_cache_dir() -> Path:
    """tootback's folder in the user's cache: `$XDG_CACHE_HOME/tootback` when that is
    set, else the platform's place (`~/.cache/tootback` on Linux)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        return Path(xdg) / "tootback"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "tootback"
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "tootback" / "Cache"
    return Path.home() / ".cache" / "tootback"


class ArchiveSettings(Section):
    path: Path = DEFAULT_ARCHIVE
    index_dir: Path = Field(
        default_factory=user_cache_dir, description="where the day index of the archive is kept"
    )

    @field_validator("index_dir")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()


class StateSettings(Section):
    path: Path = Path("state/state.json")


class SelectionSettings(Section):
    timezone: str = "UTC"
    include_replies: bool = False
    include_retweets: bool = False
    feb29: Literal["feb28", "mar1", "skip"] = "feb28"
    max_per_day: int = Field(default=0, ge=0)
    exclude_ids: tuple[str, ...] = ()
    exclude_patterns: tuple[str, ...] = ()
    min_year: int | None = None
    max_year: int | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r} (e.g. 'Europe/Berlin')") from None
        return value

    @field_validator("exclude_patterns")
    @classmethod
    def _valid_regexes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
        return value

    @field_validator("exclude_ids", mode="before")
    @classmethod
    def _ids_as_strings(cls, value: Any) -> Any:
        # TOML users write ids as numbers; ids are strings everywhere else.
        if isinstance(value, list | tuple):
            return tuple(str(v) for v in value)
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ScheduleSettings(Section):
    mode: Literal["anniversary", "daily"] = "anniversary"
    daily_at: time = time(9, 0)
    min_interval: int = Field(default=60, ge=0, description="seconds between two posts")
    catch_up: int = Field(default=21600, ge=0, description="seconds a missed toot may go out late")


class LinksSettings(Section):
    self_unposted: Literal["keep", "archive"] = "keep"
    archive_template: str = "https://web.archive.org/web/{url}"
    twitter_host: str = ""

    @field_validator("archive_template")
    @classmethod
    def _has_url(cls, value: str) -> str:
        if "{url}" not in value:
            raise ValueError("must contain {url}")
        return value

    @field_validator("twitter_host")
    @classmethod
    def _bare_host(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}", value):
            raise ValueError(f"{value!r} is not a bare host name such as 'xcancel.com'")
        return value


class MentionsSettings(Section):
    unmapped: Literal["domain", "fullwidth", "link", "plain"] = "domain"
    mapped: Literal["mention", "link"] = "mention"
    handles_file: Path = Path("config/handles.toml")


class ComposeSettings(Section):
    footer: str = "(tweeted {ago}, {date})"
    max_characters: int = Field(
        default=500, ge=100, description="used until the instance's own limit is known"
    )

    @field_validator("footer")
    @classmethod
    def _known_fields(cls, value: str) -> str:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise ValueError(f"bad template: {exc}") from None
        unknown = names - FOOTER_FIELDS
        if unknown:
            known = ", ".join("{" + n + "}" for n in sorted(FOOTER_FIELDS))
            raise ValueError(f"unknown field {{{sorted(unknown)[0]}}}; known: {known}")
        return value


class PostSettings(Section):
    visibility: Literal["public", "unlisted", "private"] = "public"
    language: str = Field(default="", pattern=r"^([a-z]{2})?$")
    spoiler_text: str = ""


class MediaSettings(Section):
    missing: Literal["post_without", "skip_tweet"] = "post_without"


def check_base_url(value: str) -> str:
    """`value` without a trailing slash, if it is an https URL (or http on loopback).

    Raises SettingsError naming the URL otherwise.
    """
    try:
        return _check_base_url(value) or ""
    except ValueError as exc:
        raise SettingsError([f"{value}: {exc}"]) from None


def _check_base_url(value: str | None) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    loopback = parts.hostname in {"localhost", "127.0.0.1", "::1"}
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ValueError("must be an https:// URL (plain http only for localhost)")
    if not parts.hostname:
        raise ValueError(f"{value!r} has no host name")
    return value.rstrip("/")


_config_file: ContextVar[Path | None] = ContextVar("_config_file", default=None)


class Settings(BaseSettings):
    """Every setting of tootback, validated. Build it with `load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
        frozen=True,
    )

    archive: ArchiveSettings = ArchiveSettings()
    state: StateSettings = StateSettings()
    selection: SelectionSettings = SelectionSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    links: LinksSettings = LinksSettings()
    mentions: MentionsSettings = MentionsSettings()
    compose: ComposeSettings = ComposeSettings()
    post: PostSettings = PostSettings()
    media: MediaSettings = MediaSettings()
    access_token: SecretStr | None = Field(default=None, validation_alias="MASTODON_ACCESS_TOKEN")
    api_base_url: str | None = Field(default=None, validation_alias="MASTODON_API_BASE_URL")

    @field_validator("api_base_url")
    @classmethod
    def _https_only(cls, value: str | None) -> str | None:
        return _check_base_url(value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file.get())
        return init_settings, env_settings, dotenv_settings, toml


def load_settings(
    config: Path | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    env_file: Path | None = Path(".env"),
) -> Settings:
    """Read and validate every setting once.

    config: the TOML file; None means `TOOTBACK_CONFIG` or, if unset,
        `config/tootback.toml` when it exists. A file named explicitly must exist.
    overrides: values from CLI flags, as {"section": {"key": value}}; they win.
    env_file: the dotenv file (missing is fine); None disables it.

    Raises SettingsError with one line per problem, each naming the key and
    where its value came from.
    """
    config_path = _config_path(config)
    toml_data = _read_toml(config_path) if config_path else {}
    cli: dict[str, Any] = {section: dict(values) for section, values in (overrides or {}).items()}
    token = _config_file.set(config_path)
    try:
        return Settings(_env_file=env_file, **cli)  # type: ignore[call-arg]
    except ValidationError as exc:
        dotenv = dict(dotenv_values(env_file)) if env_file and env_file.is_file() else {}
        problems = [
            _problem(error, cli, dotenv, toml_data, config_path, env_file) for error in exc.errors()
        ]
        raise SettingsError(problems) from None
    finally:
        _config_file.reset(token)


def _config_path(config: Path | None) -> Path | None:
    named = config or (
        Path(os.environ["TOOTBACK_CONFIG"]) if os.environ.get("TOOTBACK_CONFIG") else None
    )
    if named is None:
        return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None
    if not named.is_file():
        raise SettingsError([f"config file {named}: not found"])
    return named


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError([f"config file {path}: {exc}"]) from None
    problems = [
        f"config file {path}: {key} is a secret; set it in the environment or .env, not here"
        for key in data
        if key.upper() in SECRET_NAMES or key in {"access_token", "api_base_url"}
    ]
    problems += [
        f"config file {path}: [{key}] is not a section (known: {', '.join(_sections())})"
        for key in data
        if key not in _sections() and key.upper() not in SECRET_NAMES
    ]
    if problems:
        raise SettingsError(problems)
    return data


def _sections() -> list[str]:
    return [name for name, f in Settings.model_fields.items() if f.validation_alias is None]


def _problem(
    error: Any,
    cli: Mapping[str, Mapping[str, Any]],
    dotenv: Mapping[str, str | None],
    toml_data: Mapping[str, Any],
    config_path: Path | None,
    env_file: Path | None,
) -> str:
    loc = [str(part) for part in error["loc"]]
    if loc and loc[0].upper() in SECRET_NAMES:
        key, env_name = loc[0].upper(), loc[0].upper()
    else:
        key = ".".join(loc[:2])
        env_name = ENV_PREFIX + "__".join(loc[:2]).upper()
    message = error["msg"].removeprefix("Value error, ")
    if len(loc) >= 2 and loc[1] in cli.get(loc[0], {}):
        source = "command line"
    elif env_name in os.environ:
        source = f"environment {env_name}"
    elif env_name in dotenv:
        source = f"{env_file} {env_name}"
    elif len(loc) >= 2 and loc[1] in toml_data.get(loc[0], {}):
        source = f"config file {config_path} [{loc[0]}] {loc[1]}"
    elif len(loc) >= 2 and loc[0] in toml_data:
        source = f"config file {config_path} [{loc[0]}]"
    else:
        source = "default"
    return f"{key}: {message} (from {source})"
