"""`state rebuild`: recognising this archive's toots among the account's statuses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.client import OwnStatus, html_to_text
from bot.compose import ComposeOptions, compose
from bot.compose.rewrite import LinkOptions, MentionOptions, Unmapped
from bot.model import Toot, Tweet
from bot.rebuild import Matcher, rebuild, words
from bot.state import Failed, Pending, Posted, State, StateAccount

DUE = datetime(2026, 4, 5, 12, 0, tzinfo=UTC)
BASE = "https://example.social"


def tweet(tid: str, text: str, *, reply_to: str | None = None) -> Tweet:
    return Tweet(
        id=tid,
        created_at=datetime(2022, 4, 5, 2, 38, tzinfo=UTC),
        text=text,
        url=f"https://twitter.com/me/status/{tid}",
        in_reply_to_id=reply_to,
        in_reply_to_user="me" if reply_to else None,
    )


def toot(t: Tweet, mentions: MentionOptions | None = None) -> Toot:
    links = LinkOptions(owner="me", owner_ids=frozenset({t.id, "1"}))
    options = ComposeOptions(links=links, mentions=mentions or MentionOptions(), owner="me")
    made = compose(t, DUE, options)
    assert isinstance(made, Toot)
    return made


class Account:
    """Statuses posted one second apart, ids growing, as the server would list them."""

    def __init__(self) -> None:
        self.statuses: list[OwnStatus] = []

    def post(self, text: str, reply_to: str | None = None) -> OwnStatus:
        n = len(self.statuses)
        sid = str(120_000 + n)
        status = OwnStatus(sid, f"{BASE}/@me/{sid}", text, DUE + timedelta(seconds=n), reply_to)
        self.statuses.append(status)
        return status

    def toot(self, made: Toot, reply_to: str | None = None) -> list[OwnStatus]:
        chain = []
        for part in made.parts:
            status = self.post(part.text, reply_to)
            chain.append(status)
            reply_to = status.id
        return chain

    def newest_first(self) -> list[OwnStatus]:
        return list(reversed(self.statuses))


SENTENCE = "So I have a data collection script that is dumping 10G of pickle and the result is slow"


# --- words and the Matcher ----------------------------------------------------------


def test_words_leave_out_links_mentions_and_part_markers() -> None:
    text = "Hi @bob@twitter.com, ＠ann see https://example.social/@me/1 and x.com/a (2/3) Café!"
    assert words(text) == ["hi", "see", "and", "café"]


@pytest.mark.parametrize("unmapped", ["domain", "fullwidth", "link", "plain"])
def test_a_toot_is_recognised_whatever_the_mention_style(unmapped: Unmapped) -> None:
    t = tweet("1511171364748771329", f"@alice @bob {SENTENCE}")
    other = tweet("1511171364748771330", "Something else entirely, about cream cheese icing")
    text = toot(t, MentionOptions(unmapped=unmapped)).parts[0].text
    assert Matcher([t, other]).match(text) == t.id


def test_a_toot_read_back_from_mastodons_html_is_recognised() -> None:
    t = tweet("1", f"{SENTENCE} &amp; more https://example.com/some/long/path/to/a/page")
    content = (
        "<p>So I have a data collection script that is dumping 10G of pickle and the result "
        'is slow &amp;amp; more <a href="https://example.com/some/long/path/to/a/page">'
        '<span class="invisible">https://</span><span class="ellipsis">example.com/some/long/'
        '</span><span class="invisible">path/to/a/page</span></a></p>'
        "<p>(tweeted 4 years ago, 2022-04-05)</p>"
    )
    assert Matcher([t]).match(html_to_text(content)) == "1"


def test_an_ordinary_post_matches_nothing() -> None:
    matcher = Matcher([tweet("1", SENTENCE)])
    assert matcher.match("So I have a cat") is None
    assert matcher.match("") is None
    assert not matcher("good morning fediverse")
    assert matcher(SENTENCE)


def test_a_short_tweet_matches_only_a_status_that_is_the_tweet_and_a_footer() -> None:
    short = tweet("1510234738040135681", "@eeide @johnregehr Spam spam spam")
    matcher = Matcher([short, tweet("2", SENTENCE)])
    assert matcher.match(toot(short).parts[0].text) == short.id
    assert matcher.match("Spam spam spam") == short.id
    chatter = "spam spam spam is what I had for lunch today with eggs bacon and beans again"
    assert matcher.match(chatter) is None


def test_the_longest_fingerprint_wins_over_a_shorter_prefix() -> None:
    short = tweet("1", "Spam spam spam")
    long = tweet("2", "Spam spam spam and eggs and bacon and beans, for breakfast today")
    matcher = Matcher([short, long])
    assert matcher.match(toot(long).parts[0].text) == "2"
    assert matcher.match(toot(short).parts[0].text) == "1"


def test_two_tweets_of_the_same_words_are_ambiguous() -> None:
    a, b = tweet("1", SENTENCE), tweet("2", SENTENCE.upper() + "!!")
    assert Matcher([a, b]).match(toot(a).parts[0].text) is None


def test_a_tweet_of_links_and_mentions_only_has_no_fingerprint() -> None:
    t = tweet("1", "@bob https://example.com/x")
    assert Matcher([t]).match("@bob@twitter.com https://example.com/x") is None


def test_the_first_part_of_a_split_toot_is_recognised_later_parts_are_not() -> None:
    long = tweet("1", " ".join([SENTENCE + "."] * 12))
    parts = toot(long).parts
    assert len(parts) >= 2 and parts[0].text.endswith(f"(1/{len(parts)})")
    matcher = Matcher([long])
    assert matcher.match(parts[0].text) == "1"


# --- rebuild ------------------------------------------------------------------------


def account_state() -> State:
    return State(account=StateAccount("109", "me", BASE))


def test_rebuild_recovers_single_toots_and_split_chains() -> None:
    single = tweet("1", SENTENCE)
    long = tweet("2", " ".join(["Another day, another long thought about pickles."] * 16))
    server = Account()
    server.post("an ordinary post")
    [first] = server.toot(toot(single))
    chain = server.toot(toot(long))
    assert len(chain) >= 2
    new, report = rebuild(account_state(), server.newest_first(), Matcher([single, long]))
    assert new.record("1") == Posted((first.id,), first.url, first.created_at)
    assert new.record("2") == Posted(tuple(s.id for s in chain), chain[0].url, chain[0].created_at)
    assert (report.recovered, report.already_known, report.unmatched) == (2, 0, 1)
    assert report.duplicates == ()
    assert new.account == account_state().account


def test_rebuild_recovers_a_split_self_reply_and_its_parent() -> None:
    parent = tweet("1", " ".join(["The start of a thread about pickles and json."] * 16))
    child = tweet(
        "2", " ".join(["And the thread goes on, about arrow and parquet."] * 16), reply_to="1"
    )
    server = Account()
    parent_chain = server.toot(toot(parent))
    child_chain = server.toot(toot(child), reply_to=parent_chain[-1].id)
    assert len(child_chain) >= 2
    new, report = rebuild(account_state(), server.newest_first(), Matcher([parent, child]))
    assert new.record("1") == Posted(
        tuple(s.id for s in parent_chain), parent_chain[0].url, parent_chain[0].created_at
    )
    assert new.record("2") == Posted(
        tuple(s.id for s in child_chain), child_chain[0].url, child_chain[0].created_at
    )
    assert (report.recovered, report.unmatched) == (2, 0)


def test_rebuild_keeps_every_record_it_already_has() -> None:
    a, b, c, d = (tweet(str(i), f"Number {i}: {SENTENCE}") for i in range(1, 5))
    server = Account()
    for t in (a, b, c, d):
        server.toot(toot(t))
    known: dict[str, Posted | Pending | Failed] = {
        "1": Posted(("77",), f"{BASE}/@me/77", DUE),
        "2": Pending("tootback-key", DUE),
        "3": Failed("422 too long", 2, DUE),
    }
    state = State(account=account_state().account, tweets=known)
    new, report = rebuild(state, server.newest_first(), Matcher([a, b, c, d]))
    assert {tid: new.record(tid) for tid in known} == known
    assert new.record("4") == Posted(
        (server.statuses[3].id,), server.statuses[3].url, server.statuses[3].created_at
    )
    assert (report.recovered, report.already_known) == (1, 3)


def test_a_tweet_tooted_twice_keeps_the_oldest_and_reports_the_other() -> None:
    t = tweet("1", SENTENCE)
    server = Account()
    [older] = server.toot(toot(t))
    [newer] = server.toot(toot(t))
    new, report = rebuild(account_state(), server.newest_first(), Matcher([t]))
    assert new.record("1") == Posted((older.id,), older.url, older.created_at)
    assert report.duplicates == (newer.url,)


def test_statuses_of_the_same_second_are_ordered_by_id() -> None:
    t = tweet("1", SENTENCE)
    same = DUE
    older = OwnStatus("120000", f"{BASE}/@me/120000", toot(t).parts[0].text, same, None)
    newer = OwnStatus("120001", f"{BASE}/@me/120001", toot(t).parts[0].text, same, None)
    new, report = rebuild(account_state(), [newer, older], Matcher([t]))
    record = new.record("1")
    assert isinstance(record, Posted) and record.status_ids == ("120000",)
    assert report.duplicates == (newer.url,)


# --- boosts ----------------------------------------------------------------------------


def retweet(tid: str, of: Tweet) -> Tweet:
    return replace(tweet(tid, f"RT @me: {of.text}"), is_retweet=True, retweet_of=of.id)


def boost(server: Account, of: OwnStatus) -> OwnStatus:
    n = len(server.statuses)
    sid = str(120_000 + n)
    status = OwnStatus(
        sid, f"{BASE}/users/me/statuses/{sid}/activity", "", DUE + timedelta(seconds=n), None
    )
    status = replace(status, boost_of=of.id)
    server.statuses.append(status)
    return status


def test_a_boost_of_a_recovered_toot_is_the_retweet_of_its_tweet() -> None:
    original, other = tweet("1", SENTENCE), tweet("2", f"Another one: {SENTENCE}")
    server = Account()
    [first] = server.toot(toot(original))
    boosted = boost(server, first)
    new, report = rebuild(
        account_state(), server.newest_first(), Matcher([original, other, retweet("9", original)])
    )
    assert new.record("9") == Posted((boosted.id,), first.url, boosted.created_at)
    assert (report.recovered, report.unmatched) == (2, 0)


def test_a_boost_of_a_toot_the_state_knows_is_recovered_and_a_second_one_reported() -> None:
    original = tweet("1", SENTENCE)
    known = Posted(("77",), f"{BASE}/@me/77", DUE)
    state = State(account=account_state().account, tweets={"1": known})
    server = Account()
    server.post("an ordinary post")
    target = OwnStatus("77", known.url, toot(original).parts[0].text, DUE, None)
    older, newer = boost(server, target), boost(server, target)
    new, report = rebuild(state, server.newest_first(), Matcher([original, retweet("9", original)]))
    assert new.record("9") == Posted((older.id,), known.url, older.created_at)
    assert (report.duplicates, report.boosted_twice) == ((), (newer.url,))
    assert (report.recovered, report.unmatched) == (1, 1)


def test_a_boost_of_a_status_no_tweet_of_the_archive_made_is_not_taken() -> None:
    original = tweet("1", SENTENCE)
    server = Account()
    stranger = server.post("somebody's post that we boosted")
    boost(server, stranger)
    new, report = rebuild(
        account_state(), server.newest_first(), Matcher([original, retweet("9", original)])
    )
    assert new.record("9") is None
    assert (report.recovered, report.unmatched) == (0, 2)
