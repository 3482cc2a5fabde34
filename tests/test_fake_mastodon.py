"""The loopback Mastodon stand-in, driven by the real Mastodon.py client."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonInternalServerError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServiceUnavailableError,
    MastodonUnauthorizedError,
)

from bot.clock import FakeClock
from tests.support.fake_mastodon import (
    INVALID_TOKEN,
    MEDIA_NOT_READY,
    REPLY_NOT_FOUND,
    Budget,
    FakeMastodon,
)
from tests.support.profiles import GOTOSOCIAL, MASTODON, PLEROMA, PROFILES, TAKAHE, ServerProfile

START = datetime.fromtimestamp(1_775_000_000, UTC)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(100)


def client(server: FakeMastodon, **options: Any) -> Mastodon:
    """A Mastodon.py client configured as tootback's (no hidden version requests)."""
    settings: dict[str, Any] = {"request_timeout": 5, **options}
    return Mastodon(
        api_base_url=server.url,
        access_token="test-token",
        version_check_mode="created",
        mastodon_version="4.2.0",
        ratelimit_method="throw",
        **settings,
    )


def raw(server: FakeMastodon, path: str, body: Any = None, token: str = "test-token") -> Any:
    """A plain urllib request (JSON body if given); returns the response or the HTTPError."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.url + path, data=data)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        return urllib.request.urlopen(request, timeout=5)
    except urllib.error.HTTPError as error:
        return error


def api_error(excinfo: pytest.ExceptionInfo[MastodonAPIError]) -> tuple[int, str]:
    """(HTTP status, server message) of a Mastodon.py API error."""
    args = excinfo.value.args
    return args[1], args[3]


# -- accounts and instance ----------------------------------------------------------------------


def test_verify_credentials_and_instance_make_only_the_requests_asked_for(
    server: FakeMastodon,
) -> None:
    api = client(server)
    me = api.account_verify_credentials()
    limits = api.instance_v2().configuration
    assert (me.username, str(me.id)) == ("me", server.account_id)
    assert limits.statuses.max_characters == 500
    assert limits.statuses.max_media_attachments == 4
    assert limits.statuses.characters_reserved_per_url == 23
    assert limits.media_attachments.description_limit == 1500
    sent = [(r.method, r.path, r.status) for r in server.requests()]
    assert sent == [
        ("GET", "/api/v1/accounts/verify_credentials", 200),
        ("GET", "/api/v2/instance", 200),
    ]


def test_instance_limits_are_configurable_and_served_by_v1_too() -> None:
    with FakeMastodon(max_characters=300, max_media_attachments=2) as server:
        configuration = client(server).instance_v1().configuration
    assert configuration.statuses.max_characters == 300
    assert configuration.statuses.max_media_attachments == 2


def test_revoked_or_wrong_token_is_401_but_instance_stays_public(
    server: FakeMastodon,
) -> None:
    api = client(server)
    api.account_verify_credentials()
    server.revoke_token()
    with pytest.raises(MastodonUnauthorizedError) as excinfo:
        api.account_verify_credentials()
    with pytest.raises(MastodonUnauthorizedError):
        api.status_post("never")
    assert api_error(excinfo) == (401, INVALID_TOKEN)
    assert api.instance_v2().configuration.statuses.max_characters == 500
    assert server.statuses() == []
    server.reset()
    assert raw(server, "/api/v1/accounts/verify_credentials", token="nope").status == 401
    assert raw(server, "/api/v1/accounts/verify_credentials").status == 200


# -- posting ------------------------------------------------------------------------------------


def test_idempotency_key_answers_with_the_first_status_for_one_hour() -> None:
    clock = FakeClock(START)
    with FakeMastodon(clock=clock) as server:
        api = client(server)
        first = api.status_post("hello", idempotency_key="k1")
        again = api.status_post("hello, edited", idempotency_key="k1")
        clock.advance(3599)
        late = api.status_post("hello", idempotency_key="k1")
        clock.advance(1)
        expired = api.status_post("hello", idempotency_key="k1")
        assert first.id == again.id == late.id != expired.id
        assert [s.text for s in server.statuses()] == ["hello", "hello"]
        assert [r.status for r in server.requests("POST", "/api/v1/statuses")] == [200] * 4
        assert server.duplicates().keys == {"k1": 2}


def test_idempotency_keys_are_per_key(server: FakeMastodon) -> None:
    api = client(server)
    a = api.status_post("one", idempotency_key="a")
    b = api.status_post("two", idempotency_key="b")
    assert a.id != b.id
    assert not server.duplicates()


def test_over_length_is_422_counted_the_way_mastodon_counts() -> None:
    url = "https://example.com/" + "a" * 100  # counts 23
    with FakeMastodon(max_characters=50) as server:
        api = client(server)
        fits = api.status_post("x" * 26 + " " + url)
        with pytest.raises(MastodonAPIError) as excinfo:
            api.status_post("x" * 27 + " " + url)
        assert api_error(excinfo) == (422, "Validation failed: Text character limit of 50 exceeded")
        api.status_post("@someone@twitter.com " + "x" * 40)  # the domain does not count
        with pytest.raises(MastodonAPIError):
            api.status_post("x" * 45, spoiler_text="123456")  # the warning counts too
        assert server.statuses()[0].id == fits.id
        assert len(server.statuses()) == 2


def test_blank_text_without_media_is_422(server: FakeMastodon) -> None:
    with pytest.raises(MastodonAPIError) as excinfo:
        client(server).status_post("  ")
    assert api_error(excinfo) == (422, "Validation failed: Text can't be blank")


def test_status_fields_content_and_url(server: FakeMastodon) -> None:
    api = client(server)
    parent = api.status_post("a & b\nc\n\nd #Tag https://example.com/x", language="en")
    child = api.status_reply(parent, "more", visibility="unlisted", spoiler_text="cw")
    assert str(parent.id) == server.statuses()[0].id
    assert parent.url == f"{server.url}/@me/{parent.id}"
    assert parent.content.startswith("<p>a &amp; b<br />c</p><p>d <a href=")
    assert 'href="https://example.com/x"' in parent.content
    assert [t.name for t in parent.tags] == ["tag"]
    assert (child.in_reply_to_id, child.visibility, child.spoiler_text) == (
        parent.id,
        "unlisted",
        "cw",
    )
    assert int(child.id) > int(parent.id)
    sent = server.requests("POST")[-1].fields
    assert sent["in_reply_to_id"] == (str(parent.id),)
    assert sent["visibility"] == ("unlisted",)
    assert api.status(parent.id).content == parent.content


def test_reply_to_an_unknown_status_is_404(server: FakeMastodon) -> None:
    api = client(server)
    with pytest.raises(MastodonNotFoundError) as excinfo:
        api.status_post("orphan", in_reply_to_id="12345")
    with pytest.raises(MastodonNotFoundError):
        api.status("12345")
    assert api_error(excinfo) == (404, REPLY_NOT_FOUND)
    assert server.statuses() == []


def test_json_bodies_are_accepted_and_recorded(server: FakeMastodon) -> None:
    body = {"status": "via json", "sensitive": True, "visibility": "private", "media_ids": []}
    answer = json.load(raw(server, "/api/v1/statuses", body))
    assert (answer["content"], answer["sensitive"], answer["visibility"]) == (
        "<p>via json</p>",
        True,
        "private",
    )
    fields = server.requests("POST")[0].fields
    assert fields["sensitive"] == ("true",)
    assert fields["media_ids"] == ()


def test_mentions_only_for_bare_names_of_local_accounts(server: FakeMastodon) -> None:
    server.add_local_account("cHHillee")
    api = client(server)
    pinged = api.status_post("thanks @chhillee!")
    safe = api.status_post(
        "thanks @cHHillee@twitter.com, mail a@cHHillee.org, ＠cHHillee, "
        "https://twitter.com/@cHHillee and @stranger"
    )
    assert [m.acct for m in pinged.mentions] == ["cHHillee"]
    assert 'class="u-url mention"' in pinged.content
    assert safe.mentions == []
    assert "mention" not in safe.content
    assert [s.mentions for s in server.statuses()] == [("cHHillee",), ()]


def test_account_statuses_page_newest_first_with_link_headers(
    server: FakeMastodon,
) -> None:
    api = client(server)
    ids = [api.status_post(f"toot {i}").id for i in range(5)]
    first = api.account_statuses(server.account_id, limit=2)
    second = api.fetch_next(first)
    assert second is not None
    everything = api.fetch_remaining(first)
    assert [s.id for s in first] == ids[:2:-1]
    assert [s.id for s in second] == [ids[2], ids[1]]
    assert [s.id for s in everything] == ids[::-1]
    assert server.requests("GET")[1].query == {"limit": ("2",), "max_id": (str(ids[3]),)}
    newer = api.account_statuses(server.account_id, min_id=ids[1], limit=2)
    assert [s.id for s in newer] == [ids[3], ids[2]]


# -- media --------------------------------------------------------------------------------------


def test_image_upload_is_ready_at_once_and_attaches(server: FakeMastodon) -> None:
    api = client(server)
    media = api.media_post(PNG, mime_type="image/png", description="a cat", file_name="cat.png")
    status = api.status_post("look", media_ids=[media])
    upload = server.requests("POST", "/api/v2/media")[0]
    assert media.url is not None
    assert (upload.status, upload.fields["description"]) == (200, ("a cat",))
    assert upload.files["file"].content_type == "image/png"
    assert upload.files["file"].size == len(PNG)
    assert server.requests("POST", "/api/v1/statuses")[0].fields["media_ids[]"] == (str(media.id),)
    assert [(m.type, m.description) for m in status.media_attachments] == [("image", "a cat")]


def test_video_upload_is_202_and_ready_after_polls() -> None:
    with FakeMastodon(media_processing_polls=2) as server:
        api = client(server)
        video = api.media_post(MP4, mime_type="video/mp4")
        assert (video.type, video.url) == ("video", None)
        with pytest.raises(MastodonAPIError) as excinfo:
            api.status_post("too soon", media_ids=[video])
        polled = [api.media(video).url for _ in range(3)]
        status = api.status_post("now", media_ids=[video])
        with pytest.raises(MastodonNotFoundError):
            api.media(video)  # attached media is no longer served here
        codes = [r.status for r in server.requests(path_prefix="/api/")]
    assert api_error(excinfo) == (422, MEDIA_NOT_READY)
    assert polled[:2] == [None, None] and polled[2] is not None
    assert codes == [202, 422, 206, 206, 200, 200, 404]
    assert status.media_attachments[0].url == polled[2]


def test_gif_is_processed_like_video_and_images_never_mix_with_it(
    server: FakeMastodon,
) -> None:
    server.media_processing_polls = 0
    api = client(server)
    gif = api.media_post(b"GIF89a" + bytes(20), mime_type="image/gif")
    image = api.media_post(PNG, mime_type="image/png")
    assert [r.status for r in server.requests("POST")] == [202, 200]
    assert gif.type == "gifv"
    with pytest.raises(MastodonAPIError):
        api.status_post("mixed", media_ids=[gif, image])


def test_too_long_description_is_422() -> None:
    with FakeMastodon(description_limit=10) as server, pytest.raises(MastodonAPIError) as excinfo:
        client(server).media_post(PNG, mime_type="image/png", description="x" * 11)
    assert api_error(excinfo)[0] == 422


# -- rate limits --------------------------------------------------------------------------------


def test_every_answer_carries_rate_limit_headers_on_the_server_clock() -> None:
    clock = FakeClock(START)
    with FakeMastodon(clock=clock) as server:
        ok = raw(server, "/api/v2/instance")
        denied = raw(server, "/api/v1/accounts/verify_credentials", token="bad")
        posted = raw(server, "/api/v1/statuses", {"status": "hi"})
    start = clock.now()
    for answer, remaining in ((ok, "299"), (denied, "298")):
        assert answer.headers["X-RateLimit-Limit"] == "300"
        assert answer.headers["X-RateLimit-Remaining"] == remaining
        reset = datetime.fromisoformat(answer.headers["X-RateLimit-Reset"])
        assert (reset - start).total_seconds() == 300
    assert parsedate_to_datetime(ok.headers["Date"]) == start
    # A created status shows the statuses budget, 300 per 3 hours, as Mastodon does.
    assert (posted.headers["X-RateLimit-Limit"], posted.headers["X-RateLimit-Remaining"]) == (
        "300",
        "299",
    )
    assert posted.headers["X-RateLimit-Reset"] == "2026-04-01T02:33:20.000000Z"


def test_statuses_budget_answers_429_until_its_window_passes() -> None:
    clock = FakeClock(START)
    with FakeMastodon(clock=clock, statuses_budget=Budget(2, 3600)) as server:
        api = client(server)
        api.status_post("one", idempotency_key="one")
        api.status_post("two")
        with pytest.raises(MastodonRatelimitError):
            api.status_post("three")
        assert api.ratelimit_remaining == 0
        api.status_post("one", idempotency_key="one")  # a remembered key creates nothing
        clock.advance(3600)
        api.status_post("three")
        assert [s.text for s in server.statuses()] == ["one", "two", "three"]
        assert [r.status for r in server.requests("POST")] == [200, 200, 429, 200, 200]


def test_api_and_media_budgets_answer_429() -> None:
    with FakeMastodon(api_budget=Budget(3, 300), media_budget=Budget(1, 1800)) as server:
        api = client(server)
        api.media_post(PNG, mime_type="image/png")
        with pytest.raises(MastodonRatelimitError):
            api.media_post(PNG, mime_type="image/png")
        api.account_verify_credentials()
        with pytest.raises(MastodonRatelimitError):
            api.account_verify_credentials()
        assert [r.status for r in server.requests()] == [200, 429, 200, 429]


# -- failure injection --------------------------------------------------------------------------


def test_fail_next_fails_matching_requests_then_recovers(server: FakeMastodon) -> None:
    api = client(server)
    server.fail_next("/api/v1/statuses", 503)
    server.fail_next("/api/v2/media", 500, times=2, method="POST")
    api.account_verify_credentials()
    with pytest.raises(MastodonServiceUnavailableError):
        api.status_post("hi")
    api.status_post("hi")
    for _ in range(2):
        with pytest.raises(MastodonInternalServerError):
            api.media_post(PNG, mime_type="image/png")
    api.media_post(PNG, mime_type="image/png")
    assert [r.status for r in server.requests()] == [200, 503, 200, 500, 500, 200]
    assert len(server.statuses()) == 1


def test_fail_next_can_let_requests_through_first_and_say_why(
    server: FakeMastodon,
) -> None:
    api = client(server)
    server.fail_next("/api/v1/statuses", 422, method="POST", skip=1, error="Too long")
    api.status_post("first")
    with pytest.raises(MastodonAPIError) as excinfo:
        api.status_post("second")
    api.status_post("third")
    assert api_error(excinfo) == (422, "Too long")
    assert [s.text for s in server.statuses()] == ["first", "third"]


def test_drop_after_create_loses_the_answer_but_not_the_status(
    server: FakeMastodon,
) -> None:
    api = client(server)
    server.drop_after_create()
    with pytest.raises(MastodonNetworkError):
        api.status_post("hello", idempotency_key="k")
    assert len(server.statuses()) == 1
    retried = api.status_post("hello", idempotency_key="k")
    assert str(retried.id) == server.statuses()[0].id
    assert [r.status for r in server.requests("POST")] == [None, 200]
    assert not server.duplicates()


def test_slow_answers_trip_client_timeouts(server: FakeMastodon) -> None:
    server.slow("/api/v1/statuses", 0.1, after_processing=True)
    with pytest.raises(MastodonNetworkError):
        client(server, request_timeout=0.03).status_post("late")
    assert [s.text for s in server.statuses()] == ["late"]  # done, answer too late
    server.slow("/api/v2/instance", 0.1)
    started = time.monotonic()
    client(server).instance_v2()
    assert time.monotonic() - started >= 0.1
    server.slow("/api/v2/instance", 0)
    started = time.monotonic()
    client(server).instance_v2()
    assert time.monotonic() - started < 0.1


def test_a_held_request_is_let_go_at_once_when_released(server: FakeMastodon) -> None:
    server.slow("/api/v1/statuses", 30, after_processing=True)
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(client(server).status_post, "held")
        while not server.in_flight():
            time.sleep(0.001)
        assert [s.text for s in server.statuses()] == ["held"]  # done, answer held
        started = time.monotonic()
        server.release_held()
        assert answer.result(timeout=5).content == "<p>held</p>"
    assert time.monotonic() - started < 5
    assert server.in_flight() == []


# -- setup --------------------------------------------------------------------------------------


def test_add_status_is_as_if_posted_earlier_with_its_key() -> None:
    clock = FakeClock(START)
    with FakeMastodon(clock=clock) as server:
        earlier = START - timedelta(minutes=50)
        first = server.add_status("from before", at=earlier, idempotency_key="k")
        reply = server.add_status("and a reply", in_reply_to_id=first)
        api = client(server)
        again = api.status_post("from before", idempotency_key="k")
        assert str(again.id) == first
        clock.advance(10 * 60)  # the key was remembered at `earlier`: an hour has passed
        assert str(api.status_post("from before", idempotency_key="k").id) != first
        own = api.account_statuses(server.account_id)
    assert [str(s.id) for s in own][1:] == [reply, first]
    assert str(own[1].in_reply_to_id) == first
    assert server.statuses()[0].created_at == earlier.timestamp()


def test_a_known_remote_account_is_shown_as_its_user_name(server: FakeMastodon) -> None:
    server.add_remote_account("pal@twitter.com")
    status = client(server).status_post("thanks @pal@twitter.com and @bob@twitter.com")
    assert status.content == (
        '<p>thanks <span class="h-card" translate="no"><a href="https://twitter.com/@pal" '
        'class="u-url mention">@<span>pal</span></a></span> and @bob@twitter.com</p>'
    )
    assert server.statuses()[0].mentions == ()


# -- profiles -----------------------------------------------------------------------------------


def test_the_mastodon_profile_is_the_default_and_reports_its_version(
    server: FakeMastodon,
) -> None:
    assert server.profile is MASTODON is PROFILES["mastodon"]
    assert client(server).instance_v2().version == "4.3.0"
    assert raw(server, "/api/v1/instance/").status == 200  # a trailing slash is fine


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_profile_says_its_version_and_software(name: str) -> None:
    profile = PROFILES[name]
    with FakeMastodon(profile=profile) as server:
        v1 = json.load(raw(server, "/api/v1/instance"))
        links = json.load(raw(server, "/.well-known/nodeinfo"))["links"]
        nodeinfo = json.load(raw(server, "/nodeinfo/2.0"))
        assert links[0]["href"] == profile.nodeinfo_href.format(base=server.url)
    assert v1["version"] == profile.version
    assert v1["configuration"]["statuses"]["max_characters"] == profile.limits.max_characters
    assert (nodeinfo["software"]["name"], nodeinfo["software"]["version"]) == profile.software


def test_gotosocial_ignores_keys_redirects_a_slash_and_counts_code_points() -> None:
    with FakeMastodon(profile=GOTOSOCIAL) as server:
        api = client(server)
        one = api.status_post("same key", idempotency_key="k")
        two = api.status_post("same key", idempotency_key="k")
        assert one.id != two.id  # keys ignored
        assert one.url == f"{server.url}/@me/statuses/{one.id}"
        assert raw(server, "/api/v2/instance/").status == 200  # urllib follows the 301
        assert [r.status for r in server.requests("GET")] == [301, 200]
        assert raw(server, "/api/v1/apps/verify_credentials").status == 404  # `read` token
        server.token_scopes = ("write:statuses", "read:accounts")
        assert raw(server, "/api/v1/apps/verify_credentials").status == 403
        assert raw(server, "/api/v1/accounts/verify_credentials", token="bad").status == 401
        url = "https://example.com/" + "a" * 4980  # 23 for Mastodon, 5000 here
        api.status_post(url)
        with pytest.raises(MastodonAPIError) as too_long:
            api.status_post(url + "a")
        assert api_error(too_long) == (
            400,
            "Bad Request: text with spoiler exceed max chars (5000)",
        )
        assert api.media_post(MP4, mime_type="video/mp4").url  # processed at once: 200
        assert "api_versions" not in json.load(raw(server, "/api/v2/instance"))


def test_takahe_refuses_slashes_bad_tokens_everywhere_video_and_granular_reads() -> None:
    with FakeMastodon(profile=TAKAHE) as server:
        api = client(server)
        assert raw(server, "/api/v1/instance/").status == 404
        assert raw(server, "/api/v1/instance").status == 200
        for path in ("/api/v1/instance", "/api/v1/accounts/verify_credentials"):
            refused = raw(server, path, token="bad")
            assert (refused.status, refused.read()) == (400, b"Invalid Bearer token")
            assert refused.headers["Content-Type"].startswith("text/html")
        assert "scopes" not in json.load(raw(server, "/api/v1/apps/verify_credentials"))
        server.token_scopes = ("read:accounts", "read:statuses", "write:statuses")
        assert raw(server, "/api/v1/apps/verify_credentials").status == 403
        assert raw(server, "/api/v1/accounts/verify_credentials").status == 403
        one = api.status_post("same key", idempotency_key="k")
        assert api.status_post("same key", idempotency_key="k").id != one.id
        assert one.url == f"https://takahe.test/@me/posts/{one.id}/"
        api.status_post("a" * 500, spoiler_text="not counted")
        with pytest.raises(MastodonAPIError) as too_long:
            api.status_post("https://example.com/" + "a" * 481)  # 23 for Mastodon
        assert api_error(too_long) == (400, "Status is too long")
        with pytest.raises(MastodonInternalServerError):
            api.media_post(MP4, mime_type="video/mp4")
        media = json.load(raw(server, "/api/v2/instance"))["configuration"]["media_attachments"]
        assert media["video_size_limit"] == 0 and "description_limit" not in media


def test_pleroma_keeps_keys_for_the_whole_server_and_has_no_v2_instance() -> None:
    with FakeMastodon(profile=PLEROMA) as server:
        api = client(server)
        one = api.status_post("same key", idempotency_key="k")
        assert api.status_post("same key", idempotency_key="k").id == one.id
        assert one.url == f"{server.url}/notice/{one.id}"
        assert raw(server, "/api/v2/instance").status == 404
        refused = raw(server, "/api/v1/accounts/verify_credentials", token="bad")
        assert (refused.status, json.load(refused)) == (403, {"error": "Invalid credentials."})
        api.status_post("👨‍👩‍👧‍👦" * 5000)  # 5000 grapheme clusters, 35000 code points


def keyed_twice(server: FakeMastodon, clock: FakeClock, after: float) -> tuple[str, Any]:
    """Post with key "k", move the clock `after` seconds, post again with "k": (first id,
    raw answer to the second)."""
    first = client(server).status_post("keyed", idempotency_key="k")
    clock.advance(after)
    body = json.dumps({"status": "keyed again"}).encode()
    request = urllib.request.Request(server.url + "/api/v1/statuses", data=body)
    request.add_header("Authorization", "Bearer test-token")
    request.add_header("Content-Type", "application/json")
    request.add_header("Idempotency-Key", "k")
    with urllib.request.urlopen(request, timeout=5) as answer:
        return str(first.id), json.load(answer)


@pytest.mark.parametrize(
    ("name", "kept", "forgotten"),
    [
        ("mastodon", 3599.0, 3600.0),
        ("pleroma", 6 * 3600 - 1.0, 6 * 3600.0),
        ("replay-no-body", 3599.0, 3600.0),
        ("gotosocial", None, 0.0),
        ("takahe", None, 0.0),
    ],
)
def test_each_profile_keeps_an_idempotency_key_as_its_server_does(
    clock: FakeClock, name: str, kept: float | None, forgotten: float
) -> None:
    profile = PROFILES[name]
    if kept is not None:
        with FakeMastodon(profile=profile, clock=clock) as server:
            first, again = keyed_twice(server, clock, kept)
            assert len(server.statuses()) == 1
            assert again == ({} if profile.replay == "no-body" else again | {"id": first})
    with FakeMastodon(profile=profile, clock=clock) as server:
        first, again = keyed_twice(server, clock, forgotten)
        assert len(server.statuses()) == 2 and again["id"] != first


def test_a_replayed_key_under_way_is_answered_409(clock: FakeClock) -> None:
    with FakeMastodon(profile=PROFILES["replay-no-body"], clock=clock) as server:
        server.slow("/api/v1/statuses", 5.0, times=1)
        api = client(server)
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(api.status_post, "slow one", idempotency_key="k")
            while not server.in_flight():
                time.sleep(0.001)
            with pytest.raises(MastodonAPIError) as excinfo:
                client(server).status_post("slow one", idempotency_key="k")
            assert api_error(excinfo) == (409, "request already under way")
            server.release_held()
            assert first.result().id == server.statuses()[0].id
        assert len(server.statuses()) == 1


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("mastodon", "{base}/@me/{id}"),
        ("gotosocial", "{base}/@me/statuses/{id}"),
        ("takahe", "https://takahe.test/@me/posts/{id}/"),
        ("pleroma", "{base}/notice/{id}"),
        ("replay-no-body", "{base}/@me/statuses/{id}"),
    ],
)
def test_each_profile_shapes_status_urls_as_its_server(name: str, shape: str) -> None:
    with FakeMastodon(profile=PROFILES[name]) as server:
        status = client(server).status_post("where am I")
        assert status.url == shape.format(base=server.url, id=status.id)


def test_takahe_hides_private_statuses_from_the_owners_list_but_not_from_home() -> None:
    with FakeMastodon(profile=PROFILES["takahe"]) as server:
        api = client(server)
        for visibility in ("public", "unlisted", "private", "direct"):
            api.status_post(visibility, visibility=visibility)
        listed = api.account_statuses(server.account_id, limit=40)
        assert sorted(s.visibility for s in listed) == ["public", "unlisted"]
        home = api.timeline_home(limit=40)
        assert [s.visibility for s in home] == ["direct", "private", "unlisted", "public"]
    with FakeMastodon(profile=PROFILES["gotosocial"]) as server:
        api = client(server)
        api.status_post("private", visibility="private")
        assert [s.visibility for s in api.account_statuses(server.account_id)] == ["private"]


def test_a_profile_may_not_name_a_route_the_fake_lacks() -> None:
    with pytest.raises(ValueError, match="unknown routes"):
        ServerProfile(name="typo", version="1", missing_routes=frozenset({"statuses"}))


# -- inspection ---------------------------------------------------------------------------------


def test_duplicates_and_reset(server: FakeMastodon) -> None:
    api = client(server)
    server.add_local_account("friend")
    api.status_post("same")
    api.status_post("same")
    assert server.duplicates().texts == {"same": 2}
    assert server.requests("POST", "/api/v1/statuses")[0].headers["authorization"]
    server.revoke_token()
    server.reset()
    assert not server.duplicates()
    assert server.statuses() == [] and server.requests() == []
    assert api.status_post("@friend hi").mentions == []


def test_bad_bodies_and_vanished_clients_leave_the_server_working(
    server: FakeMastodon,
) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"POST /api/v1/statuses HTTP/1.1\r\nContent-Length: 100\r\n\r\nstatus=hal")
    request = urllib.request.Request(
        server.url + "/api/v1/statuses",
        data=b"{not json",
        headers={"Content-Type": "application/json", "Authorization": "Bearer test-token"},
    )
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=5)
    assert excinfo.value.code == 400
    assert client(server).status_post("still here").content == "<p>still here</p>"
    assert [s.text for s in server.statuses()] == ["still here"]


# --- boosts and quote posts -----------------------------------------------------------------


def test_a_boost_is_one_per_status_and_the_own_list_can_leave_boosts_out(
    server: FakeMastodon,
) -> None:
    api = client(server)
    original = api.status_post("Worth saying twice")
    first = api.status_reblog(original["id"])
    again = api.status_reblog(original["id"])  # Mastodon answers with the boost there is
    assert again["id"] == first["id"] and first["reblog"]["id"] == original["id"]
    assert api.status(original["id"])["reblogged"] is True
    me = server.account_id
    assert [s["id"] for s in api.account_statuses(me)] == [first["id"], original["id"]]
    assert [s["id"] for s in api.account_statuses(me, exclude_reblogs=True)] == [original["id"]]
    assert not server.duplicates()
    with pytest.raises(MastodonNotFoundError):
        api.status_reblog("999")


def test_quote_posts_from_mastodon_api_7_on() -> None:
    quoting = PROFILES["mastodon-4.5"]
    with FakeMastodon(profile=quoting) as server:
        api = client(server)
        assert api.instance_v2()["api_versions"] == {"mastodon": 7}
        quoted = api.status_post("The original")
        quote = api.status_post("Still true", quoted_status_id=quoted["id"])
        assert quote["quote"]["state"] == "accepted"
        assert quote["quote"]["quoted_status"]["id"] == quoted["id"]
        assert api.status(quoted["id"])["quote"] is None
        with pytest.raises(MastodonNotFoundError):
            api.status_post("Of nothing", quoted_status_id="999")
    with FakeMastodon(profile=MASTODON) as server:  # 4.3: the parameter is ignored
        api = client(server)
        quoted = api.status_post("The original")
        quote = api.status_post("Still true", quoted_status_id=quoted["id"])
        assert quote.get("quote") is None and server.statuses()[-1].quoted_status_id is None
