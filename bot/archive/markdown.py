"""Reader for twitter-archive-parser markdown, both generations.

Older: blocks separated by a `----` line, plain body, footer
`(Originally on Twitter: [DATE](URL))`, media `![](media/ID-name.jpg)`.

Newer: the same separator, an optional `Replying to [@a and @b](URL)` header,
body lines quoted with `> `, markdown backslash escapes and a two-space marker
before every line break, footer `<img src="…tweet.ico" width="12" /> [DATE](URL)`,
media `![](../../media/ID-name.jpg)` or `<video controls><source src="…">…</video>`.
The parser removed the leading `@names` of replies from the body (they are in
the header); we put them back so the text is what the tweet said.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from bot.archive.base import Found
from bot.archive.repair import repair
from bot.archive.text import (
    TWEET_LINK,
    clean_text,
    is_retweet,
    leading_mention,
    parse_twitter_date,
    quoted_id,
    tweet_url,
)
from bot.archive.tree import MISSING, OUTSIDE, Tree, join_ref
from bot.model import Media, MediaKind, Tweet

FOOTER_MARKS = ("Originally on Twitter: [", 'width="12" /> [')
# The very first releases wrote the older footer without its parentheses.
_OLD_FOOTER = re.compile(r"\(?Originally on Twitter: \[([^\]]*)\]\(([^\s)]*)\)\)?")
_NEW_FOOTER = re.compile(r'<img src="[^"]*" width="12" ?/> \[([^\]]*)\]\(([^\s)]*)\)')
_REPLY_HEADER = re.compile(r"Replying to \[(.*)\]\(([^\s)]*)\)")
# Media markup, with the blank the parser put before it.
_MEDIA = re.compile(
    r"[ \t]*(?:!\[([^\]]*)\]\(([^)\s]+)\)"
    r'|<video\b[^>]*>\s*<source src="([^"]+)"[^>]*>.*?</video>)'
)
_ESCAPED = re.compile(r"\\([\\_*\[\]()~`>#+\-=|{}.!])")
_NAME = re.compile(r"@([A-Za-z0-9_]+)")


@dataclass
class _File:
    """One markdown file being read."""

    tree: Tree
    rel: str
    found: Found

    def problem(self, line_no: int, reason: str) -> None:
        self.found.problem(f"{self.tree.label(self.rel)}:{line_no}", reason)


def read_markdown(tree: Tree, rel: str, text: str, found: Found) -> bool:
    """Read the tweets of one markdown file into found.markdown.

    tree, rel: where the file is (media references resolve from its folder).
    text: its decoded content. found: collects tweets, problems and authors.
    Returns False, reading nothing, when the file holds no tweet footer at all
    (a README, a DM export): it is not a tweet archive file.
    """
    if not any(mark in text for mark in FOOTER_MARKS):
        return False
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    source = _File(tree, rel, found)
    lines = text.split("\n")
    start = 0
    for index, line in enumerate(lines):
        if line.startswith("----") and line.rstrip() == "----":
            _read_block(source, lines[start:index], start + 1)
            start = index + 1
    _read_block(source, lines[start:], start + 1)
    return True


def _read_block(source: _File, lines: list[str], first_no: int) -> None:
    """Turn one block (its lines, the first being line first_no) into a Tweet."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    if not filled:
        return
    top, bottom = filled[0], filled[-1]
    footer = lines[bottom].strip()
    match = _OLD_FOOTER.fullmatch(footer)
    quoted = match is None
    if match is None:
        match = _NEW_FOOTER.fullmatch(footer)
    if match is None:
        source.problem(first_no + top, "no footer with the tweet's date and link; block skipped")
        return
    date_text, link = match.groups()
    created_at = parse_twitter_date(date_text)
    if created_at is None:
        source.problem(first_no + bottom, f"unparseable date {date_text!r}; tweet skipped")
        return
    link_match = TWEET_LINK.fullmatch(link)
    if link_match is None:
        source.problem(first_no + bottom, f"no tweet id in link {link!r}; tweet skipped")
        return
    author, tweet_id = link_match.groups()
    source.found.authors[author] += 1
    body = _Body(source, lines[top:bottom], first_no + top)
    text, reply_user, reply_id = body.quoted_text(author) if quoted else body.plain_text()
    retweet = is_retweet(text)
    source.found.markdown.append(
        Tweet(
            id=tweet_id,
            created_at=created_at,
            text=text,
            url=tweet_url(author, tweet_id),
            in_reply_to_id=reply_id,
            in_reply_to_user=reply_user,
            is_retweet=retweet,
            media=tuple(body.media),
            source=f"{source.tree.label(source.rel)}:{first_no + top}",
            quote_of=None if retweet else quoted_id(text, tweet_id),
        )
    )


class _Body:
    """The lines of a block above its footer; collects media as it goes."""

    def __init__(self, source: _File, lines: list[str], first_no: int) -> None:
        self.source = source
        self.lines = lines
        self.first_no = first_no
        self.media: list[Media] = []

    def plain_text(self) -> tuple[str, str | None, str | None]:
        """Older generation: text, reply-to user (from a leading @name), reply-to id."""
        text = clean_text("\n".join(self._without_media(self.lines, self.first_no)).strip())
        return text, leading_mention(text), None

    def quoted_text(self, author: str) -> tuple[str, str | None, str | None]:
        """Newer generation: unquote, unescape, and rebuild the leading @names."""
        lines, first_no = self.lines, self.first_no
        header = _REPLY_HEADER.fullmatch(lines[0].strip()) if lines else None
        if header is not None:
            lines, first_no = lines[1:], first_no + 1
        unquoted = [line[2:] if line.startswith("> ") else line.lstrip(">") for line in lines]
        kept = self._without_media(unquoted, first_no)
        # escape_markdown put two spaces before each original line break.
        joined = "\n".join(line[:-2] if line.endswith("  ") else line for line in kept)
        text = clean_text(_ESCAPED.sub(r"\1", joined).strip())
        if header is None:
            return text, leading_mention(text), None
        names = _NAME.findall(_ESCAPED.sub(r"\1", header.group(1)))
        link = TWEET_LINK.fullmatch(header.group(2))
        reply_user = link.group(1) if link else None
        if reply_user in (None, "None"):  # the parser wrote a missing screen name as None
            reply_user = names[0] if names else None
        if names and [n.lower() for n in names] != [author.lower()]:
            text = " ".join(f"@{n}" for n in names) + (f" {text}" if text else "")
        return text, reply_user, link.group(2) if link else None

    def _without_media(self, lines: list[str], first_no: int) -> list[str]:
        """The lines with media markup removed, each reference recorded in self.media."""
        kept = []
        for offset, line in enumerate(lines):
            if "![" in line or "<video" in line:
                for match in _MEDIA.finditer(line):
                    self.media.append(self._media(match, first_no + offset))
                line = _MEDIA.sub("", line)
            kept.append(line)
        return kept

    def _media(self, match: re.Match[str], line_no: int) -> Media:
        """One media reference, checked: it must be a file inside the archive."""
        alt, image, video = match.groups()
        ref = image if image is not None else video
        kind: MediaKind = "image" if image is not None else "video"
        description = repair(alt) if alt else None
        source = self.source
        if ref.startswith(("http://", "https://")):
            source.problem(line_no, f"media {ref} is a link, not a file in the archive")
            return Media(ref, kind, description, MISSING)
        rel = join_ref(posixpath.dirname(source.rel), ref)
        if rel is None:
            path = posixpath.normpath(posixpath.join(posixpath.dirname(source.rel), ref))
            problem: str | None = OUTSIDE
        else:
            path, problem = source.tree.label(rel), source.tree.media_problem(rel)
        if problem == OUTSIDE:
            source.problem(line_no, f"media {path} is outside the archive; refused")
        elif problem is not None:
            source.problem(line_no, f"media file {path} is missing")
        return Media(path, kind, description, problem)
