"""The alt-text file: export, fill, read back; every bad row reported with its line."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import UTC
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.archive import Archive, load_archive
from bot.archive.alttext import (
    COLUMNS,
    AltTexts,
    export_rows,
    media_key,
    read_alt_text_file,
    write_alt_text_file,
)
from bot.errors import SettingsError

OFFICIAL = Path(__file__).resolve().parent / "fixtures" / "official"
PLANT_TWEET, PLANT = "1379146820613046273", "1379146820613046273-EyPlant01.png"
SPOILER_TWEET, SPOILER = "1379539407467446277", "1379539407467446277-FinaleSpoiler.png"
VIDEO_TWEET, VIDEO = "1511238455915446273", "1511238455915446273-Kq3VidBuild.mp4"
LIMIT = 1500


@pytest.fixture(scope="module")
def archive() -> Archive:
    return load_archive(OFFICIAL)


def export(archive: Archive) -> list[list[str]]:
    out = io.StringIO(newline="")
    write_alt_text_file(out, archive.tweets, UTC)
    return list(csv.reader(io.StringIO(out.getvalue(), newline="")))


def write(path: Path, rows: list[list[str]], bom: bool = True) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_export_lists_every_media_file_with_its_context(archive: Archive) -> None:
    rows = export(archive)
    assert rows[0] == list(COLUMNS)
    assert [(r[0], r[1], r[2]) for r in rows[1:]] == [
        (PLANT_TWEET, "2021-04-05", f"data/tweets_media/{PLANT}"),
        (SPOILER_TWEET, "2021-04-06", f"data/tweets_media/{SPOILER}"),
        (VIDEO_TWEET, "2022-04-05", f"data/tweets_media/{VIDEO}"),
    ]
    plant = rows[1]
    assert plant[3] == "A potted fern leaning hard toward the window, away from a monitor"
    assert plant[4] == ""  # for the owner to fill in
    assert plant[5] == "Our new office plant has opinions about the monitor placement"


def test_media_that_cannot_be_uploaded_is_not_listed() -> None:
    bad = load_archive(OFFICIAL.parent / "official-bad")
    paths = [row[2] for row in export_rows(bad.tweets, UTC)]
    assert not any("GoneMissing" in p or "Leak01" in p for p in paths)


def test_filled_descriptions_are_read_back(archive: Archive, tmp_path: Path) -> None:
    rows = export(archive)
    rows[1][4] = '  A fern, leaning\nhard, "dramatically", to the window  '
    alt = read_alt_text_file(write(tmp_path / "alt.csv", rows), archive, LIMIT)
    assert alt.problems == ()
    assert alt.descriptions == {
        (PLANT_TWEET, PLANT): 'A fern, leaning\nhard, "dramatically", to the window'
    }
    plant = next(t for t in archive.tweets if t.id == PLANT_TWEET).media[0]
    assert alt.description(PLANT_TWEET, plant) == alt.descriptions[(PLANT_TWEET, PLANT)]


def test_a_file_names_media_by_tweet_and_file_name_not_path(
    archive: Archive, tmp_path: Path
) -> None:
    rows = [list(COLUMNS), [PLANT_TWEET, "", f"elsewhere/twitter.zip/x/{PLANT}", "", "Fern", ""]]
    alt = read_alt_text_file(write(tmp_path / "alt.csv", rows), archive, LIMIT)
    assert alt.descriptions == {(PLANT_TWEET, PLANT): "Fern"}


def test_only_the_three_needed_columns_matter(archive: Archive, tmp_path: Path) -> None:
    rows = [["Alt_Text ", "File", "TWEET_ID"], ["Fern", PLANT, PLANT_TWEET]]
    alt = read_alt_text_file(write(tmp_path / "alt.csv", rows, bom=False), archive, LIMIT)
    assert alt.descriptions == {(PLANT_TWEET, PLANT): "Fern"}


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (["42", "", "x.png", "", "A cat", ""], "tweet '42' is not in the archive"),
        ([PLANT_TWEET, "", "other.png", "", "A cat", ""], "has no media file 'other.png'"),
        (
            [PLANT_TWEET, "", PLANT, "", "x" * (LIMIT + 1), ""],
            "1501 characters; the instance takes 1500",
        ),
        ([PLANT_TWEET, "", PLANT, "", "A\x07fern", ""], "control characters"),
    ],
)
def test_a_bad_row_is_reported_with_its_line_and_left_out(
    archive: Archive, tmp_path: Path, row: list[str], reason: str
) -> None:
    rows = [list(COLUMNS), [VIDEO_TWEET, "", VIDEO, "", "A long\nvideo", ""], row]
    alt = read_alt_text_file(write(tmp_path / "alt.csv", rows), archive, LIMIT)
    assert [p.where for p in alt.problems] == ["alt.csv:4"]  # the video row spans lines 2-3
    assert reason in alt.problems[0].reason
    assert alt.descriptions == {(VIDEO_TWEET, VIDEO): "A long\nvideo"}


def test_a_second_description_of_the_same_file_is_reported(
    archive: Archive, tmp_path: Path
) -> None:
    rows = [list(COLUMNS), [PLANT_TWEET, "", PLANT, "", "First", ""], ["", "", "", "", "", ""]]
    rows.append([PLANT_TWEET, "", PLANT, "", "Second", ""])
    alt = read_alt_text_file(write(tmp_path / "alt.csv", rows), archive, LIMIT)
    assert alt.descriptions == {(PLANT_TWEET, PLANT): "First"}
    assert [str(p) for p in alt.problems] == [
        "alt.csv:4: a second description for this file (line 2 has one)"
    ]


def test_empty_cells_leave_the_archive_its_say(archive: Archive, tmp_path: Path) -> None:
    alt = read_alt_text_file(write(tmp_path / "alt.csv", export(archive)), archive, LIMIT)
    assert alt == AltTexts({})


def test_a_broken_row_ends_the_file_reported(archive: Archive, tmp_path: Path) -> None:
    path = tmp_path / "alt.csv"
    path.write_text(
        f"tweet_id,file,alt_text\n{PLANT_TWEET},{PLANT},Fern\n{VIDEO_TWEET},{VIDEO},a\0b\n"
    )
    alt = read_alt_text_file(path, archive, LIMIT)
    assert alt.descriptions == {(PLANT_TWEET, PLANT): "Fern"}
    assert [p.where for p in alt.problems] == ["alt.csv:3"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"tweet_id,alt_text\n1,x\n", "alt.csv:1: the header lacks file"),
        (b"", "the header lacks tweet_id, file, alt_text"),
        ("tweet_id,file,alt_text\n1,x,café\n".encode("cp1252"), "alt.csv:2: not UTF-8"),
    ],
)
def test_a_file_that_is_no_alt_text_file_is_an_error(
    archive: Archive, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "alt.csv"
    path.write_bytes(content)
    with pytest.raises(SettingsError, match=message):
        read_alt_text_file(path, archive, LIMIT)


def test_a_missing_file_is_an_error(archive: Archive, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"missing\.csv: cannot be read"):
        read_alt_text_file(tmp_path / "missing.csv", archive, LIMIT)


def test_a_day_of_the_archive_checks_ids_only(archive: Archive, tmp_path: Path) -> None:
    day = Archive(archive.root, archive.username, (), (), archive.formats, archive.owner_ids)
    rows = [
        list(COLUMNS),
        [PLANT_TWEET, "", "renamed.png", "", "Fern", ""],
        ["7", "", "a", "", "b", ""],
    ]
    alt = read_alt_text_file(write(tmp_path / "alt.csv", rows), day, LIMIT)
    assert alt.descriptions == {(PLANT_TWEET, "renamed.png"): "Fern"}
    assert [p.where for p in alt.problems] == ["alt.csv:3"]


DESCRIPTIONS = st.text(
    st.characters(exclude_categories=("Cc", "Cs"), include_characters="\n\t"), max_size=60
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(filled=st.lists(DESCRIPTIONS, min_size=3, max_size=3))
def test_round_trip_puts_every_description_on_its_media(
    archive: Archive, tmp_path_factory: pytest.TempPathFactory, filled: list[str]
) -> None:
    folder = tmp_path_factory.mktemp("alt")
    rows = export(archive)
    for row, description in zip(rows[1:], filled, strict=True):
        row[4] = description
    alt = read_alt_text_file(write(folder / "alt.csv", rows), archive, LIMIT)
    assert alt.problems == ()
    media = [(t.id, m) for t in archive.tweets for m in t.media]
    for (tweet_id, item), description in zip(media, filled, strict=True):
        assert alt.description(tweet_id, item) == (description.strip() or None)
        assert media_key(tweet_id, item) in alt.descriptions or not description.strip()
    shutil.rmtree(folder)
