"""Pure text transforms for the fediverse: links to Twitter, and @mentions.

A bare `@name` in a Mastodon status notifies the local user of that name if one
exists: an unrelated stranger. So after `rewrite` no `@` is left that Mastodon
would parse as a local mention; only fediverse handles (`@user@domain`) remain,
the ones already in the text and the ones the owner mapped on purpose.
The mention rule mirrors Mastodon's own (`Account::MENTION_RE` in its source):
an `@` not preceded by `=`, `/` or a word character, a username made of
`[a-z0-9_]` runs joined by `.` or `-`, then optionally `@domain`. Which of
those are Twitter mentions follows Twitter's rule (1–15 of `[A-Za-z0-9_]`);
the others were plain text on Twitter and only get a fullwidth `＠`.

The text is cut into URLs and the rest by one regex (`url_spans`): links are
rewritten only inside URLs, mentions only outside them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

SelfUnposted = Literal["keep", "archive"]
Mapped = Literal["mention", "link"]
Unmapped = Literal["domain", "fullwidth", "link", "plain"]

TWITTER_HOSTS = frozenset(
    f"{prefix}{domain}" for prefix in ("", "www.", "mobile.") for domain in ("twitter.com", "x.com")
)

# A URL needs its scheme (Mastodon links nothing else) and may not follow a
# letter or digit, as in Mastodon's linkifier; its host ends at the first
# character a host cannot hold, so "https://x.com,@bob" leaves the mention out.
_URL_RE = re.compile(
    r"(?<![A-Za-z0-9@＠$#＃])https?://[\w.-]+(?::\d+)?(?:[/?#][^\s<>\"]*)?", re.IGNORECASE
)
_TRAILING = ".,:;!?'\"*…”’»)]}"
_OPENERS = {")": "(", "]": "[", "}": "{"}

# The username part is Mastodon's; the domain is kept ASCII so that whenever we
# see a domain Mastodon sees one too (its domain class is a superset).
_MENTION_RE = re.compile(
    r"@(?P<name>[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?P<domain>@[a-z0-9.-]+[a-z0-9])?", re.IGNORECASE
)
_TWITTER_NAME_RE = re.compile(r"[A-Za-z0-9_]{1,15}(?![A-Za-z0-9_@])")
# Twitter does not start a mention after these (twitter-text's rule).
_NOT_BEFORE_TWITTER_MENTION = frozenset("!#$%&*@＠")
# Ruby's [[:word:]]: letters, marks, decimal digits, connector punctuation.
_WORD_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Pc"})

_HANDLE_RE = re.compile(
    r"@?(?P<user>[A-Za-z0-9_]+(?:[.-]+[A-Za-z0-9_]+)*)@(?P<host>[\w-]+(?:\.[\w-]+)+)"
)
_STATUS_PATH_RE = re.compile(
    r"/(?P<user>[A-Za-z0-9_]{1,15})/status(?:es)?/(?P<id>\d+)(?:/(?:photo|video)/\d+)?/?"
)
_WEB_STATUS_PATH_RE = re.compile(r"/i(?:/web)?/status/(?P<id>\d+)/?")


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """How links to twitter.com / x.com are rewritten.

    owner: the archive owner's screen name (any case); None when unknown, then
        only `owner_ids` and `posted` identify the owner's tweets.
    owner_ids: ids of the owner's tweets (the archive's), any container (a
        set, or the index's compact id set); a status link with one of them is
        a self-link whatever user name the link carries (the owner may have
        been renamed since).
    posted: tweet id -> URL of the Mastodon status it became (from state).
    self_unposted: a self-link to a tweet not posted yet: "keep" leaves the link
        as it is, "archive" replaces it with `archive_template`.
    archive_template: a URL with `{url}`, filled with the tweet's canonical
        `https://twitter.com/<owner>/status/<id>` URL.
    twitter_host: when set (e.g. "xcancel.com"), other Twitter links get this
        host over https, path and query kept; empty keeps them as they are.
    """

    owner: str | None = None
    owner_ids: Container[str] = frozenset()
    posted: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    self_unposted: SelfUnposted = "keep"
    archive_template: str = "https://web.archive.org/web/{url}"
    twitter_host: str = ""


@dataclass(frozen=True, slots=True)
class MentionOptions:
    """How Twitter @mentions are rewritten.

    handles: Twitter screen name -> fediverse handle "@user@instance" (keys in
        any case, with or without "@"). A malformed handle raises ValueError.
    mapped: a mapped name becomes the handle ("mention", which notifies that
        account) or a link to its profile, `https://instance/@user` ("link").
    unmapped: any other name becomes `@name@twitter.com` ("domain"), `＠name`
        ("fullwidth"), `https://<link_host>/name` ("link") or `name` ("plain").
    link_host: the host of "link" profile URLs (pass `links.twitter_host` when
        it is set).
    """

    handles: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    mapped: Mapped = "mention"
    unmapped: Unmapped = "domain"
    link_host: str = "twitter.com"
    _accounts: Mapping[str, tuple[str, str]] = field(
        init=False, repr=False, compare=False, default_factory=lambda: MappingProxyType({})
    )

    def __post_init__(self) -> None:
        accounts = {
            name.lstrip("@").lower(): _parse_handle(name, handle)
            for name, handle in self.handles.items()
        }
        object.__setattr__(self, "_accounts", MappingProxyType(accounts))

    def account(self, name: str) -> tuple[str, str] | None:
        """The (user, instance) mapped to Twitter screen name `name`, or None."""
        return self._accounts.get(name.lower())


def _parse_handle(name: str, handle: str) -> tuple[str, str]:
    match = _HANDLE_RE.fullmatch(handle.strip())
    if match is None:
        raise ValueError(f"handle for {name!r} is not @user@instance: {handle!r}")
    return match["user"], match["host"].lower()


def url_spans(text: str) -> list[tuple[int, int]]:
    """Where the URLs are in `text`: (start, end) offsets, in order.

    A URL starts with http:// or https://; trailing punctuation (".", ",",
    an unbalanced ")", closing quotes, "…") is not part of it.
    """
    spans = []
    for match in _URL_RE.finditer(text):
        url = _trim(match.group())
        if _URL_RE.fullmatch(url):
            spans.append((match.start(), match.start() + len(url)))
    return spans


def handle_spans(text: str) -> list[tuple[int, int]]:
    """Where the `@name` and `@name@domain` tokens outside URLs are, in order."""
    urls = url_spans(text)
    return [
        match.span()
        for match in _MENTION_RE.finditer(text)
        if not any(start <= match.start() < end for start, end in urls)
    ]


def rewrite(text: str, links: LinkOptions, mentions: MentionOptions) -> str:
    """Rewrite Twitter links and @mentions in `text` for Mastodon.

    links: how links to tweets and to twitter.com/x.com change.
    mentions: how @names change.

    Returns the new text; everything outside links and mentions is unchanged.
    """
    return _rewrite(text, links, mentions)


def rewrite_mentions(text: str, mentions: MentionOptions) -> str:
    """Rewrite only the @mentions of `text` (for text such as the footer).

    URLs are left as they are, except for an `@` Mastodon would read as a
    mention (see `rewrite`).
    """
    return _rewrite(text, None, mentions)


def _rewrite(text: str, links: LinkOptions | None, mentions: MentionOptions) -> str:
    pieces: list[str] = []
    done = 0
    for start, end in url_spans(text):
        pieces.extend(_mentions(text, done, start, mentions))
        url = text[start:end]
        pieces.append(_defuse(rewrite_link(url, links) if links else url))
        done = end
    pieces.extend(_mentions(text, done, len(text), mentions))
    return "".join(pieces)


def rewrite_link(url: str, links: LinkOptions) -> str:
    """The URL that replaces `url` (one URL, as found by `url_spans`).

    A link to one of the owner's tweets becomes its Mastodon status URL when
    posted, else follows `links.self_unposted`; another twitter.com / x.com
    link gets `links.twitter_host` when set; any other URL is returned as is.
    """
    parts = urlsplit(url)
    if parts.netloc.lower() not in TWITTER_HOSTS:
        return url
    tweet_id, canonical = _self_link(parts.path, links)
    if tweet_id is not None:
        if tweet_id in links.posted:
            return links.posted[tweet_id]
        if links.self_unposted == "archive":
            # str.replace, not format: a stray brace in the template must not raise.
            return links.archive_template.replace("{url}", canonical)
        return url
    if links.twitter_host:
        return urlunsplit(("https", links.twitter_host, parts.path, parts.query, parts.fragment))
    return url


def linked_statuses(text: str) -> frozenset[str]:
    """The ids of every tweet a twitter.com / x.com link in `text` points at: all that
    `rewrite` may look up in `LinkOptions.posted` (the owner's, and more)."""
    found = set()
    for start, end in url_spans(text):
        parts = urlsplit(text[start:end])
        if parts.netloc.lower() in TWITTER_HOSTS:
            match = _STATUS_PATH_RE.fullmatch(parts.path) or _WEB_STATUS_PATH_RE.fullmatch(
                parts.path
            )
            if match:
                found.add(match["id"])
    return frozenset(found)


def _self_link(path: str, links: LinkOptions) -> tuple[str | None, str]:
    """(tweet id, canonical URL) when `path` is a status of the owner, else (None, "")."""
    owner = links.owner
    if match := _STATUS_PATH_RE.fullmatch(path):
        tweet_id, user = match["id"], match["user"]
        by_owner = owner is not None and user.lower() == owner.lower()
        if by_owner or tweet_id in links.owner_ids or tweet_id in links.posted:
            return tweet_id, f"https://twitter.com/{owner or user}/status/{tweet_id}"
    elif match := _WEB_STATUS_PATH_RE.fullmatch(path):
        tweet_id = match["id"]
        if tweet_id in links.owner_ids or tweet_id in links.posted:
            user = owner or "i/web"
            return tweet_id, f"https://twitter.com/{user}/status/{tweet_id}"
    return None, ""


def _mentions(text: str, start: int, end: int, mentions: MentionOptions) -> Iterator[str]:
    """The pieces of text[start:end] with every bare mention rewritten."""
    done = start
    for match in _bare_mentions(text, start, end):
        yield text[done : match.start()]
        yield _replace_mention(text, match, mentions)
        done = match.end()
    yield text[done:end]


def _bare_mentions(text: str, start: int, end: int) -> Iterator[re.Match[str]]:
    """Mastodon mentions without a domain in text[start:end] (context before start counts)."""
    for match in _MENTION_RE.finditer(text, start, end):
        if match["domain"] is None and _may_start_mention(text, match.start()):
            yield match


def _may_start_mention(text: str, at: int) -> bool:
    if at == 0:
        return True
    before = text[at - 1]
    return before not in "=/" and unicodedata.category(before) not in _WORD_CATEGORIES


def _replace_mention(text: str, match: re.Match[str], mentions: MentionOptions) -> str:
    """The replacement of one bare mention: policy for Twitter's, `＠` for the rest."""
    at = match.start()
    twitter = _TWITTER_NAME_RE.match(text, at + 1, match.end() + 1)
    before = text[at - 1] if at else ""
    if twitter is None or before in _NOT_BEFORE_TWITTER_MENTION:
        return "＠" + match["name"]
    name = twitter.group()
    replacement = _mention_for(name, mentions)
    if _glued(replacement, text[twitter.end() :]):
        replacement += " "
    if before and before in ".-" and replacement[0].isalnum():
        replacement = " " + replacement  # "@me@a.example.@bob": the domain would take it in
    return replacement + text[twitter.end() : match.end()]


def _glued(replacement: str, after: str) -> bool:
    """Whether `after`, right behind a rewritten mention, would be read as part
    of it: `@bob.smith` was Twitter's @bob then ".smith", but
    `@bob@twitter.com.smith` is one handle on another domain to Mastodon and
    to readers, and `https://twitter.com/bob.smith` another profile. Such a
    mention is kept apart from what follows by a space (and, the other way
    round, from a dot or hyphen before it when it starts with a letter)."""
    if not after or after[0].isspace():
        return False
    if replacement.startswith("@"):
        rest = after.lstrip(".-")
        return bool(rest) and unicodedata.category(rest[0]) in _WORD_CATEGORIES
    if replacement.startswith("https://"):
        spans = url_spans(replacement + after)
        return bool(spans) and spans[0][0] == 0 and spans[0][1] > len(replacement)
    return False


def _mention_for(name: str, mentions: MentionOptions) -> str:
    account = mentions.account(name)
    if account is not None:
        user, instance = account
        return (
            f"@{user}@{instance}" if mentions.mapped == "mention" else f"https://{instance}/@{user}"
        )
    match mentions.unmapped:
        case "domain":
            return f"@{name}@twitter.com"
        case "fullwidth":
            return f"＠{name}"
        case "link":
            return f"https://{mentions.link_host}/{name}"
        case "plain":
            return name


def _defuse(url: str) -> str:
    """Percent-encode each `@` in a URL that Mastodon would read as a bare mention.

    Mastodon scans the whole text for mentions, URLs included: "/@user" is
    safe (after "/"), but "https://a.example/x,@user" would notify a local user.
    """
    for match in reversed(list(_bare_mentions(url, 0, len(url)))):
        url = url[: match.start()] + "%40" + url[match.start() + 1 :]
    return url


def _trim(url: str) -> str:
    while url and url[-1] in _TRAILING:
        opener = _OPENERS.get(url[-1])
        if opener is not None and url.count(opener) >= url.count(url[-1]):
            break
        url = url[:-1]
    return url
