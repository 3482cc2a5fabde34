"""Fixtures shared by the tests: a private cache, the fake server, a clock, a clean setting."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot.archive.loader
from bot.archive import Archive
from bot.bundled import demo_archive
from bot.clock import FakeClock
from bot.model import ReadLimits
from tests.support import NOON
from tests.support.fake_mastodon import FakeMastodon


@pytest.fixture(autouse=True)
def _private_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Archive indexes go to a temporary cache, never the user's (subprocesses inherit it)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("TOOTBACK_ARCHIVE__INDEX_DIR", raising=False)


@pytest.fixture
def server() -> Iterator[FakeMastodon]:
    """A running loopback fake Mastodon on the real clock (token `server.token`)."""
    with FakeMastodon() as fake:
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    """A FakeClock at NOON: time moves only when a test (or a sleep) moves it."""
    return FakeClock(NOON)


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A fresh working directory (no .env, no config/) and no TOOTBACK_* or MASTODON_*
    settings in the environment; returns the directory."""
    for name in [n for n in os.environ if n.startswith(("TOOTBACK_", "MASTODON_"))]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def own_archive(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> Path:
    """A copy of the demo archive as the user's own (`archive.path`), which posting
    commands accept: they refuse the bundled one itself."""
    path = isolated / "archive"
    shutil.copytree(demo_archive(), path)
    monkeypatch.setenv("TOOTBACK_ARCHIVE__PATH", str(path))
    return path


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on: a server that cannot be reached."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records every full read of an archive."""
    calls: list[Path] = []
    real = bot.archive.loader.load_archive

    def counting(path: Path, limits: ReadLimits | None = None) -> Archive:
        calls.append(path)
        return real(path, limits)

    monkeypatch.setattr(bot.archive.loader, "load_archive", counting)
    return calls
