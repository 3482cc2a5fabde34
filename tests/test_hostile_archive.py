"""Hostile archives: the readers stream with caps, and any bad item costs itself only.

The corpus (tests/support/hostile.py) is built once per session in a temporary
folder. Memory is measured with tracemalloc (the readers' buffers are Python
objects); the whole-process limits are checked by the CLI runs under resource
limits.
"""

from __future__ import annotations

import json
import tempfile
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.archive.jsfile
from bot.archive import load_archive
from bot.archive.base import MAX_PROBLEMS_PER_FILE, Found
from bot.archive.jsfile import load_js
from bot.archive.text import DateOutOfRange, clean_text, parse_twitter_date, strip_controls
from bot.archive.tree import FolderTree
from bot.cli import Context, cli
from bot.clock import FakeClock
from bot.errors import ArchiveError
from bot.model import ReadLimits
from bot.settings import load_settings
from tests.support import hostile as corpus
from tests.support.archives import JPEG, write_files
from tests.support.hostile import Entry, MiB, Repeat, tweet, write_zip


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Entry]:
    return corpus.build(tmp_path_factory.mktemp("hostile"))


def limits_for(entry: Entry) -> ReadLimits:
    env = {k.removeprefix("TOOTBACK_ARCHIVE__").lower(): v for k, v in entry.env.items()}
    archive = {k: v for k, v in env.items() if k.startswith("max_")}
    return load_settings(None, {"archive": archive}, env_file=None).archive.limits


def problems_of(path: Path, limits: ReadLimits | None = None) -> list[tuple[str, str]]:
    return [(p.where, p.reason) for p in load_archive(path, limits).problems]


@pytest.mark.parametrize("name", [make.__name__.replace("_", "-") for make in corpus.BUILDERS])
def test_every_hostile_archive_is_read_with_each_bad_item_reported(
    hostile: dict[str, Entry], name: str
) -> None:
    entry = hostile[name]
    tracemalloc.start()
    try:
        archive = load_archive(entry.path, limits_for(entry))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    problems = [(p.where, p.reason) for p in archive.problems]
    assert [e for e in entry.problems if not e.found_in(problems)] == [], problems[:20]
    assert entry.tweets <= {t.id for t in archive.tweets}
    assert peak < 64 * MiB  # the bombs unpack to 1 GiB; the 5 MB texts are read whole
    for t in archive.tweets:  # nothing downstream sees a control character or an odd date
        assert t.text.isprintable() or all(c in "\n\t" or c.isprintable() for c in t.text)
        assert datetime(2006, 1, 1, tzinfo=UTC) <= t.created_at < datetime(2100, 1, 1, tzinfo=UTC)


def test_a_media_entry_over_the_limit_is_refused_unread(hostile: dict[str, Entry]) -> None:
    archive = load_archive(hostile["media-bomb"].path)
    [media] = next(t for t in archive.tweets if t.id == "301").media
    assert media.problem is not None and "over the limit" in media.problem
    with pytest.raises(Exception, match="over the limit"):
        archive.read_media(type(media)(media.path, media.kind))  # a forged, problem-free copy


def test_media_sizes_are_known_before_reading(hostile: dict[str, Entry]) -> None:
    archive = load_archive(hostile["sparse-media"].path)
    fine = next(t for t in archive.tweets if t.id == "403").media[0]
    assert fine.problem is None and fine.size == len(JPEG)


def test_a_zip_entry_that_unpacks_too_far_is_refused_by_its_ratio(tmp_path: Path) -> None:
    path = write_zip(
        tmp_path / "ratio.zip",
        {"data/tweets.js": (b"window.YTD.tweets.part0 = [", Repeat(b" " * MiB, 200), b"]")},
    )
    found = problems_of(path)
    assert found[0][0] == "data/tweets.js"
    assert "unpacks from" in found[0][1] and "more than 100:1 (a zip bomb?)" in found[0][1]


def test_whitespace_with_no_item_end_keeps_the_buffer_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's finding 3: the buffer grew and was copied on every block."""
    monkeypatch.setattr(bot.archive.jsfile, "_BLOCK", 64 << 10)
    data = corpus.js([tweet(1, "one"), tweet(2, "two")])
    cut = data.index(b"},\n  {") + 3
    (tmp_path / "tweets.js").write_bytes(data[:cut] + b" " * (48 * MiB) + data[cut:])
    tracemalloc.start()
    try:
        items = load_js(FolderTree(tmp_path), "tweets.js", Found())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [i["tweet"]["id_str"] for i in items] == ["1", "2"]  # type: ignore[index]
    assert peak < 8 * MiB


def test_whitespace_before_the_array_is_streamed_too(tmp_path: Path) -> None:
    data = corpus.js([tweet(1, "one")])
    at = data.index(b"[")
    (tmp_path / "tweets.js").write_bytes(data[:at] + b"\n" * (8 * MiB) + data[at:])
    assert load_archive(tmp_path).problems == ()
    (tmp_path / "tweets.js").write_bytes(b"  " * (4 * MiB))
    assert problems_of(tmp_path) == [("tweets.js", "no JSON array found; file skipped")]


def test_one_raw_control_character_costs_one_item_in_any_layout(tmp_path: Path) -> None:
    items = [tweet(10 + n, f"Tweet {n}") for n in range(20)]
    laid_out = corpus.js(items).replace(b"Tweet 7", b"Tweet\x007")
    one_line = b"window.YTD.tweets.part1 = " + json.dumps(items).encode()
    one_line = one_line.replace(b"Tweet 7", b"Tweet\n7")
    for name, data in (("tweets.js", laid_out), ("tweets-part1.js", one_line)):
        (tmp_path / name).write_bytes(data)
        archive = load_archive(tmp_path / name)
        assert len(archive.tweets) == 19, name
        [problem] = archive.problems
        assert problem.where == f"{name}#7" and "control character" in problem.reason
        # Indexes after the skipped item still name the right item.
        assert {t.source for t in archive.tweets} >= {f"{name}#8", f"{name}#19"}
        (tmp_path / name).unlink()


def test_a_damaged_item_mid_file_costs_that_item_only(tmp_path: Path) -> None:
    items = [tweet(30 + n, f"Tweet {n}") for n in range(6)]
    data = corpus.js(items).replace(b'"Tweet 2",', b'"Tweet 2" oops,', 1)
    (tmp_path / "tweets.js").write_bytes(data)
    archive = load_archive(tmp_path)
    assert sorted(t.id for t in archive.tweets) == ["30", "31", "33", "34", "35"]
    assert [p.where for p in archive.problems] == ["tweets.js#2"]


def test_strings_with_brackets_quotes_and_escapes_split_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.archive.jsfile, "_BLOCK", 7)  # escapes cut at every place
    texts = ['}{ ]] [[ "', "\\", 'a \\" }, {', "\\\\", "]", "{" * 70, "é 😂 \\u"]
    items = [{"tweet": {"id_str": str(n), "full_text": t}} for n, t in enumerate(texts)]
    (tmp_path / "tweets.js").write_text("window.YTD.tweets.part0 = " + json.dumps(items))
    assert load_js(FolderTree(tmp_path), "tweets.js", Found()) == items


def test_problems_beyond_a_thousand_per_file_are_counted_not_listed(tmp_path: Path) -> None:
    (tmp_path / "tweets.js").write_text("window.YTD.tweets.part0 = [" + "1," * 5000 + "1]")
    problems = problems_of(tmp_path)
    assert len(problems) == MAX_PROBLEMS_PER_FILE + 1
    assert problems[-1] == ("tweets.js", "4001 more problems in this file, not listed")


@pytest.mark.parametrize(
    "text",
    [
        "Mon Jan 01 00:00:00 +1400 0001",
        "Fri Dec 31 23:59:59 -1200 9999",
        "Fri Dec 31 23:59:59 +0000 9999",
        "Sat Jan 01 00:00:00 +0000 2005",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-12:00",
    ],
)
def test_dates_out_of_range_are_refused_without_overflow(text: str) -> None:
    with pytest.raises(DateOutOfRange, match="out of range"):
        parse_twitter_date(text)


def test_control_characters_and_lone_surrogates_are_removed_and_counted() -> None:
    assert clean_text("a\x00b\x07c\x1bd\x7fe\ud83d\nf\tg") == ("abcde\nf\tg", 5)
    assert clean_text("Fine\n\ttext &amp; 😂") == ("Fine\n\ttext & 😂", 0)


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12", "UTC"])
def test_preview_of_extreme_dates_in_any_zone(
    hostile: dict[str, Entry], zone: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOOTBACK_SELECTION__TIMEZONE", zone)
    monkeypatch.setenv("TOOTBACK_STATE__PATH", str(tmp_path / "state.json"))
    path = str(hostile["extreme-dates"].path)
    for day in ("2026-04-05", "2026-01-01", "2026-12-31"):
        result = CliRunner().invoke(
            cli,
            ["preview", "--date", day, "--json", "--show-skipped", "--archive", path],
            obj=Context(clock=FakeClock(datetime(2026, 4, 5, tzinfo=UTC))),
        )
        assert result.exit_code == 0, result.output
        json.loads(result.stdout)


def test_limits_are_settings_with_sizes_in_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOTBACK_ARCHIVE__MAX_ITEM_SIZE", "2 MiB")
    monkeypatch.setenv("TOOTBACK_ARCHIVE__MAX_MEDIA_SIZE", "40MB")
    limits = load_settings(None, env_file=None).archive.limits
    assert limits == ReadLimits(max_item_size=2 * MiB, max_media_size=40_000_000)
    monkeypatch.setenv("TOOTBACK_ARCHIVE__MAX_DEPTH", "100000")
    with pytest.raises(Exception, match=r"archive\.max_depth"):
        load_settings(None, env_file=None)


def test_an_index_built_under_other_limits_is_not_used(tmp_path: Path) -> None:
    from bot.archive.source import ArchiveSource

    folder = write_files(tmp_path / "a", {"data/tweets.js": corpus.js([tweet(1, "x" * 200_000)])})
    day = datetime(2026, 4, 5).date()
    index = tmp_path / "index"
    assert len(ArchiveSource(folder, index).day(day, "feb28").tweets) == 1
    tight = ReadLimits(max_item_size=100_000)
    assert ArchiveSource(folder, index, tight).day(day, "feb28").tweets == ()


# --- the fuzz test -------------------------------------------------------------------------

JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "Mon Jan 01 00:00:00 +1400 0001",
            "Fri Dec 31 23:59:59 -1200 9999",
            "2023-02-30T00:00:00Z",
            "../../etc/passwd",
            "\x00",
            "https://t.co/x",
            "&amp;&#0;&#x110000;",
            "",
        ]
    )
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FIXTURE_ITEMS = corpus.fixture_items()
KEYS = sorted({k for item in FIXTURE_ITEMS for k in item["tweet"]} | {"extended_entities", "text"})


@st.composite
def mutated_items(draw: st.DrawFn) -> list[object]:
    items: list[object] = []
    for item in draw(st.lists(st.sampled_from(FIXTURE_ITEMS), min_size=1, max_size=4)):
        body = json.loads(json.dumps(item["tweet"]))
        for key in draw(st.lists(st.sampled_from(KEYS), max_size=4)):
            if draw(st.booleans()):
                body[key] = draw(JSON_VALUES)
            else:
                body.pop(key, None)
        items.append(draw(st.sampled_from([{"tweet": body}, body, draw(JSON_VALUES)])))
    return items


@st.composite
def damaged_bytes(draw: st.DrawFn) -> bytes:
    data = corpus.js(draw(mutated_items()))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        junk = draw(st.binary(max_size=6) | st.sampled_from([b"\x00", b"\xff", b"\n  },", b"["]))
        cut = draw(st.integers(0, 4))
        data = data[:at] + junk + data[at + cut :]
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=mutated_items())
def test_fuzz_mutated_items_each_become_a_tweet_or_a_problem(items: list[object]) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "tweets.js").write_bytes(corpus.js(items))
        archive = load_archive(folder)
    read = {t.source for t in archive.tweets}
    reported = {p.where for p in archive.problems}
    for index in range(len(items)):
        place = f"tweets.js#{index}"
        assert place in read or place in reported, (place, archive.problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=damaged_bytes(), one_line=st.booleans())
def test_fuzz_damaged_bytes_never_raise(data: bytes, one_line: bool) -> None:
    if one_line:
        data = data.replace(b"\n", b" ")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "tweets.js").write_bytes(data)
        (folder / "output.md").write_bytes(data.replace(b"},", b"\n----\n"))
        archive = load_archive(folder)
    for t in archive.tweets:
        assert "\x00" not in t.text
    assert all(p.where and p.reason for p in archive.problems)


DATES = st.sampled_from(
    [
        "Tue Apr 05 11:00:00 +0000 2022",
        "Mon Jan 01 00:00:00 +1400 0001",
        "Fri Dec 31 23:59:59 -1200 9999",
        "Sat Feb 29 23:30:00 +0200 2020",
        "Foo 31 2022",
        "2023-01-15T16:20:30.000Z",
    ]
)


@st.composite
def markdown_files(draw: st.DrawFn) -> bytes:
    blocks = []
    for n in range(draw(st.integers(1, 5))):
        text = draw(st.text(max_size=60))
        media = draw(
            st.sampled_from(["", "![](media/1-a.jpg)", "![x](../../etc/passwd)", "![](\x00)"])
        )
        tid = draw(st.sampled_from([str(100 + n), "x", "1" * 30]))
        block = corpus.md_block(tid, f"{text} {media}", draw(DATES))
        blocks.append(block if draw(st.booleans()) else "> " + block.replace("\n", "  \n> "))
    data = "----\n".join(blocks).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=4)) + data[at:]
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=markdown_files())
def test_fuzz_markdown_never_raises(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "tweets_2022-04.md").write_bytes(data)
        try:
            archive = load_archive(folder)
        except ArchiveError as exc:  # a file with no tweet footer left: not an archive
            assert "no tweets found" in str(exc)
            return
    for t in archive.tweets:
        assert strip_controls(t.text) == (t.text, 0)
        assert all(m.problem is not None or not m.path.startswith("..") for m in t.media)


def test_every_limit_is_in_the_readme_settings_table() -> None:
    # (test_settings checks that the shipped config file names every key.)
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for name in ReadLimits.__dataclass_fields__:
        assert f"| `archive.{name}` |" in readme
