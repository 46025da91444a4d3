"""Hole 12 of issue 10: ctrl-C during a save leaves no temporary copy of the records, and an import
interrupted while it was being written lands whole and exits 0, saying so."""

from __future__ import annotations

import os
import signal

import pytest

from kentsafe_tui import fileio
from kentsafe_tui.cli import main
from kentsafe_tui.store import Store


def test_ctrl_c_while_writing_leaves_no_temporary_copy(tmp_path, monkeypatch):
    target = tmp_path / "records.json"
    target.write_text("old")

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(fileio.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fileio.atomic_write(target, b"new" * 1000)
    assert [p.name for p in tmp_path.iterdir()] == ["records.json"]
    assert target.read_text() == "old"


def test_an_import_interrupted_while_it_is_written_lands_and_exits_0(tmp_path, monkeypatch, capsys):
    # ctrl-C as a terminal delivers it, whatever started the tests: a shell without job control starts a
    # background job with SIGINT ignored, and the handler the import gives back is then that one.
    launched_with = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        db = tmp_path / "records.json"
        Store(db, user="A").import_records([{"summary": "First", "concern_at": "2026-11-09T10:00:00+00:00"}])
        real = fileio.atomic_write

        def interrupted_write(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGINT)  # ctrl-C arrives while the file is being replaced
            return real(*args, **kwargs)

        monkeypatch.setattr("kentsafe_tui.storage.atomic_write", interrupted_write)
        source = tmp_path / "in.json"
        source.write_text('[{"summary": "Second", "concern_at": "2026-11-10T10:00:00+00:00"}]')
        code = main(["import", str(source), "--db", str(db)])
        out, err = capsys.readouterr()
        assert code == 0 and "imported 1 incident(s)" in out and "already been saved" in err
        monkeypatch.undo()
        assert Store(db).count() == 2 and Store(db).verify() == []
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # ctrl-C stops the next command
    finally:
        signal.signal(signal.SIGINT, launched_with)
