"""Waking an idle asyncio loop so that ``sys.remote_exec``'s script runs now.

The script runs when the target's main thread next runs Python code; a loop idle in
``epoll_wait`` may not for hours. One ``\\0`` byte to the loop's self-pipe is exactly what
``loop.call_soon_threadsafe`` writes (and the loop skips null bytes): it returns from the
wait, and the script runs. The pipe is found from ``/proc/PID/fdinfo`` (the fds an epoll
watches) and the kernel's socket table (``NETLINK_SOCK_DIAG``, ``UDIAG_SHOW_PEER``): the
peer of a watched AF_UNIX socket that is itself unwatched is the loop's ``_csock``. It is
duplicated with ``pidfd_getfd(2)`` (Linux 5.6+), which needs the same permission as
``remote_exec`` itself. Standard library only (ctypes for the one syscall).
"""

from __future__ import annotations

import os
import re
import socket
import struct

__all__ = ["wake_loop"]

SYS_PIDFD_GETFD = 438  # the same number on every Linux architecture (new syscall table)
NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
UDIAG_SHOW_PEER = 4
UNIX_DIAG_PEER = 2


def _pidfd_getfd(pid: int, fd: int) -> int:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        new = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
        if new < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        return new
    finally:
        os.close(pidfd)


def _unix_peers() -> dict[int, int]:
    """{inode: peer inode} of every AF_UNIX socket of this network namespace."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
    try:
        req = struct.pack(
            "<BBHIIIII", socket.AF_UNIX, 0, 0, 0xFFFFFFFF, 0, UDIAG_SHOW_PEER, 0xFFFFFFFF,
            0xFFFFFFFF,
        )  # fmt: skip
        hdr = struct.pack("<IHHII", 16 + len(req), SOCK_DIAG_BY_FAMILY, 0x301, 1, 0)
        s.sendto(hdr + req, (0, 0))
        peers: dict[int, int] = {}
        while True:
            data = s.recv(1 << 16)
            if not data:
                return peers
            off = 0
            while off + 16 <= len(data):
                length, kind = struct.unpack_from("<IH", data, off)
                if kind in (2, 3) or length < 16:  # NLMSG_ERROR, NLMSG_DONE
                    return peers
                ino = struct.unpack_from("<I", data, off + 16 + 4)[0]
                a = off + 16 + 16
                while a + 4 <= off + length:
                    alen, atype = struct.unpack_from("<HH", data, a)
                    if alen < 4:
                        break
                    if atype == UNIX_DIAG_PEER:
                        peers[ino] = struct.unpack_from("<I", data, a + 4)[0]
                    a += (alen + 3) & ~3
                off += (length + 3) & ~3
    finally:
        s.close()


def wake_loop(pid: int) -> int:
    """Write one zero byte to each asyncio self-pipe of ``pid``; how many were woken."""
    watched: set[int] = set()
    for name in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{name}") as f:
                text = f.read()
        except OSError:
            continue
        watched.update(int(m) for m in re.findall(r"tfd:\s+(\d+)", text))
    fd_ino: dict[int, int] = {}
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            m = re.match(r"socket:\[(\d+)\]", os.readlink(f"/proc/{pid}/fd/{name}"))
        except OSError:
            continue
        if m:
            fd_ino[int(name)] = int(m.group(1))
    ino_fd = {ino: fd for fd, ino in fd_ino.items()}
    peers = _unix_peers()
    woken = 0
    for fd in watched:
        csock = ino_fd.get(peers.get(fd_ino.get(fd, -1), -1))
        if csock is None or csock in watched:
            continue
        dup = _pidfd_getfd(pid, csock)
        try:
            os.write(dup, b"\0")
        except BlockingIOError:
            pass  # its buffer is full: the loop has wake-ups waiting anyway
        finally:
            os.close(dup)
        woken += 1
    return woken
