"""The Mastodon client, with the real Mastodon.py underneath and `responses` at the HTTP layer."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from pydantic import SecretStr

from bot import __version__
from bot.client import (
    SCOPES,
    Account,
    Budgets,
    MastodonClient,
    OwnStatus,
    PostedStatus,
    html_to_text,
    missing_scopes,
)
from bot.clock import FakeClock
from bot.errors import (
    AuthError,
    Interrupted,
    MastodonError,
    RateLimited,
    Rejected,
    Unavailable,
    Unconfirmed,
)
from bot.model import InstanceLimits
from bot.profile import ServerProfile
from tests.support import NOON

BASE = "https://example.social"
TOKEN = "tok-SECRET-0123456789abcdef"
STATUSES = f"{BASE}/api/v1/statuses"
MEDIA = f"{BASE}/api/v2/media"
VERIFY = f"{BASE}/api/v1/accounts/verify_credentials"
APP = f"{BASE}/api/v1/apps/verify_credentials"
INSTANCE_V2 = f"{BASE}/api/v2/instance"
INSTANCE_V1 = f"{BASE}/api/v1/instance"
WELL_KNOWN = f"{BASE}/.well-known/nodeinfo"
NODEINFO = f"{BASE}/nodeinfo/2.0"
KEY = "tootback-0123456789"


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def make_client(clock: FakeClock, **kwargs: Any) -> MastodonClient:
    return MastodonClient(BASE, SecretStr(TOKEN), clock, random=lambda: 0.5, **kwargs)


def status_json(status_id: str = "1124", **extra: Any) -> dict[str, Any]:
    return {
        "id": status_id,
        "url": f"{BASE}/@me/{status_id}",
        "uri": f"{BASE}/users/me/statuses/{status_id}",
        "created_at": "2026-04-05T12:00:01.000Z",
        "content": "<p>hello</p>",
        "in_reply_to_id": None,
        **extra,
    }


def reset_header(seconds: float, now: datetime = NOON) -> str:
    """X-RateLimit-Reset as Mastodon writes it, `seconds` after `now`."""
    return (now + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


def form(call: Any) -> dict[str, list[str]]:
    body = call.request.body
    return parse_qs(body if isinstance(body, str) else body.decode())


def raw_body(call: Any) -> bytes:
    body = call.request.body
    assert isinstance(body, bytes)
    return body


def post(client: MastodonClient, text: str = "hello", **kwargs: Any) -> PostedStatus:
    return client.post_status(text, idempotency_key=KEY, **kwargs)


def nodeinfo(mock: responses.RequestsMock, name: str = "", version: str = "") -> None:
    """The well-known nodeinfo file and its document; none at all when `name` is empty."""
    if not name:
        mock.get(WELL_KNOWN, status=404, json={"error": "Not found"})
        return
    schema = "http://nodeinfo.diaspora.software/ns/schema/2.0"
    mock.get(WELL_KNOWN, json={"links": [{"rel": schema, "href": NODEINFO}]})
    mock.get(NODEINFO, json={"version": "2.0", "software": {"name": name, "version": version}})


# --- construction, account, limits -----------------------------------------


def test_construction_makes_no_request_and_hides_the_token(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    client = make_client(clock)
    assert len(mock.calls) == 0
    assert TOKEN not in repr(client) and TOKEN not in str(client)
    assert repr(client) == "MastodonClient(base_url='https://example.social')"


def test_account_and_profile_are_asked_once_per_run(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.get(VERIFY, json={"id": "109", "acct": "me", "url": f"{BASE}/@me"})
    mock.get(
        INSTANCE_V2,
        json={
            "version": "4.3.2",
            "api_versions": {"mastodon": 2},
            "configuration": {
                "statuses": {
                    "max_characters": 1000,
                    "max_media_attachments": 6,
                    "characters_reserved_per_url": 23,
                },
                "media_attachments": {
                    "description_limit": 1500,
                    "image_size_limit": 16777216,
                    "video_size_limit": 103809024,
                    "supported_mime_types": ["image/png", "video/mp4"],
                },
            },
        },
    )
    nodeinfo(mock, "mastodon", "4.3.2")
    client = make_client(clock)
    for _ in range(3):
        assert client.account() == Account("109", "me", f"{BASE}/@me", BASE)
        assert client.limits() == InstanceLimits(
            1000, 6, 23, 1500, 16777216, 103809024, ("image/png", "video/mp4"), quote_posts=False
        )
        assert client.profile() == ServerProfile(
            BASE, "mastodon", "4.3.2", client.limits(), NOON, (("mastodon", 2),)
        )
    assert len(mock.calls) == 4
    headers = mock.calls[0].request.headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["User-Agent"] == f"tootback/{__version__}"
    instance, well_known = mock.calls[1].request.headers, mock.calls[2].request.headers
    assert instance["Authorization"] == f"Bearer {TOKEN}"
    assert "Authorization" not in well_known  # nodeinfo is public: no answer there is the token's
    assert well_known["User-Agent"] == f"tootback/{__version__}"


def test_limits_keep_defaults_for_values_the_server_omits(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.get(INSTANCE_V2, json={"configuration": {"statuses": {"max_characters": 5000}}})
    nodeinfo(mock)
    assert make_client(clock).limits() == InstanceLimits(max_characters=5000, quote_posts=False)


def test_limits_fall_back_to_v1_without_a_trailing_slash(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    # Takahē answers `/api/v1/instance/` (what Mastodon.py asks) with 404.
    mock.get(INSTANCE_V2, status=404, json={"error": "Record not found"})
    mock.get(INSTANCE_V1, json={"uri": "example.social", "max_toot_chars": 5000})
    nodeinfo(mock)
    profile = make_client(clock).profile()
    assert profile.limits == InstanceLimits(max_characters=5000, quote_posts=False)
    assert profile.software == "" and profile.known.title == "unknown software"
    assert [c.request.url for c in mock.calls][:2] == [INSTANCE_V2, INSTANCE_V1]


def test_nodeinfo_linked_on_another_host_is_read_from_this_server(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    # Takahē links `https://<main domain>/nodeinfo/2.0/`, whatever host was asked.
    schema = "http://nodeinfo.diaspora.software/ns/schema/2.0"
    mock.get(INSTANCE_V2, json={"version": "takahe/0.11.0"})
    mock.get(
        WELL_KNOWN, json={"links": [{"rel": schema, "href": "https://takahe.test/nodeinfo/2.0/"}]}
    )
    mock.get(f"{BASE}/nodeinfo/2.0/", json={"software": {"name": "Takahe", "version": "0.11.0"}})
    profile = make_client(clock).profile()
    assert (profile.software, profile.version) == ("takahe", "takahe/0.11.0")
    assert profile.describe() == "takahe/0.11.0"
    assert profile.known.key.kept is False and profile.known.length == "code points"


@pytest.mark.parametrize(("api_versions", "quotes"), [({"mastodon": 7}, True), ({}, False)])
def test_quote_posts_are_taken_from_mastodon_api_7_on(
    mock: responses.RequestsMock, clock: FakeClock, api_versions: dict[str, int], quotes: bool
) -> None:
    mock.get(INSTANCE_V2, json={"version": "4.5.0", "api_versions": api_versions})
    nodeinfo(mock, "mastodon", "4.5.0")
    assert make_client(clock).limits().quote_posts is quotes


def test_a_remembered_profile_of_the_same_version_saves_the_nodeinfo_requests(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.get(INSTANCE_V2, json={"version": "4.3.2", "configuration": {}})
    remembered = ServerProfile(BASE, "mastodon", "4.3.2", InstanceLimits(quote_posts=False), NOON)
    later = NOON + timedelta(days=3)
    clock.set(later)
    profile = make_client(clock).profile(remembered)
    assert profile == replace(remembered, read_at=later)
    assert len(mock.calls) == 1


@pytest.mark.parametrize(
    "remembered",
    [
        ServerProfile(BASE, "mastodon", "4.3.1", InstanceLimits(), NOON),  # upgraded since
        ServerProfile("https://other.social", "mastodon", "4.3.2", InstanceLimits(), NOON),
    ],
)
def test_a_remembered_profile_of_another_version_or_server_is_read_again(
    mock: responses.RequestsMock, clock: FakeClock, remembered: ServerProfile
) -> None:
    mock.get(INSTANCE_V2, json={"version": "4.3.2"})
    nodeinfo(mock, "gotosocial", "4.3.2")
    assert make_client(clock).profile(remembered).software == "gotosocial"


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 404, "json": {"error": "Not found"}},
        {"json": {"links": "not a list"}},
        {"body": "<html>not json</html>"},
    ],
)
def test_a_server_without_readable_nodeinfo_is_unknown_software(
    mock: responses.RequestsMock, clock: FakeClock, answer: dict[str, Any]
) -> None:
    mock.get(INSTANCE_V2, json={"version": "whatever it likes"})
    mock.get(WELL_KNOWN, **answer)
    profile = make_client(clock).profile()
    assert (profile.software, profile.version) == ("", "whatever it likes")


@pytest.mark.parametrize(
    "version",
    [
        "v0.20.0-rc1-8-g57cb4fe74+git-57cb4fe",
        "takahe/0.11.0",
        "2.7.2 (compatible; Pleroma 2.6)",
        "",
    ],
)
def test_no_version_string_stops_anything(
    mock: responses.RequestsMock, clock: FakeClock, version: str
) -> None:
    # Mastodon.py cannot parse these; the client never lets it try, and never
    # asks `/api/v1/instance/` (unregistered here: any such request fails the test).
    mock.get(VERIFY, json={"id": "109", "acct": "me", "url": f"{BASE}/@me"})
    mock.get(INSTANCE_V2, json={"version": version})
    nodeinfo(mock, "gotosocial", version)
    mock.post(MEDIA, json={"id": "55", "type": "image", "url": f"{BASE}/m/55.jpg"})
    mock.post(STATUSES, json=status_json())
    mock.get(f"{BASE}/api/v1/accounts/109/statuses", json=[])
    client = make_client(clock, max_retries=0)
    assert client.profile().version == version
    client.upload_media(b"PNG", "a.png", "image/png", None)
    post(client, media_ids=["55"])
    assert client.own_statuses(limit=5) == []
    urls = [c.request.url for c in mock.calls]
    assert MEDIA in urls and not any(str(url).endswith("/") for url in urls)


# --- statuses -----------------------------------------------------------------


def test_post_status_sends_the_form_and_the_idempotency_key(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.post(STATUSES, json=status_json("1125"))
    posted = post(
        make_client(clock),
        "Part two (2/2)",
        in_reply_to_id="1124",
        media_ids=("55", "56"),
        visibility="unlisted",
        language="de",
        spoiler_text="old tweets",
    )
    assert posted == PostedStatus(
        "1125", f"{BASE}/@me/1125", datetime(2026, 4, 5, 12, 0, 1, tzinfo=UTC)
    )
    assert len(mock.calls) == 1
    call = mock.calls[0]
    assert call.request.method == "POST"
    assert call.request.url == STATUSES
    assert call.request.headers["Idempotency-Key"] == KEY
    assert form(call) == {
        "status": ["Part two (2/2)"],
        "in_reply_to_id": ["1124"],
        "media_ids[]": ["55", "56"],
        "visibility": ["unlisted"],
        "language": ["de"],
        "spoiler_text": ["old tweets"],
        "sensitive": ["0"],
    }


def test_post_status_leaves_out_empty_options(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.post(STATUSES, json=status_json())
    post(make_client(clock), language="", spoiler_text="")
    assert set(form(mock.calls[0])) == {"status", "visibility", "sensitive"}


def test_422_is_rejected_with_the_servers_reason(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    reason = "Validation failed: Text character limit of 500 exceeded"
    mock.post(STATUSES, status=422, json={"error": reason})
    with pytest.raises(Rejected) as info:
        post(make_client(clock))
    assert reason in str(info.value)
    assert info.value.status == 422
    assert len(mock.calls) == 1
    assert clock.sleeps == []


REFUSALS = [
    {"status": 401, "json": {"error": "The access token is invalid"}},
    {"status": 403, "json": {"error": "This action is outside the authorized scopes"}},
    # Takahē, on every endpoint:
    {"status": 400, "body": "Invalid Bearer token", "content_type": "text/html; charset=utf-8"},
    # Pleroma:
    {"status": 403, "json": {"error": "Invalid credentials."}},
]


@pytest.mark.parametrize("answer", REFUSALS, ids=["401", "403", "400 takahe", "403 pleroma"])
def test_refused_token_is_an_auth_error_about_the_token(
    mock: responses.RequestsMock, clock: FakeClock, answer: dict[str, Any]
) -> None:
    status = answer["status"]
    mock.post(STATUSES, **answer)
    with pytest.raises(AuthError) as info:
        post(make_client(clock))
    message = str(info.value)
    assert "access token" in message
    assert "write:statuses write:media read:accounts read:statuses" in message
    said = answer.get("body") or answer["json"]["error"]
    assert f"({status} {said})" in message
    assert TOKEN not in message
    assert info.value.status == status
    assert len(mock.calls) == 1


# --- media ------------------------------------------------------------------


def test_image_upload_is_one_request_with_alt_text(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.post(MEDIA, json={"id": "55", "type": "image", "url": f"{BASE}/m/55.jpg"})
    media_id = make_client(clock).upload_media(b"\xff\xd8JPEG", "cat.jpg", "image/jpeg", "A cat")
    assert media_id == "55"
    assert len(mock.calls) == 1
    assert mock.calls[0].request.url == MEDIA
    body = raw_body(mock.calls[0])
    assert b'name="description"\r\n\r\nA cat' in body
    assert b'filename="cat.jpg"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8JPEG' in body
    assert clock.sleeps == []


def test_video_upload_202_is_polled_until_ready(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.post(MEDIA, status=202, json={"id": "56", "type": "video", "url": None})
    mock.get(f"{BASE}/api/v1/media/56", status=206, json={"id": "56", "url": None})
    mock.get(f"{BASE}/api/v1/media/56", status=206, json={"id": "56", "url": None})
    mock.get(f"{BASE}/api/v1/media/56", json={"id": "56", "url": f"{BASE}/m/56.mp4"})
    assert make_client(clock).upload_media(b"mp4", "clip.mp4", "video/mp4", None) == "56"
    assert [c.request.method for c in mock.calls] == ["POST", "GET", "GET", "GET"]
    assert clock.sleeps == [1.0, 1.5, 2.25]
    assert b'name="description"' not in raw_body(mock.calls[0])


def test_media_that_never_finishes_processing_is_unavailable(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.post(MEDIA, status=202, json={"id": "56", "url": None})
    mock.get(f"{BASE}/api/v1/media/56", status=206, json={"id": "56", "url": None})
    with pytest.raises(Unavailable, match=r"clip\.mp4.*60 checks"):
        make_client(clock).upload_media(b"mp4", "clip.mp4", "video/mp4", None)
    assert len(mock.calls) == 61
    assert max(clock.sleeps) == 10.0


def test_media_polling_stops_on_a_stop_request(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.post(MEDIA, status=202, json={"id": "56", "url": None})
    clock.stop()
    with pytest.raises(Interrupted):
        make_client(clock).upload_media(b"mp4", "clip.mp4", "video/mp4", None)
    assert len(mock.calls) == 1


# --- rate limits --------------------------------------------------------------


def test_429_waits_until_the_reset_then_sends_the_same_key(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    limited = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset_header(120)}
    mock.post(STATUSES, status=429, json={"error": "Too many requests"}, headers=limited)
    mock.post(STATUSES, json=status_json())
    assert post(make_client(clock)).id == "1124"
    assert len(clock.sleeps) == 1
    assert clock.sleeps[0] == pytest.approx(120, abs=1.5)
    assert [c.request.headers["Idempotency-Key"] for c in mock.calls] == [KEY, KEY]


def test_429_reset_is_measured_against_the_servers_date(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    server_now = NOON - timedelta(hours=1)  # the server's clock is an hour behind ours
    limited = {
        "Date": server_now.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "X-RateLimit-Reset": reset_header(300, server_now),
    }
    mock.post(STATUSES, status=429, headers=limited)
    mock.post(STATUSES, json=status_json())
    post(make_client(clock))
    assert clock.sleeps == [pytest.approx(300, abs=1.5)]


def test_429_without_reset_uses_retry_after(mock: responses.RequestsMock, clock: FakeClock) -> None:
    mock.post(STATUSES, status=429, headers={"Retry-After": "42"})
    mock.post(STATUSES, json=status_json())
    post(make_client(clock))
    assert clock.sleeps == [42.0]


def test_429_longer_than_max_wait_gives_up_without_waiting(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.post(STATUSES, status=429, headers={"X-RateLimit-Reset": reset_header(3 * 3600)})
    with pytest.raises(RateLimited, match="longer than the 900 s") as info:
        post(make_client(clock))
    assert info.value.status == 429
    assert clock.sleeps == []
    assert len(mock.calls) == 1


def test_429_wait_ends_on_a_stop_request(mock: responses.RequestsMock, clock: FakeClock) -> None:
    mock.post(STATUSES, status=429, headers={"X-RateLimit-Reset": reset_header(60)})
    clock.stop()
    with pytest.raises(Interrupted):
        post(make_client(clock))
    assert len(mock.calls) == 1


def test_repeated_429_gives_up_after_max_retries(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.post(STATUSES, status=429, headers={"X-RateLimit-Reset": reset_header(10)})
    with pytest.raises(RateLimited, match="after 3 attempts"):
        post(make_client(clock, max_retries=2))
    assert len(mock.calls) == 3


def test_low_remaining_slows_down_before_the_next_request(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    sent_at: list[datetime] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        sent_at.append(clock.now())
        return 200, {}, json.dumps(status_json())

    low = {"X-RateLimit-Remaining": "2", "X-RateLimit-Reset": reset_header(60)}
    mock.get(VERIFY, json={"id": "109", "acct": "me", "url": ""}, headers=low)
    mock.add_callback(responses.POST, STATUSES, callback=answer)
    client = make_client(clock)
    client.account()
    post(client)
    assert clock.sleeps == [pytest.approx(60, abs=1.5)]
    assert sent_at[0] >= NOON + timedelta(seconds=60)


def test_each_family_keeps_its_own_window(mock: responses.RequestsMock, clock: FakeClock) -> None:
    # The statuses budget (300 per 3 h) runs low: the next status waits for its reset,
    # an upload (the media budget) and a plain call (the API budget) do not.
    low = {"X-RateLimit-Remaining": "2", "X-RateLimit-Reset": reset_header(600)}
    mock.post(STATUSES, json=status_json(), headers=low)
    mock.post(MEDIA, json={"id": "77", "url": f"{BASE}/m/77.png"})
    mock.get(VERIFY, json={"id": "109", "acct": "me", "url": ""})
    mock.post(STATUSES, json=status_json("1125"))
    client = make_client(clock)
    post(client)
    client.upload_media(b"png", "a.png", "image/png", None)
    client.account()
    assert clock.sleeps == []
    post(client)
    assert clock.sleeps == [pytest.approx(601, abs=1.5)]


def test_with_budgets_statuses_and_media_are_spent_evenly(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    sent_at: list[datetime] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        sent_at.append(clock.now())
        window = {"X-RateLimit-Remaining": "9", "X-RateLimit-Reset": reset_header(100, clock.now())}
        return 200, window, json.dumps(status_json())

    mock.add_callback(responses.POST, STATUSES, callback=answer)
    client = make_client(clock, budgets=Budgets())
    post(client)
    post(client)
    # 9 left for the 100 s until the reset: one every 10 s.
    assert sent_at[1] - sent_at[0] == timedelta(seconds=10)


def test_enough_remaining_means_no_waiting(mock: responses.RequestsMock, clock: FakeClock) -> None:
    plenty = {"X-RateLimit-Remaining": "250", "X-RateLimit-Reset": reset_header(60)}
    mock.get(VERIFY, json={"id": "109", "acct": "me", "url": ""}, headers=plenty)
    mock.post(STATUSES, json=status_json())
    client = make_client(clock)
    client.account()
    post(client)
    assert clock.sleeps == []


def test_exhausted_budget_with_a_distant_reset_sends_nothing(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    empty = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset_header(2 * 3600)}
    mock.get(VERIFY, json={"id": "109", "acct": "me", "url": ""}, headers=empty)
    client = make_client(clock)
    client.account()
    with pytest.raises(RateLimited, match="no requests left"):
        post(client)
    assert len(mock.calls) == 1


# --- retries --------------------------------------------------------------------


ME = {"id": "109", "acct": "me", "url": f"{BASE}/@me"}


def test_5xx_is_retried_with_backoff(mock: responses.RequestsMock, clock: FakeClock) -> None:
    mock.get(VERIFY, status=503, json={"error": "try again"})
    mock.get(VERIFY, status=502, body="<html>Bad Gateway</html>")
    mock.get(VERIFY, json=ME)
    assert make_client(clock).account().id == "109"
    # random() = 0.5 makes the jitter factor exactly 1: 2 s, then 4 s.
    assert clock.sleeps == [2.0, 4.0]


@pytest.mark.parametrize(
    "failure",
    [requests.ConnectionError("connection reset by peer"), requests.ReadTimeout("read timed out")],
)
def test_network_failure_is_retried(
    mock: responses.RequestsMock, clock: FakeClock, failure: Exception
) -> None:
    mock.get(VERIFY, body=failure)
    mock.get(VERIFY, json=ME)
    assert make_client(clock).account().id == "109"
    assert clock.sleeps == [2.0]


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (
            "HTTPSConnectionPool(host='example.social', port=443): Max retries exceeded with url: "
            '/api/v1/accounts/verify_credentials (Caused by NewConnectionError("HTTPSConnection('
            "host='example.social', port=443): Failed to resolve 'example.social' ([Errno -2] "
            'Name or service not known)"))',
            f"{BASE} cannot be reached (Name or service not known)",
        ),
        (
            "HTTPSConnectionPool(host='example.social', port=443): Max retries exceeded (Caused "
            "by ConnectTimeoutError(..., 'Connection to example.social timed out. "
            "(connect timeout=30.0)'))",
            f"{BASE} cannot be reached (connecting timed out)",
        ),
        ("connection reset by peer", "Could not complete request: connection reset by peer"),
    ],
)
def test_a_network_failure_is_said_in_one_line_naming_the_server(
    mock: responses.RequestsMock, clock: FakeClock, failure: str, reason: str
) -> None:
    mock.get(VERIFY, body=requests.ConnectionError(failure))
    with pytest.raises(Unavailable) as info:
        make_client(clock, max_retries=0).account()
    assert str(info.value) == f"checking the access token: {reason} (gave up after 1 attempts)"


def test_jitter_spreads_the_backoff(mock: responses.RequestsMock, clock: FakeClock) -> None:
    mock.get(VERIFY, status=500)
    mock.get(VERIFY, json=ME)
    client = MastodonClient(BASE, SecretStr(TOKEN), clock, random=lambda: 0.0)
    client.account()
    assert clock.sleeps == [1.0]
    assert client.retry_delay(3) == 4.0 and client.max_retries == 5


def test_5xx_after_every_retry_is_unavailable(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.get(VERIFY, status=500, json={"error": "boom"})
    with pytest.raises(Unavailable, match="500") as info:
        make_client(clock, max_retries=2).account()
    assert info.value.status == 500
    assert len(mock.calls) == 3
    assert clock.sleeps == [2.0, 4.0]


def test_backoff_ends_on_a_stop_request(mock: responses.RequestsMock, clock: FakeClock) -> None:
    mock.get(VERIFY, status=503)
    clock.stop()
    with pytest.raises(Interrupted):
        make_client(clock).account()
    assert len(mock.calls) == 1


# --- a status is sent once: an unknown outcome is Unconfirmed, never retried blindly


UNKNOWN_OUTCOMES: list[tuple[str, dict[str, Any], bool]] = [
    # The answer was lost: the status may exist.
    ("503", {"status": 503, "json": {"error": "try again"}}, False),
    ("500 html", {"status": 500, "body": "<html>Internal Error</html>"}, False),
    ("reset", {"body": requests.ConnectionError("connection reset by peer")}, False),
    ("timeout", {"body": requests.ReadTimeout("read timed out")}, False),
    # A repeated key answered without the status.
    ("empty object", {"json": {}}, True),
    ("null id", {"json": {"id": None}}, True),
    ("empty body", {"body": ""}, True),
    ("409", {"status": 409, "json": {"error": "request already under way"}}, True),
]


@pytest.mark.parametrize(
    ("answer", "answered"),
    [(answer, answered) for _, answer, answered in UNKNOWN_OUTCOMES],
    ids=[name for name, _, _ in UNKNOWN_OUTCOMES],
)
def test_a_status_whose_outcome_is_unknown_is_unconfirmed_and_not_sent_again(
    mock: responses.RequestsMock, clock: FakeClock, answer: dict[str, Any], answered: bool
) -> None:
    mock.post(STATUSES, **answer)
    with pytest.raises(Unconfirmed) as info:
        post(make_client(clock))
    assert info.value.answered is answered
    assert len(mock.calls) == 1 and clock.sleeps == []


def test_a_status_answered_without_a_url_is_asked_for_its_url(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.post(STATUSES, json=status_json(url=None, uri=None))
    mock.get(f"{STATUSES}/1124", json=status_json(url=f"{BASE}/@me/statuses/1124"))
    assert post(make_client(clock)).url == f"{BASE}/@me/statuses/1124"


def test_one_status_by_id_and_whether_the_server_answers(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.get(f"{STATUSES}/1124", json=status_json(visibility="private"))
    mock.get(VERIFY, status=502)
    mock.get(VERIFY, json=ME)
    client = make_client(clock)
    assert client.status("1124").visibility == "private"
    assert not client.reachable()
    assert client.reachable()
    assert clock.sleeps == []


def test_other_client_errors_are_rejected(mock: responses.RequestsMock, clock: FakeClock) -> None:
    mock.post(STATUSES, status=404, json={"error": "Record not found"})
    with pytest.raises(Rejected, match="404 Record not found"):
        post(make_client(clock), in_reply_to_id="999")


def test_a_400_that_is_not_about_the_token_is_rejected(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.post(STATUSES, status=400, json={"error": "Status is too long"})
    with pytest.raises(Rejected, match="400 Status is too long"):
        post(make_client(clock))


# --- scopes ---------------------------------------------------------------------------


def test_scopes_as_the_server_reports_them(mock: responses.RequestsMock, clock: FakeClock) -> None:
    mock.get(APP, json={"name": "tootback", "scopes": ["read", "write"]})
    assert make_client(clock).scopes() == ("read", "write")


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 404, "json": {"error": "Not Found"}},  # GoToSocial, read token
        {"status": 403, "json": {"error": "Forbidden: token has insufficient scope permission"}},
        {"status": 403, "json": {"error": "out_of_scope_for_token"}},  # Takahē, granular token
        {"status": 200, "json": {"name": "tootback"}},  # Mastodon before 4.3, Takahē
    ],
)
def test_scopes_not_reported_once_the_account_answered(
    mock: responses.RequestsMock, clock: FakeClock, answer: dict[str, Any]
) -> None:
    mock.get(VERIFY, json={"id": "109", "acct": "me", "url": f"{BASE}/@me"})
    mock.get(APP, **answer)
    client = make_client(clock)
    client.account()
    assert client.scopes() is None


@pytest.mark.parametrize("status", [401, 403])
def test_scopes_refused_before_the_account_answered_is_the_token(
    mock: responses.RequestsMock, clock: FakeClock, status: int
) -> None:
    mock.get(APP, status=status, json={"error": "The access token is invalid"})
    with pytest.raises(AuthError):
        make_client(clock).scopes()


def test_a_refused_token_stays_refused_after_the_account_answered(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    mock.get(VERIFY, json={"id": "109", "acct": "me", "url": f"{BASE}/@me"})
    mock.get(APP, status=401, json={"error": "The access token was revoked"})
    client = make_client(clock)
    client.account()
    with pytest.raises(AuthError):
        client.scopes()


# --- the token never shows -------------------------------------------------------

FAILURES: list[tuple[str, Callable[[responses.RequestsMock], None]]] = [
    ("401", lambda m: m.post(STATUSES, status=401, json={"error": "invalid token"})),
    ("403", lambda m: m.post(STATUSES, status=403, json={"error": "scope"})),
    ("422", lambda m: m.post(STATUSES, status=422, json={"error": "too long"})),
    ("500", lambda m: m.post(STATUSES, status=500, json={"error": "boom"})),
    ("429", lambda m: m.post(STATUSES, status=429, headers={"X-RateLimit-Reset": "bad"})),
    ("network", lambda m: m.post(STATUSES, body=requests.ConnectionError("refused"))),
    ("not json", lambda m: m.post(STATUSES, body="<html>captive portal</html>")),
    ("unregistered", lambda m: None),
]


@pytest.mark.parametrize(("name", "setup"), FAILURES, ids=[name for name, _ in FAILURES])
def test_the_token_is_in_no_exception(
    clock: FakeClock, name: str, setup: Callable[[responses.RequestsMock], None]
) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        setup(mock)
        client = make_client(clock, max_retries=1)
        with pytest.raises(MastodonError) as info:
            post(client)
    error = info.value
    assert type(error).__module__ == "bot.errors"
    for text in (str(error), repr(error), repr(error.args), repr(client)):
        assert TOKEN not in text
    assert error.__cause__ is None and error.__context__ is None


# --- own statuses --------------------------------------------------------------------


def test_own_statuses_pages_by_max_id_and_strips_html(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    url = f"{BASE}/api/v1/accounts/109/statuses"
    first = [status_json(str(1000 - i)) for i in range(40)]
    first[0]["content"] = "<p>Hello &amp; <a href='x'>@<span>bob</span></a></p><p>again</p>"
    first[0]["in_reply_to_id"] = "7"
    second = [status_json(str(900 - i)) for i in range(3)]
    mock.get(VERIFY, json={"id": "109", "acct": "me", "url": ""})
    mock.get(url, json=first)
    mock.get(url, json=second)
    statuses = make_client(clock).own_statuses(limit=50)
    assert len(statuses) == 43
    assert statuses[0] == OwnStatus(
        id="1000",
        url=f"{BASE}/@me/1000",
        text_plain="Hello & @bob\n\nagain",
        created_at=datetime(2026, 4, 5, 12, 0, 1, tzinfo=UTC),
        in_reply_to_id="7",
    )
    queries = [parse_qs(urlsplit(str(c.request.url)).query) for c in mock.calls[1:]]
    assert queries == [
        {"exclude_reblogs": ["1"], "limit": ["40"]},
        {"exclude_reblogs": ["1"], "limit": ["10"], "max_id": ["961"]},
    ]
    assert len(mock.calls) == 3


def test_own_statuses_stop_at_the_limit(mock: responses.RequestsMock, clock: FakeClock) -> None:
    mock.get(VERIFY, json={"id": "109", "acct": "me", "url": ""})
    mock.get(f"{BASE}/api/v1/accounts/109/statuses", json=[status_json(str(i)) for i in range(5)])
    assert len(make_client(clock).own_statuses(limit=5)) == 5
    assert len(mock.calls) == 2


def test_the_home_timeline_gives_own_statuses_only_and_since_ends_the_paging(
    mock: responses.RequestsMock, clock: FakeClock
) -> None:
    home = f"{BASE}/api/v1/timelines/home"
    mine = {"account": {"id": "109"}}
    page = [
        status_json(str(1000 - i), created_at=f"2026-04-05T11:{59 - i:02}:00Z", **mine)
        for i in range(40)
    ]
    page[1]["account"] = {"id": "55"}  # someone the account follows
    page[2]["reblog"] = status_json("5")  # a boost
    page[3]["visibility"] = "direct"
    page[3]["media_attachments"] = [{"id": "1"}, {"id": "2"}]
    mock.get(VERIFY, json=ME)
    mock.get(home, json=page)
    found = make_client(clock).own_statuses(
        since=datetime(2026, 4, 5, 11, 30, tzinfo=UTC), home=True
    )
    assert len(found) == 38 and len(mock.calls) == 2  # the page reached back before `since`
    assert (found[1].id, found[1].visibility, found[1].media_count) == ("997", "direct", 2)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("<p>line<br>break<br/>again</p>", "line\nbreak\nagain"),
        ("<p>caf&eacute; &lt;3 &#128514;</p>", "café <3 😂"),
        (
            '<p><a href="https://example.com/a/very/long/path" rel="nofollow noopener">'
            '<span class="invisible">https://</span><span class="ellipsis">example.com/a/ve'
            '</span><span class="invisible">ry/long/path</span></a></p>',
            "https://example.com/a/very/long/path",
        ),
        (
            '<p><a href="https://example.social/tags/tbt" class="mention hashtag">'
            "#<span>tbt</span></a> (tweeted 4 years ago, 2022-04-05)</p>",
            "#tbt (tweeted 4 years ago, 2022-04-05)",
        ),
        ("", ""),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


# --- scopes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("granted", "missing"),
    [
        (("read", "write"), set()),
        (("write", "read:accounts", "read:statuses"), set()),
        (tuple(SCOPES.split()), set()),
        (("write:statuses", "read"), {"write:media"}),
        ((), set(SCOPES.split())),
    ],
)
def test_broad_scopes_grant_their_granular_ones(
    granted: tuple[str, ...], missing: set[str]
) -> None:
    assert missing_scopes(granted) == missing
