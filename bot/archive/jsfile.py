"""Reading the official archive's `.js` files: `window.YTD.x.partN = [ … ]`.

A tweets part can hold 100 MB, and an archive is untrusted input: a part may be
truncated, damaged, or made to exhaust the reader. So a part is read in blocks
and never held whole, its items are parsed with orjson a slice at a time
straight from the bytes, and the caps of `ReadLimits` hold as the bytes go by:
the file's size before it is opened, each item's size and nesting depth while
it is read. A damaged item costs that item only (`SKIPPED` stands in for it).

Slices are cut where the export's layout says an item ends: a line that holds
only the item indentation and `}` followed by `,`. A raw newline cannot occur
inside a JSON string, so such a line is never inside a tweet's text; and when
the guess is wrong anyway, or an item is damaged, the slice does not parse and
its items are parsed one by one. A part laid out otherwise (all on one line,
say) is cut into items by `_Scanner`, which follows strings and brackets; it
is slower, and no export writes such parts.
"""

from __future__ import annotations

import json
import re
from array import array
from collections.abc import Iterator
from itertools import accumulate
from typing import Final, cast

import orjson

from bot.archive.base import Found
from bot.archive.tree import Tree, bounded, human_size

# Bytes read at a time; a slice is parsed per block or so, then turned into
# Tweets while its objects are still in the CPU cache: 256 KiB slices load a
# 100k-tweet archive ~30% faster than 4 MiB ones.
_BLOCK = 256 << 10
_BOM = b"\xef\xbb\xbf"
_SPACE = re.compile(rb"[ \t\r\n]*")
_SPACE_OR_COMMA = re.compile(rb"[ \t\r\n,]*")
_ONLY_SPACE = re.compile(rb"[ \t\r\n]*\Z")
_INDENT = re.compile(rb"\n([ \t]{0,64})\Z")
_STRING_BODY = re.compile(rb'(?:[^"\\]++|\\.)*+', re.DOTALL)
_STRUCTURE = re.compile(rb'[\[\]{}"]')
_SCALAR = re.compile(rb"[^,\]\s]+")
_TRAILER = re.compile(rb"[ \t\r\n;]*")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_BRACKETS_AS_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE_OR_BREAK = bytes(b for b in range(256) if b not in b"[]{}\n")
_AFTER_ITEM = re.compile(rb"[ \t\r\n]*([,\]])")
_HEAD_LIMIT = 4096  # bytes `window.YTD.x.partN =` may take before the array


class _Skipped:
    def __repr__(self) -> str:
        return "SKIPPED"


SKIPPED: Final = _Skipped()
"""Stands in for an item that could not be read; its problem is reported."""


def load_js(tree: Tree, rel: str, found: Found) -> list[object]:
    """The items of the array in one `.js` data file.

    tree, rel: the file. Problems (unreadable file, broken or oversized items)
    go to found, with "file#index" of each item that could not be read; such
    an item is SKIPPED in the list, so that indexes stay right.
    """
    return [item for batch in load_batches(tree, rel, found) for item in batch]


def load_batches(tree: Tree, rel: str, found: Found) -> Iterator[list[object]]:
    """The items of one `.js` data file, a slice at a time, in file order.

    Same items and problems as `load_js`, with far less memory for big files.
    """
    label, limits = tree.label(rel), found.limits
    refused = tree.refusal(rel, limits.max_file_size, limits.max_zip_ratio)
    if refused is not None:
        found.problem(label, f"{refused}; file skipped")
        return
    part = _Part(label, found)
    try:
        yield from part.items(bounded(tree.blocks(rel, _BLOCK), rel, limits.max_file_size))
    except OSError as exc:
        found.problem(label, f"cannot be read: {exc}")


class _Stream:
    """The bytes of a file, a block at a time: `buf` holds the ones not yet consumed.

    line: the line number (1-based) at buf[0], for reports.
    """

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self.blocks = blocks
        self.buf = bytearray()
        self.line = 1
        self.eof = False

    def more(self) -> bool:
        """Append the next block; False at the end of the file."""
        block = next(self.blocks, b"")
        if not block:
            self.eof = True
            return False
        self.buf += block
        return True

    def drop(self, upto: int, lines: int | None = None) -> None:
        """Consume buf[:upto] (cheap: a bytearray drops its head without copying);
        lines: how many line breaks it holds, when the caller counted them."""
        self.line += self.buf.count(b"\n", 0, upto) if lines is None else lines
        del self.buf[:upto]

    def fill(self, size: int) -> None:
        """Read until buf holds at least `size` bytes or the file ends."""
        while len(self.buf) < size and self.more():
            pass

    def line_at(self, offset: int) -> int:
        return self.line + self.buf.count(b"\n", 0, offset)

    def skip(self, pattern: re.Pattern[bytes], keep: int = 0) -> bool:
        """Consume what pattern matches at the start, across blocks, keeping at most
        the last `keep` bytes of it; False when the file ends first."""
        while True:
            end = pattern.match(self.buf).end()  # type: ignore[union-attr]
            if end < len(self.buf):
                self.drop(max(0, end - keep))
                return True
            self.drop(max(0, end - keep))
            if not self.more():
                return False


class _Part:
    """One `.js` file being read: where its items are reported, how many were seen."""

    def __init__(self, label: str, found: Found) -> None:
        self.label = label
        self.found = found
        self.limits = found.limits
        self.index = 0  # items seen so far, read or skipped

    def items(self, blocks: Iterator[bytes]) -> Iterator[list[object]]:
        stream = _Stream(blocks)
        if not self._array_start(stream):
            self.found.problem(self.label, "no JSON array found; file skipped")
            return
        # The bytes between `[` and the first item tell the layout.
        if not stream.skip(_SPACE, keep=80):
            self._unclosed(stream, 0)
            return
        first = _first_non_space(stream.buf)
        # (A match on a bytearray reads it lazily: take the group before dropping.)
        indent = _INDENT.search(stream.buf, 0, first)
        separator = None if indent is None else b"\n" + bytes(indent.group(1)) + b"}"
        stream.drop(first)
        if stream.buf[:1] == b"{" and separator is not None:
            yield from self._sliced(stream, separator)
        else:
            yield from self._scanned(stream)

    def _array_start(self, stream: _Stream) -> bool:
        """Consume everything up to and including the `[` that opens the array."""
        stream.fill(len(_BOM))
        if stream.buf.startswith(_BOM):
            stream.drop(len(_BOM))
        if not stream.skip(_SPACE):
            return False
        stream.fill(len(b"window."))
        if stream.buf.startswith(b"window."):
            while (equals := stream.buf.find(b"=", 0, _HEAD_LIMIT)) < 0:
                if len(stream.buf) >= _HEAD_LIMIT or not stream.more():
                    return False
            stream.drop(equals + 1)
            if not stream.skip(_SPACE):
                return False
        if stream.buf[:1] != b"[":
            return False
        stream.drop(1)
        return True

    # -- the export's layout: slices cut at item-closing lines ----------------------------

    def _sliced(self, stream: _Stream, separator: bytes) -> Iterator[list[object]]:
        item_end = re.compile(re.escape(separator) + rb"[ \t\r\n]*([,\]])")
        limit = self.limits.max_item_size + len(separator) + 64
        scanned = 0
        while True:
            cut = _last_item_end(stream.buf, separator, max(0, scanned - len(separator) - 64))
            scanned = len(stream.buf)
            closed = False
            if cut is not None:
                end, after, closed = cut
                items, lines = self._slice(stream, end, item_end)
                yield items
                stream.drop(after, lines + stream.buf.count(b"\n", end, after))
                scanned = 0
            elif len(stream.buf) > limit:
                scanned = 0
                if _ONLY_SPACE.match(stream.buf):
                    stream.drop(len(stream.buf))
                    continue
                closed = self._skip_oversized(stream, item_end)
                if not closed:
                    continue
            if closed:
                self._after_array(stream)
                return
            if not stream.more():
                break
        yield from self._rest(stream, item_end)

    def _slice(
        self, stream: _Stream, end: int, item_end: re.Pattern[bytes]
    ) -> tuple[list[object], int]:
        """The items in stream.buf[:end], all complete: parsed at once when they can
        be, else one by one; and the number of line breaks among them."""
        with memoryview(stream.buf) as view:
            framed = b"".join((b"[", view[:end], b"]"))
        # One pass over the bytes finds both the brackets and the line breaks.
        kept = framed.translate(_BRACKETS_AS_SQUARE, _NOT_STRUCTURE_OR_BREAK)
        lines = kept.count(b"\n")
        # A slice no larger than an item may be cannot hold an item too large.
        small = len(framed) - 2 <= self.limits.max_item_size
        if small and not _too_deep(kept.replace(b"\n", b""), framed, self.limits.max_depth + 1):
            try:
                items = orjson.loads(framed)
            except orjson.JSONDecodeError:
                pass
            else:
                if isinstance(items, list):
                    self.index += len(items)
                    return items, lines
        data = framed[1:-1]
        items = [
            self._item(piece, stream.line_at(start))
            for start, piece in _pieces(data, item_end)
            if not _ONLY_SPACE.match(piece)
        ]
        return items, lines

    def _skip_oversized(self, stream: _Stream, item_end: re.Pattern[bytes]) -> bool:
        """Report the item filling stream.buf as too large and consume it, up to the
        next item; True when the array closes after it."""
        self._skipped(stream.line, f"larger than {human_size(self.limits.max_item_size)}")
        keep = 200  # an item's end may straddle two blocks
        while (match := item_end.search(stream.buf)) is None:
            stream.drop(max(0, len(stream.buf) - keep))
            if not stream.more():
                stream.drop(len(stream.buf))
                return False
        closed = match.group(1) == b"]"
        stream.drop(match.end())
        return closed

    def _rest(self, stream: _Stream, item_end: re.Pattern[bytes]) -> Iterator[list[object]]:
        """The end of a file where no item end of the layout closes the array: the
        items the layout still tells apart, then the rest scanned (items that are no
        objects, a truncated last item, a closing bracket on an odd line)."""
        data = bytes(stream.buf)
        pieces = [(s, p) for s, p in _pieces(data, item_end) if not _ONLY_SPACE.match(p)]
        if len(pieces) > 1:
            yield [self._item(p, stream.line_at(s)) for s, p in pieces[:-1]]
            stream.drop(pieces[-1][0])
        yield from self._scanned(stream)

    # -- any other layout: items found by following strings and brackets ------------------

    def _scanned(self, stream: _Stream) -> Iterator[list[object]]:
        batch: list[object] = []
        size = 0
        inside = False
        while stream.skip(_SPACE_OR_COMMA):
            if stream.buf[:1] == b"]":
                stream.drop(1)
                if batch:
                    yield batch
                self._after_array(stream)
                return
            line = stream.line
            end = self._scan_item(stream)
            if end is None:
                inside = True
                break
            if end > 0:
                batch.append(self._item(bytes(stream.buf[:end]), line))
                size += end
                stream.drop(end)
            if size >= _BLOCK:
                yield batch
                batch, size = [], 0
        if batch:
            yield batch
        if inside:
            line = stream.line_at(len(stream.buf))
            self.found.problem(
                f"{self.label}#{self.index}",
                f"truncated or broken file: invalid JSON at line {line} (the file ends inside "
                "this item); this item and the rest of the file skipped",
            )
        else:
            self._unclosed(stream, len(stream.buf))

    def _scan_item(self, stream: _Stream) -> int | None:
        """Find the end of the item at stream.buf[0], reading more as needed.

        Returns its end in stream.buf; 0 when it was too large or too deep (then
        reported and consumed); None when the file ends inside it.
        """
        first, line = stream.buf[0], stream.line
        if first not in b'[{"':
            while (scalar := _SCALAR.match(stream.buf)) and scalar.end() == len(stream.buf):
                if len(stream.buf) > self.limits.max_item_size or not stream.more():
                    break
            return scalar.end() if scalar else 1
        scanner = _Scanner()
        pos = 0
        oversized = False
        while True:
            pos, done = scanner.advance(stream.buf, pos)
            if done:
                break
            if len(stream.buf) > self.limits.max_item_size:
                oversized = True  # keep following it, without keeping it
                stream.drop(pos)
                pos = 0
            if not stream.more():
                return None
        if oversized:
            why = f"larger than {human_size(self.limits.max_item_size)}"
        elif scanner.deepest > self.limits.max_depth:
            why = f"nested deeper than {self.limits.max_depth}"
        else:
            return pos
        self._skipped(line, why)
        stream.drop(pos)
        return 0

    # -- one item ------------------------------------------------------------------------

    def _item(self, raw: bytes, line: int) -> object:
        """One item's value (raw starts on `line`), or SKIPPED after reporting why
        it cannot be read."""
        limits = self.limits
        if len(raw) > limits.max_item_size:
            return self._skipped(line, f"larger than {human_size(limits.max_item_size)}")
        deep = _too_deep(_brackets(raw), raw, limits.max_depth)
        if deep and _depth(raw) > limits.max_depth:
            return self._skipped(line, f"nested deeper than {limits.max_depth}")
        value = self._parse(raw, line)
        if value is SKIPPED:
            where = f"{self.label}#{self.index}"
            self.found.problem(where, f"{_json_error(raw, line)}; item skipped")
        self.index += 1
        return value

    def _skipped(self, line: int, why: str) -> object:
        """Report the item at self.index, starting on `line`, as skipped; SKIPPED."""
        where = f"{self.label}#{self.index}"
        self.found.problem(where, f"{why} (it starts at line {line}); item skipped")
        self.index += 1
        return SKIPPED

    def _parse(self, raw: bytes, line: int | None = None) -> object:
        """raw's value, or SKIPPED when it is not JSON. Bad UTF-8 is replaced (and
        reported, when line is given), lone surrogates are allowed."""
        try:
            return _loads(raw)
        except orjson.JSONDecodeError:
            pass
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = raw.decode("utf-8", errors="replace")
            if line is not None:
                bad_line = line + raw.count(b"\n", 0, exc.start)
                at = f"{self.label}:{bad_line}"
                self.found.problem(at, "not valid UTF-8; undecodable bytes replaced with U+FFFD")
        try:
            return _loads(text)
        except orjson.JSONDecodeError:
            pass
        try:
            # orjson refuses a lone surrogate (`"\ud83d"`), which JSON allows and
            # cut-off emoji produce; the text cleanup removes it later.
            return cast(object, json.loads(text))
        except ValueError:
            return SKIPPED

    def _after_array(self, stream: _Stream) -> None:
        """Report anything but whitespace and `;` after the array's closing `]`."""
        if stream.skip(_TRAILER):
            self.found.problem(
                f"{self.label}:{stream.line}", "text after the end of the array ignored"
            )

    def _unclosed(self, stream: _Stream, offset: int) -> None:
        line = stream.line_at(offset)
        why = f"the file ends at line {line} before the array is closed"
        self.found.problem(f"{self.label}#{self.index}", why)


class _Scanner:
    """Follows one JSON value through its bytes, strings and brackets only, so that
    its end is found whatever its layout, in pieces, at C speed between tokens.

    depth: brackets open now. deepest: the most that were open at once.
    """

    __slots__ = ("deepest", "depth", "escape", "in_string")

    def __init__(self) -> None:
        self.depth = 0
        self.deepest = 0
        self.in_string = False
        self.escape = False

    def advance(self, buf: bytearray | bytes, pos: int) -> tuple[int, bool]:
        """Follow buf from pos; (where the value ends, True) or (len(buf), False)."""
        end = len(buf)
        while pos < end:
            if self.in_string:
                if self.escape:
                    self.escape, pos = False, pos + 1
                    continue
                pos = _STRING_BODY.match(buf, pos).end()  # type: ignore[union-attr]
                if pos >= end:
                    break
                if buf[pos] == 0x5C:  # a backslash ending the block: escapes the next one
                    self.escape, pos = True, pos + 1
                    continue
                self.in_string, pos = False, pos + 1
                if self.depth == 0:
                    return pos, True
                continue
            match = _STRUCTURE.search(buf, pos)
            if match is None:
                break
            pos = match.end()
            char = buf[match.start()]
            if char == 0x22:  # "
                self.in_string = True
            elif char in b"[{":
                self.depth += 1
                self.deepest = max(self.deepest, self.depth)
            else:
                self.depth -= 1
                if self.depth <= 0:
                    return pos, True
        return end, False


def _loads(data: bytes | str) -> object:
    return cast(object, orjson.loads(data))


def _first_non_space(buf: bytearray) -> int:
    return _SPACE.match(buf).end()  # type: ignore[union-attr]


def _last_item_end(buf: bytearray, separator: bytes, start: int) -> tuple[int, int, bool] | None:
    """(end of the last complete item, start of what follows, whether the array
    closes there) in buf[start:], if an item ends there."""
    end = len(buf)
    while (found := buf.rfind(separator, start, end)) >= 0:
        after = _AFTER_ITEM.match(buf, found + len(separator))
        if after is not None:
            return after.start(1), after.end(), buf[after.start(1)] == 0x5D  # ]
        end = found
    return None


def _pieces(data: bytes, item_end: re.Pattern[bytes]) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) of each item in data, cut at the layout's item ends."""
    start = 0
    for match in item_end.finditer(data):
        end = match.start(1)
        yield start, data[start:end]
        start = match.end()
    yield start, data[start:]


def _too_deep(brackets: bytes, data: bytes, limit: int) -> bool:
    """Whether the JSON in data may nest deeper than limit (exact: `_depth`).

    brackets: those of data, all as `[` and `]` (see `_brackets`). At C speed:
    innermost pairs are removed `limit` times; a slice of tweets (7 deep) is
    empty after 7 passes. Brackets in strings may leave some over; the
    running count of `_depth_bound` then decides. A string crafted to hide
    deep nesting from both meets orjson's own limit of 1024 levels.
    """
    for _ in range(limit):
        if not brackets:
            return False
        inner = brackets.replace(b"[]", b"")
        if len(inner) == len(brackets):
            break
        brackets = inner
    return bool(brackets) and _depth_bound(data) > limit


def _brackets(data: bytes) -> bytes:
    return data.translate(_BRACKETS_AS_SQUARE, _NOT_BRACKETS)


def _depth_bound(data: bytes) -> int:
    """The most brackets open at once in data, counting those in strings too."""
    steps = array("b", data.translate(_BRACKET_STEPS, _NOT_BRACKETS))
    return max(accumulate(steps), default=0)


def _depth(data: bytes) -> int:
    """How deep the JSON value in data nests, exactly (strings skipped)."""
    scanner = _Scanner()
    pos = 0
    while pos < len(data):
        pos, done = scanner.advance(data, pos)
        if done:
            scanner.depth = 0
    return scanner.deepest


def _json_error(raw: bytes, line: int) -> str:
    """What is wrong with raw, as a JSON value starting on `line`."""
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return f"invalid JSON at line {line + exc.lineno - 1} ({exc.msg})"
    return "invalid JSON"
