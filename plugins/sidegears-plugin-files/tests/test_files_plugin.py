"""The files.* methods, called over a real websocket on a real kernel that found the plugin by its entry point."""

from __future__ import annotations

import os
import re
import sys
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from sidegears import RPCError, RPCKernel
from sidegears.testing import RPCTestClient, running_kernel

from sidegears_plugin_files import errors
from sidegears_plugin_files.errors import FilesErrorCode

README = Path(__file__).resolve().parent.parent / "README.md"

INVALID_PARAMS = -32602


def connect(kernel: RPCKernel) -> AbstractAsyncContextManager[RPCTestClient]:
    """A test client connected to a started kernel."""
    assert kernel.url is not None, "the kernel is not started"
    return RPCTestClient.connect(kernel.url)


async def call_error(rpc: RPCTestClient, method: str, params: Any) -> RPCError:
    """The RPCError a call raises (fails the test if the call succeeds)."""
    with pytest.raises(RPCError) as info:
        await rpc.call(method, params)
    return info.value


def symlink_or_skip(link: Path, target: Path) -> None:
    """Make a symlink, or skip where the platform will not (Windows without the privilege)."""
    try:
        link.symlink_to(target, target_is_directory=target.is_dir())
    except (OSError, NotImplementedError) as exc:
        pytest.skip(f"cannot create symlinks here: {exc}")


# -- what the methods return ------------------------------------------------------


async def test_root_is_the_files_root_option(rpc: RPCTestClient, tree: Path) -> None:
    """files.root is the files_root the kernel was given."""
    assert await rpc.call("files.root") == str(tree.resolve())


async def test_nothing_served_without_files_root(tree: Path) -> None:
    """Installed but not configured, the plugin serves nothing, not even the current directory."""
    async with running_kernel() as kernel, connect(kernel) as rpc:
        assert (await rpc.request("files.list"))["error"]["code"] == -32601


async def test_list_root(rpc: RPCTestClient, tree: Path) -> None:
    """files.list returns every entry of the root, directories first, with name, is_dir, size and mtime."""
    listing = await rpc.call("files.list")
    assert listing["path"] == "."
    assert listing["truncated"] is False
    names = [e["name"] for e in listing["entries"]]
    assert names == ["docs", "data.bin", "notes.txt"]
    notes = listing["entries"][2]
    assert notes == {
        "name": "notes.txt",
        "path": "notes.txt",
        "is_dir": False,
        "is_symlink": False,
        "size": (tree / "notes.txt").stat().st_size,
        "mtime": (tree / "notes.txt").stat().st_mtime,
    }
    docs = listing["entries"][0]
    assert docs["is_dir"] is True and docs["size"] is None


async def test_list_subdirectory_by_name_and_position(rpc: RPCTestClient) -> None:
    """files.list takes the path positionally or by name, and entry paths are relative to the root."""
    by_position = await rpc.call("files.list", ["docs"])
    by_name = await rpc.call("files.list", {"path": "docs/deep/.."})
    assert by_position == by_name
    assert [e["path"] for e in by_position["entries"]] == ["docs/deep", "docs/readme.md"]


async def test_stat(rpc: RPCTestClient, tree: Path) -> None:
    """files.stat describes one file, and the root itself for "."."""
    info = await rpc.call("files.stat", ["docs/readme.md"])
    assert info["name"] == "readme.md" and info["size"] == 7 and info["is_dir"] is False
    root = await rpc.call("files.stat", ["."])
    assert root["is_dir"] is True and root["path"] == "." and root["name"] == tree.name


async def test_read_text(rpc: RPCTestClient) -> None:
    """files.read_text returns the decoded text of a file."""
    assert await rpc.call("files.read_text", ["notes.txt"]) == "hello\nwörld\n"
    assert await rpc.call("files.read_text", {"path": "data.bin", "encoding": "latin-1"}) == "\xff\xfe\x00binary"


# -- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["..", "../secret.txt", "docs/../../secret.txt", "docs/deep/../../../root/../secret.txt"],
)
async def test_dotdot_escape_is_refused(rpc: RPCTestClient, path: str) -> None:
    """A path that climbs out of the root with '..' gets PathOutsideRoot, for every method."""
    for method in ("files.read_text", "files.stat", "files.list"):
        error = await call_error(rpc, method, [path])
        assert error.code == FilesErrorCode.PATH_OUTSIDE_ROOT
        assert error.message == "Path outside root"
        assert error.data == {"path": path}


async def test_absolute_path_is_refused(rpc: RPCTestClient, tree: Path) -> None:
    """Absolute paths are refused, even one that names a file inside the root."""
    for path in (str(tree.parent / "secret.txt"), str(tree / "notes.txt"), "/"):
        error = await call_error(rpc, "files.read_text", [path])
        assert error.code == FilesErrorCode.PATH_OUTSIDE_ROOT
        assert "absolute" in error.message


async def test_symlink_out_of_root_is_refused(rpc: RPCTestClient, tree: Path) -> None:
    """A symlink inside the root that points out of it cannot be read, stat-ed or listed through."""
    symlink_or_skip(tree / "leak.txt", tree.parent / "secret.txt")
    symlink_or_skip(tree / "up", tree.parent)
    for method, path in [
        ("files.read_text", "leak.txt"),
        ("files.stat", "leak.txt"),
        ("files.list", "up"),
        ("files.read_text", "up/secret.txt"),
    ]:
        error = await call_error(rpc, method, [path])
        assert error.code == FilesErrorCode.PATH_OUTSIDE_ROOT, (method, path)


async def test_listing_does_not_describe_targets_outside_root(rpc: RPCTestClient, tree: Path) -> None:
    """A listed symlink that points out of the root shows the link itself, not its target's size."""
    symlink_or_skip(tree / "leak.txt", tree.parent / "secret.txt")
    entries = {e["name"]: e for e in (await rpc.call("files.list"))["entries"]}
    leak = entries["leak.txt"]
    assert leak["is_symlink"] is True
    assert leak["size"] == os.lstat(tree / "leak.txt").st_size


async def test_symlink_inside_root_is_followed(rpc: RPCTestClient, tree: Path) -> None:
    """A symlink whose target stays inside the root works like its target."""
    symlink_or_skip(tree / "shortcut", tree / "docs")
    assert await rpc.call("files.read_text", ["shortcut/readme.md"]) == "# Docs\n"
    entry = next(e for e in (await rpc.call("files.list"))["entries"] if e["name"] == "shortcut")
    assert entry["is_symlink"] is True and entry["is_dir"] is True


async def test_not_found(rpc: RPCTestClient) -> None:
    """A missing path gets NotFound from every method."""
    for method in ("files.read_text", "files.stat", "files.list"):
        error = await call_error(rpc, method, ["nope/missing.txt"])
        assert (error.code, error.message) == (FilesErrorCode.NOT_FOUND, "Not found")


async def test_overlong_name_is_not_found(rpc: RPCTestClient) -> None:
    """A 300-character name (longer than the file system allows) gets NotFound from every method, not -32603."""
    for method in ("files.read_text", "files.stat", "files.list"):
        error = await call_error(rpc, method, ["n" * 300])
        assert error.code == FilesErrorCode.NOT_FOUND


async def test_list_of_a_file_is_not_a_directory(rpc: RPCTestClient) -> None:
    """files.list on a file gets NotADirectory."""
    error = await call_error(rpc, "files.list", ["notes.txt"])
    assert error.code == FilesErrorCode.NOT_A_DIRECTORY


async def test_read_of_a_directory_is_not_a_file(rpc: RPCTestClient) -> None:
    """files.read_text on a directory gets NotAFile."""
    error = await call_error(rpc, "files.read_text", ["docs"])
    assert error.code == FilesErrorCode.NOT_A_FILE


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need os.mkfifo")
async def test_read_of_a_pipe_is_refused_without_blocking(rpc: RPCTestClient, tree: Path) -> None:
    """files.read_text on a named pipe gets NotAFile instead of blocking on open()."""
    os.mkfifo(tree / "pipe")
    error = await call_error(rpc, "files.read_text", ["pipe"])
    assert error.code == FilesErrorCode.NOT_A_FILE


async def test_binary_file_is_not_text(rpc: RPCTestClient) -> None:
    """Bytes that do not decode get NotText, with the encoding and the offset of the first bad byte."""
    error = await call_error(rpc, "files.read_text", ["data.bin"])
    assert error.code == FilesErrorCode.NOT_TEXT
    assert error.data == {"path": "data.bin", "encoding": "utf-8", "position": 0}


async def test_max_bytes_from_the_client(rpc: RPCTestClient) -> None:
    """A client may lower the read limit with max_bytes; a bigger file gets FileTooLarge."""
    error = await call_error(rpc, "files.read_text", {"path": "notes.txt", "max_bytes": 3})
    assert error.code == FilesErrorCode.FILE_TOO_LARGE
    assert error.data == {"path": "notes.txt", "limit": 3}


@pytest.mark.parametrize(
    "params",
    [[42], ["notes.txt", "no-such-codec"], ["notes.txt", "rot13"], ["notes.txt", "zlib"],
     {"path": "notes.txt", "max_bytes": -1}, ["a\x00b"]],
)
async def test_bad_params(rpc: RPCTestClient, params: Any) -> None:
    """Params of the wrong type or value get the standard Invalid params error."""
    error = await call_error(rpc, "files.read_text", params)
    assert error.code == INVALID_PARAMS


async def test_connection_survives_errors(rpc: RPCTestClient) -> None:
    """After a refused path the same connection keeps serving."""
    await call_error(rpc, "files.read_text", ["../secret.txt"])
    assert (await rpc.call("files.stat", ["notes.txt"]))["name"] == "notes.txt"


# -- kernel options ------------------------------------------------------------------


async def test_files_root_option(tree: Path) -> None:
    """The files_root kernel option sets the root, and '..' cannot leave it even to reach its parent's files."""
    async with running_kernel(files_root=tree / "docs") as kernel, connect(kernel) as rpc:
        assert await rpc.call("files.root") == str((tree / "docs").resolve())
        assert await rpc.call("files.read_text", ["readme.md"]) == "# Docs\n"
        error = await call_error(rpc, "files.read_text", ["../notes.txt"])
        assert error.code == FilesErrorCode.PATH_OUTSIDE_ROOT


async def test_read_limit_option(tree: Path) -> None:
    """The files_max_read_bytes option caps every read, whatever max_bytes a client asks for."""
    async with running_kernel(files_root=tree, files_max_read_bytes=4) as kernel, connect(kernel) as rpc:
        assert await rpc.call("files.read_text", ["docs/deep/x.txt"]) == "x"
        error = await call_error(rpc, "files.read_text", {"path": "notes.txt", "max_bytes": 1000})
        assert error.code == FilesErrorCode.FILE_TOO_LARGE and error.data["limit"] == 4


async def test_entry_limit_option(tree: Path) -> None:
    """With files_max_entries, a long listing is cut and says so."""
    async with running_kernel(files_root=tree, files_max_entries=2) as kernel, connect(kernel) as rpc:
        listing = await rpc.call("files.list")
        assert len(listing["entries"]) == 2 and listing["truncated"] is True


async def test_missing_root_fails_the_start(tree: Path) -> None:
    """A files_root that is not a directory stops the kernel from starting, with a message naming it."""
    kernel = RPCKernel(files_root=tree / "missing", token=False)
    with pytest.raises(NotADirectoryError, match="missing"):
        await kernel.astart("127.0.0.1", 0)
    assert not kernel.is_serving


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
async def test_permission_denied(rpc: RPCTestClient, tree: Path) -> None:
    """A file the operating system refuses to open gets PermissionDenied."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root reads any file")
    locked = tree / "locked.txt"
    locked.write_text("no")
    locked.chmod(0)
    error = await call_error(rpc, "files.read_text", ["locked.txt"])
    assert error.code == FilesErrorCode.PERMISSION_DENIED


def test_readme_documents_every_error_code() -> None:
    """The README's error table lists exactly the plugin's codes, with the messages clients receive."""
    documented = dict(re.findall(r"^\| (\d{4}) \| ([^|]+?) \|", README.read_text(encoding="utf-8"), re.MULTILINE))
    classes = [getattr(errors, name) for name in errors.__all__ if name not in ("FilesErrorCode", "FilesError")]
    assert documented == {str(int(cls.default_code)): cls.default_message for cls in classes}
    assert {int(cls.default_code) for cls in classes} == {int(code) for code in FilesErrorCode}
