"""The per-app secret: a token that outlives one run of an app, so that its open page can reconnect.

A page holds the kernel's token as a cookie. If every start made a new token,
a restarted kernel (a re-run of the script, ``sidegears run --reload``) would
refuse the page that is still open, and a reload would too. So a kernel given
an ``app_id`` keeps its token in a file of the user's runtime directory,
readable by that user alone, and reuses it on the next start of the same app.

Where: ``$XDG_RUNTIME_DIR/sidegears`` (a per-login tmpfs on Linux, emptied at
logout), else ``%LOCALAPPDATA%\\sidegears\\secrets`` on Windows, else
``<tempdir>/sidegears-<uid>``. The folder must be a real directory owned by
the user with no access for group or others, and the file too, or the kernel
refuses to use it and makes a per-start token instead (logged).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
import sys
import tempfile
from pathlib import Path

__all__ = ["app_secret", "secret_path", "runtime_dir", "UnsafeSecretStore"]

#: Characters of a token made by :func:`secrets.token_urlsafe`.
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class UnsafeSecretStore(OSError):
    """The secret's folder or file can be reached by someone else, or is not what it should be."""


def runtime_dir() -> Path:
    """The folder that holds the per-app secrets (not created here)."""
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isdir(xdg):
        return Path(xdg) / "sidegears"
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(local) / "sidegears" / "secrets"
    return Path(tempfile.gettempdir()) / f"sidegears-{os.getuid()}"


def secret_path(app_id: str) -> Path:
    """The file of ``app_id``'s secret: named by a hash, so the file name tells nothing about the app."""
    digest = hashlib.sha256(app_id.encode()).hexdigest()[:32]
    return runtime_dir() / f"{digest}.token"


def _check_private(info: os.stat_result, what: Path) -> None:
    if sys.platform == "win32":
        return  # %LOCALAPPDATA% is the user's own; POSIX modes mean nothing there
    if info.st_uid != os.getuid():
        raise UnsafeSecretStore(f"{what} belongs to another user")
    if info.st_mode & 0o077:
        raise UnsafeSecretStore(f"{what} is open to group or others (mode {stat.filemode(info.st_mode)})")


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeSecretStore(f"{path} is not a directory")
    _check_private(info, path)


def _read(path: Path) -> str | None:
    """The secret in ``path``, or None when there is no usable one."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "r", encoding="ascii", errors="replace") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeSecretStore(f"{path} is not a regular file")
        _check_private(info, path)
        token = file.read(200).strip()
    if len(token) >= 32 and set(token) <= _TOKEN_CHARS:
        return token
    return None


def _create(path: Path) -> str | None:
    """Store a new secret at ``path``; None if another process stored one first.

    The file is written under a temporary name and then linked into place, so
    a racing start never reads a half-written secret.
    """
    token = secrets.token_urlsafe(32)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".new-", suffix=".token")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(token)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return None
    finally:
        os.unlink(temporary)
    return token


def app_secret(app_id: str) -> str:
    """``app_id``'s secret: the stored one, or a new one, stored (mode 0600) for the next start.

    Raises :class:`OSError` (:class:`UnsafeSecretStore` among them) when no
    private place can hold it; the kernel then falls back to a per-start token.
    """
    if not app_id:
        raise ValueError("app_id must be a non-empty string")
    path = secret_path(app_id)
    _private_dir(path.parent)
    for _ in range(3):  # a racing start of the same app may create or replace the file meanwhile
        token = _read(path)
        if token is not None:
            return token
        token = _create(path)
        if token is not None:
            return token
        if _read(path) is None:  # there, but not a secret (edited by hand?): replace it
            path.unlink(missing_ok=True)
    raise UnsafeSecretStore(f"cannot read or create {path}")
