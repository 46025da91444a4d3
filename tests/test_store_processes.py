"""Several DSLs' processes on one file, killed writers and full disks."""

import json
import random
import signal
import time

import pytest

from kentsafe_tui.store import Store

from .helpers import run, spawn

WRITER = """
import sys
from kentsafe_tui.content import Library
from kentsafe_tui.model import Incident
from kentsafe_tui.store import Store
path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = Store(path, user=name, checklist_for=Library.default().checklist_for)
for n in range(count):
    store.create(Incident(summary=f"{name} incident {n}"))
"""


@pytest.mark.slow
def test_four_processes_saving_fifty_each_lose_nothing(db_path):
    writers = [spawn(WRITER, str(db_path), f"dsl{n}", "50") for n in range(4)]
    for writer in writers:
        assert writer.wait(timeout=300) == 0
    store = Store(db_path, user="checker")
    rows = store.summaries()
    assert len(rows) == 200
    assert len({row.id for row in rows}) == 200
    assert sorted(row.summary for row in rows) == sorted(f"dsl{p} incident {n}" for p in range(4) for n in range(50))
    assert store.verify() == []


LOOP = """
import sys
from kentsafe_tui.model import Incident
from kentsafe_tui.store import Store
store = Store(sys.argv[1], user="looper")
print("ready", flush=True)
n = 0
while True:
    n += 1
    base = store.create(Incident(summary=f"crash loop {n}", details="x" * 2000))
    edited = Incident.from_dict(base.to_dict())
    edited.details = "y" * 2500
    store.save(edited, base)
"""


@pytest.mark.slow
def test_a_writer_killed_at_random_moments_never_breaks_the_file(db_path):
    seed = Store(db_path, user="seed")
    seed.import_records([{"summary": f"seed {n}", "details": "z" * 2500} for n in range(300)])
    rng = random.Random(2026)
    counts = []
    for attempt in range(30):
        child = spawn(LOOP, str(db_path), stdout=-1, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.25))
        child.send_signal(signal.SIGKILL)
        child.wait()
        store = Store(db_path, user="checker")  # opens: never half-written
        assert store.verify() == [], f"attempt {attempt}"
        counts.append(store.count())
    assert counts == sorted(counts) and counts[-1] > 300  # the loop did save, and nothing went backwards
    Store(db_path, user="sweeper").set_setting("school_name", "x")  # next writer sweeps the leftovers
    assert not list(db_path.parent.glob(".records.json.tmp-*"))


FULL_DISK = """
import json, resource, signal, sys
from kentsafe_tui.model import Incident
from kentsafe_tui.store import Store, SaveFailed
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
path = sys.argv[1]
store = Store(path, user="Alice")
base = store.get("2026-0001")
size = __import__("os").path.getsize(path)
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 1000, hard))
edited = Incident.from_dict(base.to_dict())
edited.details = "a long account " * 1000
result = {}
try:
    store.save(edited, base)
    result["first"] = "saved"
except SaveFailed as problem:
    result["first"] = str(problem)
result["in_memory"] = store.get("2026-0001").details
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
retried = store.save(edited, base)
result["retried"] = retried.details == edited.details
print(json.dumps(result))
"""


def test_a_full_disk_is_reported_the_file_stays_good_and_the_save_can_be_retried(store):
    from .conftest import make_incident

    store.create(make_incident())
    before = store.path.read_bytes()
    before_mode = store.path.stat().st_mode
    done = run(FULL_DISK, str(store.path))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "disk holding" in result["first"] and "full" in result["first"]
    assert "Nothing was lost" in result["first"] and "\n" not in result["first"]
    assert result["in_memory"] == ""  # the store shows the last good save, not the failed one
    assert result["retried"] is True
    after = Store(store.path, user="checker")
    assert after.get("2026-0001").details.startswith("a long account")
    assert after.verify() == []
    assert store.path.stat().st_mode == before_mode
    assert before != store.path.read_bytes()


def test_core_modules_do_not_import_textual():
    done = run(
        "import sys, kentsafe_tui.model, kentsafe_tui.store, kentsafe_tui.storage, kentsafe_tui.history, "
        "kentsafe_tui.content, kentsafe_tui.export, kentsafe_tui.letters, kentsafe_tui.oversight, "
        "kentsafe_tui.dates, kentsafe_tui.fileio, kentsafe_tui.cli, kentsafe_tui.drafts, kentsafe_tui.editing, "
        "kentsafe_tui.merge, kentsafe_tui.outputs, kentsafe_tui.keys; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
