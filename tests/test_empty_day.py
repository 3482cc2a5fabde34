"""A day without toots says what comes next: the archive's range and the next day with
toots, with their count (`preview` and `status`), checked against `preview` itself."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.archive import Archive, Summary, load_archive
from bot.bundled import demo_archive
from bot.cli import Context, cli
from bot.clock import FakeClock
from bot.model import InstanceLimits
from bot.preview import outlook, preview_day
from bot.settings import load_settings

pytestmark = pytest.mark.usefixtures("isolated")  # the demo archive, default settings


def tootback(*args: str, now: datetime = datetime(2026, 6, 1, 12, tzinfo=UTC)) -> Result:
    return CliRunner().invoke(cli, list(args), obj=Context(clock=FakeClock(now)))


def test_preview_of_an_empty_day_says_the_range_and_the_next_day() -> None:
    result = tootback("preview", "--date", "2026-06-01")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-2:] == [
        "0 toots (0 statuses), 0 skipped. Nothing was posted.",
        "The archive's tweets run from 2022-03-02 to 2022-04-30; the next day with toots is "
        "Tue 2027-03-02 (1 toot): tootback preview --date 2027-03-02",
    ]
    data = json.loads(tootback("preview", "--date", "2026-06-01", "--json").stdout)
    assert data["toots"] == []
    assert data["archive_range"] == {"first": "2022-03-02", "last": "2022-04-30"}
    assert data["next_day"] == {"date": "2027-03-02", "toots": 1}
    shown = json.loads(tootback("preview", "--date", "2027-03-02", "--json").stdout)
    assert len(shown["toots"]) == 1


def test_a_day_with_toots_says_nothing_more() -> None:
    data = json.loads(tootback("preview", "--date", "2026-04-05", "--json").stdout)
    assert "next_day" not in data and "archive_range" not in data
    assert "the next day with toots" not in tootback("preview", "--date", "2026-04-05").stdout


def test_status_on_an_empty_day_says_the_range_and_the_next_day() -> None:
    result = tootback("status")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "  nothing to post today. The archive's tweets run from 2022-03-02 to 2022-04-30; "
        "the next day with toots is Tue 2027-03-02 (1 toot): tootback preview --date 2027-03-02"
    )
    today: dict[str, Any] = json.loads(tootback("status", "--json").stdout)["today"]
    assert today["next"] == []  # today's toots to come: none
    assert today["next_day"] == {"date": "2027-03-02", "toots": 1}
    assert today["archive_range"] == {"first": "2022-03-02", "last": "2022-04-30"}
    busy = json.loads(tootback("status", "--json", now=datetime(2026, 4, 5, tzinfo=UTC)).stdout)
    assert "next_day" not in busy["today"]


@pytest.mark.parametrize(
    ("after", "env"),
    [
        (date(2026, 4, 5), {}),
        (date(2026, 4, 30), {}),
        (date(2023, 3, 15), {"TOOTBACK_SELECTION__INCLUDE_REPLIES": "true"}),
        (date(2026, 3, 2), {"TOOTBACK_SELECTION__TIMEZONE": "Pacific/Kiritimati"}),
        (date(2021, 1, 1), {}),
    ],
)
def test_the_next_day_is_the_first_that_preview_fills(
    monkeypatch: pytest.MonkeyPatch, after: date, env: dict[str, str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    archive = demo_archive_loaded()
    limits = InstanceLimits(max_characters=500)
    ahead = outlook(Summary.of(archive), lambda day: archive, after, settings, {}, {}, limits)
    assert ahead.next_day is not None and ahead.next_day > after
    day = after + timedelta(days=1)
    # The oracle: preview each day in turn, on the whole archive.
    while not (toots := preview_day(archive, day, settings, {}, {}, limits).toots):
        day += timedelta(days=1)
    assert (ahead.next_day, ahead.next_toots) == (day, len(toots))


def test_no_next_day_when_the_filters_leave_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOTBACK_SELECTION__MAX_YEAR", "2000")
    result = tootback("preview", "--date", "2026-04-05")
    assert result.stdout.splitlines()[-1].endswith(
        "no day in the next four years has toots (filters and settings?)."
    )
    data = json.loads(tootback("preview", "--date", "2026-04-05", "--json").stdout)
    assert data["next_day"] is None


def demo_archive_loaded() -> Archive:
    return load_archive(demo_archive())
