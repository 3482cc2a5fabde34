"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_mastodon import FakeMastodon


@pytest.fixture
def fake_mastodon() -> Iterator[FakeMastodon]:
    """A running loopback Mastodon stand-in with default limits (token "test-token")."""
    with FakeMastodon() as server:
        yield server
