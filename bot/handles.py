"""The handles file (`mentions.handles_file`): which Twitter names moved where.

A TOML file of lines `twitter_name = "@user@instance"`. Names match
case-insensitively; every bad entry is reported at once, naming the file. The
default file missing is an empty map (most people map nobody); a file named
in the settings must exist, or a typo in its name would map nobody silently.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.errors import SettingsError

DEFAULT_HANDLES = Path("config/handles.toml")

_HANDLE = re.compile(r"@?([A-Za-z0-9_.-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_TWITTER_NAME = re.compile(r"[A-Za-z0-9_]{1,15}")


def load_handles(path: Path) -> dict[str, str]:
    """Read the Twitter -> fediverse handle map (`mentions.handles_file`).

    The file holds lines `twitter_name = "@user@instance"`; names match
    case-insensitively. A missing file is an empty map if it is the default
    one, DEFAULT_HANDLES, and an error otherwise.

    Returns {lowercased twitter name: "@user@instance"}. Raises SettingsError
    naming the file and every bad entry.
    """
    try:
        with path.open("rb") as f:
            import tomllib  # here: most runs have no handles file to parse

            data = tomllib.load(f)
    except FileNotFoundError:
        if path == DEFAULT_HANDLES:
            return {}
        raise SettingsError(
            [f"mentions.handles_file: {path} does not exist (unset it to map nobody)"]
        ) from None
    except (OSError, ValueError) as exc:  # TOMLDecodeError, UnicodeDecodeError are ValueErrors
        raise SettingsError([f"handles file {path}: {exc}"]) from None
    handles: dict[str, str] = {}
    problems: list[str] = []
    for name, value in data.items():
        match = _HANDLE.fullmatch(value) if isinstance(value, str) else None
        if not _TWITTER_NAME.fullmatch(name):
            problems.append(
                f"handles file {path}: {name!r} is not a Twitter name (1-15 of A-Z a-z 0-9 _)"
            )
        elif match is None:
            problems.append(
                f'handles file {path}: {name} = {value!r} is not a handle like "@user@instance"'
            )
        else:
            handles[name.casefold()] = f"@{match[1]}@{match[2].lower()}"
    if problems:
        raise SettingsError(problems)
    return handles
