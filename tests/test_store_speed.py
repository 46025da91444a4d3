"""What makes the store fast at a large school's size, checked for meaning (never for time): the parser's
refusals and byte-identical files, the garbage collector's state, and caches that follow every change."""

import gc
import json
import random
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kentsafe_tui import history, storage
from kentsafe_tui.model import Incident, Pupil
from kentsafe_tui.storage import parse
from kentsafe_tui.store import CorruptDatabase, Store

from .conftest import make_incident


def reopen(store: Store, user: str = "Bob DSL") -> Store:
    return Store(store.path, user=user, checklist_for=store._checklist_for, clock=store._clock)


def as_json(data) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.mark.parametrize("value, problem", [
    (b'{"incidents":{"1":{"rev":NaN}}}', "not valid JSON"),
    (b'{"incidents":{"1":{"rev":Infinity}}}', "not valid JSON"),
    (b'{"incidents":{"1":{"rev":-Infinity}}}', "not valid JSON"),
    (b'{"incidents":{"1":{"summary":"\\ud800"}}}', "not valid JSON"),  # a lone surrogate: cannot be written back
    (b'{"incidents":{"1":{"summary":"\xed\xa0\x80"}}}', "not UTF-8"),
    (b'{"incidents":{"1":{"summary":"\xff"}}}', "not UTF-8"),
    (b'{"incidents":{"1":{"summary":"a\nb"}}}', "not valid JSON"),
    (b'{"incidents":{"1":{}}} trailing', "not valid JSON"),
    (b'{"incidents":[1, 2]}', "not a TinyDB database"),
    (b'{"incidents":{"1":{"summary":"cut off', "not valid JSON"),
])
def test_nan_infinity_and_invalid_text_are_refused_as_damage_in_one_line(db_path, library, value, problem):
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db_path.write_bytes(value)
    with pytest.raises(CorruptDatabase) as raised:
        Store(db_path, user="Alice DSL", checklist_for=library.checklist_for)
    assert problem in str(raised.value) and "\n" not in str(raised.value)
    assert db_path.read_bytes() == value  # not touched


def test_a_damaged_file_still_says_where(db_path, library):
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db_path.write_bytes(b'{"incidents":{\n"1":{"summary":"x",}}}')
    with pytest.raises(CorruptDatabase, match=r"line 2, column"):
        Store(db_path, user="Alice DSL", checklist_for=library.checklist_for)


def test_a_byte_order_mark_is_read_as_json_read_it(db_path, library):
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db_path.write_bytes(b"\xef\xbb\xbf{}")
    assert Store(db_path, user="Alice DSL", checklist_for=library.checklist_for).count() == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(st.characters(blacklist_categories=["Cs"])),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


tricky_keys = st.sampled_from(["5", "12", "id", "", "\x00kentsafe-continued", "changes"]) | st.text(max_size=4)
tricky_values = st.recursive(
    st.none() | st.integers() | st.text(alphabet='{}[],":\\5ab', max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_keys, inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(tricky_keys, st.dictionaries(st.integers(1, 50).map(str) | tricky_keys,
                                                    tricky_values | json_values, max_size=5), max_size=4),
       st.booleans())
def test_the_parser_reads_what_json_reads_in_one_go_or_stepwise(tables, stepwise):
    raw = as_json(tables)
    kept = storage.STEPWISE_FROM
    storage.STEPWISE_FROM = 0 if stepwise else 1 << 40
    try:
        data, fragments = parse(raw)
    finally:
        storage.STEPWISE_FROM = kept
    assert data == json.loads(raw)
    assert list(data) == list(json.loads(raw))
    assert all(list(data[name]) == list(table) for name, table in json.loads(raw).items())
    for (name, doc_id, _), piece in fragments.items():
        assert json.loads(bytes(piece)) == data[name][doc_id]
    assert gc.isenabled()


@pytest.mark.parametrize("raw", [
    b'{"t":{"1":{"a":{"b":1},"5":{"c":2}},"2":{}}}',  # a record holding what looks like the next record
    b'{"t":{"1":{},"2":{}},"u":{"1":{},"2":{}},"t":{"3":{}}}',  # a table named twice
    b'{"t":{"1":{},"x":{},"2":{}}}',  # a document id that is not a number
    b'{"\\u0000kentsafe-continued":{"1":{},"2":{}},"t":{"1":{},"2":{}}}',
    b' {"t" : {"1":{}, "2":{} } } ',
    b'{"t":{"1":{},"2":{}},"\\u0000\\u006bentsafe-continued":{"1":{},"3":{}}}',  # the wrapper's key, escaped
])
def test_stepwise_parsing_of_layouts_kentsafe_does_not_write(monkeypatch, raw):
    monkeypatch.setattr(storage, "STEPWISE_FROM", 0)
    assert parse(raw)[0] == json.loads(raw)


@pytest.mark.parametrize("raw", [b'{"t":{"1":{},"2":{}}} x', b'{"t":{"1":{},"2":{"a":}}}', b'{"t":{"1":{},"2":[]]}',
                                 b'[{"t":{"1":{},"2":{}}}]', b'{"t":{"1":{},"2":{}},"u":[]}'])
def test_stepwise_parsing_refuses_what_the_whole_parse_refuses(monkeypatch, raw):
    monkeypatch.setattr(storage, "STEPWISE_FROM", 0)
    with pytest.raises(ValueError):
        parse(raw)
    assert gc.isenabled()


def test_files_stay_byte_identical_to_json_dumps_through_reads_and_saves(store, library, clock):
    first = store.create(make_incident(pupils=[Pupil(name="Zoë Ørsted – “quoted” \\ back", role="harmed")]))
    for n in range(3):
        store.create(make_incident(summary=f"Another one {n} \u2028 \U0001F600"))
    assert store.path.read_bytes() == as_json(json.loads(store.path.read_bytes()))
    other = reopen(store)  # a new process: its first save reuses the bytes it read
    edited = Incident.from_dict(first.to_dict())
    edited.details = "Changed by Bob"
    other.save(edited, first)
    assert store.path.read_bytes() == as_json(json.loads(store.path.read_bytes()))
    store.import_records([{"summary": "Imported"}])
    raw = store.path.read_bytes()
    assert raw == as_json(json.loads(raw))
    assert reopen(store).verify() == []


def test_an_edit_made_outside_kentsafe_is_kept_not_overwritten_with_old_bytes(store):
    saved = store.create(make_incident())
    store.create(make_incident(summary="Second"))
    data = json.loads(store.path.read_bytes())
    data["incidents"]["1"]["details"] = "edited by hand"  # rev unchanged: only the bytes tell
    store.path.write_bytes(as_json(data))
    other = reopen(store)
    other.get(saved.id)
    edited = other.get("2026-0002")
    changed = Incident.from_dict(edited.to_dict())
    changed.details = "Second, changed"
    other.save(changed, edited)
    assert json.loads(store.path.read_bytes())["incidents"]["1"]["details"] == "edited by hand"


def containers(value) -> int:
    if isinstance(value, dict):
        return 1 + sum(containers(item) for item in value.values())
    if isinstance(value, list):
        return 1 + sum(containers(item) for item in value)
    return 0


def test_reading_pauses_the_collector_only_while_parsing_and_a_reread_frees_the_old_records(store):
    for n in range(40):
        store.create(make_incident(summary=f"Record {n}"))
    reopen(store).count()
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    one_copy = containers(store._storage.read())
    for n in range(5):  # another DSL saves, and we read the file again each time
        other = reopen(store)
        other.create(make_incident(summary=f"Their record {n}"))
        store.count()
    assert gc.isenabled()
    # The old data was frozen and then replaced: reference counting freed it, so the frozen set did not grow
    # by five copies of the records (only by what else was alive at each read).
    assert gc.get_freeze_count() - frozen < one_copy


def test_one_record_is_found_without_building_every_summary(store):
    for word in ("alpha", "bravo", "charlie", "delta", "echo"):
        store.create(make_incident(summary=f"Record {word}"))
    fresh = reopen(store)
    assert fresh.get("2026-0003").summary == "Record charlie"
    assert not fresh.loaded  # only the id index was built
    rows = fresh.summaries()
    assert fresh.loaded and not any(row.has_text for row in rows)  # no search yet: no search text
    assert [row.id for row in fresh.summaries(search="record char")] == ["2026-0003"]


def rows_of(store: Store) -> list[tuple]:
    return [(row.id, row.rev, row.status, row.summary, row.done, row.total, row.order, row.text)
            for row in store.summaries()]


def test_summaries_kept_up_to_date_by_saves_match_a_fresh_read(store, clock):
    rng = random.Random(7)
    store.summaries(search="x")  # summaries and search text made before the changes
    saved = []
    for n in range(12):
        clock.now = clock.now.replace(minute=rng.randint(0, 59), hour=rng.randint(0, 23))
        saved.append(store.create(make_incident(summary=f"Record {n}", concern_at=f"2026-11-{rng.randint(1, 27):02d}T10:00:00+00:00")))
    for n in range(10):
        base = store.get(rng.choice(saved).id)
        edited = Incident.from_dict(base.to_dict())
        edited.summary = f"Renamed {n}"
        edited.concern_at = f"2026-10-{rng.randint(1, 28):02d}T08:{n:02d}:00+00:00"
        store.save(edited, base)
        item = store.get(base.id).checklist[0]
        store.set_item(base.id, item.id, "done")
    store.import_records([{"summary": "Imported one", "concern_at": "2026-11-02T10:00:00+00:00"}])
    reopen(store).create(make_incident(summary="Made by another DSL"))  # we must see this one too
    assert rows_of(store) == rows_of(reopen(store))
    assert len(store.summaries()) == store.count() == 14


def test_bulk_readers_give_the_records_as_get_does(store):
    for n in range(4):
        store.create(make_incident(summary=f"Record {n}"))
    assert store.incidents() == [store.get(row.id) for row in store.summaries()]


def test_replay_shares_values_but_never_changes_the_history_it_reads(store):
    saved = store.create(make_incident())
    store.set_item(saved.id, saved.checklist[0].id, "done")
    record = store.get(saved.id).to_dict()
    before = json.dumps(record["history"], sort_keys=True)
    replayed = history.replay(record["history"])
    assert replayed == history.content_of(record)
    assert json.dumps(record["history"], sort_keys=True) == before


def test_load_reports_progress_and_builds_the_search_text(store):
    for n in range(3):
        store.create(make_incident(summary=f"Record {n}"))
    fresh = Store(store.path, user="Bob DSL", read_now=False)
    seen = []
    assert fresh.load(lambda done, total: seen.append((done, total)), search=True) == 3
    assert seen and seen[-1][0] == seen[-1][1] and fresh.loaded
    assert all(row.has_text for row in fresh.summaries())


# The command line -------------------------------------------------------------------------------------------
def test_an_import_ends_with_one_summary_line_not_every_id(tmp_path, capsys):
    from kentsafe_tui.cli import main

    source = tmp_path / "many.json"
    source.write_text(json.dumps([{"summary": f"Imported {n}"} for n in range(30)]))
    assert main(["import", str(source), "--db", str(tmp_path / "records.json")]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("imported 30 incident(s): ") and " to " in out
    first, last = out.split(": ")[1].strip().split(" to ")
    assert int(last.split("-")[1]) - int(first.split("-")[1]) == 29


def test_commands_that_show_no_guidance_do_not_import_it(tmp_path):
    from .helpers import run

    db = tmp_path / "records.json"
    Store(db, user="Alice").import_records([{"summary": "One"}])
    probe = ("import sys; from kentsafe_tui.cli import main; code = main(sys.argv[1:]); "
             "print('markdown_it' in sys.modules, 'kentsafe_tui.content' in sys.modules); sys.exit(code)")
    for command in (["list"], ["list", "--json"], ["show", "{id}", "--json"], ["verify"], ["stats", "--json"]):
        argv = [part.replace("{id}", Store(db).summaries()[0].id) for part in command]
        done = run(probe, *argv, "--db", str(db))
        assert done.returncode == 0, done.stderr
        expected = "True True" if command[0] == "stats" else "False False"  # stats names guidance past review
        assert done.stdout.strip().endswith(expected), (command, done.stdout[-200:])


def test_progress_is_shown_on_a_terminal_only_and_cleared_at_the_end(monkeypatch, capsys):
    from kentsafe_tui import cli

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert cli._progress("reading") is None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    report = cli._progress("reading")
    report(10, 100)  # a small database: nothing to wait for, nothing said
    report(2000, 50000)
    report(50000, 50000)
    err = capsys.readouterr().err
    assert err == "\rkentsafe: reading 2,000 of 50,000 records\r\x1b[K"


def test_list_json_prints_what_json_dumps_of_the_records_printed(tmp_path, capsys):
    from kentsafe_tui.cli import main

    db = tmp_path / "records.json"
    store = Store(db, user="Zoë")
    store.import_records([{"summary": f"Record “{n}” \u2028 \U0001F600", "pupils": [{"name": "Ava", "role": "harmed"}]}
                          for n in range(3)])
    capsys.readouterr()
    assert main(["list", "--json", "--db", str(db)]) == 0
    # What json.dumps prints, with the characters that act on a terminal escaped (U+2028 here), as the
    # command line escapes all its JSON.
    from kentsafe_tui.text import json_escape

    expected = json_escape(json.dumps([incident.to_dict() for incident in Store(db).incidents()],
                                      ensure_ascii=False, indent=2))
    assert capsys.readouterr().out == expected + "\n"


def test_searches_typed_and_erased_give_what_a_fresh_search_gives(store):
    words = ["alpha bravo", "alphabet", "bravo charlie", "charlie alpha", "delta"]
    for n, summary in enumerate(words * 3):
        store.create(make_incident(summary=f"{summary} {n}", status="monitoring" if n % 4 == 0 else "open"))
    typed = ["a", "al", "alp", "alph", "alpha", "alpha b", "alpha br", "alpha b", "alpha", "al", "", "c", "ch a",
             "zzz", "alpha", "bravo", "b", "alphab"]
    lean = reopen(store)
    lean.hold_lean()
    lean.load(search=True)  # as the app reads: the search of no words made ready
    everything = reopen(store).summaries()
    for status in (None, "open", "monitoring"):
        for text in typed * 2:  # more than the 16 searches kept
            words = text.split()
            expected = [row.id for row in everything if (status is None or row.status == status)
                        and all(" " + word in row.text for word in words)]
            assert [row.id for row in reopen(store).summaries(status, text)] == expected, (status, text)
            assert [row.id for row in store.summaries(status, text)] == expected, (status, text)
            assert [row.id for row in lean.summaries(status, text)] == expected, (status, text)
    base = store.get(store.summaries(search="delta")[0].id)
    edited = Incident.from_dict(base.to_dict())
    edited.summary = "alpha now"
    store.save(edited, base)  # the kept searches are for older data: not used
    assert [row.id for row in store.summaries(search="alpha")] == [row.id for row in reopen(store).summaries(search="alpha")]


def test_a_save_by_another_dsl_shows_as_changed_on_disk_until_loaded(store):
    store.create(make_incident())
    assert not store.changed_on_disk()
    reopen(store).create(make_incident(summary="Theirs"))
    assert store.changed_on_disk()
    assert store.load(search=True) == 2 and not store.changed_on_disk() and store.loaded


# Reading records fast (issue 12, second round) --------------------------------------------------------------
def test_from_dict_fast_path_builds_and_refuses_as_field_by_field_checks_do():
    from kentsafe_tui.model import ChecklistItem, ValidationError

    built = Incident.from_dict({"summary": "s", "checklist": [{"id": "a", "text": "t"}, {"id": "b", "note": None}],
                                "pupils": [{"name": "Ava", "role": "harmed"}], "rev": 2})
    assert built.checklist == [ChecklistItem(id="a", text="t"), ChecklistItem(id="b")]  # None takes the default
    assert built.pupils[0].name == "Ava" and built.rev == 2
    with pytest.raises(ValidationError) as raised:
        Incident.from_dict({"checklist": [{"id": "a"}, {"id": 5}, {"id": "c", "odd": "x"}, "no"], "pupils": {}})
    assert raised.value.errors == {"checklist[1].id": "must be text", "checklist[2].odd": "is not a field here",
                                   "checklist[3]": "must be a set of fields", "pupils": "must be a list"}


def test_a_save_written_in_parts_survives_short_writes_and_a_full_disk(tmp_path, monkeypatch):
    import errno

    from kentsafe_tui import fileio

    parts = [b"{", memoryview(b'xx"a":1yy')[2:7], b"", b",", *(bytes([48 + n % 10]) * n for n in range(3000)), b"}"]
    def short(fd, views):  # the kernel may take less than asked, even in the middle of a part
        taken = b"".join(bytes(view) for view in views[:3])
        return fileio.os.write(fd, taken[:-1] if len(taken) > 1 else taken)

    monkeypatch.setattr(fileio.os, "writev", short)
    target = tmp_path / "out.json"
    fileio.atomic_write(target, parts)
    assert target.read_bytes() == b"".join(bytes(part) for part in parts)

    def full(fd, views):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio.os, "writev", full)
    with pytest.raises(fileio.WriteFailed, match="full"):
        fileio.atomic_write(target, parts)
    assert target.read_bytes() == b"".join(bytes(part) for part in parts)  # the last good file
    assert [path.name for path in tmp_path.iterdir()] == ["out.json"]  # no temporary file left


@pytest.mark.parametrize("stepwise", [True, False])
@pytest.mark.parametrize("plan_from", [0, 1 << 40])
def test_saves_writing_runs_of_the_bytes_read_give_what_json_dumps_gives(store, monkeypatch, stepwise, plan_from):
    monkeypatch.setattr(storage, "STEPWISE_FROM", 0 if stepwise else 1 << 40)
    monkeypatch.setattr(storage, "PLAN_FROM", plan_from)
    made = [store.create(make_incident(summary=f"Record {n} “{n}”")) for n in range(12)]
    store.set_setting("school_name", "St Ávila")
    rng = random.Random(3)
    for turn in range(8):
        other = reopen(store)  # reads the file: its saves reuse runs of those bytes
        for incident_id in rng.sample([m.id for m in made], 3):
            base = other.get(incident_id)
            edited = Incident.from_dict(base.to_dict())
            edited.details = f"{base.details} turn {turn}"
            other.save(edited, base)
            raw = store.path.read_bytes()
            assert raw == as_json(json.loads(raw))
        if turn % 3 == 0:
            other.import_records([{"summary": f"Imported {turn}"}])
        raw = store.path.read_bytes()
        assert raw == as_json(json.loads(raw))
    assert reopen(store).verify() == []
    assert json.loads(store.path.read_bytes())["incidents"]["5"]["summary"].startswith("Record 4")


@pytest.mark.parametrize("text", ["plain", "a\x7fb", "Zoë “quoted” – ok", "\u0085", "\u009f", "\u2028", "\u2029", "\u202a",
                                  "\u202e", "\u2066", "\u2069", "\u2027 \u202f \u2065 \u206a \u00a0 \u0100"])
def test_the_quick_check_for_escapes_agrees_with_json_escape(text):
    from kentsafe_tui.cli import _may_need_escapes
    from kentsafe_tui.text import json_escape

    encoded = json.dumps({"t": text}, ensure_ascii=False)
    assert _may_need_escapes(encoded.encode()) == (json_escape(encoded) != encoded)


def test_list_json_of_records_read_as_they_are_and_as_kentsafe_writes_them_is_the_same(tmp_path, capsys):
    """A record missing a field (or holding a field `from_dict` reads with a question, like null) is read
    the usual way; the rest through their msgspec mirror. Both print what json.dumps of to_dict() prints."""
    from kentsafe_tui.cli import main
    from kentsafe_tui.text import json_escape

    db = tmp_path / "records.json"
    store = Store(db, user="Zoë")
    store.import_records([{"summary": f"Record “{n}” \u2028 \x85", "pupils": [{"name": "Ava", "role": "harmed"}]}
                          for n in range(4)])
    data = json.loads(db.read_bytes())
    del data["incidents"]["2"]["outcome"]  # as a record written before a field existed
    data["incidents"]["3"]["pupils"][0]["year_group"] = None
    db.write_bytes(as_json(data))
    expected = json_escape(json.dumps([incident.to_dict() for incident in Store(db).incidents()],
                                      ensure_ascii=False, indent=2))
    for command in (["list", "--json"], ["list", "--json", "--search", "record ava"]):
        capsys.readouterr()
        assert main([*command, "--db", str(db)]) == 0
        assert capsys.readouterr().out == expected + "\n"
    assert main(["list", "--json", "--status", "closed", "--db", str(db)]) == 0
    assert capsys.readouterr().out == "[]\n"


def _damaged_copies(store: Store) -> list[bytes]:
    """The store's file, and copies damaged in the ways verify names."""
    raw = store.path.read_bytes()
    copies = [raw]
    data = json.loads(raw)
    data["incidents"]["2"]["details"] = "edited by hand"
    copies.append(as_json(data))
    data = json.loads(raw)
    del data["incidents"]["3"]
    copies.append(as_json(data))
    data = json.loads(raw)
    data["incidents"]["4"]["id"] = data["incidents"]["1"]["id"]
    data["incidents"]["5"]["history"][0]["at"] = "not a date"
    copies.append(as_json(data))
    data = json.loads(raw)
    data["_meta"]["1"]["sequences"] = {}
    data["incidents"]["6"]["summary"] = "x" * 300
    copies.append(as_json(data))
    data = json.loads(raw)
    data = {"incidents": data["incidents"], "_meta": data["_meta"]}  # the header after the records
    copies.append(as_json(data))
    return copies


@pytest.mark.parametrize("stepwise", [True, False])
def test_check_reading_each_record_once_finds_what_a_full_read_finds(store, monkeypatch, stepwise):
    monkeypatch.setattr(storage, "STEPWISE_FROM", 0 if stepwise else 1 << 40)
    made = [store.create(make_incident(summary=f"Record {n}")) for n in range(7)]
    store.set_item(made[0].id, made[0].checklist[0].id, "done")
    store.set_setting("school_name", "St Ávila")
    head = store.chain_head()
    copies = _damaged_copies(store)
    for raw in copies:
        store.path.write_bytes(raw)
        full = reopen(store)
        assert not full._storage.stale()  # holds the records: verify reads them from memory
        streamed = Store(store.path, user="Bob DSL", read_now=False)
        checked = streamed.check((head["seq"], head["head"]))
        assert checked.problems == full.verify()
        assert checked.holds == full.holds_head(head["seq"], head["head"])
        assert checked.head == full.chain_head()
        # Nothing was kept, but for a file whose header comes after its records, read whole as before.
        assert streamed._storage.stale() == (raw is not copies[-1])
    store.path.write_bytes(copies[0])
    assert Store(store.path, read_now=False).check().problems == []


def test_verify_checks_a_record_as_decoded_and_finds_what_checking_an_incident_finds(store, monkeypatch):
    made = [store.create(make_incident(summary=f"Record {n}", pupils=[Pupil(name=f"Pupil {n}")]))
            for n in range(11)]
    store.set_item(made[0].id, made[0].checklist[0].id, "done")
    data = json.loads(store.path.read_bytes())
    records = data["incidents"]
    # Damage that still fits the record's shape (checked as decoded), one kind a record...
    records["1"]["summary"] = "x" * 300
    records["2"]["checklist"][1]["state"] = "half done"
    records["3"]["checklist"][2]["note"] = "see data:image/png;base64,iVBORw0KGgo"
    records["4"]["concern_at"] = "2031-01-01T09:00:00+00:00"
    records["5"]["checklist"][0].update(state="not_applicable", note="")
    records["6"]["pupils"][0]["name"] = "N" * 101
    records["7"]["referral_check"] = {"Is a child at risk of harm now?": "perhaps"}
    records["8"]["category"] = "gossip"
    records["11"]["checklist"][3]["source"] = "see data:video/mp4;base64,AAAAIGZ0eXBpc29t"  # (no check but this)
    # ...and damage that does not fit it (read the usual way): a field too many, a number for text.
    records["9"]["mood"] = "calm"
    records["10"]["pupils"][0]["year_group"] = 9
    store.path.write_bytes(as_json(data))
    built = []
    real_from_dict = Incident.from_dict.__func__
    monkeypatch.setattr(Incident, "from_dict", classmethod(lambda cls, d: built.append(d["id"]) or real_from_dict(cls, d)))
    checked = Store(store.path, user="Bob DSL", read_now=False).check().problems
    assert built == [made[8].id, made[9].id]  # the nine that fit were checked as decoded
    full = reopen(store)
    assert not full._storage.stale()  # holds the records as dicts: each is made an Incident and checked
    assert checked == full.verify()
    for number, field in enumerate(["summary", "checklist[1].state", "checklist[2].note", "concern_at",
                                    "checklist[0].note", "pupils[0].name", "referral_check.", "category",
                                    "mood", "pupils[0].year_group", "checklist[3].source"]):
        assert any(problem.startswith(f"{made[number].id}: {field}") for problem in checked), (field, checked)


@pytest.mark.parametrize("stepwise", [True, False])
def test_reading_each_record_once_gives_what_the_full_read_gives(store, monkeypatch, stepwise):
    from kentsafe_tui.export import pupil_chronology
    from kentsafe_tui.oversight import compute

    monkeypatch.setattr(storage, "STEPWISE_FROM", 0 if stepwise else 1 << 40)
    for n in range(9):
        store.create(make_incident(summary=f"Record {n} alpha", status="monitoring" if n % 3 else "open",
                                   concern_at=f"2026-11-{1 + n % 4:02d}T10:00:00+00:00",
                                   pupils=[Pupil(name="Ava" if n % 2 else "Ben", role="harmed")]))
    store.set_setting("dsl_name", "Dee")
    full, streamed = reopen(store), Store(store.path, read_now=False)
    for status, search in ((None, None), ("open", None), (None, "alpha ava"), ("monitoring", "record")):
        assert rows_of_list(streamed.list_rows(status, search)) == rows_of_list(full.summaries(status, search))
        assert streamed.list_records(status, search) == [msgspec_encode(i) for i in full.incidents(status, search)]
    assert streamed.read_one(" 2026-0004 ") == (full.get("2026-0004"), full.settings())
    with pytest.raises(Exception, match="no incident"):
        streamed.read_one("2026-9999")
    named = streamed.read_matching(lambda incident: bool(pupil_chronology([incident], "Ava")))
    assert pupil_chronology(named, "Ava") == pupil_chronology(full.incidents(), "Ava")
    records, settings = streamed.read_all()
    assert list(records) == full.incidents() and len(records) == 9 and settings == full.settings()
    now = store.clock()
    assert compute(records, now).to_dict() == compute(full.incidents(), now).to_dict()
    assert streamed._storage.stale()  # nothing was kept


def rows_of_list(rows) -> list[tuple]:
    return [(row.id, row.rev, row.status, row.summary, row.pupils, row.done, row.total, row.order) for row in rows]


def msgspec_encode(incident) -> bytes:
    import msgspec

    return msgspec.json.encode(incident)


@pytest.mark.parametrize("stepwise", [True, False])
@pytest.mark.parametrize("bad", [b'"details":"\xff"', b'"details":"\\ud800"', b'"details":NaN', b'"details":"a\nb"',
                                 b'"rev":Infinity', b'"details":"cut'])
def test_reading_each_record_once_refuses_damage_as_a_full_read_does(store, monkeypatch, stepwise, bad):
    from kentsafe_tui.oversight import compute

    monkeypatch.setattr(storage, "STEPWISE_FROM", 0 if stepwise else 1 << 40)
    for n in range(5):
        store.create(make_incident(summary=f"Record {n}"))
    raw = store.path.read_bytes()
    at = raw.index(b'"details":', raw.index(b'"3":{'))
    damaged = raw[:at] + bad + b',' + raw[at:]
    store.path.write_bytes(damaged)
    with pytest.raises(CorruptDatabase) as full:
        reopen(store)
    streamed = Store(store.path, read_now=False)
    for read in (streamed.list_rows, streamed.list_records, lambda: streamed.read_one("2026-0001"),
                 lambda: compute(streamed.read_all()[0], store.clock()), streamed.check,
                 lambda: streamed.read_matching(lambda incident: True)):
        with pytest.raises(CorruptDatabase) as raised:
            read()
        assert str(raised.value) == str(full.value)
        streamed = Store(store.path, read_now=False)
    assert store.path.read_bytes() == damaged


@settings(max_examples=200, deadline=None)
@given(json_values | st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=3))
def test_the_quick_hash_check_agrees_with_the_canonical_hash(value, incident_id):
    entry = {"at": "2026-11-28T10:00:00+00:00", "changes": {"x": [None, value]}, "seq": 1}
    entry["hash"] = history.entry_hash(entry, incident_id)
    assert history.holds_hash(entry, incident_id)
    assert not history.holds_hash({**entry, "seq": 2}, incident_id)
    assert not history.holds_hash({**entry, "changes": {"x": [None, [value]]}}, incident_id)


def test_sorting_gently_gives_what_sorted_gives_ties_included():
    from kentsafe_tui.store import _sorted_gently

    rng = random.Random(5)
    items = [(rng.randint(0, 50), n) for n in range(3000)]
    for chunk in (1, 7, 100, 5000):
        assert _sorted_gently(items, lambda item: item[0], chunk) == sorted(items, key=lambda item: item[0])


def _without_write_id(raw: bytes) -> dict:
    data = json.loads(raw)
    data["_meta"]["1"].pop("write_id")
    return data


@pytest.mark.parametrize("stepwise", [True, False])
def test_an_import_holding_the_others_by_a_few_fields_writes_what_the_usual_import_writes(
        store, monkeypatch, stepwise, tmp_path):
    import shutil

    monkeypatch.setattr(storage, "STEPWISE_FROM", 0 if stepwise else 1 << 40)
    for n in range(6):
        store.create(make_incident(summary=f"Record {n} “{n}”"))
    store.set_setting("school_name", "St Ávila")
    data = json.loads(store.path.read_bytes())
    del data["incidents"]["4"]["outcome"]  # a record the mirror does not fit: read as it is, kept as it is
    store.path.write_bytes(as_json(data))
    twin = tmp_path / "twin" / "records.json"
    twin.parent.mkdir()
    shutil.copy(store.path, twin)
    incoming = [{"summary": "New one"}, {"summary": "Record 2 “2”", "concern_at": "2026-11-20T10:00:00+00:00"}]
    lean = reopen(store)
    lean._storage.close()
    ids = lean.import_lean(incoming, source="in.json")
    usual = Store(twin, user="Bob DSL", checklist_for=store._checklist_for, clock=store._clock)
    assert usual.import_records(incoming, source="in.json") == ids
    raw = store.path.read_bytes()
    assert raw == as_json(json.loads(raw))
    assert _without_write_id(raw) == _without_write_id(twin.read_bytes())
    assert lean._storage.stale() and lean.get(ids[0]).summary == "New one"  # read in full again
    assert lean.verify() == usual.verify() == ["2026-0004: field 'outcome' differs from what its history records"]
    with pytest.raises(Exception, match="looks already imported"):
        reopen(store).import_lean(incoming[:1])


def test_an_import_holding_the_others_by_a_few_fields_sees_a_save_made_meanwhile(store, monkeypatch):
    store.create(make_incident(summary="First"))
    lean = reopen(store)
    load_lean = lean._storage.load_lean

    def another_dsl_saves_meanwhile(*args):
        load_lean(*args)
        reopen(store, "Carol DSL").create(make_incident(summary="Carol's"))

    monkeypatch.setattr(lean._storage, "load_lean", another_dsl_saves_meanwhile)
    lean._storage.close()
    assert lean.import_lean([{"summary": "Imported"}]) == ["2026-0003"]
    assert sorted(row.summary for row in reopen(store).summaries()) == ["Carol's", "First", "Imported"]
    assert reopen(store).verify() == []


@pytest.mark.parametrize("bad", [b'"details":"\xff"', b'"details":NaN'])
def test_an_import_holding_the_others_by_a_few_fields_refuses_a_damaged_file(store, bad):
    for n in range(3):
        store.create(make_incident(summary=f"Record {n}"))
    raw = store.path.read_bytes()
    at = raw.index(b'"details":', raw.index(b'"2":{'))
    store.path.write_bytes(raw[:at] + bad + b',' + raw[at:])
    with pytest.raises(CorruptDatabase) as full:
        reopen(store)
    with pytest.raises(CorruptDatabase) as lean:
        Store(store.path, read_now=False).import_lean([{"summary": "x"}])
    assert str(lean.value) == str(full.value)


def test_a_stub_is_never_written_without_its_bytes(store):
    store.create(make_incident())
    held = reopen(store)
    held._storage.close()
    held._storage.load_lean("incidents", lambda record, piece: storage.Stub(id=record["id"], rev=record["rev"]))
    held._storage._data["incidents"]["1"]["rev"] = 99  # its bytes are kept under revision 1
    before = store.path.read_bytes()
    with pytest.raises(RuntimeError, match="without its bytes"):
        held.import_records([{"summary": "x"}])
    assert store.path.read_bytes() == before


@pytest.mark.parametrize("seed", range(4))
def test_planned_saves_write_exactly_the_data_held_through_any_mix_of_changes(store, monkeypatch, seed):
    """Each write's bytes are json.dumps of what the store holds, whatever happened before: saves of
    records read or written since, imports, settings, another DSL's saves (a re-read), a failed write."""
    from kentsafe_tui import fileio

    monkeypatch.setattr(storage, "STEPWISE_FROM", 0)
    monkeypatch.setattr(storage, "PLAN_FROM", 0)
    rng = random.Random(seed)
    made = [store.create(make_incident(summary=f"Record {n}")).id for n in range(8)]
    mine = reopen(store)

    def check() -> None:
        raw = store.path.read_bytes()
        assert raw == as_json(json.loads(raw))
        held = mine._storage.read()
        assert json.loads(raw) == json.loads(as_json(held))

    for step in range(40):
        action = rng.choice(["edit", "edit", "tick", "import", "setting", "theirs", "fail"])
        if action in ("edit", "fail"):
            base = mine.get(rng.choice(made))
            edited = Incident.from_dict(base.to_dict())
            edited.details = f"{base.details} {step}"
            if action == "fail":
                monkeypatch.setattr(fileio.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(28, "full")))
                with pytest.raises(Exception, match="full"):
                    mine.save(edited, base)
                monkeypatch.undo()
                monkeypatch.setattr(storage, "STEPWISE_FROM", 0)
                monkeypatch.setattr(storage, "PLAN_FROM", 0)
            else:
                mine.save(edited, base)
        elif action == "tick":
            incident = mine.get(rng.choice(made))
            item = rng.choice(incident.checklist)
            mine.set_item(incident.id, item.id, "done" if item.state == "todo" else "todo")
        elif action == "import":
            made += mine.import_records([{"summary": f"Imported {step} {n}"} for n in range(rng.randint(1, 3))])
        elif action == "setting":
            mine.set_setting("school_name", f"School {step}")
        else:
            made.append(reopen(store, "Carol DSL").create(make_incident(summary=f"Theirs {step}")).id)
            mine.count()  # reads theirs
        check()
    assert reopen(store).verify() == []


def test_put_stores_what_tinydbs_upsert_stores_as_a_new_object():
    from tinydb import TinyDB
    from tinydb.storages import MemoryStorage
    from tinydb.table import Document

    from kentsafe_tui.store import _put

    db = TinyDB(storage=MemoryStorage)
    table = db.table("t", cache_size=0)
    table.upsert(Document({"a": 1, "extra": "kept", "b": 2}, doc_id=1))
    data = json.loads(json.dumps(db.storage.read()))
    before = data["t"]["1"]
    for doc_id, doc in ((1, {"b": 3, "a": 4, "c": 5}), (7, {"z": 1})):
        table.upsert(Document(doc, doc_id=doc_id))
        _put(data, "t", str(doc_id), doc)
    expected = db.storage.read()["t"]
    assert data["t"] == expected and list(data["t"]) == list(expected) and list(data["t"]["1"]) == list(expected["1"])
    assert data["t"]["1"] is not before
    _put(data, "new", "1", {"x": 1})
    assert data["new"] == {"1": {"x": 1}}


def test_saves_leave_no_file_open_once_the_old_file_is_let_go(store):
    import os
    import threading
    import time

    store.create(make_incident())
    opened = len(os.listdir("/proc/self/fd"))
    for n in range(20):
        store.create(make_incident(summary=f"Record {n}"))
    deadline = time.time() + 10
    while any(t.name == "kentsafe-release" for t in threading.enumerate()) and time.time() < deadline:
        time.sleep(0.01)
    assert len(os.listdir("/proc/self/fd")) <= opened


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40),
       st.text(alphabet=st.characters(max_codepoint=127), min_size=1, max_size=6))
def test_the_ascii_search_text_finds_what_the_regular_expression_finds(text, typed):
    from kentsafe_tui.store import _WORD_BREAKS, _search_text, _words

    quick = _search_text({"summary": text})
    spelled_out = " " + _WORD_BREAKS.sub(" ", "\n".join(["", text, "", "", "", "", "", "", "", "", "", ""]).casefold())
    for word in _words(typed):
        assert (" " + word in quick) == (" " + word in spelled_out)
    assert sorted(quick.split()) == sorted(set(spelled_out.split()))  # the same words, each once


def _check_every_string_as_it_was(errors, data):
    """check_every_string as the first build wrote it: every string named and checked (the reference)."""
    from kentsafe_tui.model import DAYS, DEFAULT_LIMIT, LIMITS, MOMENTS, _check_text

    def check(where, leaf, text, is_key):
        if where in errors:
            return
        limit = LIMITS["moment"] if leaf in MOMENTS or leaf in DAYS else LIMITS.get(leaf, DEFAULT_LIMIT)
        _check_text(errors, where, text, limit, "The question" if is_key else "The text")

    def visit(value, where, leaf):
        if isinstance(value, str):
            if len(value) > 20:
                check(where, leaf, value, False)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, (list, dict)) or isinstance(item, str) and len(item) > 20:
                    visit(item, f"{where}[{index}]", leaf)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and len(key) > 20:
                    check(f"{where}.{key[:40]}", "question", key, True)
                if isinstance(item, (list, dict)) or isinstance(item, str) and len(item) > 20:
                    visit(item, f"{where}.{key}", key if isinstance(key, str) else leaf)

    for name, value in data.items():
        visit(value, name, name)


_texts = st.sampled_from(["short", "x" * 25, "y" * 45, "z" * 120, "w" * 250, "v" * 350, "a:b " * 10,
                          "see data:image/png;base64,AAAA", "Aa1" * 400, "plain " * 200, "2026-11-28T10:00:00+00:00"])
_keys = st.sampled_from(["name", "at", "text", "note", "year_group", "summary", "details", "date_of_birth", "q" * 25,
                         "question", "by", "id", "reference"]) | st.integers(0, 3)
_trees = st.recursive(_texts | st.none() | st.integers(), lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(_keys, inner, max_size=5), max_leaves=25)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_keys.filter(lambda key: isinstance(key, str)), _trees, max_size=6),
       st.dictionaries(st.sampled_from(["summary", "pupils[0].name", "checklist[1].note"]), st.just("already"),
                       max_size=2))
def test_check_every_string_finds_what_naming_every_string_found(data, before):
    from kentsafe_tui.model import check_every_string

    quick, reference = dict(before), dict(before)
    check_every_string(quick, data)
    _check_every_string_as_it_was(reference, data)
    assert list(quick.items()) == list(reference.items())


def test_a_gentle_load_offers_the_interpreter_as_it_goes_and_reads_the_same(store, monkeypatch):
    from kentsafe_tui import store as store_module

    monkeypatch.setattr(storage, "STEPWISE_FROM", 0)
    for n in range(40):
        store.create(make_incident(summary=f"Record {n}"))
    offered = []
    monkeypatch.setattr(store_module, "_offer", lambda busy=None: offered.append(busy))
    gentle = Store(store.path, user="Bob DSL", read_now=False)
    assert gentle.load(search=True, gentle=True) == 40
    assert len(offered) >= 3  # while parsing (every 16 records), making summaries and search text
    assert rows_of(gentle) == rows_of(reopen(store))
    assert gentle._storage.pause is None


def test_the_read_stands_aside_while_the_screen_is_busy_and_no_longer(monkeypatch):
    """While `busy()` holds the reader sleeps (letting the screen's thread have the interpreter), and once
    it stops holding, or after STAND_ASIDE_AT_MOST, the read goes on."""
    from kentsafe_tui import store as store_module

    asked = []

    def busy_three_times():
        asked.append(1)
        return len(asked) <= 3

    store_module._offer(busy_three_times)
    assert len(asked) == 4  # asked until it said no
    monkeypatch.setattr(store_module, "STAND_ASIDE_AT_MOST", 0.01)
    asked.clear()
    store_module._offer(lambda: asked.append(1) or True)  # a screen always busy does not stop the read
    assert asked  # it was asked, and the call came back
    store_module._offer(None)  # no screen: only the turn offered


def test_a_busy_screen_passed_to_load_is_asked_while_reading(store, monkeypatch):
    monkeypatch.setattr(storage, "STEPWISE_FROM", 0)
    for n in range(40):
        store.create(make_incident(summary=f"Record {n}"))
    asked = []
    gentle = Store(store.path, user="Bob DSL", read_now=False)
    assert gentle.load(search=True, gentle=True, busy=lambda: asked.append(1) and False) == 40
    assert len(asked) >= 3
    assert rows_of(gentle) == rows_of(reopen(store))


def test_searches_through_the_index_of_word_starts_give_what_reading_every_text_gives(store):
    """A long-running reader (the app's list) finds words through an index of their first letters: the same
    records, newest first, for words of one, two and more letters, several words, names with accents, and
    words nothing holds; once another DSL's save is read the old index is not used, and the store's own saves
    keep it up to date where they can."""
    summaries = ["alpha bravo", "Zoë Example shared it", "bravo charlie", "charlie alpha", "delta", "a b c"]
    for n, summary in enumerate(summaries * 3):
        store.create(make_incident(summary=f"{summary} {n}", status="monitoring" if n % 4 == 0 else "open"))
    app = reopen(store)
    app.hold_lean()
    app.load(search=True, gentle=True)
    assert app.index_wanted()
    app.index_words(busy=lambda: False)  # as the incident list has it made, in a worker
    assert not app.index_wanted() and len(app._prefixes["zo"]) == 3
    typed = ["a", "al", "alp", "alpha", "alpha b", "b al", "zo", "zoë", "zoe", "ex sh", "ch", "charlie a", "c",
             "de", "delta 4", "zz", "zzz", "1", "12", "a b c"]
    for status in (None, "open"):
        for text in typed:
            expected = [row.id for row in reopen(store).summaries(status, text)]
            assert [row.id for row in app.summaries(status, text)] == expected, (status, text)
    app.summaries(search="zoë")
    assert app.texts_to_search("zoë") == 0  # kept
    assert app.texts_to_search("zoe") == 3  # only the records where a word starts "zo"
    assert app.texts_to_search("e") == 0 and app.texts_to_search("zo") == 0  # found in the index alone
    store.create(make_incident(summary="Zoltan alpha"))  # another DSL's save
    assert [row.summary for row in app.summaries(search="zo")][0] == "Zoltan alpha"
    assert app.index_wanted()  # not for these records
    app.load(search=True, gentle=True)  # read again, as the app does when it sees another's save
    assert app.index_wanted()
    app.index_words(busy=lambda: False)
    assert not app.index_wanted()
    app.create(make_incident(summary="Zola, its own"))  # a save of the app's own, the newest: kept up to date
    assert not app.index_wanted() and app.summaries(search="zo")[0].summary == "Zola, its own"
    base = app.get(app.summaries(search="zoltan")[0].id)
    edited = Incident.from_dict(base.to_dict())
    edited.summary = "Renamed alpha"
    app.save(edited, base)  # the same place among the records: kept up to date
    assert not app.index_wanted() and app.summaries(search="zoltan") == []
    from kentsafe_tui.store import _prefix_index
    fresh = _prefix_index([row.text for row in app._ascending], lambda: None)
    assert {prefix: list(held) for prefix, held in app._prefixes.items() if held} == {
        prefix: list(held) for prefix, held in fresh.items()}  # as if made again
    assert app.summaries(search="ren")[0].summary == "Renamed alpha"
    app.create(make_incident(summary="Zeno, backdated", concern_at="2020-01-01T09:00:00+00:00"))
    assert app.index_wanted()  # among the oldest: every position after it moved, made again in the background
    assert app.summaries(search="zeno")[0].summary == "Zeno, backdated"  # read meanwhile
    app.index_words(busy=lambda: False)
    assert not app.index_wanted()
    for text in typed + ["zol", "its own", "ren", "zeno", "ze"]:
        assert [row.id for row in app.summaries(None, text)] == [row.id for row in reopen(store).summaries(None, text)]
