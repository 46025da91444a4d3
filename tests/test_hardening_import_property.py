"""Issue 10's property test of import: any JSON the generator can make is either refused with the database
byte-identical, or accepted, after which list, show, export, letter, stats and verify succeed and print no
control byte, and every accepted incident opens in the app."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kentsafe_tui.cli import main
from kentsafe_tui.model import AGENCIES, CATEGORIES, CHECK_STATES, NESTED, PUPIL_ROLES, SCOPES, STATUSES
from kentsafe_tui.store import Store

from .app_helpers import main_screen, make_app, make_store

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
NASTY = ["\x1b", "\x07", "\x1bc", "\x1b]52;c;aGk=\x07", "\x9b", "\x9d", "\x85", "\u200b", "\u3164", "\u202e",
         "\u2028", "\ufeff", "\x00", "\r", "\n", "\t", "\udc80", "data:image/png;base64,", "é", "e\u0301"]

text = st.one_of(
    st.text(max_size=12),
    st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=4)), max_size=5).map("".join),
)
moments = st.one_of(
    st.sampled_from(["2026-11-10T10:00:00+00:00", "2026-03-29T01:30:00+00:00", "2025-01-01T00:00:00-12:00",
                     "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+14:00", "2026-11-10T10:00:00",
                     "2026-11-10", "yesterday", "", "2099-01-01T00:00:00+00:00"]),
    text,
)
days = st.sampled_from(["2012-04-03", "03/04/2012", "0001-01-01", "2999-12-31", "", "not a day", "2030-01-01"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                    st.floats(allow_nan=True, allow_infinity=True), text)
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                            st.dictionaries(text, inner, max_size=3)), max_leaves=8)


def choice(vocabulary):
    return st.one_of(st.sampled_from(sorted(vocabulary)), text)


NESTED_VALUES = {
    "pupils": {"name": text, "year_group": text, "role": choice(PUPIL_ROLES), "date_of_birth": days},
    "referrals": {"agency": choice(AGENCIES), "at": moments, "reference": text, "note": text},
    "decisions": {"decision": text, "reason": text, "at": moments, "by": text},
    "transfers": {"sent_to": text, "sent_at": days, "acknowledged_at": days, "note": text},
    "checklist": {"id": st.sampled_from(["a", "b", "c", ""]), "text": text, "state": choice(CHECK_STATES),
                  "at": moments, "by": text, "note": text, "source": text},
}
assert set(NESTED_VALUES) == set(NESTED)


def rows(fields):
    return st.lists(st.fixed_dictionaries({}, optional={**fields, "extra": text}), max_size=2)


history_entries = st.lists(st.fixed_dictionaries(
    {"at": moments, "by": text, "action": text},
    optional={"note": text, "login": text, "changes": st.dictionaries(
        st.one_of(st.sampled_from(["summary", "details", "status", "checklist.a", "pupils"]), text),
        st.one_of(st.tuples(json_values, json_values).map(list), json_values), max_size=3)},
), max_size=3)

records = st.fixed_dictionaries(
    {"summary": text},
    optional={
        "id": text, "details": text, "category": choice(CATEGORIES), "scope": choice(SCOPES),
        "status": choice(STATUSES), "concern_at": moments, "created_at": moments, "created_by": text,
        "updated_at": moments, "rev": scalars, "parents_informed": st.one_of(st.booleans(), text),
        "referral_check": st.dictionaries(text, st.one_of(st.sampled_from(["yes", "no"]), scalars), max_size=2),
        "history": st.one_of(history_entries, json_values), "outcome": text, "referral_decision": text,
        **{name: rows(fields) for name, fields in NESTED_VALUES.items()},
        "unknown": json_values,
    },
)
# Records that mostly pass: good dates and choices, hostile free text everywhere text may go.
words = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=4)), max_size=5).map(lambda parts: "Seen " + "".join(parts))
good_moments = st.sampled_from(["2026-11-10T10:00:00+00:00", "2026-03-29T01:30:00+01:00", "2024-02-29T23:59:59-08:00"])
plausible = st.fixed_dictionaries(
    {"summary": words.map(lambda s: s.replace("\n", " ").replace("\r", " ").replace("\u2028", " ")),
     "concern_at": good_moments},
    optional={
        "details": words, "created_by": words, "outcome": words,
        "referral_check": st.dictionaries(words, st.sampled_from(["yes", "no"]), max_size=2),
        "pupils": st.lists(st.fixed_dictionaries({"name": words, "role": st.sampled_from(sorted(PUPIL_ROLES))},
                                                 optional={"year_group": st.just("Year 8")}), max_size=2),
        "decisions": st.lists(st.fixed_dictionaries({"decision": words, "reason": words, "by": words,
                                                     "at": good_moments}), max_size=2),
        "checklist": st.lists(st.fixed_dictionaries({"id": st.sampled_from(["a", "b"]), "text": words,
                                                     "state": st.just("done"), "at": good_moments, "by": words}),
                              max_size=1),
        "history": st.lists(st.fixed_dictionaries(
            {"at": good_moments, "by": words, "action": words},
            optional={"note": words, "login": words,
                      "changes": st.dictionaries(st.one_of(st.sampled_from(["summary", "details"]), words),
                                                 st.tuples(st.one_of(st.none(), words, st.integers()), words).map(list),
                                                 max_size=2)}), max_size=3),
    },
)
files = st.one_of(st.lists(records, min_size=1, max_size=3), records, json_values,
                  st.lists(plausible, min_size=1, max_size=3), plausible)


def cli(*args) -> tuple[int, str, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def clean_output(text: str) -> bool:
    return not CONTROL.search(text.replace("\n", "").replace("\t", ""))


async def test_any_import_is_refused_untouched_or_works_everywhere(tmp_path, library, clock):
    db = tmp_path / "data" / "records.json"
    Store(db, user="Seed").import_records([{"summary": "Seed", "concern_at": "2026-11-01T10:00:00+00:00"}])
    source = tmp_path / "in.json"
    accepted: list[str] = []
    outcomes = {"refused": 0, "accepted": 0}

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(payload=files)
    def check(payload):
        source.write_text(json.dumps(payload, allow_nan=True), encoding="utf-8", errors="surrogatepass")
        before = db.read_bytes()
        code, out, err = cli("import", source, "--db", db, "--allow-duplicates")
        assert clean_output(out) and clean_output(err)
        assert "unexpected" not in err and "Traceback" not in err, err
        if code != 0:
            assert code == 1, err
            assert db.read_bytes() == before, "a refused import changed the database"
            outcomes["refused"] += 1
            return
        outcomes["accepted"] += 1
        ids = imported_ids(out)
        accepted.extend(ids)
        for args in (["list"], ["list", "--json"], ["stats"], ["stats", "--json"], ["verify"]):
            code, out, err = cli(*args, "--db", db)
            assert code == 0, (args, err)
            assert clean_output(out) and clean_output(err), args
        for incident_id in ids:
            for args in (["show", incident_id], ["show", incident_id, "--json"], ["export", incident_id],
                         ["export", incident_id, "--format", "html"], ["letter", incident_id],
                         ["letter", incident_id, "--format", "markdown"]):
                code, out, err = cli(*args, "--db", db)
                assert code == 0, (args, err)
                assert clean_output(out) and clean_output(err), args

    check()
    print(outcomes)
    assert outcomes["accepted"] >= 10 and outcomes["refused"] >= 10, outcomes

    # Every accepted incident opens in the app (read-only: nothing is typed or saved).
    store = make_store(db, library, clock)
    app = make_app(store, library)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        for incident_id in accepted[-25:]:
            main_screen(app)._open(incident_id)
            await pilot.pause()
            assert main_screen(app).session.edited.id == incident_id
    assert Path(db).exists()


def imported_ids(out: str) -> list[str]:
    """The new ids from import's one summary line: "imported 3 incident(s): 2026-0001 to 2026-0003"."""
    if ": " not in out:
        return []
    first, _, last = out.split(": ", 1)[1].strip().partition(" to ")
    if not last:
        return [first]
    year, start = first.split("-")
    end = int(last.split("-")[1])
    return [f"{year}-{number:04d}" for number in range(int(start), end + 1)]

