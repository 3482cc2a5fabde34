"""Paths as users write them: `~` and environment variables expanded.

Every path setting and every path option goes through `expand_path`, so that
`state.path = "~/tootback/state.json"` means the home folder and never a
folder literally named `~` in the working directory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# What os.path.expandvars leaves behind when a variable is not set.
_UNSET = re.compile(r"\$(\w+|\{[^}]*\})")


def expand_path(value: str | os.PathLike[str]) -> Path:
    """`value` with `~`, `~user`, `$NAME` and `${NAME}` expanded.

    Raises ValueError naming the variable when one is not set (a path that
    still held `$HOME` would be a folder of that name in the working directory).
    """
    text = os.path.expandvars(os.fspath(value))
    unset = _UNSET.search(text)
    if unset:
        raise ValueError(f"environment variable ${unset[1].strip('{}')} is not set (in {value})")
    return Path(os.path.expanduser(text))
