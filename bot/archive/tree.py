"""The files of an archive, in a folder or a zip, confined to the archive root.

Readers see a `Tree`: a list of files with POSIX paths relative to the tree,
a way to read them, and a check that a media reference stays inside. Nothing
outside the root is ever read: not through `..`, absolute paths, symlinks, or
zip entries whose names climb out.
"""

from __future__ import annotations

import os
import posixpath
import stat
import zipfile
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

MISSING = "missing"
OUTSIDE = "outside the archive"
# Below this size a zip entry's compression ratio says nothing (a short text
# of repeated lines compresses 100:1 and is harmless).
RATIO_FLOOR = 1 << 20

OnError = Callable[[str, str], None]


class Tree(ABC):
    """A folder or zip of archive files.

    prefix: what to put before a tree path to make it relative to the archive
        root ("" for the root itself, "sub/x.zip/" for a zip inside a folder).
    """

    prefix: str = ""

    def label(self, rel: str) -> str:
        """The path of `rel` relative to the archive root, for reports."""
        return self.prefix + rel

    @abstractmethod
    def files(self, on_error: OnError) -> list[str]:
        """Every regular file, sorted; unreadable folders go to on_error(path, why)."""

    @abstractmethod
    def list_dir(self, rel_dir: str) -> list[str]:
        """The names of the files directly in rel_dir; [] if there is no such folder."""

    @abstractmethod
    def read(self, rel: str, limit: int) -> bytes:
        """The bytes of one file, if it holds at most `limit` bytes.

        Raises OSError when it is missing, outside, or longer (it is then read
        no further than limit + 1 bytes).
        """

    @abstractmethod
    def blocks(self, rel: str, size: int) -> Iterator[bytes]:
        """The bytes of one file in pieces of `size` bytes (the last may be shorter),
        so that a 100 MB file need not be held whole.

        Raises OSError when it is missing, outside or cannot be read.
        """

    @abstractmethod
    def media_problem(self, rel: str) -> str | None:
        """Why the file at rel cannot be uploaded (MISSING, OUTSIDE), or None."""

    @abstractmethod
    def size(self, rel: str) -> tuple[int, int] | None:
        """(bytes, bytes stored) of one file, known without reading it; the two
        differ in a zip. None when it cannot be told (missing, outside)."""

    def refusal(self, rel: str, max_size: int, max_ratio: int) -> str | None:
        """Why the file at rel is too big to be read (size or zip ratio), or None.

        Told from the folder's or the zip's listing, before a byte is read.
        """
        return size_problem(self.size(rel), max_size, max_ratio)


def size_problem(sizes: tuple[int, int] | None, max_size: int, max_ratio: int) -> str | None:
    """Why a file of these (bytes, bytes stored) is too big to read, or None."""
    if sizes is None:
        return None
    size, stored = sizes
    if size > max_size:
        return f"is {human_size(size)}, over the limit of {human_size(max_size)}"
    if size > RATIO_FLOOR and size > stored * max_ratio:
        return (
            f"unpacks from {human_size(stored)} to {human_size(size)}, more than "
            f"{max_ratio}:1 (a zip bomb?)"
        )
    return None


def human_size(size: int) -> str:
    """1536 -> "1.5 KiB"; for messages."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def bounded(blocks: Iterator[bytes], rel: str, limit: int) -> Iterator[bytes]:
    """blocks, raising OSError once more than `limit` bytes went by: a file can
    grow after its size was checked."""
    total = 0
    for block in blocks:
        total += len(block)
        if total > limit:
            raise _too_long(rel, limit)
        yield block


def _at_most(data: bytes, rel: str, limit: int) -> bytes:
    if len(data) > limit:
        raise _too_long(rel, limit)
    return data


def _too_long(rel: str, limit: int) -> OSError:
    return OSError(f"{rel}: longer than {human_size(limit)}; not read further")


def join_ref(base_dir: str, ref: str) -> str | None:
    """Resolve a reference written in a file under base_dir to a tree path.

    Returns None for an absolute reference or one that climbs above the root.
    """
    ref = ref.replace("\\", "/")
    if ref.startswith("/") or (len(ref) > 1 and ref[1] == ":"):
        return None
    rel = posixpath.normpath(posixpath.join(base_dir, ref))
    if rel == ".." or rel.startswith("../"):
        return None
    return rel


@dataclass(frozen=True, slots=True)
class _Listing:
    """One folder's entries, for checking many media files with one scandir.

    inside: the folder's real path is inside the archive root. files: regular
    files (not symlinks). others: every other entry (symlinks, folders, FIFOs).
    """

    inside: bool
    files: frozenset[str]
    others: frozenset[str]


class FolderTree(Tree):
    """An archive folder. only: restrict files() to these names (a single file)."""

    def __init__(self, root: Path, only: list[str] | None = None) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self._prefix = os.path.join(root, "")
        self.only = only
        self._listings: dict[str, _Listing | None] = {}

    def files(self, on_error: OnError) -> list[str]:
        if self.only is not None:
            return list(self.only)
        found: list[str] = []

        def report(exc: OSError) -> None:
            if exc.filename is None or os.path.realpath(exc.filename) == self.real_root:
                raise exc
            on_error(self._relative(exc.filename), f"cannot be read: {exc.strerror}")

        for folder, dirs, names in os.walk(self.root, onerror=report):
            # Hidden folders (.git, .cache) never hold an archive and may be huge.
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            base = self._relative(folder)
            found.extend(posixpath.join(base, n) if base else n for n in names)
        return sorted(found)

    def _relative(self, full: str) -> str:
        rel = os.path.relpath(full, self.root)
        return "" if rel == "." else rel.replace(os.sep, "/")

    def list_dir(self, rel_dir: str) -> list[str]:
        try:
            with os.scandir(self.root / rel_dir) as entries:
                return sorted(e.name for e in entries if not e.is_dir())
        except OSError:
            return []

    def _real(self, rel: str) -> str | None:
        """The real path of rel, or None when it resolves outside the root (or
        cannot be a path at all, such as a name holding a NUL)."""
        try:
            real = os.path.realpath(self.root / rel)
        except (ValueError, OSError):
            return None
        inside = real == self.real_root or real.startswith(self.real_root + os.sep)
        return real if inside else None

    def read(self, rel: str, limit: int) -> bytes:
        with open(self._regular(rel), "rb") as handle:
            return _at_most(handle.read(limit + 1), rel, limit)

    def blocks(self, rel: str, size: int) -> Iterator[bytes]:
        with open(self._regular(rel), "rb") as handle:
            while block := handle.read(size):
                yield block

    def size(self, rel: str) -> tuple[int, int] | None:
        # A sparse file stores less than its size, but reading it costs its size.
        folder, _, name = rel.rpartition("/")
        listing = self._listing(folder)
        if listing is not None and listing.inside and name in listing.files:
            path: str | None = self._prefix + rel  # no symlink: no realpath needed
        else:
            path = self._real(rel)
        try:
            st = os.stat(path) if path is not None else None
        except (OSError, ValueError):
            return None
        return None if st is None else (st.st_size, st.st_size)

    def _regular(self, rel: str) -> str:
        real = self._real(rel)
        if real is None:
            raise OSError(f"{rel} is {OUTSIDE}")
        if not os.path.isfile(real):  # a FIFO would block
            raise OSError(f"{rel} is not a regular file")
        return real

    def media_problem(self, rel: str) -> str | None:
        # A 100k-tweet archive has tens of thousands of media files: resolving
        # each path (an lstat per component) would cost more than reading the
        # tweets, so each folder is listed once. Symlinks take the slow path.
        folder, _, name = rel.rpartition("/")
        listing = self._listing(folder)
        if listing is not None and listing.inside:
            if name in listing.files:
                return None
            if name not in listing.others:
                return MISSING
        if "\0" in rel:
            return MISSING
        real = self._real(rel)
        if real is None:
            return OUTSIDE
        return None if os.path.isfile(real) else MISSING

    def _listing(self, folder: str) -> _Listing | None:
        """The cached listing of folder; None when it cannot be listed."""
        if folder not in self._listings:
            self._listings[folder] = self._scan_folder(folder)
        return self._listings[folder]

    def _scan_folder(self, folder: str) -> _Listing | None:
        real = self._real(folder) if folder else self.real_root
        files: set[str] = set()
        others: set[str] = set()
        try:
            with os.scandir(real or self.root / folder) as entries:
                for entry in entries:
                    regular = entry.is_file(follow_symlinks=False)
                    (files if regular else others).add(entry.name)
        except OSError:
            return None
        return _Listing(real is not None, frozenset(files), frozenset(others))


class ZipTree(Tree):
    """A zipped archive; use as a context manager so the zip gets closed.

    Entries whose names are absolute or contain `..`, and symlink entries, are
    never listed or read; `unsafe` holds their names for reporting.
    """

    def __init__(self, path: Path, prefix: str = "") -> None:
        self.path = path
        self.prefix = prefix
        self.zip = zipfile.ZipFile(path)
        self.entries: dict[str, zipfile.ZipInfo] = {}
        self.links: set[str] = set()
        self.unsafe: list[str] = []
        self.dirs: dict[str, list[str]] = {}
        for info in self.zip.infolist():
            self._add(info)

    def _add(self, info: zipfile.ZipInfo) -> None:
        name = info.filename
        if info.is_dir():
            return
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
            self.unsafe.append(name)
        elif stat.S_ISLNK(info.external_attr >> 16):
            self.links.add(name)
        else:
            self.entries[name] = info
            folder, _, base = name.rpartition("/")
            self.dirs.setdefault(folder, []).append(base)

    def __enter__(self) -> ZipTree:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.zip.close()

    def files(self, on_error: OnError) -> list[str]:
        return sorted(self.entries)

    def list_dir(self, rel_dir: str) -> list[str]:
        return sorted(self.dirs.get(rel_dir, []))

    def read(self, rel: str, limit: int) -> bytes:
        info = self._entry(rel)
        try:
            with self.zip.open(info) as handle:
                return _at_most(handle.read(limit + 1), rel, limit)
        except (zipfile.BadZipFile, ValueError, EOFError, zlib.error) as exc:
            raise OSError(f"{rel}: {exc}") from None

    def blocks(self, rel: str, size: int) -> Iterator[bytes]:
        info = self._entry(rel)
        try:
            with self.zip.open(info) as handle:
                while block := handle.read(size):
                    yield block
        except (zipfile.BadZipFile, ValueError, EOFError, zlib.error) as exc:
            raise OSError(f"{rel}: {exc}") from None

    def _entry(self, rel: str) -> zipfile.ZipInfo:
        info = self.entries.get(rel)
        if info is None:
            raise FileNotFoundError(f"{rel}: no such entry in {self.path.name}")
        return info

    def media_problem(self, rel: str) -> str | None:
        if rel in self.links:
            return OUTSIDE
        return None if rel in self.entries else MISSING

    def size(self, rel: str) -> tuple[int, int] | None:
        info = self.entries.get(rel)
        return None if info is None else (info.file_size, info.compress_size)


def read_file_under(root: Path, path: str, max_size: int, max_ratio: int) -> bytes:
    """Read one archive file by its root-relative path, through a zip if the
    root is one or the path crosses a `.zip` inside the root folder.

    max_size, max_ratio: a larger file (or a zip entry unpacking more than
    max_ratio:1) is refused before it is read, and never read beyond max_size.
    Raises OSError (or zipfile.BadZipFile) when it cannot be read, is refused,
    or leaves the root.
    """
    if root.is_file():
        with ZipTree(root) as tree:
            return _checked_read(tree, path, max_size, max_ratio)
    parts = path.split("/")
    folder = FolderTree(root)
    for cut in range(1, len(parts)):
        head = "/".join(parts[:cut])
        if head.lower().endswith(".zip") and folder.media_problem(head) is None:
            with ZipTree(root / head) as tree:
                return _checked_read(tree, "/".join(parts[cut:]), max_size, max_ratio)
    return _checked_read(folder, path, max_size, max_ratio)


def _checked_read(tree: Tree, rel: str, max_size: int, max_ratio: int) -> bytes:
    problem = tree.media_problem(rel) or tree.refusal(rel, max_size, max_ratio)
    if problem is not None:
        raise OSError(f"{rel}: {problem}")
    return tree.read(rel, max_size)
