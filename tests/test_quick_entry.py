"""The quick-entry line (kentsafe_tui.quick_entry): one typed line understood as a pupil, a referral, a decision
or a transfer, with what the preview shows and what is questioned.

Every test uses a fixed `NOW` (Tuesday 1 December 2026, 10:00 in London; conftest runs the tests in London time)
so relative words ("yesterday", "today") and the default time of a referral are exact.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kentsafe_tui.dates import DateError, parse_when
from kentsafe_tui.model import (
    AGENCIES,
    PUPIL_ROLES,
    Decision,
    Incident,
    Pupil,
    Referral,
    Transfer,
    ValidationError,
    validate,
)
from kentsafe_tui.quick_entry import AGENCY_WORDS, EXAMPLES, KINDS, ROLE_WORDS, understand

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Europe/London"))  # a Tuesday, winter time (+00:00)
NOW_ISO = "2026-12-01T10:00:00+00:00"
ROLES_HINT = ('After the name give the year (Y9) and the role: harmed, received, shared, told us, witness, other; '
              'or "born 03/04/2012".')
DEFAULT_ROLE = "Harmed or at risk (not given: the default)"


def pupil(line: str):
    return understand("pupils", line, NOW)


def referral(line: str):
    return understand("referrals", line, NOW)


def decision(line: str):
    return understand("decisions", line, NOW)


def transfer(line: str):
    return understand("transfers", line, NOW)


def in_incident(kind: str, row) -> Incident:
    """An incident that is valid on its own, holding the one row."""
    incident = Incident(summary="Video shared in a Year 9 group chat", concern_at="2026-11-30T09:00:00+00:00")
    getattr(incident, kind).append(row)
    return incident


def errors_of(kind: str, row) -> dict[str, str]:
    try:
        validate(in_incident(kind, row), NOW)
    except ValidationError as problem:
        return problem.errors
    return {}


# Empty lines ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("line", ["", "   ", "\t\n", "\x1b\x07\x00", "\u200b\u200d"])
def test_an_empty_line_makes_no_row_and_asks_nothing(kind, line):
    found = understand(kind, line, NOW)
    assert found.kind == kind
    assert found.row is None
    assert found.parts == []
    assert found.questions == []
    assert found.ok is False
    assert found.preview() == ""


@pytest.mark.parametrize("kind", KINDS)
def test_the_examples_shown_to_the_dsl_are_understood(kind):
    found = understand(kind, EXAMPLES[kind], NOW)
    assert found.ok, found.questions


# Pupils ---------------------------------------------------------------------------------------------------
def test_a_pupil_line_as_the_example_says_it():
    found = pupil("Jordan Example, Y9, received")
    assert found.ok
    assert found.row == Pupil(name="Jordan Example", year_group="9", role="received", date_of_birth="")
    assert found.parts == [("name", "Jordan Example"), ("year", "9"), ("role", "Received it")]
    assert found.preview() == "Enter adds the pupil: name: Jordan Example · year: 9 · role: Received it"


@pytest.mark.parametrize("role, phrase", [(role, phrase) for role, phrases in ROLE_WORDS.items()
                                          for phrase in phrases])
def test_every_role_phrase_after_a_comma(role, phrase):
    found = pupil(f"Jordan Example, Y9, {phrase}")
    assert found.ok, found.questions
    assert (found.row.name, found.row.year_group, found.row.role) == ("Jordan Example", "9", role)
    assert found.parts[2] == ("role", PUPIL_ROLES[role])


@pytest.mark.parametrize("role, phrase", [(role, phrase) for role, phrases in ROLE_WORDS.items()
                                          for phrase in phrases])
def test_every_role_phrase_without_commas(role, phrase):
    found = pupil(f"Jordan Example {phrase.upper()}")
    assert found.ok, found.questions
    assert (found.row.name, found.row.year_group, found.row.role) == ("Jordan Example", "", role)


def test_the_longest_role_phrase_wins():
    assert pupil("Sam, was sent it").row.role == "received"  # not "sent" (shared)
    assert pupil("Sam, was sent").row.role == "received"
    assert pupil("Sam, sent it").row.role == "shared"
    assert pupil("Sam, told us").row.role == "disclosed"
    assert pupil("Sam, in the images").row.role == "harmed"


@pytest.mark.parametrize(
    "typed, year",
    [("Y9", "9"), ("y9", "9"), ("Y 9", "9"), ("Yr 9", "9"), ("yr9", "9"), ("year 9", "9"), ("Year9", "9"),
     ("YEAR 11", "11"), ("Y1", "1"), ("Y13", "13"), ("Y14", "14"), ("Reception", "Reception"),
     ("R", "Reception"), ("r", "Reception"), ("Nursery", "Nursery"), ("Y9.", "9")],
)
def test_year_groups(typed, year):
    found = pupil(f"Jordan Example, {typed}, witness")
    assert found.ok, found.questions
    assert found.row.year_group == year
    assert found.row.role == "witness"
    assert ("year", year) in found.parts


@pytest.mark.parametrize("typed", ["Y0", "Y15", "year 15", "Yr 0", "Y99", "year 0"])
def test_a_year_out_of_range_is_questioned(typed):
    found = pupil(f"Jordan Example, {typed}, received")
    assert not found.ok
    assert found.row.year_group == ""
    assert found.questions == [f'Not understood: "{typed}". {ROLES_HINT}']


@pytest.mark.parametrize(
    "line, name, year, role",
    [
        ("Jordan Example Y9 received", "Jordan Example", "9", "received"),
        ("Jordan Example year 9 shared it", "Jordan Example", "9", "shared"),
        ("Jordan Example Yr 10 witness", "Jordan Example", "10", "witness"),
        ("Jordan Example Reception in the video", "Jordan Example", "Reception", "harmed"),
        ("Mary Jane Smith-Jones Y11 told us", "Mary Jane Smith-Jones", "11", "disclosed"),
    ],
)
def test_names_without_commas(line, name, year, role):
    found = pupil(line)
    assert found.ok, found.questions
    assert (found.row.name, found.row.year_group, found.row.role) == (name, year, role)


def test_a_pupil_without_a_role_shows_the_default():
    found = pupil("Jordan Example")
    assert found.ok
    assert found.row == Pupil(name="Jordan Example", year_group="", role="harmed")
    assert found.parts == [("name", "Jordan Example"), ("year", "not given"), ("role", DEFAULT_ROLE)]
    assert found.preview() == f"Enter adds the pupil: name: Jordan Example · year: not given · role: {DEFAULT_ROLE}"


def test_a_misspelt_role_after_a_comma_is_questioned_not_guessed():
    found = pupil("Max, Y9, recieved")
    assert not found.ok
    assert found.row.role == "harmed"  # the default, not "received"
    assert found.parts[2] == ("role", DEFAULT_ROLE)
    assert found.questions == [f'Not understood: "recieved". {ROLES_HINT}']
    assert found.preview() == f'? Not understood: "recieved". {ROLES_HINT}'


def test_a_misspelt_role_without_a_comma_is_questioned_not_guessed():
    found = pupil("Alex Recieved")
    assert not found.ok
    assert found.row.name == "Alex Recieved"
    assert found.row.role == "harmed"
    assert found.questions == ['Is "Recieved" part of the name, or the role "received"? Put the role after a comma.']


@pytest.mark.parametrize("line", ["Max, Y9, witnes", "Max, Y9, sharred", "Max, Y9, disclosd", "Max, Y9, xyzzy"])
def test_any_word_not_understood_is_questioned(line):
    found = pupil(line)
    assert not found.ok
    assert found.row.role == "harmed"
    assert found.questions == [f'Not understood: "{line.split(", ")[2]}". {ROLES_HINT}']


@pytest.mark.parametrize("line", ["123, Y9", ", Y9, received", "Y9 received", "--, received"])
def test_a_pupil_line_without_a_name_is_questioned(line):
    found = pupil(line)
    assert not found.ok
    assert found.questions[0] == "Start with the pupil's name, e.g. \"Jordan Example, Y9, received\"."


@pytest.mark.parametrize(
    "line, born",
    [("Jordan Example, Y9, born 3/4/2012", "2012-04-03"), ("Jordan Example, Y9, dob 03/04/2012", "2012-04-03"),
     ("Jordan Example, dob: 3 April 2012, received", "2012-04-03"),
     ("Jordan Example, d.o.b. 3/4/12", "2012-04-03"), ("Jordan Example born 3/4/2012", "2012-04-03"),
     ("Jordan Example, Y9, born 3 April 2012 received", "2012-04-03")],
)
def test_a_date_of_birth(line, born):
    found = pupil(line)
    assert found.ok, found.questions
    assert found.row.name == "Jordan Example"
    assert found.row.date_of_birth == born
    assert found.parts[-1] == ("born", "03/04/2012")


@pytest.mark.parametrize("line, typed", [("Jordan, born 31/2/2012", "31/2/2012"), ("Jordan, born", "born"),
                                         ("Jordan, born soon", "soon")])
def test_a_date_of_birth_not_understood_is_questioned(line, typed):
    found = pupil(line)
    assert not found.ok
    assert found.row.date_of_birth == ""
    assert found.questions == [f'"{typed}" is not a date of birth: write it day first, 03/04/2012.']


@pytest.mark.parametrize("line", ["Jordan Example d.o.b. 3/4/2012", "Jordan Example DOB: 3/4/2012"])
def test_a_date_of_birth_without_commas_is_not_taken_into_the_name(line):
    # BUG: "dob:" and "d.o.b." are understood after a comma but do not end the name without one, so the whole
    # line (date of birth included) became the name and the line was ok.
    found = pupil(line)
    assert found.questions or (found.row.name, found.row.date_of_birth) == ("Jordan Example", "2012-04-03")


def test_a_surname_initial_is_not_silently_read_as_reception():
    # BUG: "R" ended the name (Reception), then Y9 replaced it: the name "Jordan", no question.
    found = pupil("Jordan R Y9 received")
    assert found.questions or found.row.name == "Jordan R"


@pytest.mark.parametrize("line", ["Jordan, received, shared", "Jordan, Y9, Y10", "Jordan, witness, harmed"])
def test_contradictory_roles_or_years_are_questioned_not_settled_by_the_last(line):
    # BUG: the last role or year silently wins.
    found = pupil(line)
    assert not found.ok


def test_rich_markup_in_a_name_is_kept_as_plain_text():
    found = pupil("[bold]x[/], Y9, received")
    assert found.ok
    assert found.row.name == "[bold]x[/]"
    assert found.parts[0] == ("name", "[bold]x[/]")
    assert "name: [bold]x[/] ·" in found.preview()


def test_control_characters_are_stripped_from_a_name():
    found = pupil("Jor\x1b[31mdan Ex\x07ample\x00, Y9\x1b, recei\x08ved")
    assert found.ok, found.questions
    assert found.row == Pupil(name="Jor[31mdan Example", year_group="9", role="received")
    assert "\x1b" not in found.preview()


def test_bidirectional_and_zero_width_characters_are_stripped_and_spaces_collapsed():
    found = pupil("Jordan\u202e\u200b  \n\tExample ,  Y9")
    assert found.row.name == "Jordan Example"
    assert found.row.year_group == "9"


def test_a_very_long_name_is_made_and_the_model_reports_the_limit():
    name = " ".join(["Alexandra"] * 20)  # 199 characters, more than the 100 allowed
    for line in (f"{name}, Y9, received", f"{name} Y9 received"):
        found = pupil(line)
        assert found.ok
        assert found.row.name == name  # not cut
        assert errors_of("pupils", found.row) == {
            "pupils[0].name": f"The name is {len(name)} characters; the most is 100. Shorten it (nothing was cut)"}


# Referrals ------------------------------------------------------------------------------------------------
def test_a_referral_as_the_example_says_it():
    found = referral("police 101 yesterday 16:30 ref KP-0457")
    assert found.ok
    assert found.row == Referral(agency="police_101", at="2026-11-30T16:30:00+00:00", reference="KP-0457", note="")
    assert found.parts == [("agency", "Police, 101"), ("when", "Mon 30 Nov 2026, 16:30"), ("reference", "KP-0457")]
    assert found.preview() == ("Enter adds the referral: agency: Police, 101 · when: Mon 30 Nov 2026, 16:30 · "
                               "reference: KP-0457")


@pytest.mark.parametrize("agency, phrase", [(agency, phrase) for agency, phrases in AGENCY_WORDS.items()
                                            for phrase in phrases])
def test_every_agency_phrase(agency, phrase):
    found = referral(f"{phrase} yesterday 16:30")
    assert found.ok, found.questions
    assert found.row.agency == agency
    assert found.row.at == "2026-11-30T16:30:00+00:00"
    assert found.parts[0] == ("agency", AGENCIES[agency])


@pytest.mark.parametrize("phrase, agency", [("POLICE 999", "police_999"), ("Police, 101", "police_101"),
                                            ("Kent Front Door", "childrens_social_care"), ("CEOP,", "ceop"),
                                            ("Report-Remove", "report_remove")])
def test_agency_phrases_ignore_case_and_commas(phrase, agency):
    found = referral(phrase)
    assert found.ok, found.questions
    assert found.row.agency == agency


def test_the_agency_may_come_after_the_time():
    found = referral("yesterday 16:30 police 999")
    assert found.ok
    assert (found.row.agency, found.row.at) == ("police_999", "2026-11-30T16:30:00+00:00")


@pytest.mark.parametrize("line", ["police", "Police", "police yesterday 16:30", "police ref KP-1"])
def test_police_alone_is_questioned(line):
    found = referral(line)
    assert not found.ok
    assert found.row.agency == ""
    assert found.parts[0] == ("agency", "?")
    assert found.questions == ['Police by 999 or 101? Say "police 999" or "police 101".']


@pytest.mark.parametrize("line", ["yesterday 16:30", "ref KP-1", "the head phoned"])
def test_a_referral_without_an_agency_is_questioned(line):
    found = referral(line)
    assert not found.ok
    assert found.questions[0] == ("Which agency? Start with one of: police 999, police 101, CEOP, IWF, front door, "
                                  "early help, LADO, LESAS, report remove, platform, other.")


def test_a_referral_without_a_time_is_now_and_the_preview_says_so():
    found = referral("ceop")
    assert found.ok
    assert found.row == Referral(agency="ceop", at=NOW_ISO, reference="", note="")
    assert found.parts == [("agency", "CEOP"), ("when", "Tue 01 Dec 2026, 10:00 (now)"), ("reference", "none")]
    assert found.preview() == "Enter adds the referral: agency: CEOP · when: Tue 01 Dec 2026, 10:00 (now) · reference: none"


def test_a_referral_said_to_be_now_is_now_without_the_default_mark():
    found = referral("ceop now")
    assert found.row.at == NOW_ISO
    assert found.parts[1] == ("when", "Tue 01 Dec 2026, 10:00")


@pytest.mark.parametrize(
    "line, at",
    [("ceop yesterday at 16:30", "2026-11-30T16:30:00+00:00"), ("ceop today 09:15", "2026-12-01T09:15:00+00:00"),
     ("lado on 28/11/2026 2:30pm", "2026-11-28T14:30:00+00:00"), ("iwf monday 9.15am", "2026-11-30T09:15:00+00:00"),
     ("phoned front door 27 Nov 2026 08:00", "2026-11-27T08:00:00+00:00"),
     ("ceop 15/07/2026 10:00", "2026-07-15T10:00:00+01:00")],  # summer time keeps its own offset
)
def test_referral_times(line, at):
    found = referral(line)
    assert found.ok, found.questions
    assert found.row.at == at
    assert not found.parts[1][1].endswith("(now)")


@pytest.mark.parametrize("when", ["25:00", "31/2/2026 10:00", "13/13/2026", "the morning"])
def test_a_bad_time_is_questioned_with_the_date_parsers_message(when):
    with pytest.raises(DateError) as expected:
        parse_when(when, NOW)
    found = referral(f"ceop {when}")
    assert not found.ok
    assert found.row.at == ""
    assert found.parts[1] == ("when", "?")
    assert found.questions == [f"Not understood as a time: {expected.value}."]


@pytest.mark.parametrize(
    "line",
    ["ceop ref KP-0457", "ceop Ref: KP-0457", "ceop ref. KP-0457", "ceop reference KP-0457",
     "ceop reference number KP-0457", "ceop crime number KP-0457", "ceop crime no. KP-0457", "ceop log KP-0457",
     "ceop case number KP-0457", "ceop ref KP-0457,", "ceop ref no KP-0457"],
)
def test_reference_words(line):
    found = referral(line)
    assert found.ok, found.questions
    assert found.row.reference == "KP-0457"
    assert found.row.at == NOW_ISO
    assert found.parts[2] == ("reference", "KP-0457")


def test_reference_with_a_colon_is_understood_as_ref_with_a_colon_is():
    # BUG: "ref:" is a reference word but "reference:" is not: it was read as a time and questioned.
    found = referral("ceop reference: KP-0457")
    assert found.ok, found.questions
    assert found.row.reference == "KP-0457"


@pytest.mark.parametrize(
    "line, note",
    [("ceop note phoned back twice", "phoned back twice"), ("ceop Note: phoned back", "phoned back"),
     ("ceop - phoned back - twice", "phoned back - twice"), ("ceop yesterday 16:30 ref KP-1 note [red]x[/]",
                                                             "[red]x[/]"),
     ("ceop – advice only", "advice only")],
)
def test_a_note_after_note_or_a_dash(line, note):
    found = referral(line)
    assert found.ok, found.questions
    assert found.row.note == note
    assert found.parts[-1] == ("note", note)


def test_a_long_reference_and_note_are_made_and_the_model_reports_the_limits():
    reference, note = "K" * 150, "word " * 250
    found = referral(f"ceop ref {reference} note {note}")
    assert found.ok
    assert found.row.reference == reference
    assert found.row.note == note.strip()
    assert errors_of("referrals", found.row) == {
        "referrals[0].reference": "The reference is 150 characters; the most is 100. Shorten it (nothing was cut)",
        "referrals[0].note": "The note is 1,249 characters; the most is 1,000. Shorten it (nothing was cut)",
    }


# Decisions ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "line, decided, reason",
    [("no referral because they only received it", "no referral", "they only received it"),
     ("No referral BECAUSE they only received it", "No referral", "they only received it"),
     ("no referral; they only received it", "no referral", "they only received it"),
     ("no referral ; they only received it; nothing else", "no referral", "they only received it; nothing else"),
     ("no referral - they only received it", "no referral", "they only received it"),
     ("no referral — they only received it", "no referral", "they only received it"),
     ("no referral reason: they only received it", "no referral", "they only received it"),
     ("no referral because of the age gap because of x", "no referral", "of the age gap because of x"),
     ("kept [b]x[/] because [i]y[/]", "kept [b]x[/]", "[i]y[/]")],
)
def test_a_decision_and_its_reason(line, decided, reason):
    found = decision(line)
    assert found.ok, found.questions
    assert found.row == Decision(decision=decided, reason=reason, at="", by="")
    assert found.parts == [("decided", decided), ("because", reason)]
    assert found.preview() == f"Enter adds the decision: decided: {decided} · because: {reason}"


@pytest.mark.parametrize("line", ["no referral", "no referral because", "no referral ;", "not-referring-them"])
def test_a_decision_without_a_reason_is_questioned(line):
    found = decision(line)
    assert not found.ok
    assert found.row.reason == ""
    assert found.parts[1] == ("because", "?")
    assert found.questions == ['Every decision needs its reason: write it after "because".']
    assert found.preview() == '? Every decision needs its reason: write it after "because".'


def test_a_reason_without_a_decision_is_questioned():
    found = decision("; they only received it")
    assert not found.ok
    assert found.row == Decision(decision="", reason="they only received it")
    assert found.questions == ['Say what was decided, then "because" and the reason.']


def test_a_long_decision_and_reason_are_made_and_the_model_reports_the_limits():
    decided, reason = "no " * 200, "they only received it " * 250
    found = decision(f"{decided}because {reason}")
    assert found.ok
    assert (found.row.decision, found.row.reason) == (decided.strip(), reason.strip())
    assert errors_of("decisions", found.row) == {
        "decisions[0].decision": "The decision is 599 characters; the most is 500. Shorten it (nothing was cut)",
        "decisions[0].reason": "The reason is 5,499 characters; the most is 5,000. Shorten it (nothing was cut)",
    }


# Transfers ------------------------------------------------------------------------------------------------
def test_a_transfer_as_the_example_says_it():
    found = transfer("Oakwood Academy, sent 28/11/2026, received 30/11/2026, by secure email")
    assert found.ok
    assert found.row == Transfer(sent_to="Oakwood Academy", sent_at="2026-11-28", acknowledged_at="2026-11-30",
                                 note="by secure email")
    assert found.parts == [("sent to", "Oakwood Academy"), ("sent on", "28/11/2026"),
                           ("receipt confirmed", "30/11/2026"), ("note", "by secure email")]
    assert found.preview() == ("Enter adds the transfer: sent to: Oakwood Academy · sent on: 28/11/2026 · "
                               "receipt confirmed: 30/11/2026 · note: by secure email")


@pytest.mark.parametrize(
    "line, sent, acknowledged, note",
    [("Oakwood, 28/11/2026", "2026-11-28", "", ""), ("Oakwood, sent on 28/11/2026", "2026-11-28", "", ""),
     ("Oakwood, on 28 Nov 2026", "2026-11-28", "", ""), ("Oakwood, sent 28/11", "2026-11-28", "", ""),
     ("Oakwood; sent 28/11/2026; receipt confirmed 30/11/2026", "2026-11-28", "2026-11-30", ""),
     ("Oakwood, ack 30/11, sent 28/11", "2026-11-28", "2026-11-30", ""),
     ("Oakwood, sent 28/11/2026, acknowledged on 30/11/2026", "2026-11-28", "2026-11-30", ""),
     ("Oakwood, note arrived late, via egress", "", "", "arrived late; via egress"),
     ("Oakwood, through the LA portal", "", "", "the LA portal"),
     ("Oakwood", "", "", "")],
)
def test_transfer_forms(line, sent, acknowledged, note):
    found = transfer(line)
    assert found.ok, found.questions
    assert found.row == Transfer(sent_to="Oakwood", sent_at=sent, acknowledged_at=acknowledged, note=note)


def test_a_transfer_not_yet_sent_or_confirmed_says_not_yet():
    found = transfer("Oakwood")
    assert found.parts == [("sent to", "Oakwood"), ("sent on", "not yet"), ("receipt confirmed", "not yet")]


def test_a_transfer_received_but_not_sent_is_questioned():
    found = transfer("Oakwood Academy, received 30/11/2026")
    assert not found.ok
    assert found.row == Transfer(sent_to="Oakwood Academy", sent_at="", acknowledged_at="2026-11-30")
    assert found.questions == ['When was it sent? Add "sent 28/11/2026".']


@pytest.mark.parametrize("chunk", ["sent", "sent 31/11/2026", "sent 28/11/2026 10:00", "posted yesterday-ish"])
def test_a_transfer_date_not_understood_is_questioned(chunk):
    found = transfer(f"Oakwood, {chunk}")
    assert not found.ok
    assert found.row.sent_at == ""
    assert found.questions == [f'Not understood: "{chunk}". Write "sent 28/11/2026", "received 30/11/2026" or '
                               '"by secure email".']


def test_a_long_school_name_is_made_and_the_model_reports_the_limit():
    school = "Oakwood Academy " * 15
    found = transfer(f"{school}, sent 28/11/2026")
    assert found.ok
    assert found.row.sent_to == school.strip()
    assert errors_of("transfers", found.row) == {
        "transfers[0].sent_to": "The name is 239 characters; the most is 200. Shorten it (nothing was cut)"}


# Every ok line makes a row the model accepts -------------------------------------------------------------
OK_LINES = [
    ("pupils", "Jordan Example, Y9, received"), ("pupils", "Jordan Example Y9 received"),
    ("pupils", "Jordan Example, R, told us, born 3/4/2021"), ("pupils", "[bold]x[/], Y9"),
    ("pupils", "Jor\x1bdan, Y7, saw it"), ("pupils", "Sam Example"),
    ("referrals", "police 101 yesterday 16:30 ref KP-0457"), ("referrals", "ceop"),
    ("referrals", "front door today 09:30 crime number 55 note advice given"),
    ("referrals", "platform 28/11/2026 14:00 - reported the account"),
    ("decisions", "no referral because they only received it"), ("decisions", "parents told; low risk"),
    ("transfers", "Oakwood Academy, sent 28/11/2026, received 30/11/2026, by secure email"),
    ("transfers", "Oakwood Academy"),
]


@pytest.mark.parametrize("kind, line", OK_LINES)
def test_every_ok_line_makes_a_row_the_model_accepts(kind, line):
    found = understand(kind, line, NOW)
    assert found.ok, found.questions
    validate(in_incident(kind, found.row), NOW)


@pytest.mark.parametrize(
    "kind, line",
    [("referrals", "ceop 14:30"),  # later today: in the future
     ("referrals", "ceop 25/12/2026 10:00"),
     ("pupils", "Jordan Example, Y9, born 3/4/2030"),
     ("transfers", "Oakwood Academy, sent 28/12/2026"),
     ("transfers", "Oakwood Academy, sent 28/11/2026, received 2/12/2026")],
)
def test_a_date_in_the_future_is_questioned_before_the_row_is_added(kind, line):
    # BUG: the line is ok (the preview says "Enter adds ..."), then model.validate refuses the row as in the future.
    found = understand(kind, line, NOW)
    assert not found.ok or errors_of(kind, found.row) == {}


@pytest.mark.parametrize("kind, line", [("pupils", "\u3164, Y9"), ("decisions", "\u3164 because they only received it"),
                                        ("decisions", "no referral because \u3164")])
def test_a_name_or_decision_with_nothing_visible_is_questioned(kind, line):
    # BUG: U+3164 (a filler that shows nothing) counts as a name or decision here, not in model.validate.
    found = understand(kind, line, NOW)
    assert not found.ok or errors_of(kind, found.row) == {}


# Never raises ---------------------------------------------------------------------------------------------
WORDS = st.sampled_from([
    "year", "Y", "yr", "Y9", "R", "born", "dob", "d.o.b.", "received", "sent", "police", "101", "999", "ref",
    "reference", "crime", "number", "note", "-", "because", ";", ",", "yesterday", "today", "now", "14:30", "25:00",
    "28/11/2026", "31/2/2026", "2026-11-28T09:15", "2999-12-31T23:59:59-14:00", "monday", "3", "April", "²", "٩",
    "\u3164", "\x1b", "[bold]", "0/0/0", "13pm", "1/13", "by", "received", "ack",
])
LINES = st.one_of(st.text(max_size=60), st.lists(st.one_of(WORDS, st.text(max_size=6)), max_size=10).map(" ".join))


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(KINDS), line=LINES)
@example(kind="pupils", line="Jordan, year ²")  # BUG: str.isdigit() is true for "²" and int("²") raises
def test_understand_never_raises(kind, line):
    found = understand(kind, line, NOW)
    assert found.kind == kind
    assert isinstance(found.preview(), str)
    assert found.ok == (found.row is not None and not found.questions)
    if found.row is not None:
        for name, value in vars(found.row).items():
            assert isinstance(value, str), name
            assert "\x1b" not in value and "\x00" not in value


@pytest.mark.parametrize("line", ["Jordan, year ²", "Jordan Example year ³ received", "Jordan, Y ²"])
def test_a_superscript_digit_after_year_is_questioned_not_a_crash(line):
    # BUG: ValueError: invalid literal for int() with base 10: '²'
    found = pupil(line)
    assert not found.ok
    assert found.questions


# Found by review: put right, kept right --------------------------------------------------------------------
def test_a_transfer_without_commas_is_split_at_its_words():
    found = transfer("Oakwood Academy sent 28/11/2026 by secure email")
    assert found.ok
    assert (found.row.sent_to, found.row.sent_at, found.row.note) == ("Oakwood Academy", "2026-11-28", "by secure email")


def test_a_reason_with_nothing_decided_asks_for_the_decision():
    found = decision("because they only received it")
    assert not found.ok
    assert found.questions == ["Say what was decided, then \"because\" and the reason."]
    assert found.row.reason == "they only received it"


def test_the_word_reason_inside_a_decision_does_not_split_it():
    found = decision("not referring for that reason because they only received it")
    assert (found.row.decision, found.row.reason) == ("not referring for that reason", "they only received it")


@pytest.mark.parametrize("kind, line, asked", [
    ("referrals", "phoned the app today", 'has no time'),
    ("referrals", "LADO monday", 'has no time'),
    ("pupils", "Jordan Example, born 3/4", "give the year of birth"),
    ("pupils", "Jordan Example, born yesterday", "give the year of birth"),
    ("pupils", "Jordan Example who was sent it Y9", "all name"),
    ("transfers", "sent 28/11/2026 to Oakwood Academy", "Start with the school"),
    ("transfers", "Oakwood, sent 27/11/2026, sent 28/11/2026", "Two dates"),
])
def test_what_a_line_leaves_open_is_asked_not_guessed(kind, line, asked):
    found = understand(kind, line, NOW)
    assert not found.ok
    assert asked in " ".join(found.questions)


def test_because_wins_over_a_dash_inside_the_decision():
    found = decision("keep Y7 - Y9 apart because of threats")
    assert (found.row.decision, found.row.reason) == ("keep Y7 - Y9 apart", "of threats")
