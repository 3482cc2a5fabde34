"""Archive readers: every supported archive format in, `Tweet`s out (DESIGN §3).

`load_archive(path)` detects the format(s) under path and returns an `Archive`:
the tweets (text repaired and unescaped, links expanded, media checked) and the
`Problem`s met on the way. Raw archive dicts never leave this package.
"""

from bot.archive.base import Archive, Problem
from bot.archive.loader import load_archive
from bot.archive.repair import repair

__all__ = ["Archive", "Problem", "load_archive", "repair"]
