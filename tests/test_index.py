"""The day index: same answers as the full archive, rebuilt whenever it cannot be trusted."""

from __future__ import annotations

import os
import shutil
from array import array
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bench.generate import Generated, generate
from bot.archive import Archive, load_archive
from bot.archive.index import DayIndex, IdSet, build_index, index_file, utc_month_days
from bot.archive.source import ArchiveSource
from bot.errors import SettingsError
from bot.model import InstanceLimits, Outline, ReadLimits
from bot.options import plan
from bot.preview import preview_day
from bot.settings import Settings, load_settings
from tests.support.archives import write_old_markdown

ROOT = Path(__file__).resolve().parent.parent
OFFICIAL = Path(__file__).resolve().parent / "fixtures" / "official"
DAY = date(2026, 4, 5)  # the fixture's tweets are from April 5 and earlier
DAY_TIME = datetime(2022, 4, 5, 10, 0, tzinfo=UTC)


def age(root: Path) -> None:
    """Date everything under root an hour back: an archive that changed in the last
    seconds is not indexed, and the test's own changes must get a new mtime."""
    for path in [*root.rglob("*"), root]:
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - 3600 * 10**9))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """A generated archive of 1,500 tweets over 15 years (Feb 29s included), dated 2024."""
    return generate(1500, tmp_path_factory.mktemp("synthetic") / "a", seed=7)


@pytest.fixture
def official(tmp_path: Path) -> Path:
    """A private copy of the official fixture, free to change."""
    copy = tmp_path / "archive"
    shutil.copytree(OFFICIAL, copy)
    age(copy)
    return copy


def settings(timezone: str = "UTC", feb29: str = "feb28", **more: Any) -> Settings:
    selection = {"timezone": timezone, "feb29": feb29, "include_replies": True} | more
    return load_settings(None, {"selection": selection}, env_file=None)


def day_of(
    path: Path, index_dir: Path, day: date = DAY, feb29: Any = "feb28", whole_threads: bool = False
) -> Archive:
    """The day as every command reads it: from the index, built first when missing."""
    return ArchiveSource(path, index_dir).day(day, feb29, whole_threads)


# -- the same answers ---------------------------------------------------------------------


DATES = [date(2026, 1, 1), date(2026, 2, 28), date(2026, 3, 1), date(2028, 2, 29),
         date(2028, 2, 28), date(2026, 7, 15), date(2026, 12, 31)]  # fmt: skip
ZONES = ["UTC", "Pacific/Kiritimati", "Etc/GMT+12", "America/New_York", "Asia/Kolkata"]


@pytest.mark.parametrize("feb29", ["feb28", "mar1", "skip"])
@pytest.mark.parametrize("zone", ZONES)
def test_a_day_from_the_index_is_the_day_from_the_whole_archive(
    synthetic: Generated, tmp_path: Path, zone: str, feb29: str
) -> None:
    full = load_archive(synthetic.folder)
    built = build_index(synthetic.folder, tmp_path)  # builds the index
    planned = 0
    for day in DATES:
        indexed = day_of(synthetic.folder, tmp_path, day, feb29)
        assert indexed.ids is not None  # served from the index, not a full read
        options = settings(zone, feb29)
        expected = plan(full, day, options)
        planned += len(expected.due)
        assert plan(indexed, day, options) == expected
        limits = InstanceLimits()
        assert preview_day(indexed, day, options, {}, {}, limits) == preview_day(
            full, day, options, {}, {}, limits
        )
    assert planned > 3 * len(DATES)  # else the comparison proves little
    assert built.tweets == full.tweets  # the build itself returns the whole archive


def test_feb29_tweets_reach_feb28_of_a_common_year_through_the_index(
    synthetic: Generated, tmp_path: Path
) -> None:
    day_of(synthetic.folder, tmp_path)
    day = date(2027, 2, 28)
    indexed = day_of(synthetic.folder, tmp_path, day, "feb28")
    due = plan(indexed, day, settings(feb29="feb28")).due
    assert any(d.tweet.created_at.month == 2 and d.tweet.created_at.day == 29 for d in due)
    assert not any(
        d.tweet.created_at.day == 29
        for d in plan(
            day_of(synthetic.folder, tmp_path, day, "skip"), day, settings(feb29="skip")
        ).due
    )


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Etc/GMT+12"])
def test_whole_threads_from_the_index_are_the_whole_archive_s(
    synthetic: Any, tmp_path: Path, zone: str
) -> None:
    full = load_archive(synthetic.folder)
    assert len(full.threads.later) > 20  # the generated archive has threads across days
    day_of(synthetic.folder, tmp_path)
    options = settings(zone, threads="whole")
    moved = 0
    for day in DATES:
        indexed = day_of(synthetic.folder, tmp_path, day, whole_threads=True)
        assert indexed.ids is not None
        expected = plan(full, day, options)
        assert plan(indexed, day, options) == expected
        moved += sum(d.tweet.created_at.day != d.due.day for d in expected.due)
    assert moved  # some later tweets of threads came from other days


def test_the_outline_and_the_whole_archive_come_from_the_index(
    synthetic: Any, tmp_path: Path, loads: list[Path]
) -> None:
    built = ArchiveSource(synthetic.folder, tmp_path).outline()  # builds the index
    full = load_archive(synthetic.folder)
    expected = tuple(map(Outline.of, full.tweets))
    assert built.outlines == expected
    outline = ArchiveSource(synthetic.folder, tmp_path).outline()
    assert outline.outlines == expected and outline.username == "benchuser"
    assert ArchiveSource(synthetic.folder, tmp_path).whole().tweets == full.tweets
    assert len(loads) == 1  # the build; the rest came from the index
    assert sum(o.usable_media for o in expected)


def test_an_outline_row_keeps_every_field() -> None:
    from bot.archive.index import _outline, _outline_row
    from bot.model import Media, Tweet

    media = (
        Media("a.jpg", size=5),
        Media("b.mp4", "video", problem="missing"),
        Media("c.jpg", size=7),
    )
    for tweet in [
        Tweet("12", DAY_TIME, "  \n", "https://x", "11", "Me", True, media),
        Tweet("x7", DAY_TIME, "words", "u" * 300, None, None, False, ()),
    ]:
        assert _outline(_outline_row(tweet)) == Outline.of(tweet)
    assert Outline.of(Tweet("1", DAY_TIME, " \t", "", media=media)) == Outline(
        Tweet("1", DAY_TIME, "", ""),
        blank=True,
        usable_media=2,
        broken_media=1,
        text_length=2,
        largest_media=7,
    )


def test_the_index_knows_every_tweet_id_for_self_links(synthetic: Any, tmp_path: Path) -> None:
    full = load_archive(synthetic.folder)
    day_of(synthetic.folder, tmp_path)
    indexed = day_of(synthetic.folder, tmp_path)
    assert len(indexed.tweets) < len(full.tweets) / 20
    assert all(t.id in indexed.owner_ids for t in full.tweets)
    assert "1" not in indexed.owner_ids and "0" + full.tweets[0].id not in indexed.owner_ids
    assert indexed.username == full.username == "benchuser"
    assert indexed.root == full.root and indexed.formats == full.formats


@pytest.mark.parametrize("which", ["zip", "markdown"])
def test_zip_and_markdown_archives_are_indexed_too(
    synthetic: Generated, tmp_path: Path, which: str, loads: list[Path]
) -> None:
    path = synthetic.zip if which == "zip" else synthetic.markdown
    full = load_archive(path)
    day_of(path, tmp_path)
    indexed = day_of(path, tmp_path)
    assert len(loads) == 1
    assert indexed.ids is not None
    assert plan(indexed, DAY, settings()) == plan(full, DAY, settings())


def test_utc_month_days_cover_both_neighbours_in_leap_and_common_years() -> None:
    assert utc_month_days(date(2026, 3, 1), "skip") == {(2, 28), (2, 29), (3, 1), (3, 2)}
    assert utc_month_days(date(2027, 2, 28), "feb28") == {
        (2, 27), (2, 28), (2, 29), (3, 1)
    }  # fmt: skip
    assert utc_month_days(date(2026, 1, 1), "feb28") == {(12, 31), (1, 1), (1, 2)}


def test_a_zone_that_is_always_utc_needs_only_the_days_own_month_days() -> None:
    assert utc_month_days(date(2026, 1, 1), "feb28", ZoneInfo("UTC")) == {(1, 1)}
    assert utc_month_days(date(2027, 2, 28), "feb28", ZoneInfo("Etc/GMT")) == {(2, 28), (2, 29)}
    assert utc_month_days(date(2026, 1, 1), "feb28", ZoneInfo("Europe/London")) == {
        (12, 31), (1, 1), (1, 2)
    }  # fmt: skip


# -- rebuilt when the archive changes --------------------------------------------------------


def test_the_second_day_is_read_from_the_index(
    official: Path, tmp_path: Path, loads: list[Path]
) -> None:
    first = build_index(official, tmp_path / "index")  # the whole archive, read and indexed
    second = day_of(official, tmp_path / "index")
    assert len(loads) == 1
    near = utc_month_days(DAY, "feb28")
    expected = [t for t in first.tweets if (t.created_at.month, t.created_at.day) in near]
    assert list(second.tweets) == expected and len(expected) < len(first.tweets)
    files = list((tmp_path / "index").iterdir())
    assert [f.name for f in files] == [index_file(official.absolute(), tmp_path / "index").name]
    assert not any(p.name.endswith(".index") for p in official.rglob("*"))


def test_an_edited_tweets_file_rebuilds_the_index(
    official: Path, tmp_path: Path, loads: list[Path]
) -> None:
    day_of(official, tmp_path)
    tweets_js = official / "data" / "tweets.js"
    tweets_js.write_text(tweets_js.read_text().replace("Today’s mood", "Changed mood"))
    after = day_of(official, tmp_path)
    assert len(loads) == 2
    assert any(t.text.startswith("Changed mood") for t in after.tweets)
    assert day_of(official, tmp_path).ids is None  # changed too recently to be indexed
    age(official)
    day_of(official, tmp_path)
    indexed = day_of(official, tmp_path)
    assert indexed.ids is not None and len(loads) == 4
    assert any(t.text.startswith("Changed mood") for t in indexed.tweets)


def test_a_new_mtime_with_the_same_size_rebuilds_the_index(
    official: Path, tmp_path: Path, loads: list[Path]
) -> None:
    day_of(official, tmp_path)
    tweets_js = official / "data" / "tweets-part1.js"
    stat = tweets_js.stat()
    os.utime(tweets_js, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    day_of(official, tmp_path)
    assert len(loads) == 2


def test_an_added_file_or_a_removed_media_file_rebuilds_the_index(
    official: Path, tmp_path: Path, loads: list[Path]
) -> None:
    day_of(official, tmp_path)
    tweet = ("1379000000000000001", datetime(2021, 4, 5, 10, tzinfo=UTC), "Hello from markdown")
    write_old_markdown(official, [tweet], user="quokka_codes", name="tweets_2021-01.md")
    assert "1379000000000000001" in {t.id for t in day_of(official, tmp_path).tweets}
    (official / "data" / "tweets_media" / "1511238455915446273-Kq3VidBuild.mp4").unlink()
    tweets = {t.id: t for t in day_of(official, tmp_path).tweets}
    assert len(loads) == 3
    assert [m.problem for m in tweets["1511238455915446273"].media] == ["missing"]


def test_a_markdown_file_with_its_media_folder(tmp_path: Path, loads: list[Path]) -> None:
    folder = tmp_path / "md"
    shutil.copytree(Path(__file__).parent / "fixtures" / "markdown-bad", folder)
    age(folder)
    md = folder / "tweets_2021-01.md"
    full = load_archive(md)
    first = build_index(md, tmp_path / "index")
    again = day_of(md, tmp_path / "index", date(2026, 1, 1))
    assert again.ids is not None and again.root == full.root == folder
    assert first.tweets == full.tweets
    (folder / "media" / "1344946465797046276-ok.png").unlink()
    rebuilt = day_of(md, tmp_path / "index", date(2026, 1, 1))
    assert len(loads) == 2
    assert [m.problem for t in rebuilt.tweets for m in t.media if m.path.endswith("ok.png")] == [
        "missing"
    ]


# -- never trusted when damaged --------------------------------------------------------------


def _damage(file: Path, how: str, index_source: Path) -> None:
    data = file.read_bytes()
    if how == "truncated":
        file.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        file.write_bytes(b"")
    elif how == "flipped byte in a group":
        index = DayIndex.open(file, Path(index_source), ReadLimits())
        assert index is not None
        at = index.header["groups"][f"{DAY.month:02d}-{DAY.day:02d}"][0] + 10
        file.write_bytes(data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :])
    elif how == "garbage":
        file.write_bytes(os.urandom(len(data)))
    else:  # "no footer": cut the last bytes, as a crash mid-write would
        file.write_bytes(data[:-3])


@pytest.mark.parametrize(
    "how", ["truncated", "empty", "flipped byte in a group", "garbage", "no footer"]
)
def test_a_damaged_index_is_rebuilt_not_trusted(
    official: Path, tmp_path: Path, loads: list[Path], how: str
) -> None:
    good = build_index(official, tmp_path)
    file = index_file(official.absolute(), tmp_path)
    intact = file.read_bytes()
    _damage(file, how, official.absolute())
    again = ArchiveSource(official, tmp_path).whole()  # every group, the damaged one too
    assert len(loads) == 2
    assert again.tweets == good.tweets
    assert file.read_bytes() == intact  # rebuilt in full
    assert DayIndex.open(file, official.absolute(), ReadLimits()) is not None


def test_a_stale_index_of_another_version_is_rebuilt(
    official: Path, tmp_path: Path, loads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    day_of(official, tmp_path)
    monkeypatch.setattr("bot.archive.index.__version__", "99.0")
    day_of(official, tmp_path)
    assert len(loads) == 2


def test_an_unwritable_index_folder_costs_a_full_read_but_works(
    official: Path, tmp_path: Path, loads: list[Path]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    assert day_of(official, blocker / "index").tweets == load_archive(official).tweets
    assert day_of(official, blocker / "index").tweets
    assert len(loads) == 2


def test_an_index_folder_inside_the_archive_is_refused(official: Path) -> None:
    with pytest.raises(SettingsError, match=r"archive\.index_dir"):
        day_of(official, official / "cache")
    with pytest.raises(SettingsError, match=r"inside the archive"):  # tweets.js: its folder
        day_of(official / "data" / "tweets.js", official / "data")


def test_id_set_membership() -> None:
    ids = IdSet(array("Q", [5, 17, 2**64 - 1]), frozenset({"007", "123456789012345678901234"}))
    for present in ["5", "17", str(2**64 - 1), "007", "123456789012345678901234"]:
        assert present in ids
    for absent in ["6", "05", "", "abc", "٥", str(2**64), "17 "]:
        assert absent not in ids
    assert 5 not in ids  # type: ignore[comparison-overlap]
    assert len(ids) == 5
