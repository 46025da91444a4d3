"""A store that holds records lean (the app's: `Store.hold_lean`) reads, checks and saves exactly as one that
holds every record parsed: the same summaries and search text, the same records, the same verdict of
`verify`, the same conflicts, and files byte for byte the same."""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest

from kentsafe_tui import storage
from kentsafe_tui.model import Pupil
from kentsafe_tui.storage import Stub
from kentsafe_tui.store import ConflictError, CorruptDatabase, Store

from .conftest import make_incident, write_older_file


def open_as(path, store: Store, lean: bool, user: str = "Bob DSL") -> Store:
    opened = Store(path, user=user, checklist_for=store._checklist_for, clock=store._clock, read_now=False)
    if lean:
        opened.hold_lean()
    return opened


def rows_of(store: Store) -> list[tuple]:
    return [(row.id, row.rev, row.concern_at, row.status, row.category, row.summary, row.pupils, row.updated_at,
             row.created_at, row.done, row.total, row.order, row.text) for row in store.summaries()]


def held(store: Store) -> list:
    return list(store._storage._data["incidents"].values())


@pytest.fixture(params=["stepwise", "whole"])
def varied(request, store, monkeypatch):
    """A database of varied records: edited, ticked, with pupils and non-ASCII text, and a setting."""
    if request.param == "stepwise":
        monkeypatch.setattr(storage, "STEPWISE_FROM", 0)  # the parse a large file gets
    ids = []
    for n in range(6):
        incident = make_incident(summary=f"Record {n}: vidéo partagée «{n}»")
        incident.pupils = [Pupil(name=f"Pupil {n}", year_group="9", role="received"),
                           Pupil(name="Zoë Example", year_group="10", role="shared")]
        ids.append(store.create(incident).id)
    edited = store.get(ids[1])
    edited.details = "Seen by a teacher; the phone was not looked at"
    store.save(edited, store.get(ids[1]))
    first = store.get(ids[2]).checklist[0]
    store.set_item(ids[2], first.id, "done", "Told the head")
    store.set_setting("school_name", "Example School")
    return store, ids


def test_lean_reads_give_what_a_full_read_gives(varied):
    store, ids = varied
    full, lean = open_as(store.path, store, False), open_as(store.path, store, True)
    assert rows_of(lean) == rows_of(full)
    assert all(isinstance(doc, Stub) for doc in held(lean))  # not parsed records
    assert not any(isinstance(doc, Stub) for doc in held(full))
    for incident_id in ids:
        assert lean.get(incident_id).to_dict() == full.get(incident_id).to_dict()
    assert [i.to_dict() for i in lean.incidents()] == [i.to_dict() for i in full.incidents()]
    assert [i.to_dict() for i in lean.incidents(search="zoë")] == [i.to_dict() for i in full.incidents(search="zoë")]
    assert lean.summaries(search="teacher phone")[0].id == ids[1]
    assert lean.count() == full.count() == 6
    lean_all, lean_settings = lean.read_all()
    full_all, full_settings = full.read_all()
    assert [i.to_dict() for i in lean_all] == [i.to_dict() for i in full_all] and lean_settings == full_settings
    assert not any(isinstance(held, dict) for held in lean_all._held)  # bytes, decoded as it goes
    def names_zoe(incident):
        return any(p.name == "Zoë Example" for p in incident.pupils)
    assert [i.to_dict() for i in lean.read_matching(names_zoe)] == [i.to_dict() for i in full.read_matching(names_zoe)]
    assert lean.list_rows(search="zoë") == full.list_rows(search="zoë")
    assert lean.list_records(search="teacher") == full.list_records(search="teacher")
    assert lean.check() == full.check()
    assert lean.verify() == []
    head = full.chain_head()
    assert lean.holds_head(head["seq"], head["head"]) is None
    assert lean.holds_head(2, "0" * 64) == full.holds_head(2, "0" * 64) is not None


def test_a_record_taken_from_a_lean_store_is_its_own(varied):
    store, ids = varied
    lean = open_as(store.path, store, True)
    taken = lean.get(ids[0])
    taken.summary = "changed here only"
    taken.history.clear()
    assert lean.get(ids[0]).summary.startswith("Record 0")
    assert lean.get(ids[0]).history


def same_file(one, other) -> None:
    """Byte for byte the same but for each save's random write token."""
    token = re.compile(rb'"write_id":"[0-9a-f]+"')
    assert token.sub(b"T", one.read_bytes()) == token.sub(b"T", other.read_bytes())


def test_saves_from_a_lean_store_write_the_same_bytes_as_from_a_full_one(varied, tmp_path):
    store, ids = varied
    paths = []
    for name, lean in (("full", False), ("lean", True)):
        folder = tmp_path / name
        folder.mkdir()
        os.chmod(folder, 0o700)
        shutil.copyfile(store.path, folder / "records.json")
        os.chmod(folder / "records.json", 0o600)
        mine = open_as(folder / "records.json", store, lean)
        mine.summaries()  # read, as the app reads before anything is saved
        edited = mine.get(ids[3])
        edited.outcome = "Closed: parents told, no referral needed"
        edited.status = "closed"
        mine.save(edited, mine.get(ids[3]))
        item = mine.get(ids[4]).checklist[1]
        mine.set_item(ids[4], item.id, "not_applicable", "Not needed")
        mine.create(make_incident(summary="A new one"))
        mine.set_setting("dsl_name", "A. DSL")
        mine.import_records([{"summary": "Imported", "concern_at": "2026-11-20T10:00:00+00:00"}])
        assert mine.verify() == []
        assert rows_of(mine) == rows_of(open_as(folder / "records.json", store, False))
        paths.append(folder / "records.json")
    same_file(*paths)


def test_another_dsls_save_is_read_lean_again_and_conflicts_as_before(varied):
    store, ids = varied
    alice = open_as(store.path, store, True, user="Alice DSL")
    opened = alice.get(ids[0])
    bob = open_as(store.path, store, False)
    theirs = bob.get(ids[0])
    theirs.summary = "Bob's wording"
    bob.save(theirs, bob.get(ids[0]))
    assert alice.changed_on_disk()
    mine = alice.get(ids[0])
    assert mine.summary == "Bob's wording"
    assert all(isinstance(doc, Stub) for doc in held(alice))  # read lean again
    opened_edit = opened.__class__.from_dict(opened.to_dict())
    opened_edit.summary = "Alice's wording"
    with pytest.raises(ConflictError) as raised:
        alice.save(opened_edit, opened)
    assert raised.value.latest.summary == "Bob's wording"


def test_a_lean_store_falls_back_to_a_full_read_where_the_file_needs_one(db_path, library, clock):
    write_older_file(db_path)
    lean = Store(db_path, user="Alice", checklist_for=library.checklist_for, clock=clock, read_now=False)
    lean.hold_lean()
    assert lean.get("2026-0001").history[0]["action"] == "migrate"  # an older schema: read in full, migrated
    lean.create(make_incident())
    assert [row.id for row in lean.summaries()] == ["2026-0002", "2026-0001"]
    assert lean.verify() == []


def test_a_damaged_record_is_refused_by_a_lean_read_as_by_a_full_one(store):
    for n in range(3):
        store.create(make_incident(summary=f"Record {n}"))
    text = store.path.read_text()
    store.path.write_text(text.replace('"rev":1', '"rev":1,"x":NaN', 1))
    messages = []
    for lean in (False, True):
        with pytest.raises(CorruptDatabase) as raised:
            open_as(store.path, store, lean).summaries()
        messages.append(str(raised.value))
    assert messages[0] == messages[1]


def test_a_record_that_does_not_fit_the_model_is_held_and_read_as_a_full_read_reads_it(store):
    made = store.create(make_incident(summary="Odd one"))
    data = json.loads(store.path.read_text())
    del data["incidents"]["1"]["parents_note"]  # the typed decoder wants every field: decoded as a dict
    store.path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    full, lean = open_as(store.path, store, False), open_as(store.path, store, True)
    assert rows_of(lean) == rows_of(full)
    assert isinstance(held(lean)[0], Stub)
    assert lean.get(made.id).to_dict() == full.get(made.id).to_dict()
    assert lean.check() == full.check()


def test_holding_lean_reads_again_what_was_held_in_full(store):
    store.create(make_incident())
    store.summaries()
    assert not isinstance(held(store)[0], Stub)
    store.hold_lean()
    assert [row.summary for row in store.summaries()] == ["Video shared in a Year 9 group chat"]
    assert isinstance(held(store)[0], Stub)
    saved = store.create(make_incident(summary="Second"))
    kinds = {doc["id"]: isinstance(doc, Stub) for doc in held(store)}
    assert kinds == {"2026-0001": True, saved.id: False}  # what this store wrote is held as written
    assert store.verify() == []


def test_the_bytes_of_a_file_read_before_are_let_go_a_few_thousand_at_a_time(store, monkeypatch):
    """A gentle re-read (the app's, after another DSL's save) drops the old file's record views in steps,
    offering the interpreter between them, and reads the new file as a fresh read does."""
    monkeypatch.setattr(storage, "STEPWISE_FROM", 0)
    for n in range(5):
        store.create(make_incident(summary=f"Record {n}"))
    replaced = storage.Fragments(b"x")
    for n in range(5000):
        replaced[("incidents", str(n), 1)] = memoryview(b"{}")
        replaced.starts[("incidents", str(n), 1)] = n
    paused = []
    storage.drop_gently(replaced, lambda: paused.append((len(replaced), len(replaced.starts))))
    assert not replaced and not replaced.starts
    assert paused == [(2952, 5000), (904, 5000), (0, 5000), (0, 2952), (0, 904), (0, 0)]
    kept = storage.Fragments(b"x")
    kept[("incidents", "1", 1)] = memoryview(b"{}")
    storage.drop_gently(kept, None)  # not a gentle read: left to be freed as it goes
    assert len(kept) == 1

    app = open_as(store.path, store, True, user="Alice DSL")
    app.load(search=True, gentle=True)
    open_as(store.path, store, False).create(make_incident(summary="Another DSL's"))
    offered = []
    assert app.load(search=True, gentle=True, busy=lambda: offered.append(1) and False) == 6
    assert offered
    assert rows_of(app) == rows_of(open_as(store.path, store, False))


def test_the_records_and_tables_of_a_file_read_before_are_let_go_in_steps_too():
    """A re-read's old records and the old file's table plans were dropped at once at the end of the read
    (90-140 ms at 50,000, a key waiting for it): they are emptied a few thousand at a time, then the bytes go."""
    replaced = storage.Fragments(b"the old file")
    plan = replaced.plans["incidents"] = storage._Plan()
    for n in range(5000):
        plan.add(str(n), {"id": str(n)}, n, n + 1)
    data = {"incidents": {str(n): {"id": str(n)} for n in range(5000)}, "_kentsafe": {"1": {"schema": 5}}}
    paused = []
    storage.drop_gently(replaced, lambda: paused.append(len(plan.docs) + len(data["incidents"])), data)
    assert plan.docs == [] and plan.ids == [] and plan.starts == [] and data["incidents"] == {}
    assert replaced.raw is None
    assert len(paused) >= 6 and paused[0] > 0 and paused[-1] == 0  # in steps, never all at once
    assert all(step <= 10000 - 2048 for step in paused)
    kept = storage.Fragments(b"x")
    kept_data = {"incidents": {"1": {}}}
    storage.drop_gently(kept, None, kept_data)  # not a gentle read: left to be freed as it goes
    assert kept.raw == b"x" and kept_data["incidents"] == {"1": {}}


def test_garbage_made_before_a_read_is_collected_not_frozen_for_good(store):
    """Reads freeze what they keep out of the collector's walks; garbage cycles alive at that moment would be
    kept for the life of the process (the app reads again after every other DSL's save), so they are
    collected first."""
    import gc
    import weakref

    store.create(make_incident())

    class Node:
        pass

    cycle = Node()
    cycle.me = cycle
    gone = weakref.ref(cycle)
    del cycle
    assert gone() is not None  # no collection has come round since
    try:
        open_as(store.path, store, True).load(search=True, gentle=True)
    finally:
        gc.unfreeze()
    assert gone() is None


def test_the_search_base_is_never_made_from_rows_a_reread_replaced(store):
    """Found in review: while a read made search texts (without the lock), another DSL saved and the screen
    read again; the read then kept its old rows as the base of every search, so a new record was not found."""
    for n in range(3):
        store.create(make_incident(summary=f"Record {n}"))
    app = open_as(store.path, store, True, user="Alice DSL")
    bob = open_as(store.path, store, False)
    injected = []

    def busy():
        if app.loaded and not injected:  # summaries made, search texts being made: the lock is free
            injected.append(bob.create(make_incident(summary="Zebra crossing incident")).id)
            assert len(app.summaries()) == 4  # the screen reads the other DSL's save
        return False

    app.load(search=True, gentle=True, busy=busy)
    assert injected
    assert [row.id for row in app.summaries(search="zebra")] == injected


def test_a_read_holding_the_lock_stops_standing_aside_when_the_screen_waits_for_the_lock(store, monkeypatch):
    """Found in review: standing aside for a key while holding the store's lock, when that key needed the
    lock, made each wait for the other. The read now stands aside only while nobody waits for its lock."""
    import threading

    monkeypatch.setattr(storage, "STEPWISE_FROM", 0)
    for n in range(40):
        store.create(make_incident(summary=f"Record {n}"))
    from kentsafe_tui import store as store_module

    app = open_as(store.path, store, True)
    screen = []
    stood_aside_while_waited_for = []
    sleep = store_module.time.sleep

    def counting_sleep(seconds):
        if seconds and app._mutex.waiting:
            stood_aside_while_waited_for.append(seconds)
        sleep(seconds)

    def busy():  # a key is being answered; the first time, it needs the store
        if not screen:
            thread = threading.Thread(target=app.count)
            screen.append(thread)
            thread.start()
            while not app._mutex.waiting:
                thread.join(0.001)
        return bool(app._mutex.waiting)  # busy until it has had the store

    monkeypatch.setattr(store_module.time, "sleep", counting_sleep)
    app.load(search=True, gentle=True, busy=busy)
    screen[0].join()
    assert screen and not app._mutex.waiting
    assert stood_aside_while_waited_for == []  # never slept holding the lock the screen waited for


def test_another_dsls_save_is_read_without_the_lock_and_what_is_held_serves_meanwhile(store, monkeypatch):
    """A re-read parses beside the held data: the screen's own calls (a filter, a count) get the lock at once
    and are answered from what is held, never by reading the file themselves; the read then takes over."""
    import threading

    monkeypatch.setattr(storage, "STEPWISE_FROM", 0)
    for n in range(40):
        store.create(make_incident(summary=f"Record {n}"))
    app = open_as(store.path, store, True, user="Alice DSL")
    app.load(search=True, gentle=True)
    theirs = open_as(store.path, store, False).create(make_incident(summary="Zebra crossing incident"))
    seen = []

    def busy():
        if not seen and app._storage.reading_ahead:
            answers = []
            screen = threading.Thread(target=lambda: answers.append(
                (app.count(), [row.id for row in app.summaries(search="zebra")], app._storage.generation)))
            generation = app._storage.generation
            screen.start()
            screen.join(10)
            seen.append((answers, generation))
        return False

    assert app.load(search=True, gentle=True, busy=busy) == 41
    (answers, generation), = seen
    assert answers == [(40, [], generation)]  # answered from what was held, with no read of its own
    assert [row.id for row in app.summaries(search="zebra")] == [theirs.id]
    assert not app._storage.reading_ahead and not app.changed_on_disk()
    assert all(isinstance(doc, Stub) for doc in held(app) if doc["id"] != theirs.id)


def test_a_save_made_while_a_newer_file_is_read_ahead_is_never_undone(store, monkeypatch):
    monkeypatch.setattr(storage, "STEPWISE_FROM", 0)
    for n in range(40):  # the read offers the interpreter every 16 records
        store.create(make_incident(summary=f"Record {n}"))
    app = open_as(store.path, store, True, user="Alice DSL")
    app.load(search=True, gentle=True)
    open_as(store.path, store, False).create(make_incident(summary="Theirs"))
    mine = []

    def busy():
        if not mine and app._storage.reading_ahead:
            mine.append(app.create(make_incident(summary="Mine, saved mid-read")).id)  # reads the newest itself
        return False

    app.load(search=True, gentle=True, busy=busy)
    assert mine
    assert {row.summary for row in app.summaries()} >= {"Theirs", "Mine, saved mid-read"}
    fresh = open_as(store.path, store, False)
    assert rows_of(app) == rows_of(fresh) and fresh.verify() == []


def test_read_in_background_answers_from_what_is_held_and_saves_still_see_the_newest(store):
    """The app's store never reads the file for a key: what is held answers until `load` (the app's worker)
    reads again. A save still reads the newest file first: it keeps another DSL's new record and refuses to
    overwrite their change to the same record."""
    from kentsafe_tui.store import ConflictError

    ids = [store.create(make_incident(summary=f"Record {n}")).id for n in range(3)]
    app = open_as(store.path, store, True, user="Alice DSL")
    app.read_in_background()
    app.load(search=True, gentle=True)
    opened = app.get(ids[0])
    bob = open_as(store.path, store, False)
    theirs = bob.create(make_incident(summary="Zebra crossing incident"))
    changed = bob.get(ids[0])
    changed.summary = "Bob's wording"
    bob.save(changed, bob.get(ids[0]))
    generation = app._storage.generation
    assert app.changed_on_disk()
    assert app.count() == 3 and app.summaries(search="zebra") == []  # what is held: no read of the file
    assert app.get(ids[0]).summary == "Record 0"
    assert app._storage.generation == generation
    edited = app.get(ids[1])
    edited.details = "Alice's addition"
    app.save(edited, app.get(ids[1]))  # a save reads the newest first
    mine = opened.__class__.from_dict(opened.to_dict())
    mine.summary = "Alice's wording"
    with pytest.raises(ConflictError):
        app.save(mine, opened)
    fresh = open_as(store.path, store, False)
    assert fresh.get(theirs.id).summary == "Zebra crossing incident"
    assert fresh.get(ids[0]).summary == "Bob's wording"
    assert fresh.get(ids[1]).details == "Alice's addition"
    assert fresh.verify() == []
    app.load(search=True, gentle=True)
    assert rows_of(app) == rows_of(fresh)


def test_a_gentle_re_read_lets_go_of_the_old_summaries_and_searches_in_steps(store, monkeypatch):
    """The summaries, their order and the search bases of the records read before are emptied in steps (see
    `empty_gently`), not dropped in one piece as the re-read ends."""
    import kentsafe_tui.store as store_module

    for n in range(3):
        store.create(make_incident(summary=f"Record {n}"))
    app = open_as(store.path, store, True, user="Alice DSL")
    app.load(search=True, gentle=True)
    app.summaries(search="record")  # a search kept, as the list's filter keeps one
    old_rows = app.summaries()
    emptied = []
    chunked = store_module.empty_gently

    def counting(containers, offer, chunk=2048):
        sizes = [len(container) for container in containers]
        chunked(containers, offer, chunk)
        emptied.append((sizes, [len(container) for container in containers]))

    monkeypatch.setattr(store_module, "empty_gently", counting)
    open_as(store.path, store, False).create(make_incident(summary="Another DSL's"))
    assert app.load(search=True, gentle=True) == 4
    assert len(emptied) == 2
    (order_and_rows, after_rows), (searched, after_searches) = emptied
    assert order_and_rows == [3, 3] and after_rows == [0, 0]  # the old order and summaries
    assert sum(searched) >= 6 and not any(after_searches)  # the search bases' rows and texts
    assert [row.summary for row in old_rows] == ["Record 2", "Record 1", "Record 0"]  # handed out: untouched
    assert len(app.summaries(search="record")) == 3 and len(app.summaries(search="another")) == 1
