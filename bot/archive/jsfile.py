"""Reading the official archive's `.js` files: `window.YTD.x.partN = [ … ]`.

The whole file is parsed in one go (orjson when it is installed, it is several
times faster on 100k-tweet archives). Only when that fails do we walk the array
item by item, keeping every complete item before the damage, so a part file
cut mid-way still yields what it holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import cast

from bot.archive.base import Found
from bot.archive.tree import Tree

_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _std_loads(text: str) -> object:
    return cast(object, json.loads(text))


def _pick_loads() -> Callable[[str], object]:
    try:
        import orjson
    except ImportError:
        return _std_loads
    return cast(Callable[[str], object], orjson.loads)


_loads = _pick_loads()


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
    label = tree.label(rel)
    try:
        text = decode(tree.read(rel), label, found)
    except OSError as exc:
        found.problem(label, f"cannot be read: {exc}")
        return []
    start = _array_start(text)
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


def _array_start(text: str) -> int:
    """Where the array begins: after `window.YTD.x.partN =`, or at the first `[`."""
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
