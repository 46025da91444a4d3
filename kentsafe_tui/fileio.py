"""Writing files that hold records: whole or not at all, never readable by the wrong person.

Every file kentsafe writes beside the database (the database, drafts, backups) goes through `atomic_write`:
a temporary file in the same folder, flushed and fsync'd, renamed over the old one, then the folder fsync'd.
A process killed at any moment leaves the old file or the new one, and a writer interrupted (ctrl-C) removes
its temporary file. Nothing goes to /tmp.

Who else can reach the files (issue 10): folders are made 0700 whatever the umask (2770 inside a folder a team
shares through a group), a file is never written back with bits for other users, a device, FIFO or folder
is never taken for the database (`refuse_special`), and a report the user names is written 0600 and never
over the database or one of its own files, by any name (`output_refusal`, `write_output`).
`folder_exposure` is what `verify` says about the folders around the database.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Sequence
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


def _shared(folder_stat: os.stat_result) -> bool:
    """A folder a team shares through a group: set-group-ID and group-writable (the README's set-up)."""
    return bool(folder_stat.st_mode & stat.S_ISGID and folder_stat.st_mode & stat.S_IWGRP)


def ensure_folder(folder: Path) -> None:
    """Create the folder, and every missing parent, private to this user (0700, whatever the umask).

    A folder made inside a group-shared folder is group-shared too (2770), so the rest of the team can use it,
    as they can the database. An existing folder that is a symbolic link is refused: it could lead records
    out of the database's folder (callers pass the database's own folder already resolved).
    """
    folder = Path(folder)
    if os.path.islink(folder):
        raise OSError(errno.ELOOP, f"{folder} is a symbolic link; kentsafe does not follow it", str(folder))
    if folder.is_dir():
        return
    missing = []
    current = folder
    while not current.exists():
        if os.path.islink(current):  # a dangling link
            raise OSError(errno.ELOOP, f"{current} is a broken symbolic link", str(current))
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        parent = path.parent.stat()
        mode = 0o2770 if _shared(parent) else PRIVATE_FOLDER
        try:
            os.mkdir(path, mode)
        except FileExistsError:
            if not path.is_dir() or path.is_symlink():
                raise
            continue
        os.chmod(path, mode)  # mkdir's mode is cut by the umask; chmod is not


def mode_for(path: Path) -> tuple[int, int | None]:
    """The permissions and group a file at `path` should be written with.

    An existing file keeps its own (a team may have made it group-readable on purpose). A new file is 0600,
    or 0660 in a folder shared through a group (set-group-ID and group-writable), so the team can open it.
    Other users never get a bit: a file made readable or writable by everyone is written back without it.
    """
    try:
        existing = path.stat()
        return stat.S_IMODE(existing.st_mode) & 0o660 | 0o600, existing.st_gid
    except FileNotFoundError:
        pass
    try:
        folder = path.parent.stat()
    except FileNotFoundError:
        return PRIVATE_FILE, None
    return (0o660 if _shared(folder) else PRIVATE_FILE), None


def describe_failure(problem: OSError, path: Path) -> str:
    if problem.errno in DISK_FULL:
        return f"the disk holding {path.parent} is full (or over quota)"
    if problem.errno in (errno.EACCES, errno.EPERM):
        return f"no permission to write in {path.parent}"
    if problem.errno == errno.EROFS:
        return f"{path.parent} is read-only"
    return problem.strerror or str(problem)


_IOV_MAX = min(os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024, 1024)


def _write_all(fd: int, parts: Sequence[bytes | memoryview]) -> None:
    """Write the parts in order, a thousand at a time (writev): no joined copy of the whole file is made."""
    views = [part for part in parts if len(part)]
    start = 0
    while start < len(views):
        group = views[start:start + _IOV_MAX]
        written = os.writev(fd, group) if len(group) > 1 else os.write(fd, group[0])
        for view in group:  # move past what went out; a short write resumes inside a part
            if written >= len(view):
                written -= len(view)
                start += 1
            else:
                views[start] = memoryview(view).cast("B")[written:]
                break


def atomic_write(path: Path, data: bytes | Sequence[bytes | memoryview], mode: int | None = None,
                 group: int | None = None) -> os.stat_result:
    """Replace `path` with `data` (bytes, or parts written one after another) atomically; return the new
    file's stat.

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
        _write_all(fd, [data] if isinstance(data, (bytes, bytearray, memoryview)) else data)
        os.fsync(fd)
        result = os.fstat(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
    except BaseException as problem:  # ctrl-C too: never leave a full copy of every record behind
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if not isinstance(problem, OSError):
            raise
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


def refuse_special(path: Path) -> str | None:
    """A sentence if something other than a regular file sits at `path` (a device, a FIFO, a socket or a
    folder): kentsafe would hang on it, or replace it. None when there is a regular file or nothing."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as problem:
        return f"cannot look at {path}: {problem.strerror}"
    if stat.S_ISDIR(found.st_mode):
        return f"{path} is a folder, not a database file"
    if not stat.S_ISREG(found.st_mode):
        kind = ("a FIFO" if stat.S_ISFIFO(found.st_mode) else "a device" if stat.S_ISCHR(found.st_mode)
                or stat.S_ISBLK(found.st_mode) else "a socket" if stat.S_ISSOCK(found.st_mode) else "not a file")
        return f"{path} is {kind}, not a regular file; kentsafe reads and writes only regular files"
    return None


def is_database_file(name: str, database: str) -> bool:
    """Whether a file name in the database's folder is the database or one of its own files."""
    return (name == database or name.startswith(database + ".lock") or name.startswith(f"{database}.schema")
            or name.startswith(temp_prefix(Path(database))) or name.startswith(f".{database}.draft-"))


def output_refusal(target: Path, database: Path) -> str | None:
    """A sentence if writing a report to `target` would overwrite the database or one of its own files
    (its lock, a draft, a backup, a temporary file), by any name: the paths are resolved and the files'
    identities (device and inode) compared. None when `target` is safe to write."""
    real_db = Path(os.path.realpath(database))
    real_target = Path(os.path.realpath(target))
    why = f"{target} is the database or one of its own files ({real_db.name}); give another file name"
    if real_target.parent == real_db.parent and is_database_file(real_target.name, real_db.name):
        return why
    try:
        found = os.stat(real_target)
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode):
        return f"{target} is not a regular file; give a file name"
    try:
        names = os.listdir(real_db.parent)
    except OSError:
        names = [real_db.name]
    for name in names:
        if not is_database_file(name, real_db.name):
            continue
        try:
            other = os.stat(real_db.parent / name)
        except OSError:
            continue
        if (other.st_dev, other.st_ino) == (found.st_dev, found.st_ino):
            return why
    return None


def write_output(target: Path, data: bytes) -> os.stat_result:
    """A report or letter written to a file the user named: atomically, and private (0600) whatever was
    there before. A symbolic link at `target` is replaced by the file, never written through."""
    return atomic_write(Path(target), data, PRIVATE_FILE, None)


def folder_exposure(path: Path) -> list[str]:
    """Sentences for each way another user could read, swap or plant files around the database: its folder
    writable by everyone (as /tmp is), or a folder above it that others can change."""
    problems: list[str] = []
    folder = Path(os.path.realpath(path)).parent
    me = os.geteuid()
    try:
        own = folder.stat()
    except OSError:
        return problems
    if own.st_mode & stat.S_IWOTH:
        problems.append(f"the database's folder {folder} can be changed by every user on this machine "
                        f"(mode {stat.S_IMODE(own.st_mode):04o}): keep the database in a private folder")
    elif own.st_uid not in (0, me) and not _shared(own):
        problems.append(f"the database's folder {folder} belongs to another user (uid {own.st_uid}), who can "
                        "swap the files in it")
    for parent in folder.parents:
        try:
            found = parent.stat()
        except OSError:
            continue
        sticky = found.st_mode & stat.S_ISVTX
        if found.st_mode & stat.S_IWOTH and not sticky:
            problems.append(f"the folder {parent} above the database can be changed by every user "
                            f"(mode {stat.S_IMODE(found.st_mode):04o}): another user could swap the folders below it")
        elif found.st_uid not in (0, me):
            problems.append(f"the folder {parent} above the database belongs to another user (uid {found.st_uid}), "
                            "who could swap the folders below it")
    return problems
