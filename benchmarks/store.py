"""Store figures at 1,000, 10,000 and 50,000 incidents: kentsafe's store, TinyDB's default, and the floor.

    python benchmarks/store.py                 # all sizes (50,000 takes a few minutes)
    python benchmarks/store.py --sizes 1000 10000
    python benchmarks/store.py --full-playbook # records with the whole playbook checklist (~10 KB each)

Each measurement runs in a fresh child process, so its peak memory is its own. The floor is what any design
that keeps the records in one JSON file must pay for one save: serialise everything once, write it, fsync.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

WORDS = ["tutor", "group chat", "upset", "parents", "video", "Year 9", "CEOP", "device", "assembly", "Kit Sample"]


def seed_file(path: Path, count: int, full_playbook: bool) -> None:
    """Write a valid kentsafe database of fictional incidents directly (one write, a proper hash chain)."""
    from kentsafe_tui import history
    from kentsafe_tui.content import Library
    from kentsafe_tui.dates import now_local, to_iso
    from kentsafe_tui.demo import fictional_incident
    from kentsafe_tui.storage import SCHEMA_VERSION

    library = Library.default()
    rng = random.Random(count)
    now = now_local()
    chain = {"seq": 0, "head": history.GENESIS}
    sequences: dict[str, int] = {}
    incidents = {}
    for number in range(1, count + 1):
        when = (now - __import__("datetime").timedelta(minutes=rng.randint(60, 3 * 365 * 24 * 60))).replace(second=0)
        incident = fictional_incident(rng, library, when)
        if not full_playbook:  # the 2-3 KB record: a short account, a short checklist
            incident.checklist = incident.checklist[:2]
            incident.details = incident.details[:250]
        year = str(when.year)
        sequences[year] = sequences.get(year, 0) + 1
        incident.id = f"{year}-{sequences[year]:04d}"
        incident.created_at, incident.created_by = to_iso(when), "Demo DSL"
        content = history.content_of(incident.to_dict())
        entries = [{"at": to_iso(when), "by": "Demo DSL", "action": "create",
                    "changes": {key: [None, value] for key, value in content.items()}}]
        if full_playbook:
            first = dict(content["checklist"][0], state="done", at=to_iso(when), by="Demo DSL")
            entries.append({"at": to_iso(when), "by": "Demo DSL", "action": "checklist",
                            "changes": {f"checklist.{first['id']}": [content["checklist"][0], first]}})
            content["checklist"][0] = first
        sealed = []
        for entry in entries:
            chain_seq = chain["seq"] + 1
            item = history.seal(entry, incident.id, chain_seq, chain["head"])
            chain = {"seq": chain_seq, "head": item["hash"]}
            sealed.append(item)
        incidents[str(number)] = {**content, "updated_at": sealed[-1]["at"], "updated_by": "Demo DSL",
                                  "history": sealed, "rev": len(sealed)}
    data = {"_meta": {"1": {"write_id": "seeded", "schema": SCHEMA_VERSION, "app": "kentsafe", "created_at": to_iso(now),
                            "sequences": sequences, "chain": chain}}, "incidents": incidents}
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    os.chmod(path, 0o600)


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"p50": statistics.median(ordered) * 1000, "p95": p95 * 1000}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_kentsafe(path: Path, saves: int) -> dict:
    from kentsafe_tui.model import Incident
    from kentsafe_tui.store import Store

    started = time.perf_counter()
    store = Store(path, user="bench")
    rows = store.summaries()
    opened = time.perf_counter() - started
    rng = random.Random(1)
    ids = [row.id for row in rows]
    lookups = []
    for incident_id in rng.sample(ids, min(200, len(ids))):
        t = time.perf_counter()
        store.get(incident_id)
        lookups.append(time.perf_counter() - t)
    filters = []
    for word in WORDS:
        t = time.perf_counter()
        store.summaries(search=word)
        filters.append(time.perf_counter() - t)
    save_times = []
    for n in range(saves):
        base = store.get(rng.choice(ids))
        edited = Incident.from_dict(base.to_dict())
        edited.follow_up = base.follow_up + f" Further note {n}."
        t = time.perf_counter()
        store.save(edited, base)
        save_times.append(time.perf_counter() - t)
    return {"open_s": opened, "save": _ms(save_times), "lookup": _ms(lookups), "filter": _ms(filters),
            "peak_mb": _peak_mb()}


def measure_tinydb(path: Path, inserts: int) -> dict:
    from tinydb import Query, TinyDB

    sample = json.loads(path.read_text())["incidents"]["1"]
    del path  # from here on, only TinyDB reads the file
    db = TinyDB(str(bench_copy), storage=__import__("tinydb").JSONStorage)
    table = db.table("incidents")
    t = time.perf_counter()
    table.get(doc_id=1)
    opened = time.perf_counter() - t
    lookups = []
    for doc_id in (2, 3, 4):
        t = time.perf_counter()
        table.get(doc_id=doc_id)
        lookups.append(time.perf_counter() - t)
    filters = []
    for word in WORDS[:3]:
        t = time.perf_counter()
        table.search(Query().summary.search(word))
        filters.append(time.perf_counter() - t)
    insert_times = []
    for _ in range(inserts):
        t = time.perf_counter()
        table.insert(dict(sample))
        insert_times.append(time.perf_counter() - t)
    return {"open_s": opened, "save": _ms(insert_times), "lookup": _ms(lookups), "filter": _ms(filters),
            "peak_mb": _peak_mb()}


def measure_floor(path: Path, repeats: int) -> dict:
    data = json.loads(path.read_text())
    target = path.with_name("floor.json")
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        with open(target, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        times.append(time.perf_counter() - t)
    target.unlink()
    return {"save": _ms(times), "peak_mb": _peak_mb()}


def child(kind: str, path: Path, count: int) -> dict:
    done = subprocess.run([sys.executable, __file__, "--measure", kind, str(path), str(count)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--full-playbook", action="store_true")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        kind, path, count = args.measure[0], Path(args.measure[1]), int(args.measure[2])
        global bench_copy
        bench_copy = path.with_name("tinydb.json")
        if kind == "tinydb":
            shutil.copy(path, bench_copy)
        runs = {"kentsafe": lambda: measure_kentsafe(path, 30 if count <= 10000 else 10),
                "tinydb": lambda: measure_tinydb(path, 10 if count <= 1000 else 5 if count <= 10000 else 3),
                "floor": lambda: measure_floor(path, 10 if count <= 10000 else 4)}
        print(json.dumps(runs[kind]()))
        return
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; "
          f"records: {'whole playbook checklist, create + tick history' if args.full_playbook else '2 checklist items, create history'}")
    header = f"{'incidents':>9} {'store':<8} {'open s':>7} {'save p50':>9} {'save p95':>9} {'lookup':>8} " \
             f"{'filter':>8} {'file MB':>8} {'KB/rec':>7} {'peak MB':>8}"
    print(header)
    for size in args.sizes:
        folder = Path(tempfile.mkdtemp(prefix="kentsafe-bench-", dir=os.environ.get("KENTSAFE_BENCH_DIR")))
        try:
            path = folder / "records.json"
            seed_file(path, size, args.full_playbook)
            megabytes = path.stat().st_size / 1e6
            floor = child("floor", path, size)
            mine = child("kentsafe", path, size)
            default = child("tinydb", path, size)
            for name, result in (("kentsafe", mine), ("tinydb", default), ("floor", floor)):
                print(f"{size:>9,} {name:<8} {result.get('open_s', float('nan')):>7.2f} "
                      f"{result['save']['p50']:>7.0f}ms {result['save']['p95']:>7.0f}ms "
                      f"{result.get('lookup', {}).get('p50', float('nan')):>6.2f}ms "
                      f"{result.get('filter', {}).get('p50', float('nan')):>6.1f}ms {megabytes:>8.1f} "
                      f"{megabytes * 1000 / size:>7.2f} {result['peak_mb']:>8.0f}")
            ratio_floor = mine["save"]["p50"] / floor["save"]["p50"]
            ratio_default = default["save"]["p50"] / mine["save"]["p50"]
            print(f"{'':>9} save: {ratio_floor:.2f}x the floor; TinyDB's default insert is {ratio_default:.1f}x slower")
        finally:
            shutil.rmtree(folder, ignore_errors=True)


bench_copy: Path

if __name__ == "__main__":
    main()
