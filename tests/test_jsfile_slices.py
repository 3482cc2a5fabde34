"""Big `.js` parts are parsed a slice at a time: same items and problems as a whole parse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bot.archive.jsfile
from bot.archive.base import Found
from bot.archive.jsfile import load_batches, load_js
from bot.archive.tree import FolderTree
from tests.support.archives import js_file

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def items_of(folder: Path, name: str) -> tuple[list[object], list[str], int]:
    found = Found()
    batches = list(load_batches(FolderTree(folder), name, found))
    return [i for b in batches for i in b], [str(p) for p in found.problems], len(batches)


def write_part(folder: Path, items: list[dict[str, object]], tail: str = "\n]") -> str:
    """A part laid out as the export does: two-space items, one key per line."""
    whole = js_file("tweets.part0", items).decode()
    (folder / "tweets.js").write_text(whole[: -len("\n]")] + tail)
    return "tweets.js"


ITEMS: list[dict[str, object]] = [
    {"tweet": {"id_str": str(n), "full_text": f"tweet {n} }},\n{{ é 😂 \\", "n": [n, {"x": n}]}}
    for n in range(40)
]


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.archive.jsfile, "_BLOCK", 50)


def test_many_slices_give_the_whole_array(tmp_path: Path, small_blocks: None) -> None:
    name = write_part(tmp_path, ITEMS)
    items, problems, batches = items_of(tmp_path, name)
    assert items == ITEMS and problems == []
    assert batches > 10  # it really was sliced


def test_the_fixture_parts_read_the_same_in_slices(small_blocks: None) -> None:
    folder = FIXTURES / "official" / "data"
    for name in ("tweets.js", "tweets-part1.js", "note-tweet.js", "account.js"):
        whole = json.loads((folder / name).read_text().split("=", 1)[1])
        assert items_of(folder, name)[:2] == (whole, [])


def test_a_part_cut_mid_item_keeps_every_complete_item(tmp_path: Path, small_blocks: None) -> None:
    text = "window.YTD.tweets.part0 = " + json.dumps(ITEMS, indent=2)
    cut = text.index('"tweet"', text.index('"id_str": "30"') - 40)
    (tmp_path / "tweets.js").write_text(text[:cut])
    items, problems, _ = items_of(tmp_path, "tweets.js")
    assert items == ITEMS[:30]
    assert len(problems) == 1
    assert problems[0].startswith("tweets.js#30: truncated or broken file: invalid JSON at line")


def test_bad_utf8_late_in_a_part_is_reported_by_line(tmp_path: Path, small_blocks: None) -> None:
    name = write_part(tmp_path, ITEMS)
    data = (tmp_path / name).read_bytes()
    at = data.index(b"tweet 35")
    (tmp_path / name).write_bytes(data[:at] + b"\xff" + data[at + 1 :])
    items, problems, _ = items_of(tmp_path, name)
    line = data[:at].count(b"\n") + 1
    assert problems == [
        f"tweets.js:{line}: not valid UTF-8; undecodable bytes replaced with U+FFFD"
    ]
    assert len(items) == len(ITEMS) and items[:35] == ITEMS[:35]
    assert items[35]["tweet"]["full_text"].startswith("\ufffdweet 35")  # type: ignore[index]


def test_a_one_line_array_is_read_item_by_item(tmp_path: Path, small_blocks: None) -> None:
    (tmp_path / "tweets.js").write_text("window.YTD.tweets.part0 = " + json.dumps(ITEMS) + ";\n")
    items, problems, batches = items_of(tmp_path, "tweets.js")
    assert (items, problems) == (ITEMS, [])
    assert batches > 10  # a batch per 50-byte block: never the whole array at once
    assert load_js(FolderTree(tmp_path), "tweets.js", Found()) == ITEMS
