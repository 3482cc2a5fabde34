"""load_archive: format detection, mixed folders, errors, and confinement to the root."""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.archive import Problem, load_archive
from bot.archive.text import parse_twitter_date
from bot.archive.tree import FolderTree
from bot.bundled import demo_archive
from bot.errors import ArchiveError
from bot.model import Media
from tests.support.archives import old_block, write_old_markdown

ROOT = Path(__file__).resolve().parent.parent
SEEDS = demo_archive()
FIXTURES = ROOT / "tests" / "fixtures"
PLANT = "data/tweets_media/1379146820613046273-EyPlant01.png"
APRIL_1 = datetime(2022, 4, 1, 18, 9, 22, tzinfo=UTC)
TWEET_6 = "https://twitter.com/me/status/6"


def test_missing_path_is_an_archive_error(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="does not exist") as caught:
        load_archive(tmp_path / "nope")
    assert caught.value.path == tmp_path / "nope"


@pytest.mark.parametrize(
    "files",
    [{}, {"README.md": "# hello\n"}, {"notes.txt": "hi"}, {"sub/tweets.md": "no footers\n----\n"}],
)
def test_nothing_recognizable_is_an_archive_error(tmp_path: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(ArchiveError, match="no tweets found"):
        load_archive(tmp_path)


def test_a_file_of_another_kind_is_an_archive_error(tmp_path: Path) -> None:
    (tmp_path / "tweets.csv").write_text("id,text\n", encoding="utf-8")
    with pytest.raises(ArchiveError, match="not twitter-archive-parser markdown"):
        load_archive(tmp_path / "tweets.csv")


def test_unreadable_folder_is_an_archive_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> list[str]:
        raise PermissionError(13, "Permission denied", str(tmp_path))

    monkeypatch.setattr(FolderTree, "files", refuse)
    with pytest.raises(ArchiveError, match="cannot be read"):
        load_archive(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything")
def test_unreadable_markdown_file_is_an_archive_error(tmp_path: Path) -> None:
    target = tmp_path / "tweets.md"
    shutil.copy(SEEDS / "000_431246c2810b9def.txt", target)
    target.chmod(0)
    with pytest.raises(ArchiveError, match="cannot be read"):
        load_archive(target)


def test_mixed_folder_reads_every_format_and_prefers_the_official_copy(tmp_path: Path) -> None:
    shutil.copytree(SEEDS, tmp_path / "seeds")
    shutil.copytree(FIXTURES / "official", tmp_path / "export")
    shutil.copytree(FIXTURES / "markdown-new", tmp_path / "export", dirs_exist_ok=True)
    (tmp_path / "downloads").mkdir()
    shutil.copy(FIXTURES / "official.zip", tmp_path / "downloads" / "twitter.zip")
    archive = load_archive(tmp_path)
    assert archive.formats == ("official", "markdown")
    assert len(archive.tweets) == 126 + 20 + 6
    assert archive.username == "quokka_codes"  # account.js beats the footer majority
    plant = next(t for t in archive.tweets if t.id == "1379146820613046273")
    assert plant.source == "export/data/tweets.js#3"
    assert plant.media[0].path == f"export/{PLANT}"
    assert [p.where for p in archive.problems] == ["seeds/001_b2ac579df868b715.txt:114"]


def test_zip_inside_a_folder_serves_its_media(tmp_path: Path) -> None:
    (tmp_path / "downloads").mkdir()
    shutil.copy(FIXTURES / "official.zip", tmp_path / "downloads" / "twitter.zip")
    archive = load_archive(tmp_path)
    plant = next(t for t in archive.tweets if t.id == "1379146820613046273")
    assert plant.source == "downloads/twitter.zip/data/tweets.js#3"
    assert plant.media[0].path == f"downloads/twitter.zip/{PLANT}"
    assert archive.read_media(plant.media[0]) == (FIXTURES / "official" / PLANT).read_bytes()


def test_duplicate_ids_are_kept_once(tmp_path: Path) -> None:
    shutil.copytree(SEEDS, tmp_path / "a")
    shutil.copytree(SEEDS, tmp_path / "b")
    archive = load_archive(tmp_path)
    assert len(archive.tweets) == 126
    assert archive.tweets[0].source == "a/001_b2ac579df868b715.txt:1"


def test_hidden_folders_are_not_searched(tmp_path: Path) -> None:
    shutil.copytree(SEEDS, tmp_path / ".git" / "seeds")
    shutil.copy(SEEDS / "000_431246c2810b9def.txt", tmp_path)
    assert len(load_archive(tmp_path).tweets) == 77


def test_symlinked_media_leading_out_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("secret", encoding="utf-8")
    root = tmp_path / "archive"
    text = "pics ![](media/1-pic.jpg) ![](media/1-ok.jpg) ![](media/../media/1-ok.jpg)"
    write_old_markdown(root, [("1", APRIL_1, text)], media={"media/1-ok.jpg": b"fine"})
    (root / "media" / "1-pic.jpg").symlink_to(outside)
    archive = load_archive(root)
    refused, fine, normalized = archive.tweets[0].media
    assert refused == Media("media/1-pic.jpg", "image", None, "outside the archive")
    assert fine == normalized == Media("media/1-ok.jpg")
    assert archive.problems == (
        Problem("output.md:1", "media media/1-pic.jpg is outside the archive; refused"),
    )
    with pytest.raises(ArchiveError):
        archive.read_media(refused)
    with pytest.raises(ArchiveError):
        archive.read_media(Media("media/1-pic.jpg"))
    with pytest.raises(ArchiveError):
        archive.read_media(Media("../secret.txt"))
    assert archive.read_media(fine) == b"fine"


def test_symlinked_markdown_leading_out_is_not_read(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    root.mkdir()
    (root / "linked.md").symlink_to(SEEDS / "000_431246c2810b9def.txt")
    shutil.copy(SEEDS / "001_b2ac579df868b715.txt", root)
    archive = load_archive(root)
    assert len(archive.tweets) == 49
    [linked] = [p for p in archive.problems if p.where == "linked.md"]
    assert "outside the archive" in linked.reason


def _link_entry(name: str, target: str) -> tuple[zipfile.ZipInfo, str]:
    info = zipfile.ZipInfo(name, date_time=(2023, 1, 1, 0, 0, 0))
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


def test_hostile_zip_entries_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.zip"
    tweets = (
        'window.YTD.tweets.part0 = [{"tweet": {"id_str": "5", "full_text": "x https://t.co/a",'
        ' "created_at": "Mon Mar 01 00:00:00 +0000 2021", "extended_entities": {"media": ['
        '{"type": "photo", "url": "https://t.co/a", "media_url": "http://p/media/pic.jpg"}]}}}]'
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data/tweets.js", tweets)
        archive.writestr(*_link_entry("data/tweets_media/5-pic.jpg", "/etc/passwd"))
        archive.writestr("../../escape.txt", "boo")
        archive.writestr("/abs.txt", "boo")
        march_1 = datetime(2021, 3, 1, 0, 0, 2, tzinfo=UTC)
        archive.writestr("out.md", old_block("look ![](../x.jpg)", march_1, TWEET_6))
    loaded = load_archive(path)
    assert [t.id for t in loaded.tweets] == ["5", "6"]
    assert loaded.tweets[0].media[0].problem == "outside the archive"
    assert loaded.tweets[1].media[0] == Media("../x.jpg", "image", None, "outside the archive")
    assert sorted(p.where for p in loaded.problems) == [
        "../../escape.txt",
        "/abs.txt",
        "data/tweets.js#0",
        "out.md:1",
    ]
    with pytest.raises(ArchiveError):
        loaded.read_media(Media("data/tweets_media/5-pic.jpg"))
    with pytest.raises(ArchiveError):
        loaded.read_media(Media("../../escape.txt"))


def test_read_media_refuses_any_media_with_a_problem() -> None:
    archive = load_archive(FIXTURES / "official")
    with pytest.raises(ArchiveError, match="missing"):
        archive.read_media(Media(PLANT, problem="missing"))
    with pytest.raises(ArchiveError, match="cannot be read"):
        archive.read_media(Media("data/tweets_media/nope.png"))


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("Fri Apr 01 18:09:22 +0000 2022", datetime(2022, 4, 1, 18, 9, 22, tzinfo=UTC)),
        ("Sat Feb 29 23:30:00 +0200 2020", datetime(2020, 2, 29, 21, 30, tzinfo=UTC)),
        ("Sat Feb 29 23:30:00 -0130 2020", datetime(2020, 3, 1, 1, 0, tzinfo=UTC)),
        ("2023-01-15T16:20:30.000Z", datetime(2023, 1, 15, 16, 20, 30, tzinfo=UTC)),
        ("2023-01-15 16:20:30", datetime(2023, 1, 15, 16, 20, 30, tzinfo=UTC)),
    ],
)
def test_dates_parse_to_aware_utc(text: str, moment: datetime) -> None:
    parsed = parse_twitter_date(text)
    assert parsed == moment
    assert parsed is not None and parsed.utcoffset() is not None


@pytest.mark.parametrize(
    "text",
    [
        "Foo 31 2022",
        "",
        "Fri Foo 01 18:09:22 +0000 2022",
        "Fri Feb 30 18:09:22 +0000 2022",
        "Fri Apr 01 25:09:22 +0000 2022",
        "Fri Apr 01 18:09 +0000 2022",
        "Fri Apr 01 18:09:22 0000 2022",
        "Fri Apr 1_0 18:09:22 +0000 2022",
        "Fri Apr ١ 18:09:22 +0000 2022",
    ],
)
def test_bad_dates_are_none(text: str) -> None:
    assert parse_twitter_date(text) is None


def test_problem_prints_where_and_why() -> None:
    assert str(Problem("a.md:3", "unparseable date 'x'")) == "a.md:3: unparseable date 'x'"


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "tweets.md"
    os.mkfifo(fifo)
    with pytest.raises(ArchiveError, match="neither a file nor a folder"):
        load_archive(fifo)


def test_a_fifo_inside_the_folder_is_skipped(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.md")
    shutil.copy(SEEDS / "000_431246c2810b9def.txt", tmp_path)
    archive = load_archive(tmp_path)
    assert len(archive.tweets) == 77
    assert archive.problems == (
        Problem("pipe.md", "cannot be read: pipe.md is not a regular file"),
    )
