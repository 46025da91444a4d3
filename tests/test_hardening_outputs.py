"""Hole 1 of issue 10: `-o` can never overwrite the database or one of its own files, and every output is
written atomically and private (0600), whatever was at the path before."""

from __future__ import annotations

import os
import stat

import pytest

from kentsafe_tui.cli import main
from kentsafe_tui.store import Store


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "data" / "records.json"
    Store(path, user="Alice").import_records([{"summary": "Video shared", "concern_at": "2026-11-10T10:00:00+00:00"}])
    return path


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", [["export", "2026-0001"], ["export", "2026-0001", "--format", "html"],
                                     ["letter", "2026-0001"], ["chronology", "Nobody"]])
@pytest.mark.parametrize("target", ["records.json", "records.json.lock", ".records.json.draft-alice-1.json",
                                    "records.json.schema0-backup-1", ".records.json.tmp-1-abcd"])
def test_output_onto_the_database_or_its_files_is_refused(capsys, db, command, target):
    path = db.parent / target
    if target != "records.json":
        path.write_bytes(b"kept")
    before = {p.name: p.read_bytes() for p in db.parent.iterdir()}
    if command[0] == "chronology":
        Store(db, user="Alice").import_records([{"summary": "Named", "pupils": [{"name": "Nobody"}],
                                                 "concern_at": "2026-11-11T10:00:00+00:00"}])
        before = {p.name: p.read_bytes() for p in db.parent.iterdir()}
    code, out, err = run(capsys, *command, "--db", db, "-o", path)
    assert code == 1, err
    assert "database" in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert {p.name: p.read_bytes() for p in db.parent.iterdir()} == before
    assert Store(db).verify() == []


def test_output_through_a_symlink_or_hard_link_to_the_database_is_refused(capsys, db, tmp_path):
    link = tmp_path / "report.md"
    link.symlink_to(db)
    hard = tmp_path / "hard.md"
    os.link(db, hard)
    before = db.read_bytes()
    for target in (link, hard, tmp_path / "data" / ".." / "data" / "records.json"):
        code, _, err = run(capsys, "export", "2026-0001", "--db", db, "-o", target)
        assert code == 1 and "database" in err
    assert db.read_bytes() == before


def test_outputs_are_private_whatever_was_there(capsys, db, tmp_path):
    existing = tmp_path / "old.md"
    existing.write_text("old")
    existing.chmod(0o644)
    elsewhere = tmp_path / "elsewhere.md"
    elsewhere.write_text("someone else's")
    elsewhere.chmod(0o644)
    link = tmp_path / "link.md"
    link.symlink_to(elsewhere)
    for target in (existing, link, tmp_path / "new.html"):
        code, _, err = run(capsys, "export", "2026-0001", "--db", db, "-o", target)
        assert code == 0, err
        assert stat.S_IMODE(os.lstat(target).st_mode) == 0o600
        assert not os.path.islink(target)  # the link is replaced, never written through
    assert elsewhere.read_text() == "someone else's"
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
