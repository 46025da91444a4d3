"""Holes 6 and 7 of issue 10, in a real terminal (tmux): a hang-up while quitting must never leave an
orphan, and an unexpected error ends with one line, never a traceback with other records in its locals."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from kentsafe_tui.store import Store

from .test_terminal import Terminal

pytestmark = [
    pytest.mark.terminal,
    pytest.mark.skipif(shutil.which("tmux") is None and not os.environ.get("CI"), reason="tmux is not installed"),
]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.5])
def test_a_hangup_while_quitting_always_ends_the_process(tmp_path, delay):
    db = tmp_path / "records.json"
    Store(db, user="A").import_records([{"summary": f"Record {n}", "concern_at": "2026-11-10T10:00:00+00:00"}
                                        for n in range(300)], allow_duplicates=True)
    terminal = Terminal(tmp_path, f"hup{int(delay * 100)}")
    try:
        terminal.start("--db", str(db))
        terminal.wait_for("Summary")
        pid = terminal.pid()
        terminal.keys("C-q", pause=0)
        time.sleep(delay)
        terminal.tmux("kill-server")  # the SSH line drops: the terminal hangs up on the process
        deadline = time.monotonic() + 15
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        orphan = _alive(pid)
        if orphan:
            os.kill(pid, 9)
        assert not orphan, "kentsafe kept running after the hang-up"
    finally:
        terminal.close()


CRASH = '''
import kentsafe_tui.screens.main as main

def crash(self):
    other_record_summary = "SECRET-PUPIL-NAME in another record"
    raise RuntimeError("boom " + other_record_summary)

main.MainScreen.action_help = crash
'''


def test_an_unexpected_error_ends_with_one_line_and_no_locals(tmp_path):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(CRASH)
    db = tmp_path / "records.json"
    Store(db, user="A").import_records([{"summary": "SECRET-SUMMARY", "concern_at": "2026-11-10T10:00:00+00:00"}])
    terminal = Terminal(tmp_path, "crash")
    try:
        terminal.start("--db", str(db), width=120, height=40, env={"PYTHONPATH": str(hook)})
        terminal.wait_for("Summary")
        terminal.keys("typed words")
        time.sleep(1.5)  # the form keeps a draft within a second
        terminal.keys("F1")
        screen = terminal.wait_for("KENTSAFE-EXITED=")
        history = terminal.tmux("capture-pane", "-p", "-S", "-1000", "-t", "k")
        assert "KENTSAFE-EXITED=1" in screen
        assert "unexpected error (RuntimeError)" in history
        for secret in ("SECRET", "Traceback", "locals", "other_record_summary"):
            assert secret not in history, secret
        assert [line for line in history.splitlines() if line.startswith("kentsafe:")].__len__() == 1
    finally:
        terminal.close()
    drafts = [p for p in db.parent.iterdir() if ".draft-" in p.name]
    assert drafts, "the typing was not kept"
