import copy
from dataclasses import fields
from datetime import datetime, timezone

import pytest

from kentsafe_tui.model import (
    ChecklistItem,
    Decision,
    Incident,
    Pupil,
    Referral,
    Transfer,
    ValidationError,
    check_transition,
    clean_incident,
    clean_text,
    validate,
)

NOW_ISO = "2026-11-28T09:00:00+00:00"


def valid(**fields) -> Incident:
    return Incident(summary="A concern", concern_at=NOW_ISO, **fields)


def errors_of(incident: Incident) -> dict[str, str]:
    with pytest.raises(ValidationError) as raised:
        validate(incident)
    return raised.value.errors


def test_a_complete_record_is_valid():
    validate(valid(pupils=[Pupil(name="Sam")], referrals=[Referral(agency="ceop", at=NOW_ISO)],
                   decisions=[Decision(decision="Speak to tutor groups", reason="Rumours are spreading")]))


def test_summary_is_required_one_line_and_at_most_200_characters():
    assert "summary is needed" in errors_of(Incident(summary="  ", concern_at=NOW_ISO))["summary"]
    assert "one line" in errors_of(Incident(summary="two\nlines", concern_at=NOW_ISO))["summary"]
    long = errors_of(Incident(summary="x" * 201, concern_at=NOW_ISO))["summary"]
    assert "201 characters; the most is 200" in long and "nothing was cut" in long
    validate(Incident(summary="x" * 200, concern_at=NOW_ISO))


def test_overlong_details_are_refused_not_cut():
    incident = valid(details="word " * 5000)
    message = errors_of(incident)["details"]
    assert "25,000 characters; the most is 20,000" in message
    assert len(incident.details) == 25000  # untouched


def test_control_characters_are_removed_but_newlines_tabs_and_markup_stay():
    typed = "Line one\r\nLine\ttwo \x1b[31mred\x1b[0m [b]bold[/b] \u202eevil\x07"
    assert clean_text(typed) == "Line one\nLine\ttwo [31mred[0m [b]bold[/b] evil"
    cleaned = clean_incident(valid(details=typed, pupils=[Pupil(name="A\x00B")]))
    assert cleaned.pupils[0].name == "AB"
    assert "\x1b" not in cleaned.details


def test_pasted_imagery_is_refused_with_the_reason():
    message = errors_of(valid(details="see data:image/png;base64,iVBORw0KGgo="))["details"]
    assert "never stores the imagery" in message
    import base64

    blob = base64.b64encode(bytes(range(256)) * 8).decode()
    assert "never stores the imagery" in errors_of(valid(details=f"pasted: {blob}"))["details"]
    validate(valid(details="z" * 3000))  # a long run of one letter is not a picture


def test_unknown_choices_name_the_field_and_the_choices():
    errors = errors_of(valid(category="gossip", scope="everywhere", status="done"))
    assert "'gossip' is not one of: harmful_content" in errors["category"]
    assert "reported_here" in errors["scope"]
    assert "closed" in errors["status"]
    assert "pupils[0].role" in errors_of(valid(pupils=[Pupil(name="Sam", role="victim")]))


def test_deciding_not_to_refer_needs_a_written_reason():
    errors = errors_of(valid(referral_decision="not_referred"))
    assert "why you decided not to refer" in errors["referral_rationale"]
    validate(valid(referral_decision="not_referred", referral_rationale="Parents dealt with it; no risk"))


def test_closing_needs_an_outcome_and_decisions_need_reasons():
    assert "outcome before closing" in errors_of(valid(status="closed"))["outcome"]
    errors = errors_of(valid(decisions=[Decision(decision="No assembly")]))
    assert "needs its reason" in errors["decisions[0].reason"]


def test_not_applicable_items_need_a_reason():
    item = ChecklistItem(id="a", text="Do it", state="not_applicable")
    assert "why this item does not apply" in errors_of(valid(checklist=[item]))["checklist[0].note"]


def test_future_and_malformed_dates_are_refused():
    assert "in the future" in errors_of(Incident(summary="x", concern_at="2999-01-01T00:00:00+00:00"))["concern_at"]
    assert "not a date and time" in errors_of(Incident(summary="x", concern_at="yesterday-ish"))["concern_at"]
    assert "date of birth is in the future" in errors_of(
        valid(pupils=[Pupil(name="Sam", date_of_birth="01/01/2999")]))["pupils[0].date_of_birth"]
    assert "Give the date it was sent" in errors_of(
        valid(transfers=[Transfer(sent_to="Oak School", acknowledged_at="2026-11-20")]))["transfers[0].sent_at"]


def test_from_dict_names_unknown_fields_and_wrong_shapes():
    with pytest.raises(ValidationError) as raised:
        Incident.from_dict({"summary": "x", "colour": "red", "pupils": "Sam", "rev": "2"})
    assert set(raised.value.errors) == {"colour", "pupils", "rev"}
    with pytest.raises(ValidationError) as raised:
        Incident.from_dict({"summary": "x", "pupils": [{"name": "Sam", "shoe_size": "4"}]})
    assert "pupils[0].shoe_size" in raised.value.errors


def test_round_trip_keeps_every_field():
    incident = valid(pupils=[Pupil(name="Sam", year_group="9", role="shared", date_of_birth="2012-04-03")],
                     referral_check={"rq-adult": "no"}, transfers=[Transfer(sent_to="Oak", sent_at="2026-11-01")])
    assert Incident.from_dict(incident.to_dict()) == incident


def test_lifecycle_closed_records_only_reopen():
    assert check_transition("open", "closed") is None
    assert check_transition("closed", "open") is None
    assert "can't move to monitoring" in check_transition("closed", "monitoring")


@pytest.mark.parametrize("row_kind", [Pupil, Referral, Decision, Transfer, ChecklistItem])
def test_a_row_copied_deeply_is_a_row_of_its_own_and_holds_only_text(row_kind):
    """Rows are copied as they are (see model._TextOnly): that is a deep copy only while every field is text."""
    assert all(field.type in ("str", str) for field in fields(row_kind)), "a row field that is not text needs a deep copy"
    row = row_kind(**{field.name: f"{field.name} value" for field in fields(row_kind)})
    copied = copy.deepcopy(row)
    assert copied == row and copied is not row
    setattr(copied, fields(row_kind)[0].name, "changed")
    assert getattr(row, fields(row_kind)[0].name) == f"{fields(row_kind)[0].name} value"


def test_an_editable_copy_owns_everything_but_the_history_entries():
    original = valid(pupils=[Pupil(name="Sam")], referral_check={"q": "no"},
                     checklist=[ChecklistItem(id="a", text="Do it")],
                     history=[{"action": "create", "changes": {"summary": [None, "A concern"]}}])
    copied = original.editable_copy()
    assert copied == original
    copied.pupils[0].name = "Changed"
    copied.pupils.append(Pupil(name="Another"))
    copied.referral_check["q"] = "yes"
    copied.checklist[0].state = "done"
    copied.history.append({"action": "edit"})
    assert original.pupils == [Pupil(name="Sam")] and original.referral_check == {"q": "no"}
    assert original.checklist[0].state == "todo" and len(original.history) == 1
    # The entries themselves are shared: they are never changed in place (a save adds a new one).
    assert copied.history[0] is original.history[0]


def test_cleaning_a_record_leaves_its_history_as_it_was():
    entry = {"action": "create", "by": "A\x1b[31m DSL", "changes": {}}
    cleaned = clean_incident(Incident(summary="Bad\x07 bell", concern_at=NOW_ISO, history=[entry]))
    assert cleaned.summary == "Bad bell"
    assert cleaned.history == [entry] and entry["by"] == "A\x1b[31m DSL"


def test_each_checklist_items_problem_is_named_and_said_as_before():
    """validate names an item only when something in it is wrong (verify checks every item of every
    record); what it says for each wrong item is what the general checks say."""
    from kentsafe_tui.model import CHECK_STATES, _check_choice, _check_moment, _check_text

    picture = "data:image/png;base64," + "iVBORw0KGgo" * 10
    items = [
        ChecklistItem(id="a", text="Fine", state="todo"),
        ChecklistItem(id="b", text="Bad state", state="maybe"),
        ChecklistItem(id="c", text="Long note", state="done", note="x" * 1001),
        ChecklistItem(id="d", text="Pasted picture", state="todo", note=picture),
        ChecklistItem(id="e", text="Set aside, no reason", state="not_applicable", note="  "),
        ChecklistItem(id="a", text="Same id again", state="todo"),
        ChecklistItem(id="f", text="Bad moment", state="done", at="yesterday"),
        ChecklistItem(id="g", text="Ticked", state="done", at="2026-11-20T10:00:00+00:00", note="Phoned"),
    ]
    incident = Incident(summary="Checklist problems", concern_at="2026-11-20T09:00:00+00:00", checklist=items)
    with pytest.raises(ValidationError) as raised:
        validate(incident, datetime(2026, 11, 28, 12, tzinfo=timezone.utc))
    expected: dict[str, str] = {}
    _check_choice(expected, "checklist[1].state", "maybe", CHECK_STATES)
    _check_text(expected, "checklist[2].note", "x" * 1001, 1000, "The note")
    _check_text(expected, "checklist[3].note", picture, 1000, "The note")
    expected["checklist[4].note"] = "Say why this item does not apply"
    expected["checklist[5].id"] = "Each checklist item needs its own id"
    _check_moment(expected, "checklist[6].at", "yesterday", None, "When it was done")
    found = {key: message for key, message in raised.value.errors.items() if key.startswith("checklist")}
    assert found == expected and len(expected) == 6
