"""Quote posts, boosts, languages and sensitivity, posted to the loopback fake.

The official fixture's April 6 (see tests/fixtures/make_fixtures.py) goes out
through `open_run`, as `repost` sends it, after A (2019-04-05), the tweet it
quotes and retweets, went out: on a server of Mastodon API version 7 (4.5)
the quote is a quote post and the retweet one boost; on Mastodon 4.3 the
quote is a link to A's toot. The requests the server received are checked.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.archive.source import ArchiveSource
from bot.clock import FakeClock
from bot.daemon.events import EventLog
from bot.exactly_once import Outcome
from bot.model import Toot
from bot.settings import load_settings
from bot.state import Posted, idempotency_key, load_state
from bot.wiring import open_run, repost_jobs
from tests.support.fake_mastodon import FakeMastodon, RecordedRequest
from tests.support.profiles import MASTODON, MASTODON_QUOTES, ServerProfile

OFFICIAL = Path(__file__).resolve().parent / "fixtures" / "official"
TOKEN = "tok-SECRET-fediverse-77"
A = "1114094070789046273"  # "Spring cleaning my dotfiles …", 2019-04-05
QS, RS = "1643886255928246277", "1643901355422646277"  # quotes A; RT @quokka_codes: A's text
SN, JA, DE = "1379539407467446277", "1379343114040246277", "1247207438545846277"
UN, HT, QO = "1511795878917046277", "1114497982264246277", "1511644883973046277"
ALL = (A, QS, RS, SN, JA, DE, UN, HT, QO)
APRIL_6 = datetime(2026, 4, 6, 23, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(APRIL_6)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> Path:
    state = isolated / "state" / "state.json"
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("TOOTBACK_STATE__PATH", str(state))
    monkeypatch.setenv("TOOTBACK_SELECTION__INCLUDE_RETWEETS", "true")
    monkeypatch.setenv("TOOTBACK_SCHEDULE__MIN_INTERVAL", "0")
    return state


def serve(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock, profile: ServerProfile
) -> Iterator[FakeMastodon]:
    with FakeMastodon(token=TOKEN, clock=clock, profile=profile) as server:
        monkeypatch.setenv("MASTODON_API_BASE_URL", server.url)
        yield server


@pytest.fixture
def quotes(monkeypatch: pytest.MonkeyPatch, clock: FakeClock, env: Path) -> Iterator[FakeMastodon]:
    """Mastodon 4.5: quote posts."""
    yield from serve(monkeypatch, clock, MASTODON_QUOTES)


@pytest.fixture
def no_quotes(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock, env: Path
) -> Iterator[FakeMastodon]:
    """Mastodon 4.3: no quote posts."""
    yield from serve(monkeypatch, clock, MASTODON)


def post(clock: FakeClock, *tweet_ids: str, day: date | None = None) -> dict[str, Outcome]:
    """As `repost --tweet ID…` (or `repost --date DAY`) would, now; outcomes by tweet."""
    settings = load_settings(None, env_file=None)
    source = ArchiveSource(OFFICIAL, settings.archive.index_dir, settings.archive.limits)
    run = open_run(settings, source, clock)
    the_day = day or clock.now().date()
    jobs, lost = repost_jobs(settings, source, run.store.load(), the_day, tweet_ids, clock.now())
    return {o.tweet_id: o for o in lost + run.runner.run(jobs)}


def status_posts(server: FakeMastodon) -> dict[str, RecordedRequest]:
    """The status requests by tweet id (each first part's Idempotency-Key names its tweet)."""
    keys = {idempotency_key(server.account_id, server.url, t, 0): t for t in ALL}
    posts = [r for r in server.requests("POST") if r.path == "/api/v1/statuses"]
    return {keys[r.headers["idempotency-key"]]: r for r in posts}


def field(request: RecordedRequest, name: str) -> str | None:
    values = request.fields.get(name)
    return values[0] if values else None


def test_april_6_on_a_server_that_takes_quote_posts(
    quotes: FakeMastodon, clock: FakeClock, env: Path
) -> None:
    assert post(clock, A)[A].result == "posted"
    a_status = quotes.statuses()[-1]
    quotes.clear_requests()
    outcomes = post(clock, day=date(2026, 4, 6))
    assert {o.result for o in outcomes.values()} == {"posted"}
    assert sorted(outcomes) == sorted([QS, RS, SN, JA, DE, UN, HT, QO])
    sent = status_posts(quotes)
    # The quote post: the quoted status, and the link to it left out of the text.
    quote = sent[QS]
    assert field(quote, "quoted_status_id") == a_status.id
    assert field(quote, "status") == (
        "Four years on, the dotfiles are clean-ish.\n\n(tweeted 3 years ago, 2023-04-06)"
    )
    made = {s.id: s for s in quotes.statuses()}
    [quoting] = [s for s in made.values() if s.quoted_status_id is not None]
    assert quoting.quoted_status_id == a_status.id
    # The retweet of A: one boost of A's status, no copy.
    [boost] = quotes.requests("POST", f"/api/v1/statuses/{a_status.id}/reblog")
    assert RS not in sent  # no copy
    record = load_state(env).record(RS)
    assert isinstance(record, Posted) and record.url == a_status.url
    assert made[record.status_ids[0]].reblog_of == a_status.id
    assert outcomes[RS].url == a_status.url
    # Each status's language, and the sensitive picture.
    languages = {k: field(r, "language") for k, r in sent.items()}
    assert languages == {QS: "en", QO: "en", SN: "en", JA: "ja", DE: "de", UN: None, HT: None}
    assert [k for k, r in sent.items() if field(r, "sensitive") == "1"] == [SN]
    assert boost.status == 200 and not quotes.duplicates()


def test_a_rerun_sends_nothing_and_boosts_nothing_again(
    quotes: FakeMastodon, clock: FakeClock
) -> None:
    post(clock, A)
    post(clock, day=date(2026, 4, 6))
    quotes.clear_requests()
    clock.advance(2 * 3600)
    again = post(clock, day=date(2026, 4, 6))
    assert {o.result for o in again.values()} == {"already posted"}
    assert quotes.requests("POST") == []


def test_on_a_server_without_quote_posts_the_quote_links_to_the_toot(
    no_quotes: FakeMastodon, clock: FakeClock
) -> None:
    post(clock, A)
    a_status = no_quotes.statuses()[-1]
    post(clock, day=date(2026, 4, 6))
    quote = status_posts(no_quotes)[QS]
    assert field(quote, "quoted_status_id") is None
    assert field(quote, "status") == (
        f"Four years on, the dotfiles are clean-ish. {a_status.url}\n\n"
        "(tweeted 3 years ago, 2023-04-06)"
    )
    # Boosts need no quote posts: the retweet is a boost there too.
    assert len(no_quotes.requests("POST", f"/api/v1/statuses/{a_status.id}/reblog")) == 1


def test_a_retweet_of_a_tweet_not_posted_yet_waits_for_it(
    quotes: FakeMastodon, clock: FakeClock
) -> None:
    first = post(clock, day=date(2026, 4, 6))
    assert first[RS].result == "skipped"
    assert first[RS].detail == f"a retweet of your tweet {A}, which is not posted yet"
    assert not [r for r in quotes.requests("POST") if r.path.endswith("/reblog")]
    # A's day comes (or A is posted by hand): the retweet is boosted on its next run.
    post(clock, A)
    a_status = quotes.statuses()[-1]
    quotes.clear_requests()
    later = post(clock, RS)
    assert later[RS].result == "posted"
    assert [r.path for r in quotes.requests("POST")] == [f"/api/v1/statuses/{a_status.id}/reblog"]


def test_a_boost_whose_answer_was_lost_is_found_not_sent_again(
    quotes: FakeMastodon, clock: FakeClock, env: Path
) -> None:
    post(clock, A)
    a_status = quotes.statuses()[-1]
    quotes.clear_requests()
    quotes.drop_after_create()  # the boost is made, its answer never arrives
    outcome = post(clock, RS)[RS]
    assert outcome.result == "posted"
    boosts = f"/api/v1/statuses/{a_status.id}/reblog"
    asked = [(r.method, r.path) for r in quotes.requests() if r.path != "/api/v2/instance"]
    assert asked == [
        ("GET", "/api/v1/accounts/verify_credentials"),
        ("POST", boosts),  # made, its answer lost
        ("GET", f"/api/v1/accounts/{quotes.account_id}/statuses"),  # looked for, and found
    ]
    assert len(quotes.requests("POST", boosts)) == 1
    record = load_state(env).record(RS)
    assert isinstance(record, Posted) and record.status_ids == (quotes.statuses()[-1].id,)
    assert not quotes.duplicates()


def test_a_dry_run_logs_the_boost_it_would_make(clock: FakeClock) -> None:
    stream = io.StringIO()
    log = EventLog(stream, clock, "json")
    log.would_post(Toot(RS, APRIL_6, APRIL_6, (), boost_of_tweet=A))
    line = json.loads(stream.getvalue())
    assert (line["event"], line["tweet_id"], line["boost_of_tweet"]) == ("would-post", RS, A)
    assert line["message"] == f"tweet {RS}: a boost of the toot of tweet {A}"
