"""The one way margincall reads a user's file: only a regular file, its size checked before reading.

A FIFO would block forever, /dev/zero would fill memory, a folder, a symlink loop or an over-long
name would end in an OS traceback: each is refused here with a sentence that says what the path
is and what to give instead. Scenario and stress files (`loading`) and prices CSVs (`calibrate`,
`history`) all come through `read_text`.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from margincall.errors import InputFileError
from margincall.model.limits import bound as limit_bound
from margincall.model.limits import limits

_CHUNK = 1 << 20


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), which could block forever"
    if stat.S_ISCHR(mode):
        return "a character device (such as /dev/zero), which may never end"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _open_error(path: str, exc: OSError) -> InputFileError:
    code = exc.errno
    if code == errno.ENOENT:
        reason = "not found"
    elif code == errno.ELOOP:
        reason = "is a symbolic link that loops (it points, directly or not, to itself)"
    elif code == errno.ENAMETOOLONG:
        longest = max((len(part) for part in Path(path).parts), default=0)
        reason = f"the name is too long for the file system ({len(path)} characters; the longest part {longest}; at most 255 a part)"
    elif code in (errno.EACCES, errno.EPERM):
        reason = "cannot be read: permission denied"
    elif code == errno.ENOTDIR:
        reason = "a part of the path is not a folder"
    elif code == errno.ENXIO:
        reason = "is a device or socket with nothing behind it"
    else:
        reason = f"cannot be opened ({exc.strerror or exc.__class__.__name__})"
    return InputFileError(path, reason)


def read_text(path: str | os.PathLike[str], *, bound: str = "file_bytes", encoding: str = "utf-8-sig", head: int | None = None) -> str:
    """The text of the regular file at `path`, decoded from UTF-8 (a leading byte-order mark dropped).

    The file is opened without blocking (a FIFO cannot stall), checked to be a regular file, and
    its size compared with the bound `bound` (`file_bytes` or `prices_bytes` of
    `margincall.model.limits`) before anything is read; a file that grows past the bound while it
    is read is refused too. `head` reads only the file's first `head` bytes (up to the last whole
    line among them), after the same checks: enough for a CSV's header. Raises `InputFileError` naming the path and what is wrong, or
    `LimitError` (from `limits`) when a bound's variable is not a number."""
    shown = os.fspath(path)
    cap = getattr(limits(), bound)
    try:
        fd = os.open(shown, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _open_error(shown, exc) from None
    except ValueError as exc:  # a NUL character in the path
        raise InputFileError(shown, f"is not a usable path ({exc})") from None
    try:
        info = os.fstat(fd)
        kind = _kind(info.st_mode)
        if kind is not None:
            raise InputFileError(shown, f"is {kind}; margincall reads only regular files")
        too_big = limit_bound(bound).problem(info.st_size, cap, "the file's size")
        if too_big is not None:
            raise InputFileError(shown, too_big)
        chunks: list[bytes] = []
        total = 0
        want = cap + 1 if head is None else min(head, cap + 1)
        while total < want:
            chunk = os.read(fd, min(_CHUNK, want - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > cap and head is None:
                raise InputFileError(shown, limit_bound(bound).problem(total, cap, "the file's size (it grew while read)") or "too large")
    except OSError as exc:
        raise InputFileError(shown, f"cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if head is not None and total >= head and b"\n" in data:
        data = data[: data.rindex(b"\n") + 1]
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputFileError(shown, f"is not UTF-8 text (byte {exc.start} on line {line}); save it as UTF-8") from None
