"""FileBrowser: list, stat and read files under one root folder, refusing every path that leads out of it."""

from __future__ import annotations

import codecs
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath
from typing import Any

from sidegears import InvalidParams

from .errors import (
    FileTooLarge,
    NotADirectory,
    NotAFile,
    NotFound,
    NotText,
    PathOutsideRoot,
    PermissionDenied,
)

__all__ = ["FileBrowser", "DEFAULT_MAX_READ_BYTES", "DEFAULT_MAX_ENTRIES"]

#: files.read_text refuses files bigger than this (bytes), unless the kernel option ``files_max_read_bytes`` says otherwise.
DEFAULT_MAX_READ_BYTES = 1024 * 1024
#: files.list returns at most this many entries, unless the kernel option ``files_max_entries`` says otherwise.
DEFAULT_MAX_ENTRIES = 10_000


class FileBrowser:
    """The files API over one root folder.

    Clients name files by paths relative to the root, with ``/`` separators
    (``"."`` or ``""`` is the root itself). A path is refused with
    :class:`~sidegears_plugin_files.errors.PathOutsideRoot` when it is
    absolute or when, once ``..`` and symlinks are resolved, it lands outside
    the root. Symlinks that stay inside the root are followed.

    The check happens before each operation: a process that can rewrite the
    tree under the root while a call runs could swap a checked path for a
    symlink. The root is meant to be the user's own folder, not a hostile one.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        max_read_bytes: int = DEFAULT_MAX_READ_BYTES,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        resolved = Path(root).resolve()
        if not resolved.is_dir():
            raise NotADirectoryError(f"files root {str(root)!r} is not an existing directory")
        self.root = resolved
        self.max_read_bytes = max_read_bytes
        self.max_entries = max_entries

    def __repr__(self) -> str:
        return f"<FileBrowser root={str(self.root)!r}>"

    # -- the RPC methods -----------------------------------------------------------

    def root_path(self) -> str:
        """files.root: the absolute path of the root folder."""
        return str(self.root)

    def stat_path(self, path: str = ".") -> dict[str, Any]:
        """files.stat: one entry (name, path, is_dir, is_symlink, size, mtime) for ``path``."""
        target = self.resolve(path)
        with _os_errors(path):
            target.stat()  # raises for a missing path
        return self._entry(target, self._relative(target))

    def list_directory(self, path: str = ".") -> dict[str, Any]:
        """files.list: the entries of the directory ``path``, directories first, then by name.

        Returns ``{"path": ..., "entries": [...], "truncated": bool}``;
        ``truncated`` is true when the directory holds more than the entry
        limit and only the first entries read are returned.
        """
        directory = self.resolve(path)
        relative = self._relative(directory)
        entries: list[dict[str, Any]] = []
        truncated = False
        with _os_errors(path):
            if not directory.is_dir():
                directory.stat()  # a missing path is NotFound, not NotADirectory
                raise NotADirectory(path)
            with os.scandir(directory) as scan:
                for item in scan:
                    if len(entries) >= self.max_entries:
                        truncated = True
                        break
                    child = f"{relative}/{item.name}" if relative != "." else item.name
                    try:
                        entries.append(self._entry(directory / item.name, child))
                    except FileNotFoundError:
                        continue  # removed while we listed
        entries.sort(key=lambda e: (not e["is_dir"], e["name"].casefold(), e["name"]))
        return {"path": relative, "entries": entries, "truncated": truncated}

    def read_text(self, path: str, encoding: str = "utf-8", max_bytes: int | None = None) -> str:
        """files.read_text: the content of a regular file, decoded with ``encoding``.

        Refuses files bigger than the browser's limit, or than ``max_bytes``
        when the client asks for less.
        """
        limit = self.max_read_bytes
        if max_bytes is not None:
            if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
                raise InvalidParams("max_bytes must be a non-negative integer", {"max_bytes": max_bytes})
            limit = min(limit, max_bytes)
        try:
            # A text encoding: codecs such as rot13 or zlib turn bytes into bytes or text into text.
            # (Empty input would not be looked up at all.)
            b"x".decode(encoding)
        except UnicodeDecodeError:
            pass  # a text encoding, for which one byte alone is not valid (utf-16...)
        except (LookupError, TypeError):
            raise InvalidParams(f"unknown text encoding {encoding!r}", {"encoding": encoding}) from None
        target = self.resolve(path)
        with _os_errors(path):
            # Refuse pipes and devices before opening: opening a FIFO would block a worker thread.
            if not stat.S_ISREG(target.stat().st_mode):
                raise NotAFile(path)
            with open(target, "rb") as file:
                data = file.read(limit + 1)
        if len(data) > limit:
            raise FileTooLarge(path, limit=limit)
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise NotText(
                path, f"Not a text file: not valid {encoding}", encoding=encoding, position=exc.start
            ) from None

    # -- paths -------------------------------------------------------------------------

    def resolve(self, path: Any) -> Path:
        """The absolute, symlink-free path for a client's ``path``; raises PathOutsideRoot if it leaves the root."""
        if path is None:
            path = "."
        if not isinstance(path, str):
            raise InvalidParams("path must be a string, relative to the root", {"path": path})
        if "\x00" in path:
            raise InvalidParams("path must not contain NUL characters", {"path": path})
        relative = PurePath(path)
        if relative.anchor:  # "/etc", "C:\\x", "\\\\server\\share": anything rooted
            raise PathOutsideRoot(path, "Path outside root: absolute paths are not allowed")
        try:
            resolved = (self.root / relative).resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop (RuntimeError before Python 3.13), a name too long
            raise NotFound(path, f"Not found: {getattr(exc, 'strerror', None) or exc}") from None
        if not resolved.is_relative_to(self.root):
            raise PathOutsideRoot(path)
        return resolved

    def _relative(self, resolved: Path) -> str:
        return resolved.relative_to(self.root).as_posix()

    def _entry(self, path: Path, relative: str) -> dict[str, Any]:
        info = path.lstat()
        is_symlink = stat.S_ISLNK(info.st_mode)
        if is_symlink:
            # Describe the target only when it stays inside the root; otherwise the link itself.
            try:
                target = path.resolve()
                if target.is_relative_to(self.root):
                    info = target.stat()
            except (OSError, RuntimeError):
                pass  # a broken link or a loop: describe the link
        is_dir = stat.S_ISDIR(info.st_mode)
        return {
            "name": path.name if relative != "." else self.root.name,
            "path": relative,
            "is_dir": is_dir,
            "is_symlink": is_symlink,
            "size": None if is_dir else info.st_size,
            "mtime": info.st_mtime,
        }


@contextmanager
def _os_errors(path: str) -> Iterator[None]:
    """Turn the operating system's errors about ``path`` into the plugin's RPC errors."""
    try:
        yield
    except FileNotFoundError:
        raise NotFound(path) from None
    except NotADirectoryError:  # a file used as a directory in the middle of the path
        raise NotFound(path) from None
    except IsADirectoryError:
        raise NotAFile(path) from None
    except PermissionError:
        raise PermissionDenied(path) from None
    except OSError as exc:  # a name too long, a path too deep, an I/O error: the client gets NotFound, not a traceback
        raise NotFound(path, f"Not found: {exc.strerror or exc}") from None
