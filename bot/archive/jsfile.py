"""Reading the official archive's `.js` files: `window.YTD.x.partN = [ … ]`.

A tweets part can hold 100 MB. It is read in blocks and parsed a slice of
items at a time with orjson, straight from the bytes: parsing it whole would
hold the bytes, their decoded text and a Python object per JSON value of the
entire part at once, several times the file's size.

Slices are cut where the export's layout says an item ends: a line that holds
only the item indentation and `}` followed by `,`. A raw newline cannot occur
inside a JSON string, so such a line is never inside a tweet's text; and when
the guess is wrong anyway, the slice does not parse. Whenever anything does
not parse (a truncated part, bad UTF-8, an unusual layout), the file is read
again the careful way: decoded as a whole (bad bytes reported by line), then
walked item by item, keeping every complete item before the damage.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import cast

import orjson

from bot.archive.base import Found
from bot.archive.tree import Tree

_WHITESPACE = re.compile(r"[ \t\n\r]*")
# Bytes read at a time; a slice is parsed per block or so, then turned into
# Tweets while its objects are still in the CPU cache: 256 KiB slices load a
# 100k-tweet archive ~30% faster than 4 MiB ones.
_BLOCK = 256 << 10
_BOM = b"\xef\xbb\xbf"
_FIRST_ITEM = re.compile(rb"\[[ \t\r]*\n([ \t]*)\{")


def _loads(text: str) -> object:
    return cast(object, orjson.loads(text))


def decode(data: bytes, label: str, found: Found) -> str:
    """UTF-8 text of a file (BOM dropped); bad bytes become U+FFFD and the
    first one's line is reported under label."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        found.problem(f"{label}:{line}", "not valid UTF-8; undecodable bytes replaced with U+FFFD")
        return data.decode("utf-8-sig", errors="replace")


def load_js(tree: Tree, rel: str, found: Found) -> list[object]:
    """The items of the array in one `.js` data file.

    tree, rel: the file. Problems (unreadable file, broken JSON) go to found,
    with "file#index" of the first item that could not be read.
    Returns every item read, possibly none.
    """
    return [item for batch in load_batches(tree, rel, found) for item in batch]


def load_batches(tree: Tree, rel: str, found: Found) -> Iterator[list[object]]:
    """The items of one `.js` data file, a slice at a time, in file order.

    Same items and problems as `load_js`, with far less memory for big files.
    """
    done = 0
    try:
        for batch in _fast_batches(tree.blocks(rel, _BLOCK)):
            done += len(batch)
            yield batch
        return
    except OSError as exc:
        found.problem(tree.label(rel), f"cannot be read: {exc}")
        return
    except ValueError:  # orjson.JSONDecodeError, or no array where expected
        pass
    yield _careful(tree, rel, found)[done:]


def _fast_batches(blocks: Iterator[bytes]) -> Iterator[list[object]]:
    """Parse the array in blocks' bytes slice by slice; ValueError when that fails."""
    buffer = b""
    for block in blocks:
        buffer += block
        if len(buffer) >= 1024 or not block:
            break
    start = _array_start(buffer)
    if start < 0:
        raise ValueError("no array")
    separator = _separator(buffer, start)
    buffer = buffer[start + 1 :]
    for block in blocks:
        buffer += block
        cut = _last_item_end(buffer, separator)
        if cut is not None:
            yield _parse_list(b"[" + buffer[: cut[0]] + b"]")
            buffer = buffer[cut[1] :]
    yield _parse_list(b"[" + buffer.rstrip().rstrip(b";"))


def _array_start(head: bytes) -> int:
    """Where the array begins: after `window.YTD.x.partN =`, or at the first `[`."""
    if head.startswith(_BOM):
        head = b"   " + head[3:]  # keep the offsets
    equals = head.find(b"=") if head.lstrip().startswith(b"window.") else -1
    return head.find(b"[", equals + 1)


def _separator(head: bytes, start: int) -> bytes | None:
    """The line that closes an item (`\\n` + indentation + `}`), when items start on
    lines of their own; None means the array cannot be sliced (it is parsed whole)."""
    match = _FIRST_ITEM.match(head, start)
    return b"\n" + match.group(1) + b"}" if match else None


def _last_item_end(buffer: bytes, separator: bytes | None) -> tuple[int, int] | None:
    """(end of the last complete item, start of the next one) in buffer, if any."""
    if separator is None:
        return None
    end = len(buffer)
    while (found := buffer.rfind(separator, 0, end)) > 0:
        close = found + len(separator)
        after = buffer[close : close + 64]
        rest = after.lstrip()
        if rest.startswith(b","):
            return close, close + len(after) - len(rest) + 1
        end = found
    return None


def _parse_list(data: bytes) -> list[object]:
    value = orjson.loads(data)
    if not isinstance(value, list):
        raise ValueError("not an array")
    return value


def _careful(tree: Tree, rel: str, found: Found) -> list[object]:
    """The whole file decoded, parsed, and salvaged item by item if need be."""
    label = tree.label(rel)
    try:
        text = decode(tree.read(rel), label, found)
    except OSError as exc:
        found.problem(label, f"cannot be read: {exc}")
        return []
    start = _text_array_start(text)
    if start < 0:
        found.problem(label, "no JSON array found; file skipped")
        return []
    try:
        value = _loads(text[start:].rstrip().rstrip(";"))
    except ValueError:
        return _salvage(text, start, label, found)
    if not isinstance(value, list):
        found.problem(label, "no JSON array found; file skipped")
        return []
    return value


def _text_array_start(text: str) -> int:
    equals = text.find("=") if text.lstrip().startswith("window.") else -1
    return text.find("[", equals + 1)


def _salvage(text: str, start: int, label: str, found: Found) -> list[object]:
    """Decode the array item by item; stop at the first broken one and report it."""
    decoder = json.JSONDecoder()
    items: list[object] = []
    pos = _skip(text, start + 1)
    while pos < len(text) and text[pos] != "]":
        try:
            item, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            why = f"invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})"
            return _give_up(items, label, why, found)
        items.append(item)
        pos = _skip(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos = _skip(text, pos + 1)
        elif pos < len(text) and text[pos] != "]":
            line = text.count("\n", 0, pos) + 1
            return _give_up(items, label, f"invalid JSON at line {line} (expected ',')", found)
    if pos >= len(text):
        return _give_up(items, label, "the file ends before the array is closed", found)
    return items


def _give_up(items: list[object], label: str, why: str, found: Found) -> list[object]:
    found.problem(
        f"{label}#{len(items)}",
        f"truncated or broken file: {why}; this item and the rest of the file skipped",
    )
    return items


def _skip(text: str, pos: int) -> int:
    match = _WHITESPACE.match(text, pos)
    return match.end() if match else pos
