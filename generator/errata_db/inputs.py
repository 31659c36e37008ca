"""Reading an input file without trusting what stands at its path.

Opening a FIFO blocks until somebody writes to it, a device (a link to /dev/zero) never ends,
and a sparse file claims gigabytes it costs nothing to make. Every file the tool reads goes
through read_limited: a regular file, read up to its limit and no further, or a refusal that
says what stands there instead.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

# What stands at a path, as a message names it.
_KINDS = (
    (stat.S_ISREG, "a regular file"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_CHUNK = 1 << 20


class Refused(Exception):
    """Something the tool does not read stands at the path; str() says what."""

    fifo = False


class TooLarge(Refused):
    def __init__(self, size: int | None, limit: int) -> None:
        self.size, self.limit = size, limit
        super().__init__(f"is {size} bytes, more than the {limit} byte limit" if size is not None
                         else f"is larger than the {limit} byte limit")


def kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "a special file")


def _check(st: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        refused = Refused(f"is {kind(st.st_mode)}, not a regular file")
        refused.fifo = stat.S_ISFIFO(st.st_mode)
        raise refused
    # Files of /sys and /proc give a page or 0 as their size, whatever they hold: the size
    # only refuses early, and the read below never goes past the limit either way.
    if st.st_size > limit:
        raise TooLarge(st.st_size, limit)


def read_limited(path: Path | str, limit: int) -> bytes:
    """The bytes of the regular file at path (links followed), if it holds at most limit.

    Raises Refused (TooLarge for size) before anything is read, or OSError.
    """
    _check(os.stat(path), limit)
    data = read_at_most(path, limit)
    if len(data) > limit:
        raise TooLarge(None, limit)
    return data


def read_at_most(path: Path | str, limit: int, *, follow_links: bool = True) -> bytes:
    """At most limit + 1 bytes of the regular file at path: one byte more than the limit says
    the file is larger, without reading the rest. Raises Refused for anything but a regular
    file, and OSError (ELOOP for a link, when not following links)."""
    # O_NONBLOCK: should a FIFO have taken the file's place since a caller looked, opening it
    # returns at once instead of waiting for a writer; fstat then refuses it.
    flags = (os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
             | (0 if follow_links else os.O_NOFOLLOW))
    fd = os.open(path, flags)
    try:
        _check(os.fstat(fd), float("inf"))
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, _CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_stream_limited(stream, limit: int) -> bytes:
    """At most limit bytes of a binary stream (stdin), or TooLarge."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(None, limit)
    return data
