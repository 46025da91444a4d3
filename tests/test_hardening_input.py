"""Holes 2, 3, 4, 8, 9 and 12 of issue 10: what an import (or a hand-edited file) can carry in, and what
kentsafe then prints. Each test fails on the code before the fix."""

from __future__ import annotations

import json
import os
import re
import time

import pytest

from kentsafe_tui.cli import main
from kentsafe_tui.dates import DateError, describe, parse_when
from kentsafe_tui.store import Store

ESCAPES = "\x1b]52;c;aGVsbG8=\x07\x1bc\x9b31m\x9d0;x\x07\u202e"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.fixture
def db(tmp_path):
    return tmp_path / "data" / "records.json"


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def importing(capsys, db, tmp_path, records, *extra):
    source = tmp_path / "in.json"
    source.write_text(records if isinstance(records, str) else json.dumps(records))
    return run(capsys, "import", source, "--db", db, *extra)


def hostile_record():
    return {
        "summary": "Poison" + ESCAPES, "concern_at": "2026-11-10T10:00:00+00:00",
        "referral_check": {"q" + ESCAPES: "no"},
        "history": [{"at": "2026-11-09T10:00:00+00:00", "by": "bob" + ESCAPES, "action": "create" + ESCAPES,
                     "note": "n" + ESCAPES, "login": "l" + ESCAPES,
                     "changes": {"summary": [None, "Poison" + ESCAPES], "x" + ESCAPES: [None, "y" + ESCAPES]}}],
    }


def test_no_control_byte_from_an_import_reaches_the_terminal_or_the_file(capsys, db, tmp_path, monkeypatch):
    monkeypatch.setenv("LOGNAME", "eve" + ESCAPES)
    code, out, err = importing(capsys, db, tmp_path, [hostile_record()])
    assert code == 0, err
    raw = db.read_text(encoding="utf-8")
    assert not CONTROL.search(json.loads(json.dumps(raw))), "the database itself holds control characters"
    assert "\\u001b" not in raw and "\x1b" not in raw and "\u202e" not in raw
    for args in (["show", "2026-0001"], ["show", "2026-0001", "--json"], ["export", "2026-0001"],
                 ["export", "2026-0001", "--format", "html"], ["list", "--json"], ["list"], ["stats"],
                 ["letter", "2026-0001"], ["verify"]):
        code, out, err = run(capsys, *args, "--db", db)
        assert code == 0, (args, err)
        assert not CONTROL.search(out.replace("\n", "").replace("\t", "")), args
        assert not CONTROL.search(err.replace("\n", "")), args
        assert "\u202e" not in out


def test_output_is_cleaned_even_when_the_file_was_edited_by_hand(capsys, db, tmp_path):
    importing(capsys, db, tmp_path, [{"summary": "Plain", "concern_at": "2026-11-10T10:00:00+00:00"}])
    data = json.loads(db.read_text())
    record = data["incidents"]["1"]
    record["details"] = "bad" + ESCAPES
    record["history"][0]["by"] = "x\x1bc"
    db.write_text(json.dumps(data, ensure_ascii=False))
    for args in (["show", "2026-0001"], ["export", "2026-0001"], ["export", "2026-0001", "--format", "html"],
                 ["list", "--json"], ["show", "2026-0001", "--json"]):
        code, out, _ = run(capsys, *args, "--db", db)
        assert code == 0
        assert not CONTROL.search(out.replace("\n", "").replace("\t", "")), args
    code, _, err = run(capsys, "verify", "--db", db)
    assert code == 1 and "differs from what its history records" in err


def test_json_output_escapes_c1_controls_and_stays_the_same_json():
    from kentsafe_tui.cli import _json

    value = {"k\x9b": "a\x85b\x9d\u2028c\x1b"}
    text = _json(value)
    assert not CONTROL.search(text.replace("\n", "")) and "\u2028" not in text
    assert json.loads(text) == value


def test_the_login_comes_from_the_operating_system_not_the_environment(db, monkeypatch):
    import pwd

    monkeypatch.setenv("LOGNAME", "headteacher")
    monkeypatch.setenv("USER", "headteacher")
    store = Store(db)
    real = pwd.getpwuid(os.getuid()).pw_name
    assert store.user == real and store.login is None
    named = Store(db, user="headteacher")
    assert named.user == "headteacher" and named.login == real


@pytest.mark.parametrize("record, field", [
    ({"summary": "a", "concern_at": "0001-01-01T00:00:00+00:00"}, "concern_at"),
    ({"summary": "a", "concern_at": "9999-12-31T23:00:00-12:00"}, "concern_at"),
    ({"summary": "a", "concern_at": "2026-11-10T10:00:00"}, "concern_at"),  # no offset
    ({"summary": "a", "checklist": [{"id": "x", "text": "t", "state": "done", "at": "garbage"}]}, "checklist[0].at"),
    ({"summary": "a", "decisions": [{"decision": "d", "reason": "r", "at": "garbage"}]}, "decisions[0].at"),
    ({"summary": "a", "created_at": "tuesday", "concern_at": "2026-11-10T10:00:00+00:00"}, "created_at"),
    ({"summary": "a", "history": [{"at": "nope", "by": "b", "action": "create", "changes": {}}]}, "history[0].at"),
    ({"summary": "a", "history": [{"at": "0001-01-01T00:00:00+00:00", "by": "b", "action": "c", "changes": {}}]},
     "history[0].at"),
])
def test_poison_dates_are_refused_and_the_database_is_untouched(capsys, db, tmp_path, record, field):
    importing(capsys, db, tmp_path, [{"summary": "Good", "concern_at": "2026-11-10T10:00:00+00:00"}])
    before = db.read_bytes()
    code, _, err = importing(capsys, db, tmp_path, [record])
    assert code == 1 and field in err and "Traceback" not in err
    assert db.read_bytes() == before


def test_a_year_one_date_left_in_the_file_never_crashes_list_stats_show_or_export(capsys, db, tmp_path, monkeypatch):
    importing(capsys, db, tmp_path, [{"summary": "Plain", "concern_at": "2026-11-10T10:00:00+00:00"}])
    data = json.loads(db.read_text())
    data["incidents"]["1"]["concern_at"] = "0001-01-01T00:00:00+00:00"
    data["incidents"]["1"]["checklist"][0]["at"] = "not a date"
    data["incidents"]["1"]["history"][0]["at"] = "never"
    db.write_text(json.dumps(data))
    for zone in ("Pacific/Kiritimati", "America/Los_Angeles", "Europe/London"):
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        try:
            for args in (["list"], ["stats"], ["show", "2026-0001"], ["export", "2026-0001"],
                         ["export", "2026-0001", "--format", "html"], ["letter", "2026-0001"]):
                code, _, err = run(capsys, *args, "--db", db)
                assert code == 0, (zone, args, err)
            code, _, err = run(capsys, "verify", "--db", db)
            assert code == 1 and "concern_at" in err and "unexpected" not in err
        finally:
            monkeypatch.setenv("TZ", "Europe/London")
            time.tzset()


@pytest.mark.parametrize("typed", ["1/1/0001", "01/01/0001 10:00", "0001-01-01T00:00", "31/12/9999 23:59",
                                   "1 jan 0001"])
def test_typing_a_year_out_of_range_is_a_clear_message(typed):
    with pytest.raises(DateError, match="year"):
        parse_when(typed)


def test_describe_never_raises():
    for value in ("0001-01-01T00:00:00+14:00", "garbage\x1bc", "9999-12-31T23:59:59-12:00", 5, None):
        assert "\x1b" not in describe(value)


@pytest.mark.parametrize("text", ['[{"summary":"a","history":[{"at":"2026-11-09T10:00:00+00:00","by":"b",'
                                  '"action":"c","changes":{"x":[null, NaN]}}]}]',
                                  '[{"summary":"a","rev":Infinity}]',
                                  '[{"summary":"a","summary":"b"}]',
                                  '[' * 100000 + ']' * 100000,
                                  '[{"summary":"a","rev":' + '9' * 5000 + '}]'])
def test_not_quite_json_is_one_clear_line(capsys, db, tmp_path, text):
    code, _, err = importing(capsys, db, tmp_path, text)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "unexpected" not in err
    assert "nothing was imported" in err and not db.exists()


def test_nan_in_the_database_is_refused_when_read(capsys, db, tmp_path):
    importing(capsys, db, tmp_path, [{"summary": "Plain", "concern_at": "2026-11-10T10:00:00+00:00"}])
    db.write_text(db.read_text().replace('"rev":1', '"rev":NaN'))
    code, _, err = run(capsys, "list", "--db", db)
    assert code == 1 and "damaged" in err


def test_lone_surrogates_and_non_utf8_arguments_are_clear(capsys, db, tmp_path):
    code, _, err = importing(capsys, db, tmp_path, '[{"summary":"a\\ud800b","concern_at":"2026-11-10T10:00:00+00:00"}]')
    assert code == 0, err
    assert Store(db).get("2026-0001").summary == "ab"
    code, _, err = run(capsys, "show", "\udcff\udcfe", "--db", db)
    assert code == 1 and "unexpected" not in err


def test_deleting_meta_does_not_launder_history(capsys, db, tmp_path):
    importing(capsys, db, tmp_path, [{"summary": "Original", "concern_at": "2026-11-10T10:00:00+00:00"}])
    data = json.loads(db.read_text())
    del data["_meta"]
    data["incidents"]["1"]["summary"] = "Rewritten"
    db.write_text(json.dumps(data))
    before = db.read_bytes()
    for args in (["list"], ["verify"], ["show", "2026-0001"]):
        code, _, err = run(capsys, *args, "--db", db)
        assert code == 1 and "damaged" in err, (args, err)
    code, _, err = importing(capsys, db, tmp_path, [{"summary": "New", "concern_at": "2026-11-11T10:00:00+00:00"}])
    assert code == 1 and "damaged" in err
    assert db.read_bytes() == before


@pytest.mark.parametrize("name", ["Al\u200bex Smith", "Ale\u0301x Smith", "Alex\u2060 Smith", "Alex\u00ad Smith"])
def test_invisible_characters_in_a_name_do_not_hide_the_incident(capsys, db, tmp_path, name):
    importing(capsys, db, tmp_path, [{"summary": "Named", "pupils": [{"name": name}],
                                      "concern_at": "2026-11-10T10:00:00+00:00"}])
    typed = "Ale\u0301x Smith" if "\u0301" in name else "Alex Smith"
    code, out, err = run(capsys, "chronology", typed, "--db", db)
    assert code == 0 and "2026-0001" in out, err
    code, out, _ = run(capsys, "list", "--search", typed.split()[0], "--db", db)
    assert "2026-0001" in out


@pytest.mark.parametrize("summary", ["\u200b", "\u3164", "\u200b\u3164 \u2060", "\ufeff"])
def test_a_summary_with_nothing_visible_is_empty(capsys, db, tmp_path, summary):
    code, _, err = importing(capsys, db, tmp_path, [{"summary": summary}])
    assert code == 1 and "summary" in err


@pytest.mark.parametrize("record", [
    {"summary": "a", "history": [{"at": "2026-11-09T10:00:00+00:00", "by": "b", "action": "c",
                                  "note": "iVBORw0KGgo" + "Ab3d" * 600, "changes": {}}]},
    {"summary": "a", "referral_check": {"iVBORw0KGgo" + "Ab3d" * 600: "no"}},
    {"summary": "a", "checklist": [{"id": "x", "text": "see data:image/png;base64,AAAA"}]},
    {"summary": "a", "decisions": [{"decision": "d", "reason": "r", "by": "x" * 1_000_000}]},
    {"summary": "a", "history": [{"at": "2026-11-09T10:00:00+00:00", "by": "b" * 5000, "action": "c",
                                  "changes": {}}]},
])
def test_limits_and_the_imagery_rule_apply_to_every_string(capsys, db, tmp_path, record):
    code, _, err = importing(capsys, db, tmp_path, [record])
    assert code == 1 and "nothing was imported" in err


def test_logname_cannot_make_an_import_look_like_someone_else(tmp_path):
    """The issue's command: `LOGNAME=headteacher kentsafe import` recorded "headteacher" with no login."""
    import pwd
    import subprocess
    import sys

    from .helpers import REPO, child_env

    source = tmp_path / "in.json"
    source.write_text(json.dumps([{"summary": "Plain", "concern_at": "2026-11-10T10:00:00+00:00"}]))
    db = tmp_path / "data" / "records.json"
    env = {**child_env(), "LOGNAME": "headteacher", "USER": "headteacher"}
    done = subprocess.run([sys.executable, "-m", "kentsafe_tui", "import", str(source), "--db", str(db)],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    record = Store(db).get("2026-0001")
    real = pwd.getpwuid(os.getuid()).pw_name
    assert record.created_by == real and record.history[-1]["by"] == real
    # Nowhere as who acted (the guidance's own text may use the word).
    assert '"headteacher"' not in db.read_text()
