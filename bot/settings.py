"""Settings: the one place that reads the environment, `.env` and config files.

Precedence, highest first: CLI flags (passed in as `overrides`) > environment >
`.env` > `config/tootback.toml` (or `--config` / `TOOTBACK_CONFIG`) > defaults.
Keys are `[section] key` in TOML and `TOOTBACK_SECTION__KEY` in the
environment. The two secrets, `MASTODON_ACCESS_TOKEN` and
`MASTODON_API_BASE_URL`, are read from the environment or `.env` only.
"""

from __future__ import annotations

import io
import ipaddress
import json
import os
import re
import string
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pydantic_settings
from dotenv import dotenv_values
from pydantic import (
    BaseModel,
    BeforeValidator,
    ByteSize,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.errors import SettingsError
from bot.handles import DEFAULT_HANDLES
from bot.model import ReadLimits
from bot.paths import expand_path

ENV_PREFIX = "TOOTBACK_"
CONFIG_VARIABLE = "TOOTBACK_CONFIG"
DEFAULT_CONFIG = Path("config/tootback.toml")
FOOTER_FIELDS = frozenset({"date", "url", "years_ago", "ago"})
SECRET_NAMES = ("MASTODON_ACCESS_TOKEN", "MASTODON_API_BASE_URL")


class Section(BaseModel):
    # A typo in a key must fail loudly rather than silently use the default.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _path(value: Any) -> Any:
    """A path setting, `~` and `$VARIABLES` expanded (see `bot.paths`)."""
    return expand_path(value) if isinstance(value, str | os.PathLike) else value


def _optional_path(value: Any) -> Any:
    """As `_path`, and an empty value means unset."""
    return None if value in ("", None) else _path(value)


UserPath = Annotated[Path, BeforeValidator(_path)]


def _list(value: Any, *, commas: bool = True) -> Any:
    """A list setting as written in the environment: comma-separated, or a JSON list.

    commas: False for lists whose items may hold a comma themselves (regular
        expressions): there a plain value is one item, and several need JSON.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{text!r} is not a JSON list ({exc.msg} at character {exc.pos}); "
                'write a list as a,b or as a JSON list ["a", "b"]'
            ) from None
        if not isinstance(items, list):
            raise ValueError(f"{text!r} is not a list")
        return items
    if not text:
        return ()
    if not commas:
        if "," in text:
            raise ValueError(
                f"{text!r}: a comma may be part of a regular expression, so write "
                'several as a JSON list: ["first", "sec,ond"]'
            )
        return (value,)  # unstripped: a space may matter in a regular expression
    return tuple(item.strip() for item in text.split(",") if item.strip())


PatternList = Annotated[
    tuple[str, ...], NoDecode, BeforeValidator(lambda value: _list(value, commas=False))
]


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


_LIMITS = ReadLimits()


class ArchiveSettings(Section):
    path: Annotated[Path | None, BeforeValidator(_optional_path)] = Field(
        default=None, description="unset: the bundled demo archive, for looking only"
    )
    index_dir: UserPath = Field(
        default_factory=user_cache_dir, description="where the day index of the archive is kept"
    )
    # An archive is untrusted input: the readers' caps (see bot.archive.base.ReadLimits).
    max_item_size: ByteSize = Field(default=ByteSize(_LIMITS.max_item_size), ge=64 << 10)
    max_file_size: ByteSize = Field(default=ByteSize(_LIMITS.max_file_size), ge=1 << 20)
    max_media_size: ByteSize = Field(default=ByteSize(_LIMITS.max_media_size), ge=1 << 20)
    max_depth: int = Field(default=_LIMITS.max_depth, ge=8, le=256)
    max_zip_ratio: int = Field(default=_LIMITS.max_zip_ratio, ge=10)

    @property
    def limits(self) -> ReadLimits:
        """The caps, as the archive readers take them."""
        return ReadLimits(
            max_item_size=int(self.max_item_size),
            max_file_size=int(self.max_file_size),
            max_media_size=int(self.max_media_size),
            max_depth=self.max_depth,
            max_zip_ratio=self.max_zip_ratio,
        )


class StateSettings(Section):
    path: UserPath = Path("state/state.json")

    @field_validator("path")
    @classmethod
    def _a_file(cls, value: Path) -> Path:
        if not value.name or value.is_dir():
            raise ValueError(
                f"{value} is a folder; name the file in it, e.g. {value / 'state.json'}"
            )
        return value


class SelectionSettings(Section):
    timezone: str = "UTC"
    include_replies: bool = False
    include_retweets: bool = False
    feb29: Literal["feb28", "mar1", "skip"] = "feb28"
    max_per_day: int = Field(default=0, ge=0)
    exclude_ids: Annotated[tuple[str, ...], NoDecode] = ()
    exclude_patterns: PatternList = ()
    min_year: int | None = None
    max_year: int | None = None
    threads: Literal["by_day", "whole"] = "by_day"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r} (e.g. 'Europe/Berlin')") from None
        return value

    @field_validator("max_year")
    @classmethod
    def _after_min_year(cls, value: int | None, info: ValidationInfo) -> int | None:
        least = info.data.get("min_year")
        if value is not None and least is not None and value < least:
            raise ValueError(f"{value} is before min_year {least}: no tweet could be posted")
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
        value = _list(value)
        if isinstance(value, list | tuple):
            value = tuple(str(v).strip() for v in value)
            bad = [v for v in value if not v.isascii() or not v.isdigit()]
            if bad:
                raise ValueError(f"{bad[0]!r} is not a tweet id (the digits at the end of its URL)")
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
    handles_file: UserPath = DEFAULT_HANDLES


class ComposeSettings(Section):
    footer: str = "(tweeted {ago}, {date})"
    max_characters: int = Field(
        default=500, ge=100, description="used until the instance's own limit is known"
    )
    max_parts: int = Field(
        default=10, ge=1, le=100, description="a tweet needing more toots than this is skipped"
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
    lookup_delay: float = Field(
        default=30.0,
        ge=0,
        description="seconds after a status request whose answer was lost before the status "
        "is looked for among the account's statuses",
    )


class MediaSettings(Section):
    missing: Literal["post_without", "skip_tweet"] = "post_without"
    refused: Literal["post_without", "fail_tweet"] = Field(
        default="post_without",
        description="a file the server cannot take (its type or size, from the server "
        "profile): post the toot without it, saying so, or mark the tweet failed",
    )
    sensitive: Literal["archive", "always", "never"] = "archive"
    alt_text_file: Annotated[Path | None, BeforeValidator(_optional_path)] = Field(
        default=None, description="the filled-in `tootback alt-text export` file; unset: none"
    )


class BackfillSettings(Section):
    # Unlisted by default: a backfill posts hundreds of toots, which would fill
    # the home timelines of your followers; unlisted toots reach your profile only.
    visibility: Literal["public", "unlisted", "private"] = "unlisted"


def check_base_url(value: str) -> str:
    """`value` as a server's base URL: `https://` added to a bare host name, no
    trailing slash; https only (or http on loopback).

    Raises ValueError saying what is wrong otherwise.
    """
    url = _check_base_url(value)
    if url is None:
        raise ValueError("no server address given, e.g. mastodon.social")
    return url


def _check_base_url(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    value = value.strip()
    if "://" not in value:  # a bare host name, as people write it: mastodon.social
        value = "https://" + value
    parts = urlsplit(value)
    loopback = parts.hostname in {"localhost", "127.0.0.1", "::1"}
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ValueError("must be an https:// URL (plain http only for localhost)")
    if not parts.hostname:
        raise ValueError(f"{value!r} has no host name")
    if parts.username is not None:  # @me@mastodon.social: a handle, not an address
        raise ValueError(f"{value!r} holds a user name; give the server's address only")
    if not _valid_host(parts.hostname):
        raise ValueError(
            f"{parts.hostname!r} is not a valid host name or IP address; give one such as "
            "mastodon.social"
        )
    try:
        _ = parts.port  # a ValueError when the port is no number or out of range
    except ValueError:
        raise ValueError(f"{value!r} has a port that is no number from 0 to 65535") from None
    if parts.path.strip("/") or "?" in value or "#" in value:
        raise ValueError(
            f"{value!r} is more than a server's address; give just that, such as "
            "https://mastodon.social"
        )
    return value.rstrip("/")


# A label of a host name: letters, digits, hyphens (not first or last) and the
# underscore some private networks use, which the HTTP library accepts too.
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


def _valid_host(host: str) -> bool:
    """Whether `host` is an IP address or a host name the HTTP library can connect to.

    Checked here so that a mistyped address (a space in it) is a settings error
    at once, rather than a parse error retried for a minute as if the server
    were down. A name that is valid but does not exist is left to the network.
    """
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    if host.isascii():
        name = host
    else:  # an international name, encoded as the HTTP library encodes it (IDNA 2008)
        import idna

        try:
            name = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError:
            return False
    labels = name.removesuffix(".").split(".")
    return len(name) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def check_token(value: SecretStr | None) -> SecretStr | None:
    """The access token without surrounding white space (a `.env` line or a paste
    often ends in one); None when nothing is left.

    Raises ValueError, never showing the token, when it holds a character no
    token has: a control character, a space or a non-ASCII one. (Sent as it is,
    such a token is refused by the HTTP library, which looked like an outage.)
    """
    if value is None:
        return None
    token = value.get_secret_value().strip()
    if not token:
        return None
    if not (token.isascii() and token.isprintable()) or " " in token:
        raise ValueError(
            "holds a character no access token has (a control character, a space or a "
            "non-ASCII one); it is not shown here. Copy it again, or get a new one with "
            "`tootback login`"
        )
    return SecretStr(token)


@dataclass(frozen=True)
class ConfigFile:
    """The config file read, and what named it: "--config", TOOTBACK_CONFIG, or None
    for `config/tootback.toml`, read because it exists."""

    path: Path
    named_by: str | None = None


@dataclass(frozen=True)
class Sources:
    """What each source of settings held, to say where a value came from."""

    cli: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    dotenv: Mapping[str, str | None] = field(default_factory=dict)
    toml: Mapping[str, Any] = field(default_factory=dict)
    config: ConfigFile | None = None
    env_file: Path | None = None

    def of(self, loc: list[str]) -> str:
        """Where the value at `loc` (["selection", "timezone"]) came from: "command
        line", "environment NAME", "<.env file> NAME", "config file …" or "default"."""
        env_name = _variable(loc)
        section = loc[0] if loc else ""
        if len(loc) >= 2 and loc[1] in self.cli.get(section, {}):
            return "command line"
        if env_name in os.environ:
            return f"environment {env_name}"
        if env_name in self.dotenv:
            return f"{self.env_file} {env_name}"
        where = f"config file {self.config.path if self.config else None} [{section}]"
        if len(loc) >= 2 and loc[1] in self.toml.get(section, {}):
            return f"{where} {loc[1]}"
        return where if section in self.toml else "default"


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

    # A factory: index_dir's default reads the environment, which must be today's.
    archive: ArchiveSettings = Field(default_factory=ArchiveSettings)
    state: StateSettings = StateSettings()
    selection: SelectionSettings = SelectionSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    links: LinksSettings = LinksSettings()
    mentions: MentionsSettings = MentionsSettings()
    compose: ComposeSettings = ComposeSettings()
    post: PostSettings = PostSettings()
    media: MediaSettings = MediaSettings()
    backfill: BackfillSettings = BackfillSettings()
    access_token: SecretStr | None = Field(default=None, validation_alias="MASTODON_ACCESS_TOKEN")
    api_base_url: str | None = Field(default=None, validation_alias="MASTODON_API_BASE_URL")
    _sources: Sources = PrivateAttr(default_factory=lambda: Sources())

    @property
    def config(self) -> ConfigFile | None:
        """The config file that was read, and what named it; None: there was none."""
        return self._sources.config

    def source_of(self, key: str, option: str | None = None) -> str:
        """Where the value of `key` ("archive.path") came from, as a message says it:
        `option` ("--archive") when it came from the command line, else the key and
        its source ("archive.path, from environment TOOTBACK_ARCHIVE__PATH")."""
        source = self._sources.of(key.split("."))
        return option if option and source == "command line" else f"{key}, from {source}"

    @field_validator("api_base_url")
    @classmethod
    def _https_only(cls, value: str | None) -> str | None:
        return _check_base_url(value)

    @field_validator("access_token")
    @classmethod
    def _token_as_sent(cls, value: SecretStr | None) -> SecretStr | None:
        return check_token(value)

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
    config_file = _config_file_of(config)
    config_path = config_file.path if config_file else None
    toml_data = _read_toml(config_path) if config_path else {}
    dotenv = _read_dotenv(env_file)
    unknown = _unknown_variables(os.environ, "environment")
    unknown += _unknown_variables(dotenv, str(env_file))
    if unknown:
        raise SettingsError(unknown)
    cli: dict[str, Any] = {section: dict(values) for section, values in (overrides or {}).items()}
    sources = Sources(cli, dotenv, toml_data, config_file, env_file)
    token = _config_file.set(config_path)
    try:
        settings = Settings(_env_file=env_file, **cli)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise SettingsError([_problem(error, sources) for error in exc.errors()]) from None
    except pydantic_settings.SettingsError as exc:
        # A source could not even parse a value (a section given as broken JSON).
        raise SettingsError([f"{exc} ({exc.__cause__ or 'unreadable'})"]) from None
    finally:
        _config_file.reset(token)
    settings._sources = sources
    return settings


def _config_file_of(config: Path | None) -> ConfigFile | None:
    named, source = config, "--config"
    if named is None and os.environ.get(CONFIG_VARIABLE):
        source = CONFIG_VARIABLE
        try:
            named = expand_path(os.environ[CONFIG_VARIABLE])
        except ValueError as exc:
            raise SettingsError([f"{CONFIG_VARIABLE}: {exc}"]) from None
    if named is None:
        return ConfigFile(DEFAULT_CONFIG) if DEFAULT_CONFIG.is_file() else None
    if not named.is_file():
        raise SettingsError([f"config file {named} (from {source}): not found"])
    return ConfigFile(named, source)


def _read_dotenv(env_file: Path | None) -> dict[str, str | None]:
    """The `.env` file's values ({} when there is none), or a SettingsError naming it."""
    if env_file is None or not env_file.exists():
        return {}
    try:
        text = env_file.read_text(encoding="utf-8")  # dotenv_values would raise deep inside
    except (OSError, ValueError) as exc:
        raise SettingsError([f"{env_file}: cannot be read: {exc}"]) from None
    # python-dotenv only logs a line it cannot parse (once per reader: twice here) and
    # goes on without it, so a mistyped setting would silently leave its default.
    bad = [
        f"{env_file} line {number}: not KEY=VALUE (the line is not shown: it may hold a secret)"
        for number in _unparsed_lines(text)
    ]
    if bad:
        raise SettingsError(bad)
    return dict(dotenv_values(stream=io.StringIO(text)))


def _unparsed_lines(text: str) -> list[int]:
    """The numbers of the lines of a `.env` text that python-dotenv cannot parse."""
    from dotenv.parser import parse_stream

    numbers = []
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            string = binding.original.string  # it may start with the blank lines before
            blank = string[: len(string) - len(string.lstrip())]
            numbers.append(binding.original.line + blank.count("\n"))
    return numbers


def known_variables() -> list[str]:
    """Every environment variable tootback reads, upper case."""
    names = [CONFIG_VARIABLE, *SECRET_NAMES]
    for section in _sections():
        model = _section_model(section)
        names += [f"{ENV_PREFIX}{section}__{key}".upper() for key in model.model_fields]
    return names


def _unknown_variables(variables: Mapping[str, Any], source: str) -> list[str]:
    """A problem for every TOOTBACK_* variable that is no setting, naming the closest one.

    pydantic-settings ignores them; a typo would silently leave the default in force.
    """
    known = known_variables()
    problems = []
    for name in sorted(variables):
        upper = name.upper()
        if upper.startswith(ENV_PREFIX) and upper not in known:
            guess = _closest(upper, known)
            hint = (
                f"did you mean {guess}?"
                if guess
                else f"settings are {ENV_PREFIX}SECTION__KEY, e.g. {ENV_PREFIX}SELECTION__TIMEZONE"
            )
            problems.append(f"{name}: no such setting (from {source}); {hint}")
    return problems


def _closest(name: str, known: list[str]) -> str | None:
    """The known variable closest to `name`: the whole name alike, or else the one
    setting whose key is alike (TOOTBACK_TIMEZONE); None when there is none."""
    by_tail = {k.removeprefix(ENV_PREFIX): k for k in known}
    tail = name.removeprefix(ENV_PREFIX)
    import difflib  # only for a setting that does not exist

    guess = difflib.get_close_matches(tail, by_tail, 1, 0.75)
    if not guess:
        keys = [t for t in by_tail if "__" in t]
        key = tail.rpartition("__")[2]
        alike = difflib.get_close_matches(key, [t.rpartition("__")[2] for t in keys], 2, 0.8)
        guess = [t for t in keys if alike and t.endswith(f"__{alike[0]}")]
    if len(guess) == 1 or (guess and not tail.count("__")):
        return by_tail[guess[0]]
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # only when there is a config file: most runs have none

    try:
        text = path.read_bytes().decode("utf-8")
        data = tomllib.loads(text)
    except (OSError, ValueError) as exc:  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
        raise SettingsError([f"config file {path}: {exc}"]) from None
    problems = [
        f"config file {path}: {key} is a secret; set it in the environment or .env, not here"
        for key in data
        if key.upper() in SECRET_NAMES or key in {"access_token", "api_base_url"}
    ]
    problems += [
        f"config file {path}{_at(text, section, key)}: {problem}"
        for section, key, problem in _unknown_keys(data)
    ]
    if problems:
        raise SettingsError(problems)
    return data


def _unknown_keys(data: Mapping[str, Any]) -> list[tuple[str | None, str, str]]:
    """(section, key, problem) for every key of a config file that is no setting,
    naming the closest one, as for an unknown variable (pydantic would say only
    "Extra inputs are not permitted"); section None: the key is outside any."""
    known = [name for name in known_variables() if "__" in name]  # [section] key only
    found: list[tuple[str | None, str, str]] = []
    for key, value in data.items():
        if key.upper() in SECRET_NAMES or key in {"access_token", "api_base_url"}:
            continue
        if key in _sections() and isinstance(value, dict):
            keys = _section_model(key).model_fields
            found += [
                (key, k, f"[{key}] {k}: no such setting; {_file_hint(key, k, known, keys)}")
                for k in value
                if k not in keys
            ]
        elif key in _sections():
            found.append((None, key, f"{key} is a section: write [{key}] and its keys below it"))
        elif isinstance(value, dict):
            found.append(
                (None, f"[{key}]", f"[{key}] is not a section (known: {', '.join(_sections())})")
            )
        else:
            guess = _closest(f"{ENV_PREFIX}{key}".upper(), known)
            hint = f"did you mean {_as_toml(guess)}?" if guess else "e.g. [selection] timezone"
            found.append((None, key, f"{key} must be inside a section; {hint}"))
    return found


def _file_hint(section: str, key: str, known: list[str], keys: Mapping[str, Any]) -> str:
    guess = _closest(f"{ENV_PREFIX}{section}__{key}".upper(), known)
    if guess:
        return f"did you mean {_as_toml(guess)}?"
    return f"the keys of [{section}] are {', '.join(keys)}"


def _as_toml(variable: str) -> str:
    """TOOTBACK_SELECTION__TIMEZONE as it is written in a config file: [selection] timezone."""
    section, _, key = variable.removeprefix(ENV_PREFIX).lower().partition("__")
    return f"[{section}] {key}"


def _at(text: str, section: str | None, key: str) -> str:
    """ " line N" for the line of the config file `text` that sets `key` in `[section]`
    (None: outside any section; a key "[name]": that section's header), found by its
    text: a key written otherwise (a dotted key, an inline table) is not found, and
    then "" (a TOML parser that kept lines would be one more dependency for this)."""
    header = re.compile(r"\s*\[\s*([^\]\s]+)\s*\]")
    name = re.escape(key.strip("[]"))
    wanted = header if key.startswith("[") else re.compile(rf"\s*([\"']?){name}\1\s*=")
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        match = header.match(line)
        if match and key.startswith("[") and match[1].strip("\"'") == key[1:-1]:
            return f" line {number}"
        if match:
            current = match[1].strip("\"'")
        elif current == section and wanted.match(line):
            return f" line {number}"
    return ""


def _sections() -> list[str]:
    return [name for name, f in Settings.model_fields.items() if f.validation_alias is None]


def _section_model(section: str) -> type[BaseModel]:
    model = Settings.model_fields[section].annotation
    assert isinstance(model, type) and issubclass(model, BaseModel)
    return model


def _variable(loc: list[str]) -> str:
    """The environment variable of the setting at `loc`."""
    if loc and loc[0].upper() in SECRET_NAMES:
        return loc[0].upper()
    return ENV_PREFIX + "__".join(loc[:2]).upper()


def _problem(error: Any, sources: Sources) -> str:
    loc = [str(part) for part in error["loc"]]
    key = loc[0].upper() if loc and loc[0].upper() in SECRET_NAMES else ".".join(loc[:2])
    message = error["msg"].removeprefix("Value error, ").replace("\n", " ")
    return f"{key}: {message} (from {sources.of(loc)})"
