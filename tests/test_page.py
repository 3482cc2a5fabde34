"""The HTML preview page: well-formed, every part's text exactly, threads drawn as
threads, media with alt text, nothing loaded from the network; and in a real
browser, one card per status on a page that is not blank."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.bundled import demo_archive
from bot.calendar import Calendar, DayCount, heat_level
from bot.cli import Context, cli
from bot.clock import FakeClock
from bot.model import Media, Quote, Toot, TootPart
from bot.page import PageOptions, render_page, threads
from bot.preview import DayPreview
from tests.support import NOON
from tests.support.browser import dump_dom, ink, screenshot

SEEDS = demo_archive()
DAY = date(2026, 4, 5)
VOID = {"meta", "br", "img", "hr", "input", "link", "source", "wbr", "col", "area", "base"}


@dataclass
class Card:
    tweet: str
    part: str
    text: str = ""
    images: list[dict[str, str | None]] = field(default_factory=list)
    thread: int = 0


class PageReader(HTMLParser):
    """Checks that the page is well formed, and reads its cards: the text of each
    status's `.content` (entities decoded), its images, and its thread."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.errors: list[str] = []
        self.cards: list[Card] = []
        self.threads = 0
        self.content_depth: int | None = None
        self.urls: list[tuple[str, str, str]] = []  # tag, attribute, value
        self.doctype = False

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        for name in ("src", "href"):
            if found.get(name) is not None:
                self.urls.append((tag, name, found[name] or ""))
        if tag == "div" and "thread" in classes:
            self.threads += 1
        if tag == "article" and "status" in classes:
            self.cards.append(
                Card(found["data-tweet"] or "", found["data-part"] or "", "", [], self.threads)
            )
        if tag == "div" and "content" in classes:
            self.content_depth = len(self.open)
        if tag == "img":
            self.cards[-1].images.append(found)
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1:]}")
            return
        self.open.pop()
        if self.content_depth is not None and len(self.open) == self.content_depth:
            self.content_depth = None

    def handle_data(self, data: str) -> None:
        if self.content_depth is not None:
            self.cards[-1].text += data


def read(page: str, doctype: bool = True) -> PageReader:
    reader = PageReader()
    reader.feed(page)
    reader.close()
    assert reader.doctype or not doctype, "no <!DOCTYPE html>"
    assert reader.errors == [] and reader.open == [], (reader.errors, reader.open)
    return reader


def toot(tid: str, *texts: str, reply_to: str | None = None, media: tuple[Media, ...] = ()) -> Toot:
    due = datetime(2026, 4, 5, 10, int(tid) % 60, tzinfo=UTC)
    parts = tuple(
        TootPart(text, len(text), media if i == 0 else ()) for i, text in enumerate(texts)
    )
    return Toot(tid, due - timedelta(days=4 * 365), due, parts, reply_to)


def day_preview(*toots: Toot, day: date = DAY, posted: frozenset[str] = frozenset()) -> DayPreview:
    return DayPreview(day, "UTC", 500, toots, (), posted)


TRICKY = [
    "<script>alert(1)</script> & &amp; \"quotes\" 'single' </div>",
    "  leading spaces\n\nblank line, trailing spaces  \n",
    'links https://example.com/a?b=1&c=2" and #hashtag #123 #tag_2 @ada@example.social',
    "emoji 😂👩🏽‍💻 café 日本語 ＠fullwidth\ttab",
    "It’s — mojibake repaired, not ‚Äô",
]


def test_the_page_is_well_formed_and_every_part_s_text_is_exact() -> None:
    media = (
        Media("media/1-a.jpg", "image", 'a "cat" <on> a mat'),
        Media("media/1-b.jpg", "image", None),
        Media("media/1-c.mp4", "video", None, "missing"),
    )
    previews = [
        day_preview(toot("1", *TRICKY[:3], media=media), toot("2", TRICKY[3])),
        day_preview(toot("3", TRICKY[4]), day=DAY + timedelta(days=1)),
    ]
    page = render_page(
        previews,
        lambda m: None if m.problem else "data:image/png;base64,AAAA",
        PageOptions(owner="ezyang"),
    )
    reader = read(page)
    expected = [
        (t.tweet_id, str(i), p.text)
        for d in previews
        for t in d.toots
        for i, p in enumerate(t.parts, 1)
    ]
    assert [(c.tweet, c.part, c.text) for c in reader.cards] == expected
    assert reader.cards[0].images == [
        {"src": "data:image/png;base64,AAAA", "alt": 'a "cat" <on> a mat'},
        {"src": "data:image/png;base64,AAAA", "alt": ""},
    ]
    assert "no alt text" in page and "video missing" in page and "media/1-c.mp4" in page
    assert "<script>" not in page


def test_links_hashtags_and_handles_are_styled_and_nothing_loads_from_the_network() -> None:
    page = render_page([day_preview(toot("1", TRICKY[2]))], lambda m: None, PageOptions())
    assert '<a class="url" href="https://example.com/a?b=1&amp;c=2"' in page
    assert '<span class="hashtag">#hashtag</span>' in page
    assert '<span class="hashtag">#tag_2</span>' in page
    assert "#123" in page and '<span class="hashtag">#123' not in page  # digits only: no tag
    assert '<span class="mention">@ada@example.social</span>' in page
    reader = read(page)
    # Only the toots' own links point elsewhere, and only when clicked; nothing is loaded.
    assert [u for u in reader.urls if u[:2] != ("a", "href")] == []
    assert "default-src 'none'" in page


def test_split_toots_and_threads_are_drawn_as_one_thread() -> None:
    previews = [
        day_preview(
            toot("1", "first (1/2)", "second (2/2)"),
            toot("2", "standalone"),
            toot("3", "a reply to the thread", reply_to="1"),
            toot("4", "a reply to a tweet of another day", reply_to="99"),
        )
    ]
    reader = read(render_page(previews, lambda m: None, PageOptions()))
    assert [(c.tweet, c.part, c.thread) for c in reader.cards] == [
        ("1", "1", 1), ("1", "2", 1), ("3", "1", 1), ("2", "1", 2), ("4", "1", 3),
    ]  # fmt: skip
    assert [[t.tweet_id for t in chain] for chain in threads(previews[0].toots)] == [
        ["1", "3"], ["2"], ["4"],
    ]  # fmt: skip


def test_language_sensitive_media_quotes_and_boosts_show_on_the_cards() -> None:
    due = datetime(2026, 4, 5, 10, tzinfo=UTC)
    picture = (Media("media/9-a.jpg", "image", "a cat"),)
    toots = (
        Toot("1", due, due, (TootPart("Hallo Welt", 10, picture),), language="de", sensitive=True,
             quote=Quote("7", "quote", "tweet 7 is posted and the server takes quote posts")),
        Toot("2", due, due, (TootPart("see https://x.test/7", 30),),
             quote=Quote("8", "link", "tweet 8 is not posted yet")),
        Toot("3", due, due, (), boost_of_tweet="1"),
    )  # fmt: skip
    page = render_page([day_preview(*toots)], lambda m: "data:image/png;base64,AA", PageOptions())
    reader = read(page)
    assert [(c.tweet, c.text) for c in reader.cards] == [
        ("1", "Hallo Welt"), ("2", "see https://x.test/7"),
        ("3", "The toot of tweet 1, boosted again rather than posted twice."),
    ]  # fmt: skip
    assert '<div class="content" lang="de">Hallo Welt</div>' in page
    assert '<details class="sensitive"><summary>Sensitive content' in page
    assert "Quoting the toot of tweet 7" in page and "language de · marked sensitive" in page
    assert "quotes tweet 8 as a link (tweet 8 is not posted yet)" in page
    assert '<article class="status boost"' in page and "3 toots, 3 statuses" in page


def test_the_content_warning_folds_the_text_and_the_length_shows_the_limit() -> None:
    over = Toot("1", datetime(2022, 4, 5, tzinfo=UTC), datetime(2026, 4, 5, tzinfo=UTC),
                (TootPart("x" * 10, 501),))  # fmt: skip
    page = render_page([day_preview(over)], lambda m: None, PageOptions(spoiler_text="old <stuff>"))
    assert '<details class="cw"><summary><span class="spoiler">old &lt;stuff&gt;</span>' in page
    assert '<span class="length over">501/500</span>' in page
    assert read(page).cards[0].text == "x" * 10


def test_the_calendar_sits_on_top_of_a_range_with_counts_readable_without_colour() -> None:
    days = tuple(
        DayCount(DAY + timedelta(days=i), toots=i % 4, trimmed=int(i == 3)) for i in range(40)
    )
    calendar = Calendar(DAY, DAY + timedelta(days=39), "UTC", 2, days)
    page = render_page([day_preview(toot("1", "hi"))], lambda m: None, PageOptions(), calendar)
    read(page)
    assert page.index('class="calendar"') < page.index('class="status"')
    assert "<caption>April 2026 <small>(" in page and "<caption>May 2026" in page
    assert '<a href="#d-2026-04-05">5<b>0</b></a>' in page  # the day shown below is a link
    assert '<td class="h4 over" title="2026-04-08: 3 toots">8<b>3</b></td>' in page
    assert '<td class="h2" title="2026-04-06: 1 toot">6<b>1</b></td>' in page
    assert "Over max_per_day (2): 2026-04-08 (+1 left out)" in page
    assert [heat_level(n, 8) for n in (0, 1, 2, 4, 8, 9)] == [0, 1, 1, 2, 4, 4]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=80), min_size=1, max_size=3))
def test_any_text_comes_back_exactly(texts: list[str]) -> None:
    texts = [t.replace("\r", "").replace("\x00", "") for t in texts]  # as a parser sees them
    reader = read(render_page([day_preview(toot("7", *texts))], lambda m: None, PageOptions()))
    assert [c.text for c in reader.cards] == texts


# -- in a real browser ---------------------------------------------------------------------


def test_chromium_draws_one_card_per_status_on_a_page_that_is_not_blank(tmp_path: Path) -> None:
    previews = [
        day_preview(toot("1", *TRICKY[:3]), toot("2", TRICKY[3]), toot("3", "reply", reply_to="1")),
        day_preview(toot("4", TRICKY[4]), day=DAY + timedelta(days=1)),
    ]
    page = tmp_path / "preview.html"
    page.write_text(render_page(previews, lambda m: None, PageOptions(owner="ada")), "utf-8")
    dom = read(dump_dom(page), doctype=False)  # the DOM has no doctype node
    assert len(dom.cards) == 6
    shown_texts = [
        p.text for d in previews for chain in threads(d.toots) for t in chain for p in t.parts
    ]
    assert [c.text for c in dom.cards] == shown_texts
    shown = ink(screenshot(page, tmp_path / "preview.png"))
    assert shown.colours > 50 and shown.share > 0.05, shown


def test_the_seeds_busiest_day_opens_in_chromium_one_card_per_status(
    tmp_path: Path, isolated: Path
) -> None:
    page = tmp_path / "busiest.html"
    args = ["preview", "--date", "2026-04-18", "--html", str(page)]
    env = {"TOOTBACK_ARCHIVE__PATH": str(SEEDS)}
    result = CliRunner().invoke(cli, args, obj=Context(clock=FakeClock(NOON)), env=env)
    assert result.exit_code == 0, result.output
    assert "6 toots (6 statuses)" in result.output
    dom = read(dump_dom(page), doctype=False)
    assert len(dom.cards) == 6
    text = "".join(c.text for c in dom.cards)
    assert "wouldn’t be helpful" in text and "🤩" in text  # curly quote and emoji intact
    assert not any(mark in text for mark in ("‚Äô", "â€", "\uf8ff"))  # no mojibake
    shown = ink(screenshot(page, tmp_path / "busiest.png"))
    assert shown.colours > 50 and shown.share > 0.05, shown
