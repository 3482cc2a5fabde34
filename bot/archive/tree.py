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
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

MISSING = "missing"
OUTSIDE = "outside the archive"

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
    def read(self, rel: str) -> bytes:
        """The bytes of one file. Raises OSError when it is missing or outside."""

    @abstractmethod
    def media_problem(self, rel: str) -> str | None:
        """Why the file at rel cannot be uploaded (MISSING, OUTSIDE), or None."""


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


class FolderTree(Tree):
    """An archive folder. only: restrict files() to these names (a single file)."""

    def __init__(self, root: Path, only: list[str] | None = None) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self.only = only

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
        """The real path of rel, or None when it resolves outside the root."""
        real = os.path.realpath(self.root / rel)
        inside = real == self.real_root or real.startswith(self.real_root + os.sep)
        return real if inside else None

    def read(self, rel: str) -> bytes:
        real = self._real(rel)
        if real is None:
            raise OSError(f"{rel} is {OUTSIDE}")
        if not os.path.isfile(real):  # a FIFO would block
            raise OSError(f"{rel} is not a regular file")
        with open(real, "rb") as handle:
            return handle.read()

    def media_problem(self, rel: str) -> str | None:
        real = self._real(rel)
        if real is None:
            return OUTSIDE
        return None if os.path.isfile(real) else MISSING


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

    def read(self, rel: str) -> bytes:
        info = self.entries.get(rel)
        if info is None:
            raise FileNotFoundError(f"{rel}: no such entry in {self.path.name}")
        try:
            return self.zip.read(info)
        except (zipfile.BadZipFile, ValueError, EOFError) as exc:
            raise OSError(f"{rel}: {exc}") from None

    def media_problem(self, rel: str) -> str | None:
        if rel in self.links:
            return OUTSIDE
        return None if rel in self.entries else MISSING


def read_file_under(root: Path, path: str) -> bytes:
    """Read one archive file by its root-relative path, through a zip if the
    root is one or the path crosses a `.zip` inside the root folder.

    Raises OSError (or zipfile.BadZipFile) when it cannot be read or leaves the root.
    """
    if root.is_file():
        with ZipTree(root) as tree:
            return _checked_read(tree, path)
    parts = path.split("/")
    folder = FolderTree(root)
    for cut in range(1, len(parts)):
        head = "/".join(parts[:cut])
        if head.lower().endswith(".zip") and folder.media_problem(head) is None:
            with ZipTree(root / head) as tree:
                return _checked_read(tree, "/".join(parts[cut:]))
    return _checked_read(folder, path)


def _checked_read(tree: Tree, rel: str) -> bytes:
    problem = tree.media_problem(rel)
    if problem is not None:
        raise OSError(f"{rel}: {problem}")
    return tree.read(rel)
