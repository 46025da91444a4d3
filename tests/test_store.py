import json
import os
import stat
from datetime import timedelta

import pytest

from kentsafe_tui import history
from kentsafe_tui.model import Incident, Pupil, ValidationError
from kentsafe_tui.store import (
    ConflictError,
    CorruptDatabase,
    ImportRefused,
    NewerSchema,
    NotFound,
    Store,
)

from .conftest import make_incident, write_older_file


def reopen(store: Store, user: str = "Bob DSL") -> Store:
    return Store(store.path, user=user, checklist_for=store._checklist_for, clock=store._clock)


def test_a_new_incident_gets_an_id_defaults_its_playbook_and_its_first_entry(store, library):
    saved = store.create(store.new_incident().__class__(summary="Rumours about a video", concern_at=""))
    assert saved.id == "2026-0001"
    assert (saved.status, saved.scope, saved.category) == ("open", "reported_here", "harmful_content")
    assert saved.concern_at == "2026-11-28T09:30:00+00:00"
    assert [item.id for item in saved.checklist] == [i.id for i in library.checklist_for("harmful_content", "reported_here")]
    assert saved.created_by == "Alice DSL" and saved.rev == 1
    (entry,) = saved.history
    assert entry["action"] == "create" and entry["by"] == "Alice DSL" and entry["changes"]["summary"] == [None, "Rumours about a video"]
    assert store.verify() == []


def test_ids_follow_the_year_and_are_never_reused(store, clock):
    first, second = store.create(make_incident()), store.create(make_incident())
    clock.now = clock.now.replace(year=2027, month=1, day=2)
    third = store.create(make_incident())
    assert [first.id, second.id, third.id] == ["2026-0001", "2026-0002", "2027-0001"]


def test_a_saved_incident_reads_back_the_same_in_another_process_view(store):
    saved = store.create(make_incident(details="Seen by a tutor", pupils=[Pupil(name="Ava [b]Jones[/b]", role="harmed")]))
    other = reopen(store)
    assert other.get(saved.id) == saved


def test_an_edit_records_only_what_changed_with_who_and_when(store, clock):
    base = store.create(make_incident())
    edited = Incident.from_dict(base.to_dict())
    edited.details = "Two pupils came to the tutor"
    clock.now += timedelta(minutes=5)
    saved = store.save(edited, base)
    assert saved.rev == 2 and saved.updated_at == "2026-11-28T09:35:00+00:00"
    assert saved.history[-1]["changes"] == {"details": ["", "Two pupils came to the tutor"]}
    assert saved.history[-1]["action"] == "edit"


def test_saving_over_someone_elses_change_is_refused_naming_who_and_when(store, clock):
    opened_by_alice = store.create(make_incident())
    bob = reopen(store, "Bob DSL")
    bobs = Incident.from_dict(opened_by_alice.to_dict())
    bobs.details = "Bob's account"
    clock.now += timedelta(minutes=2)
    bob.save(bobs, opened_by_alice)
    alices = Incident.from_dict(opened_by_alice.to_dict())
    alices.details = "Alice's account"
    with pytest.raises(ConflictError) as raised:
        store.save(alices, opened_by_alice)
    message = str(raised.value)
    assert "Bob DSL" in message and "09:32" in message and "nothing was saved" in message
    assert raised.value.latest.details == "Bob's account"
    assert store.get(opened_by_alice.id).details == "Bob's account"  # nothing overwritten


def test_keeping_mine_after_a_conflict_is_an_amendment_that_keeps_theirs(store):
    base = store.create(make_incident())
    theirs = Incident.from_dict(base.to_dict())
    theirs.details, theirs.actions = "Their details", "Their actions"
    reopen(store).save(theirs, base)
    mine = Incident.from_dict(base.to_dict())
    mine.details = "My details"
    saved = store.save(mine, base, amend=True)
    assert saved.details == "My details"
    assert saved.actions == "Their actions"  # a field I did not touch keeps their value
    assert saved.history[-1]["action"] == "amend"
    assert saved.history[-1]["changes"] == {"details": ["Their details", "My details"]}
    assert store.verify() == []


def test_ticking_an_item_records_who_and_when_and_merges_with_other_changes(store, clock):
    base = store.create(make_incident())
    item = base.checklist[0].id
    theirs = Incident.from_dict(base.to_dict())
    theirs.details = "Changed elsewhere"
    reopen(store).save(theirs, base)
    clock.now += timedelta(minutes=1)
    ticked = store.set_item(base.id, item, "done", base_rev=base.rev)
    done = ticked.checklist[0]
    assert (done.state, done.by, done.at) == ("done", "Alice DSL", "2026-11-28T09:31:00+00:00")
    assert ticked.details == "Changed elsewhere"
    assert ticked.history[-1]["action"] == "checklist"
    assert list(ticked.history[-1]["changes"]) == [f"checklist.{item}"]


def test_ticking_an_item_someone_else_just_changed_is_a_conflict(store):
    base = store.create(make_incident())
    item = base.checklist[0].id
    reopen(store).set_item(base.id, item, "done", base_rev=base.rev)
    with pytest.raises(ConflictError):
        store.set_item(base.id, item, "not_applicable", note="Not here", base_rev=base.rev)


def test_not_applicable_needs_a_reason_and_nothing_is_saved_without_one(store):
    base = store.create(make_incident())
    with pytest.raises(ValidationError, match="does not apply"):
        store.set_item(base.id, base.checklist[0].id, "not_applicable", base_rev=base.rev)
    assert store.get(base.id).rev == 1


def test_closing_needs_an_outcome_and_closed_records_only_reopen(store):
    base = store.create(make_incident())
    closing = Incident.from_dict(base.to_dict())
    closing.status = "closed"
    with pytest.raises(ValidationError, match="outcome"):
        store.save(closing, base)
    closing.outcome = "Police advised no further action"
    closed = store.save(closing, base)
    assert closed.history[-1]["action"] == "close"
    moving = Incident.from_dict(closed.to_dict())
    moving.status = "monitoring"
    with pytest.raises(ValidationError, match="can't move"):
        store.save(moving, closed)
    moving.status = "open"
    assert store.save(moving, closed).history[-1]["action"] == "reopen"
    assert store.count() == 1  # closing kept the record


def test_changing_scope_brings_the_new_playbook_and_keeps_ticked_items(store, library):
    base = store.create(make_incident())
    ticked = store.set_item(base.id, "hc-staff-to-dsl", "done", base_rev=base.rev)
    moved = Incident.from_dict(ticked.to_dict())
    moved.scope = "no_direct_impact"
    saved = store.save(moved, ticked)
    ids = [item.id for item in saved.checklist]
    assert ids[: len(library.checklist_for("harmful_content", "no_direct_impact"))] == [
        i.id for i in library.checklist_for("harmful_content", "no_direct_impact")]
    assert "hc-staff-to-dsl" in ids  # acted on, so kept
    assert "hc-pupils-report" not in ids  # untouched and no longer in the playbook
    assert store.verify() == []


def test_a_yes_in_the_referral_check_adds_the_refer_now_items(store):
    base = store.create(make_incident(category="nudes"))
    assert "nd-refer-police-or-social-care" not in [i.id for i in base.checklist]
    answered = Incident.from_dict(base.to_dict())
    answered.referral_check = {"rq-adult": "yes"}
    saved = store.save(answered, base)
    assert "nd-refer-police-or-social-care" in [i.id for i in saved.checklist]


def test_search_finds_any_typed_text_and_lists_newest_concern_first(store, clock):
    store.create(make_incident("Older concern", concern_at="2026-11-01T10:00:00+00:00"))
    store.create(make_incident("Backdated concern", concern_at="2026-10-01T10:00:00+01:00",
                               pupils=[Pupil(name="Zara Quinn")]))
    store.create(make_incident("Newest concern"))
    assert [row.summary for row in store.summaries()] == ["Newest concern", "Older concern", "Backdated concern"]
    assert [row.summary for row in store.summaries(search="zara")] == ["Backdated concern"]
    assert [row.summary for row in store.summaries(search="concern older")] == ["Older concern"]
    assert store.summaries(status="closed") == []


def test_nothing_is_ever_deleted_from_history(store):
    base = store.create(make_incident())
    current = base
    for text in ("one", "two", "three"):
        edited = Incident.from_dict(current.to_dict())
        edited.details = text
        current = store.save(edited, current)
    assert [e["changes"]["details"] for e in current.history[1:]] == [["", "one"], ["one", "two"], ["two", "three"]]
    assert history.replay(current.history)["details"] == "three"


# Tampering ---------------------------------------------------------------------------------------------
def _tamper(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.fixture
def seeded(store):
    for n in range(3):
        base = store.create(make_incident(f"Concern {n}"))
        edited = Incident.from_dict(base.to_dict())
        edited.details = f"details {n}"
        store.save(edited, base)
    assert store.verify() == []
    return store


@pytest.mark.parametrize(
    "change, finds",
    [
        (lambda d: d["incidents"]["1"]["history"][1]["changes"]["details"].__setitem__(1, "rewritten"),
         "changed after it was written"),
        (lambda d: d["incidents"]["2"].__setitem__("details", "quietly changed"), "differs from what its history"),
        (lambda d: d["incidents"]["2"]["history"].pop(1), "missing"),
        (lambda d: d["incidents"].pop("3"), "records deleted"),
        (lambda d: d["incidents"]["1"]["history"].insert(1, dict(d["incidents"]["1"]["history"][1])), "appears twice"),
        (lambda d: d["incidents"]["1"].__setitem__("summary", ""), "summary"),
    ],
    ids=["edited entry", "edited field", "deleted entry", "deleted record", "inserted entry", "invalid record"],
)
def test_verify_finds_changes_made_outside_the_app(seeded, change, finds):
    _tamper(seeded.path, change)
    problems = reopen(seeded).verify()
    assert problems, "tampering went unnoticed"
    assert any(finds in problem for problem in problems), problems


# Files on disk -----------------------------------------------------------------------------------------
def test_a_new_database_is_private_to_its_user(store):
    store.create(make_incident())
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((store.path.parent / "records.json.lock").stat().st_mode) == 0o600


def test_a_group_shared_database_keeps_its_mode_on_every_save(tmp_path, library, clock):
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o2770)
    store = Store(folder / "records.json", user="Alice", checklist_for=library.checklist_for, clock=clock)
    store.create(make_incident())
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o660
    os.chmod(store.path, 0o640)
    store.create(make_incident())
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o640


def test_verify_reports_a_world_readable_database(store):
    store.create(make_incident())
    os.chmod(store.path, 0o644)
    assert any("every user on this machine" in p for p in store.verify())


def test_nothing_is_written_outside_the_database_folder(store, tmp_path, monkeypatch):
    scratch = tmp_path / "scratch-tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    store.create(make_incident(details="sensitive words"))
    assert list(scratch.iterdir()) == []
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["records.json", "records.json.lock"]


def test_temporary_files_left_by_a_killed_writer_are_cleaned(store):
    store.create(make_incident())
    stale = store.path.parent / ".records.json.tmp-99999-deadbeef"
    stale.write_bytes(b"half a file")
    fresh = reopen(store)
    fresh.create(make_incident())
    assert not stale.exists()


def test_a_damaged_file_stops_with_one_line_and_is_left_byte_for_byte(store):
    store.create(make_incident())
    damaged = store.path.read_bytes()[:-40]
    store.path.write_bytes(damaged)
    with pytest.raises(CorruptDatabase) as raised:
        reopen(store)
    assert "\n" not in str(raised.value) and "not valid JSON" in str(raised.value)
    assert store.path.read_bytes() == damaged


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage", b"[1, 2, 3]", b'{"incidents": [1]}'])
def test_files_that_are_not_kentsafe_databases_are_refused_untouched(db_path, content):
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(content)
    with pytest.raises(CorruptDatabase):
        Store(db_path, user="Alice")
    assert db_path.read_bytes() == content


def test_a_newer_schema_stops_and_leaves_the_file_untouched(store):
    store.create(make_incident())
    data = json.loads(store.path.read_text())
    data["_meta"]["1"]["schema"] = 99
    newer = json.dumps(data).encode()
    store.path.write_bytes(newer)
    with pytest.raises(NewerSchema, match="newer kentsafe .schema 99"):
        reopen(store)
    assert store.path.read_bytes() == newer


def test_an_older_file_is_migrated_with_a_backup_first(db_path, library, clock):
    original = write_older_file(db_path)
    store = Store(db_path, user="Alice", checklist_for=library.checklist_for, clock=clock)
    assert db_path.read_bytes() == original  # reading does not migrate
    migrated = store.get("2026-0001")
    assert migrated.history[0]["action"] == "migrate"
    store.create(make_incident())  # the first save writes the migration
    backups = list(db_path.parent.glob("records.json.schema0-backup-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == original
    assert stat.S_IMODE(backups[0].stat().st_mode) == stat.S_IMODE(db_path.stat().st_mode)
    assert reopen(store).verify() == []
    assert [row.id for row in reopen(store).summaries()] == ["2026-0002", "2026-0001"]


def test_a_missing_file_is_an_empty_database_until_the_first_save(db_path):
    store = Store(db_path, user="Alice")
    assert store.summaries() == []
    assert store.verify() == [f"there is no database at {db_path} (nothing has been saved there; is the path right?)"]
    assert not db_path.exists() and not db_path.parent.exists()


def test_verify_refuses_an_empty_or_foreign_file(db_path):
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"")
    assert "is empty" in Store(db_path).verify()[0]
    db_path.write_text("{}")
    os.chmod(db_path, 0o600)
    assert any("not written by kentsafe" in p for p in Store(db_path).verify())


def test_not_found_names_the_id(store):
    with pytest.raises(NotFound, match="2026-0404"):
        store.get("2026-0404")


# Import ------------------------------------------------------------------------------------------------
def test_import_adds_new_ids_keeps_history_and_records_the_import(store, library):
    exported = store.create(make_incident("From the old system"))
    records = [exported.to_dict(), {"summary": "Only a summary", "concern_at": "2026-11-01T12:00:00+00:00"}]
    with pytest.raises(ImportRefused, match="record 1: looks already imported .same as 2026-0001."):
        store.import_records(records, source="old.json")
    ids = store.import_records(records, source="old.json", allow_duplicates=True)
    assert ids == ["2026-0002", "2026-0003"]
    carried = store.get("2026-0002")
    assert [e["action"] for e in carried.history] == ["create", "import"]
    assert carried.history[-1]["note"] == "imported from old.json, where it was 2026-0001"
    assert carried.history[-1]["changes"]["id"] == ["2026-0001", "2026-0002"]
    minimal = store.get("2026-0003")
    assert minimal.status == "open" and minimal.checklist  # defaults and its playbook
    assert store.verify() == []


def test_import_with_one_bad_record_is_refused_whole(store):
    good = {"summary": "Fine"}
    bad = {"summary": "Bad", "category": "rumour", "shoe": 4}
    with pytest.raises(ImportRefused) as raised:
        store.import_records([good, bad, good])
    assert any("record 2: category" in p for p in raised.value.problems)
    assert any("record 2: shoe" in p for p in raised.value.problems)
    assert store.count() == 0 and not store.path.exists()


def test_import_refuses_history_that_cannot_be_replayed(store):
    record = {"summary": "x", "history": [{"at": "2026-01-01T00:00:00+00:00", "by": "x", "action": "checklist",
                                           "changes": {"checklist.nope": [None, {}]}}]}
    with pytest.raises(ImportRefused, match="cannot be replayed"):
        store.import_records([record])


# Settings ----------------------------------------------------------------------------------------------
def test_settings_are_kept_and_checked(store):
    store.set_setting("school_name", "Oak Hill School")
    assert reopen(store).settings() == {"school_name": "Oak Hill School"}
    with pytest.raises(ValidationError, match="not a setting"):
        store.set_setting("colour", "red")
    with pytest.raises(ValidationError, match="number of days"):
        store.set_setting("open_days_warning", "soon")


# The serialised-record cache -----------------------------------------------------------------------------
def test_saves_write_exactly_what_json_would_write(seeded):
    base = seeded.get("2026-0002")
    edited = Incident.from_dict(base.to_dict())
    edited.outcome = "Ünïcode “quotes” and \\ backslashes"
    seeded.save(edited, base)
    raw = seeded.path.read_bytes()
    assert raw == json.dumps(json.loads(raw), ensure_ascii=False, separators=(",", ":")).encode()
    assert reopen(seeded).get("2026-0002").outcome == edited.outcome


def test_an_edit_made_outside_kentsafe_is_never_overwritten_with_old_bytes(seeded):
    seeded.create(make_incident("Warm the cache"))
    _tamper(seeded.path, lambda d: d["incidents"]["1"].__setitem__("actions", "typed by an admin"))
    seeded.create(make_incident("Another"))
    assert json.loads(seeded.path.read_text())["incidents"]["1"]["actions"] == "typed by an admin"
    assert any("differs from what its history" in p for p in seeded.verify())


def test_importing_the_same_file_twice_is_refused_and_one_record_is_accepted(store):
    record = {"summary": "Seen on a bus", "concern_at": "2026-11-20T08:00:00+00:00"}
    assert store.import_records(record) == ["2026-0001"]  # one record, as show --json prints it
    with pytest.raises(ImportRefused, match="looks already imported"):
        store.import_records([record])
    with pytest.raises(ImportRefused, match="record 2: the same as record 1"):
        store.import_records([dict(record, summary="Other"), dict(record, summary="Other")])
    assert store.count() == 1


def test_search_matches_the_start_of_words_in_what_was_typed(store):
    store.create(make_incident("Alex shared a clip", pupils=[Pupil(name="Whale Example")]))
    store.create(make_incident("Staff room concern"))
    assert [r.summary for r in store.summaries(search="hale")] == []  # not the middle of "Whale"
    assert [r.summary for r in store.summaries(search="ale")] == ["Alex shared a clip"]  # the start of "Alex"
    assert [r.summary for r in store.summaries(search="alex")] == ["Alex shared a clip"]
    assert [r.summary for r in store.summaries(search="whale")] == ["Alex shared a clip"]
    # the playbook's items are in every record: "staff" finds only the record where a DSL typed it
    assert [r.summary for r in store.summaries(search="staff")] == ["Staff room concern"]


def test_texts_to_search_says_what_a_search_would_read(store):
    """The list fills its rows before the letter's frame only when the search is short: this is its measure."""
    store.create(make_incident("Alex shared a clip"))
    store.create(make_incident("Alex sent a message"))
    store.create(make_incident("Staff room concern"))
    assert store.texts_to_search("alex") is None  # the list is not made yet
    store.summaries()
    assert store.texts_to_search("alex") == 3  # nothing searched yet: every record's text
    assert store.texts_to_search("") == 0 and store.texts_to_search(None) == 0
    assert len(store.summaries(search="alex")) == 2
    assert store.texts_to_search("alex") == 0  # kept: answered without reading
    assert store.texts_to_search("ALEX,") == 0  # the same words, however typed
    assert store.texts_to_search("alex sh") == 2  # narrows "alex": only its two records are read
    assert store.texts_to_search("staff") == 3  # narrows nothing kept but the whole list
    store.create(make_incident("Alex again"))
    store.summaries()
    assert store.texts_to_search("alex") == 4  # a record saved since: the kept searches are gone


def test_a_records_search_text_holds_each_of_its_words_once(store):
    """Searches look for the start of a word, so a word said twice is kept once: a third less text to read."""
    from kentsafe_tui.store import _search_text

    text = _search_text({"summary": "Video, video: VIDEO shared", "details": "Zoë shared the video again",
                         "pupils": [{"name": "Zoë Example", "year_group": "9"}]})
    words = text.split()
    assert sorted(words) == sorted({"video", "shared", "zoë", "the", "again", "example", "9"})
    assert text.startswith(" ") and "  " not in text  # each word after one space, as searches look for them
    store.create(make_incident("Video, video: VIDEO shared", details="Zoë shared the video again"))
    assert len(store.summaries(search="zo vid again")) == 1


def test_the_head_of_a_search_and_its_count_leave_no_list_of_every_record_behind(store):
    """The list shows the first hundred rows and a count. At 50,000 incidents a list of every matching row,
    made and kept at each filter key, was walked by each collection of garbage while it lived (8-18 ms)."""
    import gc

    from kentsafe_tui.store import Summary

    for n in range(60):
        store.create(make_incident(f"Concern {n}", status="monitoring" if n % 3 == 0 else "open"))
    everything = store.summaries()
    assert store.summaries_head(5) == (everything[:5], 60)
    assert store.summaries_head(0) == ([], 60)
    assert store.summaries_head(None) == (everything, 60)
    concerns = [row for row in everything if " 1" in row.text]
    assert store.summaries_head(4, search="concern 1") == (concerns[:4], len(concerns))
    watched = [row for row in everything if row.status == "monitoring"]
    assert store.summaries_head(3, status="monitoring") == (watched[:3], 20)
    assert store.summaries_head(3, status="monitoring", search="concern") == (watched[:3], 20)

    def lists_of_rows() -> int:
        return sum(1 for held in gc.get_objects() if type(held) is list and len(held) >= 20
                   and isinstance(held[0], Summary))

    held = lists_of_rows()
    for typed in ("c", "co", "con", "concern", "concern 4", "concern", "c"):
        store.summaries_head(10, search=typed)
    assert lists_of_rows() == held  # searches keep positions, not rows


def test_texts_to_search_does_not_wait_for_another_thread_holding_the_store(store):
    """The list asks before the letter's frame: with the store held elsewhere (a save being written), it is
    told "not known" at once, and searches after the letter is drawn."""
    import threading

    store.create(make_incident("Alex shared a clip"))
    store.summaries()
    held, release = threading.Event(), threading.Event()

    def holding():
        with store._mutex:
            held.set()
            release.wait(5)

    worker = threading.Thread(target=holding)
    worker.start()
    try:
        assert held.wait(5)
        assert store.texts_to_search("alex") is None
    finally:
        release.set()
        worker.join()
    assert store.texts_to_search("alex") == 1
