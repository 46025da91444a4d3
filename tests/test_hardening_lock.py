"""Hole 11 of issue 10: a change queueing behind other kentsafes' saves waits as long as the queue moves,
with a progress line, and a lock held by a stuck process is refused with a true message."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from kentsafe_tui.store import Store, StoreBusy

from .helpers import child_env, REPO

HOLDER = """
import os, sys, time, filelock
db = sys.argv[1]
lock = filelock.FileLock(db + ".lock")
lock.acquire()
print("held", flush=True)
for _ in range(int(sys.argv[2])):
    time.sleep(0.4)
    if sys.argv[3] == "saving":
        os.utime(db)  # another kentsafe finishing a save, and the next in the queue starting
lock.release()
"""

RECORD = {"summary": "Queued", "concern_at": "2026-11-10T10:00:00+00:00"}


def hold(db, rounds: int, kind: str) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(db), str(rounds), kind], env=child_env(), cwd=REPO,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "held"
    return child


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "records.json"
    Store(path, user="A").import_records([{"summary": "First", "concern_at": "2026-11-09T10:00:00+00:00"}])
    return path


def test_a_moving_queue_is_waited_for_however_long_it_takes(db):
    store = Store(db, user="B", lock_timeout=1.0)
    waits = []
    store.on_wait = waits.append
    child = hold(db, 8, "saving")  # about 3.2 s of saves, far beyond the 1 s without progress
    started = time.monotonic()
    ids = store.import_records([RECORD])
    child.wait(10)
    assert ids and time.monotonic() - started > 2.5
    assert waits and max(waits) > 2


def test_a_stuck_lock_is_refused_with_a_true_message(db):
    store = Store(db, user="B", lock_timeout=1.0)
    child = hold(db, 8, "stuck")
    try:
        with pytest.raises(StoreBusy, match="without saving"):
            store.import_records([RECORD])
    finally:
        child.wait(10)
    assert store.count() == 1


def test_the_command_line_shows_that_it_is_waiting(db):
    child = hold(db, 6, "saving")
    source = db.parent / "in.json"
    source.write_text('[{"summary": "From the queue", "concern_at": "2026-11-10T10:00:00+00:00"}]')
    done = subprocess.run([sys.executable, "-m", "kentsafe_tui", "import", str(source), "--db", str(db)],
                          capture_output=True, text=True, env=child_env(), cwd=REPO, timeout=60)
    child.wait(10)
    assert done.returncode == 0, done.stderr
    assert "waiting for other kentsafes" in done.stderr
