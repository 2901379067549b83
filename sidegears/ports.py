"""Which process holds a TCP port: so that "port in use" can name it, and the user knows what to stop.

Linux answers from ``/proc`` (the listening socket's inode, then the process
whose file descriptors include it); elsewhere ``psutil`` answers when it is
installed. Processes of other users are usually hidden: then it is unknown.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["port_holder"]

#: ``/proc/net/tcp`` state of a listening socket.
_LISTEN = "0A"


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == _LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _proc_holder(port: int) -> str | None:
    sockets = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not sockets:
        return None
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in sockets:
                    name = Path(f"/proc/{pid}/comm").read_text().strip()
                    return f"{name} (pid {pid})"
        except OSError:  # gone meanwhile, or another user's
            continue
    return None


def _psutil_holder(port: int) -> str | None:
    try:
        import psutil
    except ImportError:
        return None
    try:
        for connection in psutil.net_connections(kind="tcp"):
            if connection.status == psutil.CONN_LISTEN and connection.laddr and connection.laddr.port == port:
                if connection.pid is None:
                    return None
                return f"{psutil.Process(connection.pid).name()} (pid {connection.pid})"
    except (psutil.Error, OSError):
        return None
    return None


def port_holder(port: int) -> str | None:
    """``"name (pid N)"`` of the process listening on TCP ``port``, or None when it cannot be told."""
    if os.path.isdir("/proc/net"):
        return _proc_holder(port)
    return _psutil_holder(port)
