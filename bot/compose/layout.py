"""How a toot's text and media are laid out in parts that each fit the limit.

Pure. The layout is deterministic:

- Text that fits (with the footer, after a blank line) is one part. Longer text
  becomes a reply chain: each part's text ends with " (i/n)", and the footer
  follows the marker of the last part only (or has a last part of its own
  when nothing else fits beside it). Parts end at white space: of the spaces
  in the second half of what fits, the latest blank line, else line break or
  sentence end, else plain space; never inside a URL or a handle.
- A word that cannot fit a part of its own (a long unspaced run, CJK text) is
  cut between grapheme clusters, preferably after 。！？, filling the part it
  starts in; cuts avoid URLs and handles unless one alone is too long.
- Media: each image group holds up to `max_media_attachments` images, each video
  or GIF is a group of its own, in the tweet's order. Group j goes on part j;
  when there are more groups than text parts, media-only parts follow, whose
  text is their marker (and the footer, on the very last part).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from bot.compose.length import URL_LENGTH, Counter, grapheme_boundaries, status_length
from bot.compose.rewrite import handle_spans, url_spans
from bot.model import Media, TootPart

_SENTENCE_END = ".!?…"
_CLOSERS = "\"')]”’»"
_SPACE = re.compile(r"\s+")
_CJK_SENTENCE_END = "。！？"


def media_groups(media: Sequence[Media], per_part: int) -> list[tuple[Media, ...]]:
    """The attachments of each part, in order.

    Images are grouped up to `per_part` (at least 1); a video or GIF is alone.
    """
    per_part = max(per_part, 1)
    groups: list[tuple[Media, ...]] = []
    images: list[Media] = []
    for item in media:
        if item.kind != "image":
            if images:
                groups.append(tuple(images))
                images = []
            groups.append((item,))
            continue
        images.append(item)
        if len(images) == per_part:
            groups.append(tuple(images))
            images = []
    if images:
        groups.append(tuple(images))
    return groups


@dataclass(frozen=True, slots=True)
class Layout:
    """How a part's text is assembled and measured."""

    footer: str
    spoiler: str
    limit: int
    url_length: int = URL_LENGTH
    count: Counter = status_length  # the server's length rule (see COUNTERS)

    def render(self, chunk: str, index: int, total: int, last: bool) -> str:
        text = chunk
        if total > 1:
            marker = f"({index}/{total})"
            text = f"{text} {marker}" if text else marker
        if last and self.footer:
            text = f"{text}\n\n{self.footer}" if text else self.footer
        return text

    def length(self, text: str) -> int:
        return self.count(text, self.spoiler, self.url_length)

    def fits(self, text: str) -> bool:
        # Counting is slow (grapheme clusters); first a sure answer from an
        # upper bound: a URL ("://" and 8+ characters) counts url_length,
        # nothing else counts more than its code points.
        extra = max(0, self.url_length - 8) * text.count("://")
        bound = len(text) + extra + len(self.spoiler)
        return bound <= self.limit or self.length(text) <= self.limit


class _Break(NamedTuple):
    """A run of white space where a part may end: body[start:end] is dropped."""

    start: int
    end: int
    priority: int  # 3 blank line, 2 line break or sentence end, 1 space


class TooManyParts(Exception):
    """The text and media need more parts than the most allowed."""


def plan_parts(
    body: str, groups: Sequence[tuple[Media, ...]], layout: Layout, max_parts: int | None = None
) -> tuple[TootPart, ...] | None:
    """The parts for `body` and the media `groups`, or None when nothing fits the limit.

    max_parts: raise TooManyParts as soon as more parts than this are needed
    (packing stops there, so a long text costs what max_parts + 1 parts cost).
    """
    if max_parts is not None and len(groups) > max_parts:
        raise TooManyParts
    single = layout.render(body, 1, 1, last=True)
    if len(groups) <= 1 and layout.fits(single):
        return (TootPart(single, layout.length(single), groups[0] if groups else ()),)
    # The marker's width depends on the number of parts: assume it has `digits`
    # digits, and widen until the count agrees (9 parts -> 10 adds a digit).
    digits = 1
    while True:
        chunks = _pack(body, layout, 10**digits - 1, max_parts)
        if chunks is None:
            return None
        total = max(len(chunks), len(groups))
        if max_parts is not None and total > max_parts:
            raise TooManyParts
        if len(str(total)) <= digits:
            break
        digits += 1
    return _build(chunks, groups, total, layout)


def _build(
    chunks: Sequence[str], groups: Sequence[tuple[Media, ...]], total: int, layout: Layout
) -> tuple[TootPart, ...] | None:
    parts = []
    for i in range(total):
        chunk = chunks[i] if i < len(chunks) else ""
        text = layout.render(chunk, i + 1, total, last=i == total - 1)
        length = layout.length(text)
        if length > layout.limit:
            return None
        parts.append(TootPart(text, length, groups[i] if i < len(groups) else ()))
    return tuple(parts) or None


def _pack(body: str, layout: Layout, total: int, most: int | None = None) -> list[str] | None:
    """Cut `body` into chunks for parts of `total` parts (an upper bound of the count).

    Returns the chunks, the last one "" when the footer needs a part of its
    own; None when a single character does not fit. With `most`, stops after
    `most` + 1 chunks (the caller then refuses the text).
    """
    return _Packer(body, layout, total).chunks(most)


class _Packer:
    """Greedy packing of one body: each chunk takes as much as fits, cut where best.

    Length only grows as a chunk grows (across white space, or outside URLs
    within a word), so the furthest fitting cut is found by galloping search.
    """

    def __init__(self, body: str, layout: Layout, total: int) -> None:
        self.body, self.layout, self.total = body, layout, total
        self.breaks = _breaks(body)
        self.starts = [b.start for b in self.breaks]
        spans = url_spans(body) + handle_spans(body)
        self.forbidden = {k for start, end in spans for k in range(start + 1, end)}

    def chunks(self, most: int | None = None) -> list[str] | None:
        chunks: list[str] = []
        pos = 0
        while pos < len(self.body):
            if most is not None and len(chunks) > most:
                return chunks  # too many already: the rest would not be posted
            cut = self._next(pos, len(chunks) + 1)
            if cut is None:
                return None
            chunks.append(self.body[pos : cut[0]])
            pos = cut[1]
        if chunks and not self._fits_last(chunks[-1], len(chunks)):
            chunks.append("")
        return chunks

    def _next(self, pos: int, index: int) -> tuple[int, int] | None:
        """(end of the chunk starting at `pos`, start of the next), or None."""
        end_of_text = len(self.body), len(self.body)

        def fits(end: int) -> bool:
            text = self.layout.render(self.body[pos:end], index, self.total, last=False)
            return self.layout.fits(text)

        ahead = self.breaks[bisect.bisect_right(self.starts, pos) :]
        count = _leading_fits([b.start for b in ahead], fits)
        word = ahead[count - 1].end if count else pos  # the first word that may not fit
        hard = None
        if count == len(ahead):
            hard = self._hard_cut(word, fits, anywhere=not count)
            if hard[1] and self._fits_last(self.body[pos:], index):
                return end_of_text
        if count and not self._alone_too_long(word, index + 1):
            chosen = _preferred(ahead[:count], pos)
            return chosen.start, chosen.end
        # The next word is cut wherever it starts: fill this part with its beginning.
        cut, _ = hard or self._hard_cut(word, fits, anywhere=not count)
        if cut is not None:
            return cut, cut
        if count:
            chosen = _preferred(ahead[:count], pos)
            return chosen.start, chosen.end
        # One last character that fits only without the footer: the footer follows alone.
        return end_of_text if not ahead and fits(len(self.body)) else None

    def _fits_last(self, chunk: str, index: int) -> bool:
        return self.layout.fits(self.layout.render(chunk, index, self.total, last=True))

    def _alone_too_long(self, word: int, index: int) -> bool:
        """Whether the word at `word` overflows even a part of its own."""
        space = _SPACE.search(self.body, word)
        chunk = self.body[word : space.start() if space else len(self.body)]
        return not self.layout.fits(self.layout.render(chunk, index, self.total, last=False))

    def _hard_cut(
        self, word: int, fits: Callable[[int], bool], anywhere: bool
    ) -> tuple[int | None, bool]:
        """The best fitting cut inside the word at `word`, and whether every cut fits.

        Cuts fall between grapheme clusters and outside URLs and handles (with
        `anywhere`, inside them when nothing else fits); the latest one after
        a CJK full stop in the second half of the part is preferred, else the
        furthest. The word is examined in growing windows, so a huge word costs
        about what its first parts cost.
        """
        space = _SPACE.search(self.body, word)
        word_end = space.start() if space else len(self.body)
        window = self.layout.limit + 16  # a part rarely holds more characters than its limit
        while True:
            stop = min(word_end, word + window)
            bounds = self._bounds(word, stop, word_end)
            outside = [k for k in bounds if k not in self.forbidden]
            inside = anywhere and not (outside and fits(outside[0]))
            positions = bounds if inside else outside
            count = _leading_fits(positions, fits)
            if count == len(positions) and stop < word_end:
                window *= 4
                continue
            return self._preferred_cut(positions[:count]), count == len(positions)

    def _preferred_cut(self, fitting: Sequence[int]) -> int | None:
        if not fitting:
            return None
        half = fitting[0] + (fitting[-1] - fitting[0]) // 2
        stops = [k for k in fitting if k >= half and self.body[k - 1] in _CJK_SENTENCE_END]
        return stops[-1] if stops else fitting[-1]

    def _bounds(self, pos: int, stop: int, word_end: int) -> list[int]:
        bounds = [pos + b for b in grapheme_boundaries(self.body[pos:stop])]
        if stop < word_end and bounds:
            bounds.pop()  # the last cluster may go on past the window
        return [k for k in bounds if k < word_end]


def _breaks(body: str) -> list[_Break]:
    breaks = []
    for match in _SPACE.finditer(body):
        start, space = match.start(), match.group()
        if space.count("\n") >= 2:
            priority = 3
        elif "\n" in space or _ends_sentence(body, start):
            priority = 2
        else:
            priority = 1
        breaks.append(_Break(start, match.end(), priority))
    return breaks


def _ends_sentence(body: str, at: int) -> bool:
    # A few characters back suffice; the whole text before every break would make
    # a long text cost its length squared.
    before = body[max(0, at - 32) : at].rstrip(_CLOSERS)
    return before.endswith(tuple(_SENTENCE_END))


def _preferred(fitting: Sequence[_Break], pos: int) -> _Break:
    """The best break: highest priority in the second half of what fits, then latest."""
    furthest = fitting[-1].start
    half = pos + (furthest - pos) // 2
    return max((b for b in fitting if b.start >= half), key=lambda b: (b.priority, b.start))


def _leading_fits(positions: Sequence[int], fits: Callable[[int], bool]) -> int:
    """How many of the ascending `positions` fit, given that past the first misfit none does.

    Gallops forward, then bisects: O(log n) calls, each on a short text.
    """
    if not positions or not fits(positions[0]):
        return 0
    good, bad, step = 0, len(positions), 1
    while good + step < bad:
        if not fits(positions[good + step]):
            bad = good + step
            break
        good += step
        step *= 2
    while bad - good > 1:
        middle = (good + bad) // 2
        if fits(positions[middle]):
            good = middle
        else:
            bad = middle
    return good + 1
