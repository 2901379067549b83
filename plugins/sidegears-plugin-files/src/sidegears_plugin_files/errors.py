"""The errors a client of the files plugin receives, each with its own JSON-RPC code.

::

    sidegears.RPCError
    └── FilesError
        ├── PathOutsideRoot    2001  the path is absolute, or leads out of the root (``..``, a symlink)
        ├── NotFound           2002  nothing exists at the path
        ├── NotADirectory      2003  files.list on something that is not a directory
        ├── NotAFile           2004  files.read_text on a directory, a pipe, a device...
        ├── FileTooLarge       2005  the file is bigger than the read limit
        ├── NotText            2006  the bytes do not decode with the encoding asked for
        └── PermissionDenied   2007  the operating system refused access

The codes sit outside -32768..-32000, which JSON-RPC 2.0 reserves for the
protocol and for the kernel's own errors. ``error.data`` is an object that
always holds ``path``, the path as the client sent it.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from sidegears import RPCError

__all__ = [
    "FilesErrorCode",
    "FilesError",
    "PathOutsideRoot",
    "NotFound",
    "NotADirectory",
    "NotAFile",
    "FileTooLarge",
    "NotText",
    "PermissionDenied",
]


class FilesErrorCode(IntEnum):
    """The JSON-RPC error codes of the files plugin."""

    PATH_OUTSIDE_ROOT = 2001
    NOT_FOUND = 2002
    NOT_A_DIRECTORY = 2003
    NOT_A_FILE = 2004
    FILE_TOO_LARGE = 2005
    NOT_TEXT = 2006
    PERMISSION_DENIED = 2007


class FilesError(RPCError):
    """Base class: an error about one path, which ``data["path"]`` repeats."""

    def __init__(self, path: Any, message: str | None = None, **data: Any) -> None:
        super().__init__(None, message, {"path": path, **data})


class PathOutsideRoot(FilesError):
    """The path is absolute, or resolves (through ``..`` or a symlink) to a place outside the root."""

    default_code = FilesErrorCode.PATH_OUTSIDE_ROOT
    default_message = "Path outside root"


class NotFound(FilesError):
    """No file or directory exists at the path."""

    default_code = FilesErrorCode.NOT_FOUND
    default_message = "Not found"


class NotADirectory(FilesError):
    """The path names something other than a directory where a directory is needed."""

    default_code = FilesErrorCode.NOT_A_DIRECTORY
    default_message = "Not a directory"


class NotAFile(FilesError):
    """The path names a directory or a special file where a regular file is needed."""

    default_code = FilesErrorCode.NOT_A_FILE
    default_message = "Not a regular file"


class FileTooLarge(FilesError):
    """The file is bigger than the read limit; ``data["limit"]`` gives the limit in bytes."""

    default_code = FilesErrorCode.FILE_TOO_LARGE
    default_message = "File too large"


class NotText(FilesError):
    """The file's bytes do not decode with the requested encoding."""

    default_code = FilesErrorCode.NOT_TEXT
    default_message = "Not a text file"


class PermissionDenied(FilesError):
    """The operating system refused access to the path."""

    default_code = FilesErrorCode.PERMISSION_DENIED
    default_message = "Permission denied"
