"""Mastodon's character count and grapheme boundaries."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.compose.length import grapheme_boundaries, status_length


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("hello", 5),
        ("https://example.com", 23),
        ("see https://example.com/" + "a" * 200, 4 + 23),
        ("@bob@twitter.com", 4),
        ("hi @bob@mastodon.social!", 3 + 4 + 1),
        ("me@example.com", 14),
        ("😂", 1),
        ("👍🏽", 1),
        ("🇩🇪", 1),
        ("e\u0301", 1),
        ("日本語", 3),
    ],
)
def test_counts_like_mastodon(text: str, expected: int) -> None:
    assert status_length(text) == expected


def test_spoiler_text_counts_too() -> None:
    assert status_length("hello", "CW: 😂") == 5 + 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", []), ("abc", [1, 2, 3]), ("e\u0301a👍🏽", [2, 3, 5]), ("🇩🇪x", [2, 3])],
)
def test_grapheme_boundaries(text: str, expected: list[int]) -> None:
    assert grapheme_boundaries(text) == expected


def test_importing_does_not_import_mastodon() -> None:
    code = (
        "import sys, bot.compose.length; "
        "print('mastodon' in sys.modules, 'grapheme' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]
