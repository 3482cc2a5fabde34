"""The server profile: what one server said about itself, read once and remembered.

`client` reads it (the instance document and nodeinfo, one run at a time);
the state file keeps it under `"server"` so that the commands that ask no
server (`preview`, the daemon's dry run) measure toots with the limit and the
length rule a `repost` will use. What tootback knows about the software
itself is not here but in the table of `bot.software`, which `known` looks up.

The version is kept as the server wrote it and never parsed: servers write
anything there (`v0.20.0-rc1-8-g57cb4fe74+git-57cb4fe`, `takahe/0.11.0`,
`2.7.2 (compatible; Pleroma 2.6.0)`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from bot.model import InstanceLimits
from bot.software import Software, software


@dataclass(frozen=True, slots=True)
class ServerProfile:
    """What a server said about itself, and when.

    instance: the base URL it was read from.
    software: nodeinfo's `software.name`, lower-case; "" when the server does not say.
    version: the instance document's `version`, exactly as written.
    limits: the instance's limits (Mastodon's defaults where it says nothing).
    read_at: when it was read (UTC).
    api_versions: the instance's `api_versions` (Mastodon 4.3 and later:
        {"mastodon": 2}), as pairs; empty when it has none.
    """

    instance: str
    software: str
    version: str
    limits: InstanceLimits
    read_at: datetime
    api_versions: tuple[tuple[str, int], ...] = ()

    @property
    def known(self) -> Software:
        """What tootback knows about this software (bot.software's row)."""
        return software(self.software)

    def describe(self) -> str:
        """The software and version: "mastodon 4.3.2", "takahe/0.11.0" (a version that
        names its software is enough), "unknown software 1.2" when nodeinfo named none."""
        if self.software and self.version.lower().startswith(self.software):
            return self.version
        return f"{self.software or 'unknown software'} {self.version}".strip()

    def same_as(self, other: ServerProfile | None) -> bool:
        """True when `other` says the same, whenever it was read."""
        return other is not None and replace(other, read_at=self.read_at) == self


QUOTE_POSTS_API = 7
"""The Mastodon API version that brought quote posts (`quoted_status_id`)."""


def completed(
    limits: InstanceLimits, software_name: str, api_versions: Mapping[str, int]
) -> InstanceLimits:
    """`limits` with what follows from the software and the API versions: its length
    rule (bot.software), and whether it takes quote posts.

    A server that reports no Mastodon API version of 7 or more takes none
    (GoToSocial and Takahē ignore `quoted_status_id`, measured in issue 8).
    """
    return replace(
        limits,
        quote_posts=api_versions.get("mastodon", 0) >= QUOTE_POSTS_API,
        length_rule=software(software_name).length,
    )


# What the state file keeps of the limits; the others follow from software and API versions.
_DERIVED = ("quote_posts", "length_rule")
_KEPT_LIMITS = tuple(f.name for f in fields(InstanceLimits) if f.name not in _DERIVED)


def profile_json(profile: ServerProfile) -> dict[str, Any]:
    """The profile as the state file keeps it (docs/design.md, "The state file")."""
    limits = {name: getattr(profile.limits, name) for name in _KEPT_LIMITS}
    limits["media_types"] = list(profile.limits.media_types)
    return {
        "instance": profile.instance,
        "software": profile.software,
        "version": profile.version,
        "read_at": profile.read_at.isoformat(),
        "limits": limits,
        "api_versions": dict(profile.api_versions),
    }


def parse_profile(raw: Any) -> ServerProfile:
    """The profile from the state file's `"server"` value. Raises ValueError saying what is
    wrong; keys it does not know are ignored and missing limits keep their defaults."""
    if not isinstance(raw, dict):
        raise ValueError("'server' is not an object")
    read_at = _text(raw, "read_at")
    try:
        when = datetime.fromisoformat(read_at)
    except ValueError:
        raise ValueError(f"'server': 'read_at' is not an ISO 8601 time: {read_at!r}") from None
    versions = raw.get("api_versions", {})
    if not isinstance(versions, dict) or not all(_whole(v) for v in versions.values()):
        raise ValueError("'server': 'api_versions' must map names to whole numbers")
    name = _text(raw, "software")
    return ServerProfile(
        instance=_text(raw, "instance"),
        software=name,
        version=_text(raw, "version"),
        limits=completed(_limits(raw.get("limits", {})), name, versions),
        read_at=when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC),
        api_versions=tuple(sorted((str(k), int(v)) for k, v in versions.items())),
    )


def _limits(raw: Any) -> InstanceLimits:
    if not isinstance(raw, dict):
        raise ValueError("'server': 'limits' is not an object")
    values: dict[str, Any] = {}
    for name in _KEPT_LIMITS:
        if name not in raw:
            continue
        value = raw[name]
        if name == "media_types":
            if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
                raise ValueError("'server': 'limits.media_types' must be a list of strings")
            value = tuple(value)
        elif not (_whole(value) or (value is None and "size" in name)):
            raise ValueError(f"'server': 'limits.{name}' must be a whole number")
        values[name] = value
    return InstanceLimits(**values)


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str):
        raise ValueError(f"'server': {key!r} must be a string")
    return value


def _whole(value: object) -> bool:
    return type(value) is int and value >= 0
