"""Writing files that hold records: whole or not at all, never readable by the wrong person.

Every file kentsafe writes beside the database (the database, drafts, backups) goes through `atomic_write`:
a temporary file in the same folder, flushed and fsync'd, renamed over the old one, then the folder fsync'd.
A process killed at any moment leaves the old file or the new one. Nothing goes to /tmp.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
TEMP_MARK = ".tmp-"

DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class WriteFailed(Exception):
    """A file could not be written; the old file is untouched."""

    def __init__(self, message: str, error_number: int | None = None):
        super().__init__(message)
        self.errno = error_number


def temp_prefix(path: Path) -> str:
    return f".{path.name}{TEMP_MARK}"


def ensure_folder(folder: Path) -> None:
    """Create the folder (and parents) private to this user if it does not exist."""
    if folder.is_dir():
        return
    folder.mkdir(parents=True, mode=PRIVATE_FOLDER, exist_ok=True)
    os.chmod(folder, PRIVATE_FOLDER)


def mode_for(path: Path) -> tuple[int, int | None]:
    """The permissions and group a file at `path` should be written with.

    An existing file keeps its own (a team may have made it group-readable on purpose). A new file is 0600,
    or 0660 in a folder shared through a group (set-group-ID and group-writable), so the team can open it.
    """
    try:
        existing = path.stat()
        return stat.S_IMODE(existing.st_mode) & 0o666, existing.st_gid
    except FileNotFoundError:
        pass
    try:
        folder = path.parent.stat()
    except FileNotFoundError:
        return PRIVATE_FILE, None
    shared = folder.st_mode & stat.S_ISGID and folder.st_mode & stat.S_IWGRP
    return (0o660 if shared else PRIVATE_FILE), None


def describe_failure(problem: OSError, path: Path) -> str:
    if problem.errno in DISK_FULL:
        return f"the disk holding {path.parent} is full (or over quota)"
    if problem.errno in (errno.EACCES, errno.EPERM):
        return f"no permission to write in {path.parent}"
    if problem.errno == errno.EROFS:
        return f"{path.parent} is read-only"
    return problem.strerror or str(problem)


def atomic_write(path: Path, data: bytes, mode: int | None = None, group: int | None = None) -> os.stat_result:
    """Replace `path` with `data` atomically; return the new file's stat.

    Raises WriteFailed (the old file untouched, the temporary file removed) if anything goes wrong.
    """
    path = Path(path)
    if mode is None:
        mode, group = mode_for(path)
    tmp = path.parent / f"{temp_prefix(path)}{os.getpid()}-{secrets.token_hex(4)}"
    fd = -1
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        os.fchmod(fd, mode)
        if group is not None and group != os.getegid():
            try:
                os.fchown(fd, -1, group)
            except PermissionError:
                pass  # not in that group: the file stays ours, and private
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
        result = os.fstat(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
    except OSError as problem:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise WriteFailed(f"Could not write {path.name}: {describe_failure(problem, path)}", problem.errno) from problem
    fsync_folder(path.parent)
    return result


def fsync_folder(folder: Path) -> None:
    """Make a rename in the folder durable."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temps(path: Path) -> int:
    """Delete temporary files a killed writer left beside `path`. Call only while holding the write lock."""
    removed = 0
    prefix = temp_prefix(path)
    try:
        names = os.listdir(path.parent)
    except OSError:
        return 0
    for name in names:
        if name.startswith(prefix):
            try:
                os.unlink(path.parent / name)
                removed += 1
            except OSError:
                pass
    return removed


def exposure(path: Path) -> str | None:
    """A sentence if other users on this machine can read or change the file, else None."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    if mode & 0o007:
        return (
            f"{path} can be opened by every user on this machine (mode {mode:04o}): "
            f"run chmod o-rwx '{path}'"
        )
    return None
