"""`load_archive`: find every archive file under a path, read it, merge.

The path may be a markdown file, an official archive's `.zip` or `tweets.js`,
or a folder holding any mix of markdown files (at any depth), official archive
data folders and official `.zip`s. The format of each file is told by its
content, never by configuration: a file named on its own is markdown if it
holds a parser footer, whatever its name (exports get renamed: the demo
archive's files are `000_….txt`); in a folder, every `.md` and `.txt` file
that holds one is read, and the others (READMEs, notes) are passed over
without a word. Official archives are known by Twitter's own file names
(`data/tweets.js`, `tweets-partN.js`) and zips by their content.
"""

from __future__ import annotations

import gc
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.archive.base import Archive, Found
from bot.archive.markdown import FOOTER_MARKS, read_markdown
from bot.archive.official import TWEETS_FILE, read_official
from bot.archive.retweets import link_retweets
from bot.archive.tree import FolderTree, Tree, ZipTree
from bot.errors import ArchiveError
from bot.model import ReadLimits, Tweet

_NOTHING = (
    "no tweets found: expected twitter-archive-parser markdown (*.md or *.txt), "
    "an official archive folder (data/tweets.js) or its .zip"
)
MARKDOWN_SUFFIXES = (".md", ".txt")
# A parser file shows its first footer after its first tweet; a file without one
# this far in is not tweets, and need not be read whole to know it.
_SNIFF = 256 * 1024
_MARKS = tuple(mark.encode() for mark in FOOTER_MARKS)


def load_archive(path: Path, limits: ReadLimits | None = None) -> Archive:
    """Read the archive at path; bad items are skipped and listed in `problems`.

    path: a markdown file, a folder, an official archive `.zip` or `tweets.js`.
    limits: the caps on what is read (the defaults when None); anything beyond
        them is skipped and listed in `problems`, never read whole.
    Returns the Archive (tweets sorted by time, one per id).
    Raises ArchiveError when the path is missing or unreadable, or holds
    nothing recognizable as tweets.
    """
    path = Path(path)
    if not path.exists():
        raise ArchiveError(path, "does not exist")
    found = Found(limits=limits or ReadLimits())
    with _gc_paused():
        try:
            root, formats = _scan_path(path, found)
        except (OSError, zipfile.BadZipFile) as exc:
            raise ArchiveError(path, f"cannot be read: {exc}") from None
        if not formats:
            raise ArchiveError(path, _NOTHING)
        username = _username(found)
        tweets = link_retweets(_merge(found.official, found.markdown), username)
    return Archive(
        root=root,
        username=username,
        tweets=tweets,
        problems=found.all_problems(),
        formats=tuple(f for f in ("official", "markdown") if f in formats),
        limits=found.limits,
    )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cycle collection while reading, merging and sorting: parsing creates
    millions of objects and no cycles, and every collection would walk all of
    them again (it more than doubles the time of a 100k-tweet load)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _scan_path(path: Path, found: Found) -> tuple[Path, set[str]]:
    """Read whatever path is; returns the archive root and the formats seen."""
    if path.is_dir():
        return path, _scan(FolderTree(path), found, nested=True)
    if not path.is_file():  # a FIFO or device would block the reads below
        raise ArchiveError(path, "neither a file nor a folder")
    if zipfile.is_zipfile(path):
        with ZipTree(path) as tree:
            return path, _scan(tree, found, nested=False)
    single = FolderTree(path.parent, only=[path.name])
    if TWEETS_FILE.fullmatch(path.name) or _looks_like_markdown(single, path.name):
        return path.parent, _scan(single, found, nested=False, named=True)
    raise ArchiveError(
        path,
        "not twitter-archive-parser markdown (no '(Originally on Twitter: [date](link))' "
        "footer in it), an official archive .zip or its tweets.js",
    )


def _scan(tree: Tree, found: Found, nested: bool, named: bool = False) -> set[str]:
    """Read every archive file in tree; with nested, also the .zips inside it.

    named: tree is the one file the user named, known to be an archive file.
    """
    files = tree.files(found.problem)
    formats: set[str] = set()
    data_dirs: dict[str, list[str]] = defaultdict(list)
    for rel in files:
        folder, _, name = rel.rpartition("/")
        if TWEETS_FILE.fullmatch(name):
            data_dirs[folder].append(name)
    for folder, names in data_dirs.items():
        read_official(tree, folder, names, found)
        formats.add("official")
    for rel in files:
        markdown = named or rel.lower().endswith(MARKDOWN_SUFFIXES)
        if markdown and not TWEETS_FILE.fullmatch(rel) and _markdown(tree, rel, found):
            formats.add("markdown")
    if isinstance(tree, ZipTree):
        for name in tree.unsafe:
            found.problem(tree.label(name), "zip entry outside the archive; ignored")
    if nested and isinstance(tree, FolderTree):
        for rel in files:
            if rel.lower().endswith(".zip"):
                formats |= _scan_zip(tree, rel, found)
    return formats


def _looks_like_markdown(tree: Tree, rel: str) -> bool:
    """Whether the start of the file holds a parser footer (the rest is not read).

    Raises OSError when it cannot be read.
    """
    start = next(iter(tree.blocks(rel, _SNIFF)), b"")
    return any(mark in start for mark in _MARKS)


def _markdown(tree: Tree, rel: str, found: Found) -> bool:
    try:
        if not _looks_like_markdown(tree, rel):
            return False
        return read_markdown(tree, rel, found)
    except OSError as exc:
        found.problem(tree.label(rel), f"cannot be read: {exc}")
        return False


def _scan_zip(folder: FolderTree, rel: str, found: Found) -> set[str]:
    """An official archive zip lying in the archive folder."""
    if folder.media_problem(rel) is not None:
        found.problem(rel, "zip outside the archive; ignored")
        return set()
    try:
        with ZipTree(folder.root / rel, prefix=rel + "/") as tree:
            return _scan(tree, found, nested=False)
    except (OSError, zipfile.BadZipFile) as exc:
        found.problem(rel, f"not a readable zip: {exc}")
        return set()


def _username(found: Found) -> str | None:
    """account.js wins; else the author most footer links name."""
    if found.accounts:
        return found.accounts[0]
    common = found.authors.most_common(1)
    return common[0][0] if common else None


def _merge(*groups: list[Tweet]) -> tuple[Tweet, ...]:
    """One tweet per id, the first group first (the official archive carries
    more than markdown: reply ids, alt text), sorted by time then id."""
    by_id: dict[str, Tweet] = {}
    for group in groups:
        for tweet in group:
            by_id.setdefault(tweet.id, tweet)
    return tuple(sorted(by_id.values(), key=lambda t: (t.created_at, len(t.id), t.id)))
