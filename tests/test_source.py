"""What commands read of an archive (`ArchiveSource`): the same answers as the whole archive,
from the index, with one full read at most."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bench.generate import Generated, generate
from bot.archive import Summary, load_archive
from bot.archive.index import DayIndex, index_file
from bot.archive.source import ArchiveSource
from bot.model import ReadLimits
from bot.options import plan
from bot.settings import load_settings
from tests.support.archives import write_old_markdown
from tests.test_index import age

OFFICIAL = Path(__file__).resolve().parent / "fixtures" / "official"


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    return generate(1200, tmp_path_factory.mktemp("synthetic") / "a", seed=11)


def test_tweets_by_id_read_only_their_groups(
    synthetic: Generated, tmp_path: Path, loads: list[Path]
) -> None:
    full = load_archive(synthetic.folder)
    ArchiveSource(synthetic.folder, tmp_path).whole()  # builds the index
    wanted = [full.tweets[i].id for i in (0, 1, 17, 500, 501, -1)]
    source = ArchiveSource(synthetic.folder, tmp_path)
    found = source.tweets([*wanted, "1", "not an id", ""])
    assert found == {t.id: t for t in full.tweets if t.id in wanted}
    assert len(loads) == 1  # the index's build; none here


def test_ids_that_are_not_plain_numbers_are_found_too(tmp_path: Path) -> None:
    odd = ["0042", "123456789012345678901234", "7"]  # a leading zero, beyond 2**64, small
    tweets = [
        (tid, datetime(2020, 5, n + 1, 10, tzinfo=UTC), f"tweet {n}") for n, tid in enumerate(odd)
    ]
    folder = write_old_markdown(tmp_path / "md", tweets)
    age(folder)
    ArchiveSource(folder, tmp_path / "index").whole()
    source = ArchiveSource(folder, tmp_path / "index")
    found = source.tweets([*odd, "42"])
    assert sorted(found) == sorted(odd)
    assert [found[tid].text for tid in odd] == ["tweet 0", "tweet 1", "tweet 2"]
    assert all(tid in source.day(date(2026, 5, 2), "feb28").owner_ids for tid in odd)


def test_a_summary_without_reading_the_tweets(
    synthetic: Generated, tmp_path: Path, loads: list[Path]
) -> None:
    expected = Summary.of(load_archive(synthetic.folder))
    assert ArchiveSource(synthetic.folder, tmp_path).summary() == expected  # builds
    assert ArchiveSource(synthetic.folder, tmp_path).summary() == expected  # from the index
    assert len(loads) == 1


def test_a_day_and_the_whole_archive_from_the_index(
    synthetic: Generated, tmp_path: Path, loads: list[Path]
) -> None:
    full = load_archive(synthetic.folder)
    first = ArchiveSource(synthetic.folder, tmp_path)
    assert first.whole().tweets == full.tweets
    source = ArchiveSource(synthetic.folder, tmp_path)
    day = source.day(date(2026, 7, 1), "feb28")
    assert day.ids is not None and 0 < len(day.tweets) < len(full.tweets) / 20
    assert source.whole().tweets == full.tweets
    assert len(loads) == 1


def test_with_no_index_possible_the_archive_is_read_once_and_kept(
    tmp_path: Path, loads: list[Path]
) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(OFFICIAL, archive)
    age(archive)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    source = ArchiveSource(archive, blocker / "index")
    full = load_archive(archive)
    assert source.whole().tweets == full.tweets
    assert source.day(date(2026, 4, 5), "feb28").tweets == full.tweets
    assert source.tweets([full.tweets[0].id]) == {full.tweets[0].id: full.tweets[0]}
    assert source.summary() == Summary.of(full)
    assert len(loads) == 1  # the source's one read


def test_a_stale_index_is_rebuilt_once_then_served(tmp_path: Path, loads: list[Path]) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(OFFICIAL, archive)
    age(archive)
    ArchiveSource(archive, tmp_path / "index").whole()
    tweets_js = archive / "data" / "tweets.js"
    tweets_js.write_text(tweets_js.read_text().replace("Today’s mood", "Changed mood"))
    age(archive)
    source = ArchiveSource(archive, tmp_path / "index")
    assert any(t.text.startswith("Changed mood") for t in source.whole().tweets)
    source.day(date(2026, 4, 5), "feb28")
    assert len(loads) == 2
    file = index_file(archive.absolute(), tmp_path / "index")
    assert DayIndex.open(file, archive.absolute(), ReadLimits()) is not None


@pytest.mark.parametrize("feb29", ["feb28", "mar1", "skip"])
def test_a_day_in_utc_reads_only_its_own_month_days_and_plans_the_same(
    synthetic: Generated, tmp_path: Path, feb29: str
) -> None:
    full = load_archive(synthetic.folder)
    options = load_settings(None, {"selection": {"timezone": "UTC", "feb29": feb29}}, env_file=None)
    ArchiveSource(synthetic.folder, tmp_path).whole()  # builds the index
    source = ArchiveSource(synthetic.folder, tmp_path)
    for day in [date(2026, 4, 5), date(2027, 2, 28), date(2028, 2, 29), date(2027, 3, 1)]:
        utc = source.day(day, feb29, zone=ZoneInfo("UTC"))  # type: ignore[arg-type]
        anywhere = source.day(day, feb29)  # type: ignore[arg-type]
        assert len(utc.tweets) < len(anywhere.tweets)
        assert plan(utc, day, options) == plan(full, day, options)
