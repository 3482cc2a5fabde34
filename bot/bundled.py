"""What ships inside the package: the demo archive and the documented default settings.

Both are package data, found with `importlib.resources`, so they are there
however tootback was installed (a wheel, pipx, an editable checkout) and from
any working directory.

The demo archive is two months of someone else's tweets, exactly as a
twitter-archive-parser export handed them over (markdown in files named
`000_….txt`): it is what `archive.path` means while unset, so that `preview`,
`check` and `daemon --dry-run` show something at once. It is for looking only:
every command that posts calls `refuse_demo` first.
"""

from __future__ import annotations

import atexit
from contextlib import ExitStack
from functools import cache
from importlib.resources import as_file, files
from pathlib import Path

from bot.errors import DemoArchive

# as_file() gives a real folder even from a zipped install; it lives until exit.
_resources = ExitStack()
atexit.register(_resources.close)


@cache
def demo_archive() -> Path:
    """The folder of the bundled demo archive."""
    return _resources.enter_context(as_file(files("bot") / "seeds"))


def is_demo(path: Path) -> bool:
    """Whether `path` is the bundled demo archive, or a file in it."""
    demo = demo_archive().resolve()
    try:
        return path.resolve().is_relative_to(demo)
    except OSError:  # a symlink loop: certainly not the demo
        return False


def refuse_demo(path: Path, command: str) -> None:
    """Raise DemoArchive when `path` is the demo archive: `command` would post it.

    Every command that posts (repost, daemon, backfill) calls this before
    anything else, so someone else's tweets never go out under your name.
    """
    if is_demo(path):
        raise DemoArchive(path, command)


def default_config() -> str:
    """`config/tootback.toml` as shipped: every setting with its default and meaning."""
    return (files("bot") / "defaults" / "tootback.toml").read_text(encoding="utf-8")
