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
from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.archive.base import MAX_PROBLEMS_PER_FILE, Found
from bot.archive.repair import repair
from bot.archive.text import (
    TWEET_LINK,
    DateOutOfRange,
    clean_text,
    controls_removed,
    is_retweet,
    leading_mention,
    parse_twitter_date,
    quoted_id,
    strip_controls,
    tweet_url,
)
from bot.archive.tree import MISSING, OUTSIDE, Tree, bounded, human_size, join_ref, size_problem
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
_BLOCK = 256 << 10
_BOM = b"\xef\xbb\xbf"
# Stands in for a line too long to keep; decoded text never holds a lone surrogate.
TOO_LONG = "\udfff(line too long)"


@dataclass
class _File:
    """One markdown file being read.

    tweets: set once the file shows a tweet footer; until then its problems
        are held back (a README is no tweet file, and its blocks no problems).
    """

    tree: Tree
    rel: str
    found: Found
    tweets: bool = False
    held: list[tuple[str, str]] = field(default_factory=list)
    bad_utf8: bool = False

    def problem(self, line_no: int, reason: str) -> None:
        where = f"{self.tree.label(self.rel)}:{line_no}"
        if self.tweets:
            self.found.problem(where, reason)
        elif len(self.held) < MAX_PROBLEMS_PER_FILE:
            self.held.append((where, reason))

    def is_tweets(self) -> None:
        """The file holds tweets: report what was held back."""
        if not self.tweets:
            self.tweets = True
            for where, reason in self.held:
                self.found.problem(where, reason)
            self.held.clear()

    def decode(self, raw: bytes, line_no: int) -> str:
        """Whole lines (the first being line_no) as text; bad UTF-8 becomes U+FFFD,
        reported once per file with its line."""
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if not self.bad_utf8:
                self.bad_utf8 = True
                bad_line = line_no + raw.count(b"\n", 0, exc.start)
                self.problem(bad_line, "not valid UTF-8; undecodable bytes replaced with U+FFFD")
            return raw.decode("utf-8", errors="replace")


def read_markdown(tree: Tree, rel: str, found: Found) -> bool:
    """Read the tweets of one markdown file into found.markdown, a line at a time.

    tree, rel: where the file is (media references resolve from its folder).
    found: collects tweets, problems and authors, and sets the limits: a file
    over max_file_size is skipped, a block (one tweet) over max_item_size too.
    Returns False, reading nothing, when the file holds no tweet footer at all
    (a README, a DM export): it is not a tweet archive file.
    Raises OSError when the file cannot be read.
    """
    limits = found.limits
    refused = tree.refusal(rel, limits.max_file_size, limits.max_zip_ratio)
    if refused is not None:
        found.problem(tree.label(rel), f"{refused}; file skipped")
        return False
    source = _File(tree, rel, found)
    blocks = bounded(tree.blocks(rel, _BLOCK), rel, limits.max_file_size)
    _Blocks(source, limits.max_item_size).read(_line_batches(blocks, limits.max_item_size, source))
    return source.tweets


class _Blocks:
    """Cuts the lines of a file into blocks at `----` lines and reads each.

    held: the lines of the block under way, from earlier batches; a block grown
    past max_size characters (about bytes) is dropped, and reported once it ends.
    """

    def __init__(self, source: _File, max_size: int) -> None:
        self.source = source
        self.max_size = max_size
        self.held: list[str] = []
        self.size = 0
        self.first_no = 1  # the line number of the block's first line
        self.oversized = False

    def read(self, batches: Iterator[list[str]]) -> None:
        line_no = 1  # of batch[0]
        for batch in batches:
            start = 0
            for index, line in enumerate(batch):
                if line.startswith("----") and line.rstrip() == "----":
                    self._add(batch[start:index])
                    self._finish()
                    start, self.first_no = index + 1, line_no + index + 1
            self._add(batch[start:])
            line_no += len(batch)
        self._finish()

    def _add(self, lines: list[str]) -> None:
        if self.oversized:
            return
        self.size += sum(map(len, lines)) + len(lines)
        if self.size > self.max_size or TOO_LONG in lines:
            self.oversized, self.held = True, []
        else:
            self.held += lines

    def _finish(self) -> None:
        """Read the block held; whatever goes wrong costs this block only."""
        lines, oversized, first_no = self.held, self.oversized, self.first_no
        self.held, self.size, self.oversized = [], 0, False
        source = self.source
        if oversized:
            size = human_size(self.max_size)
            source.problem(first_no, f"block larger than {size}; skipped")
            return
        try:
            _read_block(source, lines, first_no)
        except Exception as exc:  # one bad block must not stop the archive
            source.problem(first_no, f"cannot be read ({type(exc).__name__}: {exc}); skipped")


def _line_batches(blocks: Iterator[bytes], max_line: int, source: _File) -> Iterator[list[str]]:
    """The lines of a file, decoded, without their line break, a block's worth at a
    time; TOO_LONG for a line longer than max_line bytes, which is never held whole."""
    rest, overlong, line_no, first_block = b"", False, 1, True
    for block in blocks:
        if first_block:
            block, first_block = block.removeprefix(_BOM), False
        cut = block.rfind(b"\n")
        if cut < 0:  # no line ends in this block
            if overlong or len(rest) + len(block) > max_line:
                rest, overlong = b"", True
            else:
                rest += block
            continue
        chunk: bytes | None = rest + block[:cut]
        if overlong:  # the block's first line break ends the long line
            yield [TOO_LONG]
            line_no += 1
            first = block.find(b"\n")
            chunk = block[first + 1 : cut] if first < cut else None
        if chunk is not None:
            yield _decoded(chunk, line_no, max_line, source)
            line_no += chunk.count(b"\n") + 1
        rest, overlong = block[cut + 1 :], False
        if len(rest) > max_line:
            rest, overlong = b"", True
    if overlong:
        yield [TOO_LONG]
    elif rest:
        yield _decoded(rest, line_no, max_line, source)


def _decoded(chunk: bytes, line_no: int, max_line: int, source: _File) -> list[str]:
    """The whole lines in chunk (the first being line_no), decoded at once."""
    text = source.decode(chunk, line_no)
    if not source.tweets and any(mark in text for mark in FOOTER_MARKS):
        source.is_tweets()
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if len(chunk) > max_line:  # else none of them can be too long
        lines = [TOO_LONG if len(line.encode()) > max_line else line for line in lines]
    return lines


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
    try:
        created_at = parse_twitter_date(date_text)
    except DateOutOfRange as exc:
        source.problem(first_no + bottom, f"date {date_text!r} {exc}; tweet skipped")
        return
    if created_at is None:
        source.problem(first_no + bottom, f"unparseable date {date_text!r}; tweet skipped")
        return
    link_match = TWEET_LINK.fullmatch(link)
    if link_match is None:
        source.problem(first_no + bottom, f"no tweet id in link {link!r}; tweet skipped")
        return
    author, tweet_id = link_match.groups()
    source.is_tweets()
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
        text = self._clean("\n".join(self._without_media(self.lines, self.first_no)).strip())
        return text, leading_mention(text), None

    def _clean(self, raw: str) -> str:
        text, removed = clean_text(raw)
        if removed:
            self.source.problem(self.first_no, controls_removed(removed))
        return text

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
        text = self._clean(_ESCAPED.sub(r"\1", joined).strip())
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
        description = strip_controls(repair(alt))[0] if alt else None
        source = self.source
        if ref.startswith(("http://", "https://")):
            source.problem(line_no, f"media {ref} is a link, not a file in the archive")
            return Media(ref, kind, description, MISSING)
        rel = join_ref(posixpath.dirname(source.rel), ref)
        sizes = None
        if rel is None:
            path = posixpath.normpath(posixpath.join(posixpath.dirname(source.rel), ref))
            problem: str | None = OUTSIDE
        else:
            path, problem = source.tree.label(rel), source.tree.media_problem(rel)
            if problem is None:
                sizes = source.tree.size(rel)
                limits = source.found.limits
                problem = size_problem(sizes, limits.max_media_size, limits.max_zip_ratio)
        if problem == OUTSIDE:
            source.problem(line_no, f"media {path} is outside the archive; refused")
        elif problem == MISSING:
            source.problem(line_no, f"media file {path} is missing")
        elif problem is not None:
            source.problem(line_no, f"media file {path} {problem}; not uploaded")
        size = sizes[0] if sizes and problem is None else None
        return Media(path, kind, description, problem, size)
