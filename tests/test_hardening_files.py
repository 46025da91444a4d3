"""Hole 5 of issue 10: files others can read or swap. Folders are made 0700 whatever the umask, special
files and symbolic links are never replaced, `verify` looks at the folders, and the exports folder of a
shared set-up is shared like the database. The last tests run as second, unprivileged users."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from kentsafe_tui.cli import main
from kentsafe_tui.fileio import ensure_folder
from kentsafe_tui.store import Store

REPO = Path(__file__).resolve().parent.parent
RECORD = {"summary": "Video shared", "concern_at": "2026-11-10T10:00:00+00:00"}


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_folders_made_on_the_way_are_private_under_umask_000(tmp_path):
    old = os.umask(0)
    try:
        Store(tmp_path / "a" / "b" / "c" / "records.json", user="A").import_records([RECORD])
    finally:
        os.umask(old)
    for folder in ("a", "a/b", "a/b/c"):
        assert mode(tmp_path / folder) == 0o700, folder
    assert mode(tmp_path / "a/b/c/records.json") == 0o600
    assert mode(tmp_path / "a/b/c/records.json.lock") == 0o600


def test_a_database_left_readable_by_everyone_is_written_back_private(tmp_path):
    db = tmp_path / "records.json"
    store = Store(db, user="A")
    store.import_records([RECORD])
    db.chmod(0o666)
    store.import_records([dict(RECORD, summary="Another")])
    assert mode(db) & 0o007 == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_character_device_as_the_database_is_refused(capsys, tmp_path):
    device = tmp_path / "null"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    source = tmp_path / "in.json"
    source.write_text(json.dumps([RECORD]))
    code, _, err = run(capsys, "import", source, "--db", device)
    assert code == 1 and "not a regular file" in err
    assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_a_fifo_as_the_database_does_not_hang(tmp_path):
    fifo = tmp_path / "records.json"
    os.mkfifo(fifo)
    for args in (["list"], ["verify"], ["stats"]):
        result = subprocess.run([sys.executable, "-m", "kentsafe_tui", *args, "--db", str(fifo)],
                                capture_output=True, text=True, timeout=20, cwd=REPO)
        assert result.returncode == 1 and "FIFO" in result.stderr, result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_symlinked_database_stays_the_shared_one(tmp_path):
    shared = tmp_path / "shared" / "records.json"
    Store(shared, user="A").import_records([RECORD])
    link = tmp_path / "mine" / "records.json"
    link.parent.mkdir()
    link.symlink_to(shared)
    store = Store(link, user="B")
    store.import_records([dict(RECORD, summary="Through the link")])
    assert link.is_symlink()
    assert Store(shared).count() == 2
    assert not [p for p in link.parent.iterdir() if p.name != "records.json"]  # lock and temporaries beside the real file
    assert (shared.parent / "records.json.lock").exists()


def test_verify_refuses_a_world_writable_folder(capsys, tmp_path):
    folder = tmp_path / "open"
    folder.mkdir()
    db = folder / "records.json"
    Store(db, user="A").import_records([RECORD])
    assert run(capsys, "verify", "--db", db)[0] == 0
    folder.chmod(0o777)
    code, _, err = run(capsys, "verify", "--db", db)
    assert code == 1 and "every user" in err


def test_verify_refuses_a_database_in_tmp(capsys):
    handle, name = tempfile.mkstemp(prefix="kentsafe-verify-", suffix=".json", dir="/tmp")
    os.close(handle)
    os.unlink(name)
    try:
        Store(name, user="A").import_records([RECORD])
        code, _, err = run(capsys, "verify", "--db", name)
        assert code == 1 and "/tmp" in err
    finally:
        for leftover in (name, name + ".lock"):
            if os.path.exists(leftover):
                os.unlink(leftover)


def test_exports_in_a_group_shared_folder_are_group_shared(tmp_path):
    shared = tmp_path / "srv"
    shared.mkdir()
    shared.chmod(0o2770)
    ensure_folder(shared / "exports")
    assert mode(shared / "exports") == 0o2770
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    ensure_folder(private / "exports")
    assert mode(private / "exports") == 0o700


def test_an_exports_symlink_is_not_followed_out_of_the_folder(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    db_folder = tmp_path / "db"
    db_folder.mkdir()
    (db_folder / "exports").symlink_to(outside)
    with pytest.raises(OSError, match="symbolic link"):
        ensure_folder(db_folder / "exports")


# A second, unprivileged user ------------------------------------------------------------------------------
def _user(name: str) -> tuple[int, int]:
    import pwd

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", name],
                       check=True, capture_output=True)
        entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def _python_for_others() -> list[str] | None:
    """A Python every user can run, with this checkout and its installed packages on the path."""
    candidates = [os.path.realpath(sys.executable), shutil.which("python3") or "", "/usr/bin/python3"]
    for candidate in candidates:
        if candidate and os.path.exists(candidate):
            yield_ok = all(os.stat(p).st_mode & 0o001 for p in [*Path(candidate).parents][:-1] if p.exists())
            if yield_ok:
                return [candidate]
    return None


@pytest.fixture(scope="module")
def two_users():
    if os.geteuid() != 0:
        pytest.skip("needs root to create the second and third users (run in CI, which runs as root)")
    if shutil.which("useradd") is None:
        pytest.skip("useradd is not installed")
    python = _python_for_others()
    if python is None:
        pytest.skip("no Python that an unprivileged user can run")
    victim, attacker = _user("kentsafe-dsl"), _user("kentsafe-other")
    base = Path(tempfile.mkdtemp(prefix="kentsafe-users-", dir="/tmp"))
    base.chmod(0o1777)  # like /tmp: everyone may create, nobody may rename another's entries
    site = [p for p in sys.path if p.endswith("site-packages") and os.path.isdir(p)]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(base), "TZ": "Europe/London",
           "PYTHONPATH": os.pathsep.join([str(REPO), *site]), "PYTHONDONTWRITEBYTECODE": "1"}

    def as_user(who, code, *args, umask=0o022):
        uid, gid = who
        return subprocess.run([*python, "-c", code, *args], capture_output=True, text=True, timeout=60,
                              user=uid, group=gid, extra_groups=[], umask=umask, env=env, cwd=base)

    probe = as_user(victim, "import tinydb, platformdirs, filelock, kentsafe_tui.cli")
    if probe.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"the second user cannot import kentsafe here: {probe.stderr.strip()[-200:]}")
    yield victim, attacker, base, as_user
    shutil.rmtree(base, ignore_errors=True)


KENTSAFE = "import sys; from kentsafe_tui.cli import main; sys.exit(main(sys.argv[1:]))"


def test_as_a_second_user_nothing_kentsafe_makes_can_be_read_or_swapped(two_users):
    victim, attacker, base, as_user = two_users
    source = base / "in.json"
    source.write_text(json.dumps([RECORD]))
    source.chmod(0o644)
    db = base / "a" / "b" / "records.json"
    done = as_user(victim, KENTSAFE, "import", str(source), "--db", str(db), umask=0)
    assert done.returncode == 0, done.stderr
    assert mode(base / "a") == 0o700 and mode(base / "a" / "b") == 0o700 and mode(db) == 0o600
    report = base / "report.md"
    report.touch()
    os.chown(report, *victim)
    report.chmod(0o644)
    done = as_user(victim, KENTSAFE, "export", "2026-0001", "--db", str(db), "-o", str(report), umask=0)
    assert done.returncode == 0, done.stderr
    assert mode(report) == 0o600
    probes = {
        "read the database": f"open({str(db)!r}).read()",
        "list its folder": f"import os; os.listdir({str(base / 'a')!r})",
        "swap the folder": f"import os; os.rename({str(base / 'a')!r}, {str(base / 'stolen')!r})",
        "plant a file": f"open({str(base / 'a' / 'b' / 'planted.json')!r}, 'w')",
        "read the report": f"open({str(report)!r}).read()",
    }
    for what, code in probes.items():
        attempt = as_user(attacker, code)
        assert attempt.returncode != 0 and "PermissionError" in attempt.stderr, f"another user could {what}"
    assert (base / "a").exists()


def test_as_a_second_user_a_planted_database_is_not_trusted(two_users):
    victim, attacker, base, as_user = two_users
    planted = base / "planted"
    made = as_user(attacker, f"import os; os.mkdir({str(planted)!r}, 0o777); os.chmod({str(planted)!r}, 0o777)")
    assert made.returncode == 0, made.stderr
    source = base / "in2.json"
    source.write_text(json.dumps([RECORD]))
    source.chmod(0o644)
    db = planted / "records.json"
    done = as_user(victim, KENTSAFE, "import", str(source), "--db", str(db), umask=0)
    assert done.returncode == 0, done.stderr
    assert mode(db) & 0o007 == 0
    checked = as_user(victim, KENTSAFE, "verify", "--db", str(db))
    assert checked.returncode == 1 and "every user" in checked.stderr
