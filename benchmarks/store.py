"""What a DSL feels at 1,000, 10,000 and 50,000 incidents: every command, a save, and the floors they stand on.

    python benchmarks/store.py                          # 1,000, 10,000 and 50,000 full-playbook incidents
    python benchmarks/store.py --sizes 1000 10000 --pairs 3
    python benchmarks/store.py --records small          # the 2-3 KB records of the first build's figures
    python benchmarks/store.py --code /path/to/other/checkout   # the same run against another kentsafe
  KENTSAFE_BENCH_SEEDED=/some/dir python benchmarks/store.py  # seed each size once, reuse it next time

Records: "full" is what the app writes (the whole playbook checklist, a create and a tick in the history,
9.5 to 16 KB a record); "small" keeps two checklist items and a short account.

Every measurement is a fresh child process that reports its own peak memory (VmHWM from /proc/self/status at
exit; `ru_maxrss` of a child forked from a large parent reports the parent's). Times are the child's CPU
(user + system, from wait4) and its wall clock; the machine is shared, so CPU is the steadier figure.

- Floors: a bare `json.loads` of the file, a bare msgspec decode (the library kentsafe parses with), the same
  with the cyclic collector paused (as kentsafe parses), and one write plus fsync of the file's bytes (what any
  save of one JSON file must pay). "x msgspec" and "x no-gc" divide by the medians of those floors.
- Commands: each CLI command as a whole process (`python -c` running `kentsafe_tui.cli.main`), run as A/B
  pairs with a bare `json.loads` child of the same file, the order alternating; the ratio is the median of the
  pairs' ratios, so a busy moment hits both sides of a pair.
- Saves: one process opens the store, saves once (the first save, reported on its own: it may serialise
  everything), then saves again (later saves); each save is timed against the mean of a write-plus-fsync
  floor just before and one just after it. The seeded file is fsynced first, as a school's file is at rest.
- TinyDB: its default storage (JSONStorage, uncached: every operation re-reads and re-parses the file), inserting
  the same record, for comparison only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    sys.path.insert(0, str(REPO))

WORDS = ["tutor", "group chat", "upset", "parents", "video", "Year 9", "CEOP", "device", "assembly", "Kit Sample"]


def seed_file(path: Path, count: int, full_playbook: bool) -> None:
    """Write a valid kentsafe database of fictional incidents directly (one write, a proper hash chain).

    With KENTSAFE_BENCH_SEEDED=DIR, a database seeded once is kept in DIR and copied from then on (seeding
    50,000 incidents takes a while; the records are the same but for their dates: the seed is the count)."""
    kept_in = os.environ.get("KENTSAFE_BENCH_SEEDED")
    if kept_in:
        kept = Path(kept_in) / f"{'full' if full_playbook else 'small'}-{count}.json"
        if not kept.exists():
            _seed(kept, count, full_playbook)
        shutil.copyfile(kept, path)
        os.chmod(path, 0o600)
    else:
        _seed(path, count, full_playbook)
    # A school's database is at rest on disk: the copy is written out before anything is timed, so neither a
    # save nor its floor waits behind the disk writing 550 MB of copy.
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _seed(path: Path, count: int, full_playbook: bool) -> None:
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
        when = (now - __import__("datetime").timedelta(minutes=rng.randint(40 * 24 * 60, 3 * 365 * 24 * 60))).replace(second=0)
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



RUNNER = r"""
import atexit, os, sys, time
def _report():
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    with open(os.environ["BENCH_REPORT"], "w") as out:
        out.write(repr({"peak_kb": peak, **getattr(sys, "bench_extra", {})}))
atexit.register(_report)
kind, path = sys.argv[1], sys.argv[2]
if kind == "json":
    import json
    with open(path, "rb") as handle:
        json.loads(handle.read())
elif kind == "msgspec":
    import msgspec
    with open(path, "rb") as handle:
        msgspec.json.decode(handle.read())
elif kind == "msgspec-nogc":  # the floor kentsafe reads at: msgspec with the cyclic collector paused
    import gc, msgspec
    gc.disable()
    with open(path, "rb") as handle:
        msgspec.json.decode(handle.read())
elif kind == "write":  # the floor of a save: write the file's bytes and fsync them
    with open(path, "rb") as handle:
        raw = handle.read()
    started = time.perf_counter()
    with open(path + ".floor", "wb") as handle:
        handle.write(raw)
        handle.flush()
        os.fsync(handle.fileno())
    sys.bench_extra = {"seconds": time.perf_counter() - started}
    os.unlink(path + ".floor")
elif kind == "cli":
    from kentsafe_tui.cli import main
    code = main(sys.argv[3:])
    if code:
        raise SystemExit(code)
elif kind == "saves":
    sys.path.append(os.environ["BENCH_REPO"])
    from benchmarks.store import measure_saves
    sys.bench_extra = measure_saves(path, int(sys.argv[3]))
elif kind == "tinydb":
    sys.path.append(os.environ["BENCH_REPO"])
    from benchmarks.store import measure_tinydb
    sys.bench_extra = measure_tinydb(path, int(sys.argv[3]))
"""


def run_child(kind: str, path: Path, *args: str, code: Path = REPO) -> dict:
    """One child process: its CPU and wall seconds, peak memory in MB, and whatever it reported."""
    report = path.with_name(f"report-{os.getpid()}.txt")
    env = dict(os.environ, BENCH_REPORT=str(report), BENCH_REPO=str(REPO), PYTHONPATH=str(code), TZ="Europe/London")
    env.pop("KENTSAFE_CONTENT", None)
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        process = subprocess.Popen([sys.executable, "-c", RUNNER, kind, str(path), *args], stdout=sink,
                                   stderr=subprocess.PIPE, env=env, cwd=str(path.parent))
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        error = process.stderr.read().decode(errors="replace") if process.stderr else ""
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0,):
        raise SystemExit(f"{kind} {' '.join(args)} failed ({process.returncode}): {error.strip()[-600:]}")
    result = eval(report.read_text())  # written by our own child just now
    report.unlink()
    result.update(cpu=usage.ru_utime + usage.ru_stime, wall=wall, peak_mb=result.pop("peak_kb") / 1024)
    return result


def measure_saves(path: str, saves: int) -> dict:
    """In one process: open, the first save (timed on its own), then later saves, as the app does them: the
    records held lean where the code has that (`hold_lean`), read with their search text."""
    from kentsafe_tui.model import Incident
    from kentsafe_tui.store import Store

    started = time.perf_counter()
    store = Store(path, user="bench", read_now=False)
    if hasattr(store, "hold_lean"):
        store.hold_lean()
    store.load(search=True)
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
    # Each save between two floors, its ratio against their mean: a shared disk's speed changes from one
    # second to the next (in one process, saves of the same code were 0.62x to 1.41x the lone floor after each).
    times, floors = [], []
    for n in range(saves + 1):
        base = store.get(rng.choice(ids))
        edited = Incident.from_dict(base.to_dict())
        edited.follow_up = base.follow_up + f" Further note {n}."
        before = write_floor(path)
        t = time.perf_counter()
        store.save(edited, base)
        times.append(time.perf_counter() - t)
        floors.append((before + write_floor(path)) / 2)
    return {"open": opened, "lookup": statistics.median(lookups), "filter": statistics.median(filters),
            "first_save": times[0], "later_saves": times[1:], "floors": floors}


def write_floor(path: str) -> float:
    """One write plus fsync of the file's bytes (read first, not timed): the floor of a save, measured beside
    each save, since a shared disk's speed changes from minute to minute."""
    with open(path, "rb") as handle:
        raw = handle.read()
    started = time.perf_counter()
    with open(path + ".floor", "wb") as handle:
        handle.write(raw)
        handle.flush()
        os.fsync(handle.fileno())
    seconds = time.perf_counter() - started
    os.unlink(path + ".floor")
    return seconds


def measure_tinydb(path: str, inserts: int) -> dict:
    """TinyDB's default storage (JSONStorage: no cache, every operation re-reads the file), on a copy."""
    from tinydb import JSONStorage, TinyDB

    with open(path, "rb") as handle:
        sample = json.loads(handle.read())["incidents"]["1"]
    copy = path + ".tinydb"
    shutil.copy(path, copy)
    table = TinyDB(copy, storage=JSONStorage).table("incidents")
    times = []
    for _ in range(inserts):
        t = time.perf_counter()
        table.insert(dict(sample))
        times.append(time.perf_counter() - t)
    os.unlink(copy)
    return {"later_saves": times}


def commands() -> list[tuple[str, list[str]]]:
    return [
        ("list", ["list"]),
        ("list --search", ["list", "--search", "group chat"]),
        ("list --json", ["list", "--json"]),
        ("show ID", ["show", "{id}"]),
        ("show ID --json", ["show", "{id}", "--json"]),
        ("export ID", ["export", "{id}"]),
        ("letter ID", ["letter", "{id}"]),
        ("chronology NAME", ["chronology", "Kit Sample"]),
        ("stats", ["stats"]),
        ("verify", ["verify"]),
        ("import (1 record)", ["import", "{import}", "--allow-duplicates"]),
    ]


def median_ratio(pairs: list[tuple[float, float]]) -> float:
    return statistics.median(mine / bare for bare, mine in pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--records", choices=["full", "small"], default="full")
    parser.add_argument("--pairs", type=int, default=3, help="A/B pairs (and samples) per measurement")
    parser.add_argument("--only", nargs="*", help="only these commands (by their first word; 'saves' for saves)")
    parser.add_argument("--no-tinydb", action="store_true", help="skip TinyDB's default storage")
    parser.add_argument("--code", type=Path, default=REPO, help="the kentsafe checkout to measure")
    args = parser.parse_args()
    pairs = args.pairs
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; kentsafe from {args.code}; "
          f"records: {args.records}; {pairs} A/B pairs each; CPU medians (wall in brackets)")
    for size in args.sizes:
        folder = Path(tempfile.mkdtemp(prefix="kentsafe-bench-", dir=os.environ.get("KENTSAFE_BENCH_DIR")))
        try:
            path = folder / "records.json"
            seed_file(path, size, args.records == "full")
            megabytes = path.stat().st_size / 1e6
            data = json.loads(path.read_bytes())
            some_id = data["incidents"][str(size // 2)]["id"]
            del data
            (folder / "one.json").write_text(json.dumps([{"summary": "DEMO: imported by the benchmark"}]))
            print(f"\n{size:,} incidents, file {megabytes:.1f} MB ({megabytes * 1000 / size:.1f} KB a record)")
            floors = {kind: [run_child(kind, path, code=args.code) for _ in range(pairs)]
                      for kind in ("json", "msgspec", "msgspec-nogc", "write")}
            parse = statistics.median(r["cpu"] for r in floors["json"])
            for kind, label in (("json", "floor: bare json.loads"), ("msgspec", "floor: bare msgspec decode"),
                                ("msgspec-nogc", "floor: msgspec, gc paused")):
                runs = floors[kind]
                cpu, wall = statistics.median(r["cpu"] for r in runs), statistics.median(r["wall"] for r in runs)
                peak = max(r["peak_mb"] for r in runs)
                print(f"  {label:<30} {cpu:7.2f} s ({wall:6.2f})  {cpu / parse:5.2f}x json  "
                      f"peak {peak:6.0f} MB = {peak / megabytes:4.1f}x file")
            write_floor = statistics.median(r["seconds"] for r in floors["write"])
            print(f"  {'floor: write + fsync':<30} {write_floor:7.3f} s wall")
            print(f"  {'command':<30} {'CPU s':>7} {'(wall)':>8}  {'x json':>6} {'x msgspec':>9} {'x no-gc':>8}  "
                  "peak MB, x file")
            msgspec_parse = statistics.median(r["cpu"] for r in floors["msgspec"])
            floor_parse = statistics.median(r["cpu"] for r in floors["msgspec-nogc"])
            for label, argv in commands():
                if args.only and label.split()[0] not in args.only:
                    continue
                argv = [a.format(id=some_id, **{"import": str(folder / "one.json")}) for a in argv]
                argv += ["--db", str(path), "--user", "bench"]
                results = []
                for n in range(pairs):
                    if n % 2:
                        mine = run_child("cli", path, *argv, code=args.code)
                        bare = run_child("json", path, code=args.code)
                    else:
                        bare = run_child("json", path, code=args.code)
                        mine = run_child("cli", path, *argv, code=args.code)
                    results.append((bare, mine))
                cpu = statistics.median(m["cpu"] for _, m in results)
                wall = statistics.median(m["wall"] for _, m in results)
                ratio = median_ratio([(b["cpu"], m["cpu"]) for b, m in results])
                peak = max(m["peak_mb"] for _, m in results)
                print(f"  {label:<30} {cpu:7.2f} ({wall:7.2f})  {ratio:5.2f}x {cpu / msgspec_parse:8.2f}x "
                      f"{cpu / floor_parse:7.2f}x  {peak:6.0f}, {peak / megabytes:4.1f}x")
            if args.only and "saves" not in args.only:
                continue
            # A first save happens once a process: one process each sample (as many as the pairs).
            runs = [run_child("saves", path, str(pairs), code=args.code) for _ in range(pairs)]
            saves = runs[0]
            firsts = [run["first_save"] for run in runs]
            later_times = [t for run in runs for t in run["later_saves"]]
            later = statistics.median(later_times)
            first_ratio = statistics.median(run["first_save"] / run["floors"][0] for run in runs)
            later_ratio = statistics.median(t / f for run in runs for t, f in zip(run["later_saves"], run["floors"][1:]))
            floors_seen = [f for run in runs for f in run["floors"]]
            print(f"  in one process: open + summaries {statistics.median(run['open'] for run in runs):.2f} s; "
                  f"get {saves['lookup'] * 1000:.2f} ms; filter {saves['filter'] * 1000:.1f} ms; peak "
                  f"{max(run['peak_mb'] for run in runs):.0f} MB = {max(run['peak_mb'] for run in runs) / megabytes:.1f}x file")
            print(f"  first save p50 {statistics.median(firsts):.3f} s = {first_ratio:.2f}x the write+fsync floor "
                  f"measured beside it ({len(runs)} processes); later saves p50 {later:.3f} s = {later_ratio:.2f}x "
                  f"(each against the floors either side of it; floors seen {min(floors_seen):.2f} to {max(floors_seen):.2f} s)")
            if not args.no_tinydb:
                tiny = run_child("tinydb", path, str(pairs), code=args.code)
                tiny_p50 = statistics.median(tiny["later_saves"])
                print(f"  TinyDB's default storage (JSONStorage, uncached): insert p50 {tiny_p50:.3f} s = "
                      f"{tiny_p50 / write_floor:.1f}x the floor; peak {tiny['peak_mb']:.0f} MB")
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
