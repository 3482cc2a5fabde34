"""Mastodon's character count, and where a text may be cut between characters.

Pure: no requests. Mastodon.py and grapheme are imported on first use only,
because importing Mastodon.py costs ~200 ms and `tootback --version` must not
pay for it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from itertools import accumulate


def status_length(text: str, spoiler_text: str = "") -> int:
    """How many characters Mastodon counts for a status.

    text: the status text exactly as it will be sent.
    spoiler_text: the content warning, which counts toward the same limit.

    Returns the count Mastodon compares with `max_characters`: a URL counts 23,
    `@user@domain` counts as `@user`, and a grapheme cluster (an emoji with its
    modifiers, a letter with its accents) counts 1.
    """
    return _counter()(text, spoiler_text)


def grapheme_boundaries(text: str) -> list[int]:
    """The offsets in `text` where a cut does not split a user-visible character.

    Returns the end offset of every grapheme cluster, ascending; the last one
    is `len(text)`, and 0 is not included. Empty text has none.
    """
    return list(accumulate(_grapheme_lengths()(text)))


@cache
def _counter() -> Callable[[str, str], int]:
    from mastodon import Mastodon

    counter: Callable[[str, str], int] = Mastodon.get_status_length
    return counter


@cache
def _grapheme_lengths() -> Callable[[str], list[int]]:
    import grapheme  # type: ignore[import-untyped]

    def lengths(text: str) -> list[int]:
        return list(grapheme.grapheme_lengths(text))

    return lengths
