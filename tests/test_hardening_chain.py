"""Hole 10 of issue 10: who did what. updated_by and the school settings are covered by the chain, and
`verify --head SEQ:HASH` proves that a head noted earlier is still in the chain, so a rebuilt chain shows."""

from __future__ import annotations

import json

import pytest

from kentsafe_tui import history
from kentsafe_tui.cli import main
from kentsafe_tui.store import Store


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "data" / "records.json"
    Store(path, user="Alice").import_records([{"summary": "First", "concern_at": "2026-11-10T10:00:00+00:00"}])
    return path


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def edit(db, change):
    data = json.loads(db.read_text())
    change(data)
    db.write_text(json.dumps(data, ensure_ascii=False))


def test_verify_catches_updated_by_changed_by_hand(capsys, db):
    edit(db, lambda data: data["incidents"]["1"].update(updated_by="Headteacher"))
    code, _, err = run(capsys, "verify", "--db", db)
    assert code == 1 and "updated_by" in err


def test_the_school_settings_are_chained(capsys, db):
    for key, value in (("school_name", "Oak Hill"), ("dsl_name", "Jo Bloggs"), ("school_name", "Oak Hill School")):
        assert run(capsys, "settings", key, value, "--db", db)[0] == 0
    assert run(capsys, "verify", "--db", db)[0] == 0
    edit(db, lambda data: data["settings"]["1"].update(dsl_phone="0900 SCAM"))
    code, _, err = run(capsys, "verify", "--db", db)
    assert code == 1 and "dsl_phone" in err


def test_settings_saved_before_chaining_are_sealed_by_their_next_change(capsys, db):
    edit(db, lambda data: data.setdefault("settings", {}).update({"1": {"school_name": "Old", "updated_at": "x",
                                                                        "updated_by": "y"}}))
    assert run(capsys, "settings", "dsl_name", "Jo", "--db", db)[0] == 0
    assert run(capsys, "verify", "--db", db)[0] == 0
    assert Store(db).settings() == {"school_name": "Old", "dsl_name": "Jo"}


def _head(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("chain head:")).split()[2]


def test_verify_head_proves_a_noted_head_and_catches_a_rebuilt_chain(capsys, db):
    code, out, _ = run(capsys, "verify", "--db", db)
    noted = _head(out)
    assert ":" in noted and noted.split(":")[0] == "1"
    Store(db, user="Bob").import_records([{"summary": "Second", "concern_at": "2026-11-11T10:00:00+00:00"}])
    code, out, err = run(capsys, "verify", "--head", noted, "--db", db)
    assert code == 0 and "still in the chain" in out, err

    def rebuild(data):
        # Someone who can write the file changes the first record and rebuilds the whole chain.
        records = sorted(data["incidents"].values(), key=lambda r: r["history"][0]["seq"])
        records[0]["summary"] = "Rewritten"
        records[0]["history"][0]["changes"]["summary"][1] = "Rewritten"
        entries = sorted(((e["seq"], r["id"], e) for r in records for e in r["history"]), key=lambda t: t[0])
        prev = history.GENESIS
        for seq, incident_id, entry in entries:
            sealed = history.seal(entry, incident_id, seq, prev)
            entry.clear()
            entry.update(sealed)
            prev = sealed["hash"]
        data["_meta"]["1"]["chain"]["head"] = prev

    edit(db, rebuild)
    assert run(capsys, "verify", "--db", db)[0] == 0  # a rebuilt chain is consistent in itself...
    code, _, err = run(capsys, "verify", "--head", noted, "--db", db)
    assert code == 1 and "rewritten" in err  # ...but the head noted earlier is gone


@pytest.mark.parametrize("head", ["abc", "1:xyz", "x:" + "0" * 64, "1" + "0" * 64])
def test_a_malformed_head_is_bad_usage(capsys, db, head):
    code, _, err = run(capsys, "verify", "--head", head, "--db", db)
    assert code == 2 and "SEQ:HASH" in err
