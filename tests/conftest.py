"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_mastodon import FakeMastodon


@pytest.fixture(autouse=True)
def _private_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Archive indexes go to a temporary cache, never the user's (subprocesses inherit it)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("TOOTBACK_ARCHIVE__INDEX_DIR", raising=False)


@pytest.fixture
def fake_mastodon() -> Iterator[FakeMastodon]:
    """A running loopback Mastodon stand-in with default limits (token "test-token")."""
    with FakeMastodon() as server:
        yield server
