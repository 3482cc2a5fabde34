"""The official fixture's April 6, previewed the fediverse's way, and `tootback alt-text`.

April 6 holds, in several years: a quote of the owner's tweet A (posted a
year ago, as the state file says), a quote of someone else's tweet, a retweet
of A, a possibly_sensitive picture, and tweets in de, ja, und and qht.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.archive import load_archive
from bot.cli import Context, cli
from bot.clock import FakeClock
from bot.model import InstanceLimits
from bot.preview import preview_day
from bot.render import day_json, day_text
from bot.settings import load_settings
from tests.support.fake_mastodon import FakeMastodon
from tests.support.profiles import GOTOSOCIAL, MASTODON_QUOTES

FIXTURES = Path(__file__).resolve().parent / "fixtures"
OFFICIAL = FIXTURES / "official"
DAY = date(2026, 4, 6)
A = "1114094070789046273"
A_TOOT = "https://social.example/@quokka/110000000000000001"
SN, F = "1379539407467446277", "1379146820613046273"
RETWEET_OF_A = "1643901355422646277"


@pytest.fixture(autouse=True)
def _official(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> None:
    monkeypatch.setenv("TOOTBACK_ARCHIVE__PATH", str(OFFICIAL))
    monkeypatch.setenv("TOOTBACK_SELECTION__INCLUDE_RETWEETS", "true")


def tootback(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=Context(clock=FakeClock()))


# The preview, exactly: `day_text` of April 6 as `test_april_6_previews_the_fediverse_way` makes it.
APRIL_6 = FIXTURES / "preview-official-2026-04-06.txt"


def test_april_6_previews_the_fediverse_way() -> None:
    """Exactly as listed: a quote post of A's toot, a boost of it for the retweet
    of A, a quote of someone else's tweet as a link, per-toot languages (none
    for und and qht), a sensitive toot."""
    settings = load_settings(None, {"selection": {"include_retweets": True}}, env_file=None)
    archive = load_archive(OFFICIAL)
    limits = InstanceLimits(quote_posts=True)
    preview = preview_day(archive, DAY, settings, {A: A_TOOT}, {}, limits)
    assert day_text(preview, show_skipped=True) + "\n" == APRIL_6.read_text(encoding="utf-8")
    toots = {t["tweet_id"]: t for t in day_json(preview, show_skipped=True)["toots"]}
    languages = ["ja", "en", None, "en", None, "de", None, "en"]
    assert [t["language"] for t in toots.values()] == languages
    assert [t["boost_of_tweet"] for t in toots.values()] == [None, None, A, *[None] * 5]
    assert toots[RETWEET_OF_A]["parts"] == []
    assert [t["tweet_id"] for t in toots.values() if t["sensitive"]] == [SN]
    assert toots["1643886255928246277"]["quote"] == {
        "tweet_id": A,
        "form": "quote",
        "reason": "it is posted and the server takes quote posts",
    }


def test_offline_preview_shows_the_link_and_says_why() -> None:
    result = tootback("preview", "--date", "2026-04-06", "--json")
    assert result.exit_code == 0, result.output
    quote = json.loads(result.output)["toots"][1]["quote"]
    assert quote == {
        "tweet_id": A,
        "form": "link",
        "reason": "it is not posted yet (links.self_unposted applies)",
    }


# --- alt-text export, check, use -----------------------------------------------------------


def test_export_writes_every_media_file_and_never_overwrites(isolated: Path) -> None:
    result = tootback("alt-text", "export", "alt.csv")
    assert result.exit_code == 0, result.output
    assert "wrote 3 media files to alt.csv (1 with alt text from the archive)" in result.output
    raw = (isolated / "alt.csv").read_bytes()
    assert raw.startswith(
        b"\xef\xbb\xbftweet_id,date,file,archive_alt_text,alt_text,tweet_text\r\n"
    )
    again = tootback("alt-text", "export", "alt.csv")
    assert again.exit_code == 2
    assert "alt.csv exists" in again.output
    assert (isolated / "alt.csv").read_bytes() == raw


def fill(path: Path, descriptions: dict[str, str], extra: tuple[list[str], ...] = ()) -> Path:
    """Fill in the exported file's alt_text column by tweet id; `extra` rows follow."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    for row in rows[1:]:
        row[4] = descriptions.get(row[0], "")
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([*rows, *extra])
    return path


def test_check_counts_alt_text_and_reports_bad_rows_by_line(
    monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    assert tootback("alt-text", "export", "alt.csv").exit_code == 0
    too_long = [SN, "", f"{SN}-FinaleSpoiler.png", "", "x" * 1501, ""]
    unknown = ["999", "", "999-a.png", "", "A cat", ""]
    fill(isolated / "alt.csv", {SN: "A red square, the finale"}, (too_long, unknown))
    monkeypatch.setenv("TOOTBACK_MEDIA__ALT_TEXT_FILE", "alt.csv")
    result = tootback("check")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-4:] == [
        "alt text: 2 of 3 media files (1 from the archive, 1 from alt.csv)",
        "  2 rows of alt.csv not used (descriptions up to 1500 characters):",
        "    alt.csv:5: the description has 1501 characters; the instance takes 1500",
        "    alt.csv:6: tweet '999' is not in the archive",
    ]


def test_check_without_a_file_counts_the_archives_alt_text() -> None:
    result = tootback("check")
    assert result.output.splitlines()[-1] == (
        "alt text: 1 of 3 media files (from the archive; "
        "`tootback alt-text export FILE.csv` lists them to fill in)"
    )


def test_preview_uses_the_filled_file(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> None:
    assert tootback("alt-text", "export", "alt.csv").exit_code == 0
    fill(isolated / "alt.csv", {SN: "A red square, the finale", F: ""})
    monkeypatch.setenv("TOOTBACK_MEDIA__ALT_TEXT_FILE", str(isolated / "alt.csv"))
    result = tootback("preview", "--date", "2026-04-06", "--json")
    media = [m for t in json.loads(result.output)["toots"] for p in t["parts"] for m in p["media"]]
    assert media == [
        {
            "path": f"data/tweets_media/{SN}-FinaleSpoiler.png",
            "description": "A red square, the finale",
        }
    ]
    plant = json.loads(tootback("preview", "--date", "2026-04-05", "--json").output)
    described = [m["description"] for t in plant["toots"] for p in t["parts"] for m in p["media"]]
    assert "A potted fern leaning hard toward the window, away from a monitor" in described


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "alt.csv: cannot be read"),
        (b"tweet,text\n", "alt.csv:1: the header lacks tweet_id, file, alt_text"),
    ],
)
def test_an_unusable_alt_text_file_stops_before_anything_happens(
    monkeypatch: pytest.MonkeyPatch, isolated: Path, content: bytes | None, message: str
) -> None:
    if content is not None:
        (isolated / "alt.csv").write_bytes(content)
    monkeypatch.setenv("TOOTBACK_MEDIA__ALT_TEXT_FILE", "alt.csv")
    for command in (["check"], ["preview", "--date", "2026-04-06"]):
        result = tootback(*command)
        assert result.exit_code == 2, result.output
        assert message in result.output


def test_after_a_run_on_a_server_that_takes_quotes_the_offline_preview_shows_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`repost` keeps the server's profile in the state file (Mastodon API 7), so the
    preview, offline, shows the quote post and the boost that `repost` will send."""
    clock = FakeClock(datetime(2026, 4, 6, 7, 0, tzinfo=UTC))
    with FakeMastodon(token="tok-quotes", clock=clock, profile=MASTODON_QUOTES) as server:
        monkeypatch.setenv("MASTODON_API_BASE_URL", server.url)
        monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "tok-quotes")
        posted = CliRunner().invoke(cli, ["repost", "--tweet", A], obj=Context(clock=clock))
        assert posted.exit_code == 0, posted.output
    monkeypatch.delenv("MASTODON_API_BASE_URL")
    monkeypatch.delenv("MASTODON_ACCESS_TOKEN")
    result = CliRunner().invoke(
        cli, ["preview", "--date", "2026-04-06", "--json"], obj=Context(clock=clock)
    )
    toots = {t["tweet_id"]: t for t in json.loads(result.output)["toots"]}
    assert toots["1643886255928246277"]["quote"]["form"] == "quote"
    assert toots["1643886255928246277"]["parts"][0]["text"].startswith(
        "Four years on, the dotfiles are clean-ish.\n\n"
    )
    assert toots[RETWEET_OF_A]["boost_of_tweet"] == A


def test_a_rebuilt_state_knows_the_boost_so_it_is_not_boosted_again(
    monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    """GoToSocial boosts a status a second time when asked: after a lost state file,
    `state rebuild` must find the boost as well as the toot it boosts."""
    clock = FakeClock(datetime(2026, 4, 6, 7, 0, tzinfo=UTC))
    with FakeMastodon(token="tok-boost", clock=clock, profile=GOTOSOCIAL) as server:
        monkeypatch.setenv("MASTODON_API_BASE_URL", server.url)
        monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "tok-boost")

        def tootback_now(*args: str) -> Result:
            return CliRunner().invoke(cli, list(args), obj=Context(clock=clock))

        posted = tootback_now("repost", "--tweet", A, "--tweet", RETWEET_OF_A)
        assert posted.exit_code == 0, posted.output
        [toot, boost] = server.statuses()
        assert boost.reblog_of == toot.id
        shutil.rmtree(isolated / "state")  # an ephemeral disk
        rebuilt = tootback_now("state", "rebuild")
        assert rebuilt.exit_code == 0, rebuilt.output
        assert "2 toots recovered" in rebuilt.stdout
        server.clear_requests()
        again = tootback_now("repost", "--tweet", A, "--tweet", RETWEET_OF_A)
        assert again.exit_code == 0, again.output
        assert server.requests("POST") == []
        assert server.statuses() == [toot, boost] and not server.duplicates()


@pytest.mark.parametrize("budget", [73, 72])  # the day's one picture is 73 bytes
def test_a_page_embeds_images_up_to_its_budget_then_links_them(
    monkeypatch: pytest.MonkeyPatch, isolated: Path, budget: int
) -> None:
    """A year of a big archive would embed gigabytes: past the budget, images are
    linked relative to the page, as videos are."""
    import bot.cli

    monkeypatch.setattr(bot.cli, "EMBED_TOTAL", budget)
    page = isolated / "page.html"
    assert tootback("preview", "--date", "2026-04-06", "--html", str(page)).exit_code == 0
    html = page.read_text(encoding="utf-8")
    embedded = html.count('<img src="data:image/png;base64,')
    linked = re.findall(r'<img src="([^"]+\.png)"', html)
    assert (embedded, len(linked)) == ((1, 0) if budget == 73 else (0, 1))
    assert all((page.parent / link).resolve().is_file() for link in linked)
