"""Archive readers: every supported archive format in, `Tweet`s out (docs/design.md, "Archives").

`load_archive(path)` detects the format(s) under path and returns an `Archive`:
the tweets (text repaired and unescaped, links expanded, media checked) and the
`Problem`s met on the way. Raw archive dicts never leave this package.
`bot.archive.source.ArchiveSource` serves a day (or more) from a persistent index.

The readers are imported on first use of `load_archive`: a day served from
the index needs none of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.archive.base import Archive, Problem, Summary
from bot.archive.repair import repair

if TYPE_CHECKING:
    from bot.archive.loader import load_archive

__all__ = ["Archive", "Problem", "Summary", "load_archive", "repair"]


def __getattr__(name: str) -> Any:
    if name == "load_archive":
        from bot.archive.loader import load_archive

        return load_archive
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
