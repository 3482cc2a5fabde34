"""`repost`, `status`, `state rebuild`, `login` and the online `check`, through click.

The commands run in-process (CliRunner) on the bundled seeds against the loopback
FakeMastodon, with a FakeClock passed through the click context: nothing sleeps,
and "today" is whatever the test says.
"""

from __future__ import annotations

import json
import math
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import Context, cli
from bot.client import SCOPES
from bot.clock import FakeClock
from bot.errors import EXIT_FAILED, EXIT_LOCKED, EXIT_SERVER, EXIT_USAGE
from bot.rebuild import RebuildReport
from bot.render import rebuild_report
from bot.state import Pending, Posted, StateStore, idempotency_key, load_state
from bot.wiring import SeenStatuses
from tests.support.fake_mastodon import FakeMastodon
from tests.support.profiles import GOTOSOCIAL, PROFILES

DAY = "2026-04-05"
NOON = datetime(2026, 4, 5, 12, 0, tzinfo=UTC)
# The seeds' two own tweets of April 5 (the others that day are replies to other people).
FIRST = "1511171364748771329"
SECOND = "1511175633543565315"
APRIL_6 = "1511547929479323653"
TOKEN = "tok-SECRET-cli-31337"


@pytest.fixture
def server() -> Iterator[FakeMastodon]:
    with FakeMastodon(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def state_path(
    monkeypatch: pytest.MonkeyPatch, isolated: Path, own_archive: Path, server: FakeMastodon
) -> Path:
    """Environment for a run against `server` on a copy of the demo archive, in a fresh
    working directory."""
    path = isolated / "state" / "state.json"
    monkeypatch.setenv("MASTODON_API_BASE_URL", server.url)
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("TOOTBACK_STATE__PATH", str(path))
    return path


def tootback(*args: str, now: datetime = NOON, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), obj=Context(clock=FakeClock(now)), input=input)


def texts(server: FakeMastodon) -> list[str]:
    return [s.text.split("\n\n")[0] for s in server.statuses()]


# --- repost ---------------------------------------------------------------------------


@pytest.mark.usefixtures("state_path")
def test_repost_posts_the_days_two_tweets_once(server: FakeMastodon) -> None:
    result = tootback("repost", "--date", DAY)
    assert result.exit_code == 0, result.output
    assert texts(server) == [
        "So I have a data collection script that is dumping 10G of pickle and the result is too"
        " slow to process in Python; what format should I dump to instead for offline processing"
        " (possibly not in Python)",
        "ugh but with all of this I have to actually write serialization logic (and now there is"
        " much gnashing of teeth lol)",
    ]
    assert all(s.text.endswith("\n\n(tweeted 4 years ago, 2022-04-05)") for s in server.statuses())
    assert result.stdout.splitlines()[-1] == "2 posted"
    again = tootback("repost", "--date", DAY)
    assert again.exit_code == 0
    assert again.stdout.splitlines()[-1] == "2 already posted"
    assert len(server.statuses()) == 2 and not server.duplicates()
    assert len(server.requests("POST", "/api/v1/statuses")) == 2


def test_repost_records_what_it_posted(server: FakeMastodon, state_path: Path) -> None:
    tootback("repost", "--date", DAY)
    state = load_state(state_path)
    assert state.account is not None and state.account.id == server.account_id
    ids = {s.text.split(" ")[0]: s for s in server.statuses()}
    record = state.record(FIRST)
    assert isinstance(record, Posted)
    assert record.status_ids == (ids["So"].id,) and record.url == ids["So"].url
    assert stat.S_IMODE(state_path.stat().st_mode) == 0o600


@pytest.mark.usefixtures("state_path")
def test_repost_dry_run_json_is_the_preview_and_sends_nothing(server: FakeMastodon) -> None:
    dry = tootback("repost", "--date", DAY, "--dry-run", "--json")
    preview = tootback("preview", "--date", DAY, "--json")
    assert dry.exit_code == preview.exit_code == 0
    assert dry.stdout == preview.stdout
    assert [t["tweet_id"] for t in json.loads(dry.stdout)["toots"]] == [FIRST, SECOND]
    assert server.requests() == []


@pytest.mark.usefixtures("state_path")
def test_repost_json_reports_each_result(server: FakeMastodon) -> None:
    result = tootback("repost", "--date", DAY, "--json")
    data = json.loads(result.stdout)
    assert data["date"] == DAY and data["counts"] == {"posted": 2}
    urls = [s.url for s in server.statuses()]
    assert [(r["tweet_id"], r["result"], r["url"]) for r in data["results"]] == [
        (FIRST, "posted", urls[0]),
        (SECOND, "posted", urls[1]),
    ]


@pytest.mark.usefixtures("state_path")
def test_repost_tweet_posts_just_that_tweet_whatever_its_date(server: FakeMastodon) -> None:
    result = tootback("repost", "--tweet", APRIL_6, "--tweet", APRIL_6)
    assert result.exit_code == 0, result.output
    assert texts(server) == ["cream cheese icing is way better than it has any right to be"]
    assert result.stdout.splitlines()[-1] == "1 posted"
    unknown = tootback("repost", "--tweet", "42")
    assert unknown.exit_code == EXIT_USAGE
    assert unknown.stderr == "tootback: --tweet: not a tweet of this archive: 42\n"


@pytest.mark.usefixtures("state_path")
def test_more_than_a_few_toots_show_progress_and_are_spaced(server: FakeMastodon) -> None:
    clock = FakeClock(NOON)
    ids = [FIRST, SECOND, APRIL_6, "1511759000454537229"]
    args = ["repost", *[arg for tid in ids for arg in ("--tweet", tid)]]
    result = CliRunner().invoke(cli, args, obj=Context(clock=clock))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "4 toots to go, one every 60 s at most"
    assert [line.split()[2] for line in lines[1:5]] == ids
    assert lines[-1] == "4 posted"
    assert clock.sleeps == [60.0, 60.0, 60.0]
    # Each wait is announced once, on stderr (a line, not a spinner: logs stay readable).
    assert result.stderr.splitlines() == ["next toot in 60 s"] * 3
    assert len(server.statuses()) == 4


@pytest.mark.usefixtures("state_path")
def test_an_outage_is_said_at_every_attempt_from_the_first(server: FakeMastodon) -> None:
    server.profile = GOTOSOCIAL  # keys ignored: a lost answer is looked for once settled
    server.fail_next("/api/v1/statuses", 503, times=2, method="POST")
    result = tootback("repost", "--tweet", FIRST)
    assert result.exit_code == 0, result.output
    waits = result.stderr.splitlines()
    # Each lost answer: the backoff, then the rest of post.lookup_delay before looking.
    assert len(waits) == 4
    assert all(line.startswith(f"tweet {FIRST}, part 1: ") for line in waits)
    assert "posting a status: 503 " in waits[0] and "posting a status: 503 " in waits[2]
    assert "(attempt 1 of 6); trying again in " in waits[0]
    assert "(attempt 2 of 6); trying again in " in waits[2]
    assert "its answer was lost; it is looked for" in waits[1]
    assert TOKEN not in result.output
    assert len(server.statuses()) == 1


@pytest.mark.usefixtures("state_path")
def test_a_refused_toot_exits_1_and_the_others_still_go_out(server: FakeMastodon) -> None:
    server.fail_next("/api/v1/statuses", 422, method="POST")
    result = tootback("repost", "--date", DAY)
    assert result.exit_code == EXIT_FAILED
    assert "Injected failure 422" in result.stdout
    assert result.stdout.splitlines()[-1] == "1 failed, 1 posted"
    assert len(server.statuses()) == 1
    # Later runs leave it alone (this run failed nothing) unless asked, then it goes out.
    later = tootback("repost", "--date", DAY)
    assert later.exit_code == 0
    assert later.stdout.splitlines()[-1] == "1 already posted, 1 failed before"
    retried = tootback("repost", "--date", DAY, "--retry-failed")
    assert retried.exit_code == 0
    assert len(server.statuses()) == 2 and not server.duplicates()


@pytest.mark.usefixtures("state_path")
def test_a_bad_token_exits_2_about_the_token_and_never_shows_it(
    server: FakeMastodon, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "tok-SECRET-wrong-0000"
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", wrong)
    result = tootback("repost", "--date", DAY)
    assert result.exit_code == EXIT_USAGE
    assert "access token" in result.stderr and "tootback login" in result.stderr
    for shown in (result.output, result.stdout, result.stderr):
        assert wrong not in shown and TOKEN not in shown
    assert server.statuses() == []
    assert len(server.requests()) == 1  # verify_credentials, then nothing


@pytest.mark.usefixtures("state_path")
def test_a_token_revoked_mid_run_exits_2_and_leaves_the_toot_pending(
    server: FakeMastodon, state_path: Path
) -> None:
    server.fail_next("/api/v1/statuses", 401, method="POST")
    result = tootback("repost", "--date", DAY)
    assert result.exit_code == EXIT_USAGE
    assert TOKEN not in result.output
    state = load_state(state_path)
    assert state.failed() == {} and list(state.pending()) == [FIRST]
    assert tootback("repost", "--date", DAY).stdout.splitlines()[-1] == "2 posted"
    assert len(server.statuses()) == 2


HOLDER = """
import sys
from pathlib import Path
from bot.clock import SystemClock
from bot.state import StateStore
with StateStore(Path(sys.argv[1]), SystemClock()).lock():
    print("locked", flush=True)
    sys.stdin.readline()
"""


@pytest.mark.usefixtures("state_path")
def test_a_state_locked_by_another_process_exits_3_naming_it(
    server: FakeMastodon, state_path: Path
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(state_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        result = tootback("repost", "--date", DAY)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
    assert result.exit_code == EXIT_LOCKED
    assert f"pid {holder.pid}" in result.stderr
    assert "waiting for the state lock" in result.stderr
    assert server.statuses() == []


def leave_pending(state_path: Path, tweet_id: str) -> None:
    """Record tweet_id as a crash would leave it: pending since 11:50, nothing sent."""
    store = StateStore(state_path, FakeClock(NOON))
    with store.lock():
        state = store.load()
        assert state.account is not None
        key = idempotency_key(state.account.id, state.account.instance, tweet_id, 0)
        store.save(state.mark_pending(tweet_id, key, NOON.replace(hour=11, minute=50)))


@pytest.mark.usefixtures("state_path")
@pytest.mark.parametrize(
    ("first", "pending", "summary"),
    [
        (APRIL_6, SECOND, "2 posted"),  # one of the day's own toots
        (FIRST, APRIL_6, "1 already posted, 2 posted"),  # another day's: found by its id
    ],
)
def test_a_pending_toot_is_finished_first_and_reported_once(
    server: FakeMastodon, state_path: Path, first: str, pending: str, summary: str
) -> None:
    tootback("repost", "--tweet", first)  # binds the state file to the account
    leave_pending(state_path, pending)
    result = tootback("repost", "--date", DAY)
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"posted          tweet {pending}")  # pending first
    assert lines[-1] == summary
    assert len(server.statuses()) == 3 and not server.duplicates()


@pytest.mark.usefixtures("state_path")
def test_a_day_already_posted_makes_no_request(server: FakeMastodon) -> None:
    tootback("repost", "--date", DAY)
    server.clear_requests()
    again = tootback("repost", "--date", DAY, "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["counts"] == {"already posted": 2}
    assert server.requests() == []


@pytest.mark.usefixtures("state_path")
def test_a_self_link_on_a_later_day_points_at_the_earlier_toot(server: FakeMastodon) -> None:
    tootback("repost", "--date", DAY)
    first_url = server.statuses()[0].url
    assert tootback("repost", "--date", "2026-04-06", now=NOON.replace(day=6)).exit_code == 0
    [tally] = [s for s in server.statuses() if s.text.startswith("I tallied")]
    assert f"https://gist.github.com/ezyang/e1d8697968accdf304a13cceaa8c8513 {first_url}" in (
        tally.text
    )
    assert "twitter.com/ezyang/status" not in tally.text


@pytest.mark.usefixtures("state_path")
def test_unmapped_names_mention_nobody_even_a_local_namesake(server: FakeMastodon) -> None:
    server.add_local_account("cHHillee")
    result = tootback("repost", "--date", "2026-03-20")
    assert result.exit_code == 0, result.output
    [status] = server.statuses()
    assert status.text.startswith("Cc @cHHillee@twitter.com who was asking about this")
    assert status.mentions == ()


# --- status ---------------------------------------------------------------------------


@pytest.fixture
def mixed_state(server: FakeMastodon, state_path: Path) -> Path:
    """April 5: FIRST posted, SECOND refused (failed); APRIL_6 left pending by a crash."""
    assert tootback("repost", "--tweet", FIRST).exit_code == 0
    server.fail_next("/api/v1/statuses", 422, method="POST")
    assert tootback("repost", "--tweet", SECOND).exit_code == EXIT_FAILED
    store = StateStore(state_path, FakeClock(NOON))
    with store.lock():
        store.save(store.load().mark_pending(APRIL_6, "tootback-key", NOON))
    return state_path


@pytest.mark.parametrize(
    ("now", "bucket"),
    [
        (datetime(2026, 4, 5, 1, 0, tzinfo=UTC), "next"),
        (datetime(2026, 4, 5, 6, 0, tzinfo=UTC), "due"),
        (datetime(2026, 4, 5, 9, 0, tzinfo=UTC), "missed"),
    ],
)
def test_status_json_tells_the_truth(mixed_state: Path, now: datetime, bucket: str) -> None:
    result = tootback("status", "--json", now=now)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["counts"] == {"posted": 1, "pending": 1, "failed": 1}
    assert data["last_posted"]["tweet_id"] == FIRST
    assert [p["tweet_id"] for p in data["pending"]] == [APRIL_6]
    assert [(f["tweet_id"], f["attempts"]) for f in data["failed"]] == [(SECOND, 1)]
    assert "Injected failure 422" in data["failed"][0]["error"]
    today = data["today"]
    assert today["date"] == DAY
    assert [d["tweet_id"] for d in today["posted"]] == [FIRST]
    others = {name: [d["tweet_id"] for d in today[name]] for name in ("next", "due", "missed")}
    assert others == {name: [SECOND] if name == bucket else [] for name in others}


def test_status_text_lists_problems_and_how_to_fix_them(mixed_state: Path) -> None:
    result = tootback("status", now=datetime(2026, 4, 5, 9, 0, tzinfo=UTC))
    assert result.exit_code == 0
    out = result.stdout
    assert f"{mixed_state} (@me on " in out and "1 posted, 1 pending, 1 failed" in out
    assert f"failed: tweet {SECOND} (1x)" in out
    assert f"tootback repost --tweet {SECOND} --retry-failed" in out
    assert f"pending: tweet {APRIL_6}" in out
    assert "today 2026-04-05 (UTC): 1 posted, 0 to come, 0 due now, 1 missed" in out
    assert f"missed: tweet {SECOND} (was due 02:55)" in out
    assert f"post it with: tootback repost --tweet {SECOND}" in out


@pytest.mark.usefixtures("state_path")
def test_status_without_a_state_file_makes_no_request(server: FakeMastodon) -> None:
    result = tootback("status", "--json", now=datetime(2026, 4, 5, 1, 0, tzinfo=UTC))
    data = json.loads(result.stdout)
    assert data["counts"] == {"posted": 0, "pending": 0, "failed": 0}
    assert [d["tweet_id"] for d in data["today"]["next"]] == [FIRST, SECOND]
    assert server.requests() == []


# --- state rebuild --------------------------------------------------------------------


def test_a_lost_state_file_is_refused_then_rebuilt(server: FakeMastodon, state_path: Path) -> None:
    assert tootback("repost", "--date", DAY).exit_code == 0
    posted = load_state(state_path)
    for path in state_path.parent.iterdir():
        path.unlink()  # an ephemeral disk: state, backup and lock all gone
    refused = tootback("repost", "--date", "2026-04-06")
    assert refused.exit_code == EXIT_USAGE
    assert "state rebuild" in refused.stderr
    assert len(server.statuses()) == 2
    rebuilt = tootback("state", "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "2 toots recovered, 0 already known" in rebuilt.stdout
    recovered = load_state(state_path).tweets
    assert recovered.keys() == posted.tweets.keys()
    for tid, record in posted.tweets.items():
        found = recovered[tid]
        assert isinstance(record, Posted) and isinstance(found, Posted)
        assert (found.status_ids, found.url) == (record.status_ids, record.url)
    again = tootback("repost", "--date", DAY)
    assert again.stdout.splitlines()[-1] == "2 already posted"
    assert tootback("repost", "--date", "2026-04-06").exit_code == 0
    assert len(server.statuses()) == 5 and not server.duplicates()


def test_rebuild_keeps_known_records_and_reports_duplicates(
    server: FakeMastodon, state_path: Path
) -> None:
    assert tootback("repost", "--tweet", FIRST).exit_code == 0
    # The same toot again by hand, from another client.
    import urllib.request

    text = server.statuses()[0].text
    request = urllib.request.Request(
        f"{server.url}/api/v1/statuses",
        data=json.dumps({"status": text}).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=5).close()
    before = load_state(state_path).record(FIRST)
    result = tootback("state", "rebuild")
    assert "0 toots recovered, 1 already known" in result.stdout
    assert f"a second toot of the same tweet exists: {server.statuses()[1].url}" in result.stdout
    assert load_state(state_path).record(FIRST) == before


@pytest.mark.parametrize("home_timeline", [True, False], ids=["home read", "no home"])
def test_rebuild_finds_private_toots_where_the_server_shows_them_and_warns_otherwise(
    monkeypatch: pytest.MonkeyPatch, isolated: Path, own_archive: Path, home_timeline: bool
) -> None:
    # Takahe: the own list leaves private statuses out, the home timeline has them.
    profile = PROFILES["takahe"]
    if not home_timeline:
        profile = replace(profile, missing_routes=frozenset({"timelines_home"}))
    with FakeMastodon(token=TOKEN, profile=profile) as takahe:
        path = isolated / "state" / "state.json"
        monkeypatch.setenv("MASTODON_API_BASE_URL", takahe.url)
        monkeypatch.setenv("MASTODON_ACCESS_TOKEN", TOKEN)
        monkeypatch.setenv("TOOTBACK_STATE__PATH", str(path))
        monkeypatch.setenv("TOOTBACK_POST__VISIBILITY", "private")
        assert tootback("repost", "--date", DAY).exit_code == 0
        takahe.add_status("an ordinary public post")
        path.unlink()
        result = tootback("state", "rebuild")
    assert result.exit_code == 0, result.output
    out = result.stdout
    if home_timeline:
        assert (
            "read 3 statuses (1 public, 2 private) from the account's own list and its "
            "home timeline: 2 toots recovered" in out
        )
        assert "warning" not in out
        assert load_state(path).counts().posted == 2
    else:
        assert "read 1 status (1 public) from the account's list: 0 toots recovered" in out
        assert "they could not be looked for in the home timeline" in out
        assert (
            "warning: the server says the account has 3 statuses and showed 1: 2 are "
            "hidden from tootback, and toots among them are not protected from a repost "
            "(this account posts private)" in out
        )


def test_rebuild_report_names_what_the_server_is_known_to_hide() -> None:
    report = RebuildReport(1, 0, (), 0, (("public", 1), ("private", 1)))
    seen = SeenStatuses([], True, frozenset({"private", "direct"}), False, 2)
    text = rebuild_report(report, seen, "private")
    assert "(1 public, 1 private) from the account's own list and its home timeline" in text
    assert "leaves direct and private statuses out of the account's own list" in text
    assert "warning" not in text
    limited = rebuild_report(report, replace(seen, limit_reached=True, reported=900), "public")
    assert "--limit was reached" in limited and "warning" not in limited


# --- state forget ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tweet", "says"),
    [
        (FIRST, "may be posted again"),
        (SECOND, "posted like a new tweet"),
        (APRIL_6, "may already be on the server"),
    ],
    ids=["posted", "failed", "pending"],
)
def test_forget_removes_one_record_after_saying_what_it_means(
    mixed_state: Path, monkeypatch: pytest.MonkeyPatch, tweet: str, says: str
) -> None:
    monkeypatch.setattr("bot.cli._interactive", lambda: True)
    declined = tootback("state", "forget", "--tweet", tweet, input="n\n")
    assert declined.exit_code == 0 and "nothing changed" in declined.stdout
    assert says in declined.stdout and "Remove this record" in declined.stdout
    assert load_state(mixed_state).record(tweet) is not None
    before = load_state(mixed_state)
    done = tootback("state", "forget", "--tweet", tweet, input="y\n")
    assert done.exit_code == 0, done.output
    assert f"forgot tweet {tweet}" in done.stdout
    after = load_state(mixed_state)
    assert after.record(tweet) is None
    assert {t: r for t, r in before.tweets.items() if t != tweet} == dict(after.tweets)
    assert load_state(mixed_state.with_name("state.json.bak")) == before


def test_forget_without_a_terminal_needs_yes(mixed_state: Path) -> None:
    refused = tootback("state", "forget", "--tweet", APRIL_6)
    assert refused.exit_code == EXIT_USAGE
    assert "--yes" in refused.stderr and "terminal" in refused.stderr
    assert isinstance(load_state(mixed_state).record(APRIL_6), Pending)
    forced = tootback("state", "forget", "--tweet", APRIL_6, "--yes")
    assert forced.exit_code == 0 and load_state(mixed_state).record(APRIL_6) is None


def test_forget_an_unknown_tweet_is_an_error_and_changes_nothing(mixed_state: Path) -> None:
    before = mixed_state.read_bytes()
    result = tootback("state", "forget", "--tweet", "42", "--yes")
    assert result.exit_code == EXIT_USAGE and "no record of tweet 42" in result.stderr
    assert mixed_state.read_bytes() == before


def test_forget_without_a_state_file_says_there_is_none(state_path: Path) -> None:
    result = tootback("state", "forget", "--tweet", "42", "--yes")
    assert result.exit_code == EXIT_USAGE
    assert f"{state_path} does not exist: nothing to forget of tweet 42" in result.stderr
    assert not state_path.exists()


def test_a_forgotten_pending_toot_no_longer_blocks_and_an_excluded_one_is_skipped(
    mixed_state: Path, monkeypatch: pytest.MonkeyPatch, server: FakeMastodon
) -> None:
    monkeypatch.setenv("TOOTBACK_SELECTION__EXCLUDE_IDS", APRIL_6)
    excluded = tootback("repost", "--date", DAY)
    assert f"skipped         tweet {APRIL_6}" in excluded.stdout
    assert "selection.exclude_ids" in excluded.stdout
    assert isinstance(load_state(mixed_state).record(APRIL_6), Pending)
    assert tootback("state", "forget", "--tweet", APRIL_6, "--yes").exit_code == 0
    monkeypatch.delenv("TOOTBACK_SELECTION__EXCLUDE_IDS")
    again = tootback("repost", "--date", DAY)
    assert APRIL_6 not in again.stdout


# --- login ----------------------------------------------------------------------------


def test_login_writes_the_token_to_a_private_env_file_and_never_shows_it(
    server: FakeMastodon, tmp_path: Path
) -> None:
    env_file = tmp_path / "conf" / ".env"
    env_file.parent.mkdir()
    env_file.write_text("OTHER=kept\nMASTODON_ACCESS_TOKEN=old\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["login", "--instance", server.url + "/", "--env-file", str(env_file)],
        input=server.oauth_code + "\n",
    )
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output
    assert f"{server.url}/oauth/authorize?client_id=client-id-1" in result.stdout
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert env_file.read_text(encoding="utf-8").splitlines() == [
        "OTHER=kept",
        f"MASTODON_API_BASE_URL={server.url}",
        f"MASTODON_ACCESS_TOKEN={TOKEN}",
    ]
    [app] = server.requests("POST", "/api/v1/apps")
    assert app.fields["scopes"] == (SCOPES,)
    [grant] = server.requests("POST", "/oauth/token")
    assert grant.fields["code"] == (server.oauth_code,)
    assert grant.fields["grant_type"] == ("authorization_code",)


def test_login_with_a_wrong_code_writes_nothing(server: FakeMastodon, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    result = CliRunner().invoke(
        cli,
        ["login", "--instance", server.url, "--env-file", str(env_file)],
        input="not-the-code\n",
    )
    assert result.exit_code == EXIT_USAGE
    assert "mistyped or expired code" in result.stderr
    assert not env_file.exists()
    assert "client-secret" not in result.output


def test_login_refuses_plain_http_to_a_remote_host(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["login", "--instance", "http://example.social", "--env-file", str(tmp_path / "e")]
    )
    assert result.exit_code == EXIT_USAGE
    assert "https://" in result.stderr


# --- check, online --------------------------------------------------------------------


@pytest.mark.usefixtures("state_path")
def test_check_reports_account_limits_and_scopes(server: FakeMastodon) -> None:
    server.max_characters = 1000
    result = tootback("check")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"account: @me on {server.url} (token valid)" in out
    assert "instance: 1000 characters, 4 media, alt text up to 1500 characters" in out
    assert "scopes: read write" in out
    assert TOKEN not in result.output
    assert server.statuses() == []


@pytest.mark.usefixtures("state_path")
def test_check_names_missing_scopes(server: FakeMastodon) -> None:
    server.token_scopes = ("read:accounts", "write:statuses")
    result = tootback("check")
    assert result.exit_code == EXIT_USAGE
    assert "lacks read:statuses, write:media" in result.stderr


@pytest.mark.usefixtures("state_path")
def test_check_says_when_the_server_does_not_report_scopes(server: FakeMastodon) -> None:
    server.profile = replace(server.profile, app_credentials="no scopes")
    result = tootback("check")
    assert result.exit_code == 0
    assert f"scopes: not reported by the server; tootback needs {SCOPES}" in result.stdout


@pytest.mark.usefixtures("state_path")
def test_check_with_a_bad_token_exits_2_without_showing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "tok-SECRET-bad")
    result = tootback("check")
    assert result.exit_code == EXIT_USAGE
    assert "access token" in result.stderr
    assert "tok-SECRET-bad" not in result.output


@pytest.mark.parametrize("flags", [[], ["--quick"]])
def test_check_says_each_wait_for_a_server_that_cannot_be_reached(
    monkeypatch: pytest.MonkeyPatch, isolated: Path, unused_port: int, flags: list[str]
) -> None:
    server = f"http://127.0.0.1:{unused_port}"
    monkeypatch.setenv("MASTODON_API_BASE_URL", server)
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "x")  # short: redaction must leave words whole
    clock = FakeClock(NOON)
    result = CliRunner().invoke(cli, ["check", *flags], obj=Context(clock=clock))
    assert result.exit_code == EXIT_SERVER, result.output
    *waits, last = result.stderr.splitlines()
    # Each wait is said from the first one (repost's words), on the injected clock.
    assert len(waits) == len(clock.sleeps) == 5
    for attempt, (line, seconds) in enumerate(zip(waits, clock.sleeps, strict=True), start=1):
        assert line == (
            f"checking the access token: {server} cannot be reached (Connection refused) "
            f"(attempt {attempt} of 6); trying again in {math.ceil(seconds)} s"
        )
    assert last == (
        f"tootback: checking the access token: {server} cannot be reached "
        "(Connection refused) (gave up after 6 attempts)"
    )


def test_check_refuses_another_accounts_state_file(server: FakeMastodon, state_path: Path) -> None:
    state_path.parent.mkdir()
    state_path.write_text(
        json.dumps(
            {
                "version": 1,
                "account": {"id": "1", "acct": "someone", "instance": "https://other.social"},
                "tweets": {},
            }
        ),
        encoding="utf-8",
    )
    result = tootback("check")
    assert result.exit_code == EXIT_USAGE
    assert "belongs to @someone on https://other.social" in result.stderr


@pytest.mark.usefixtures("state_path")
@pytest.mark.parametrize("command", [["repost"], ["state", "rebuild"]])
def test_archive_names_the_archive_to_post_from(
    command: list[str], tmp_path: Path, server: FakeMastodon
) -> None:
    missing = tmp_path / "no-such-archive"
    result = tootback(*command, "--archive", str(missing))
    assert result.exit_code == EXIT_USAGE
    assert f"archive {missing}: does not exist" in result.output
    assert server.statuses() == []
