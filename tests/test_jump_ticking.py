"""The field finder's codes (kentsafe_tui.jump) and the checklist's tick and find lines (kentsafe_tui.ticking)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kentsafe_tui.jump import FIELDS, Place, narrow, places
from kentsafe_tui.model import ChecklistItem
from kentsafe_tui.ticking import pick

TOP_CODES = ["s", "w", "c", "g", "t", "h", "p", "e", "y", "r", "i", "n", "f", "u", "a", "d", "o", "x", "k"]
ROWS = {"pupils": ["Jordan Example", "Sam Other"], "referrals": ["CEOP"], "decisions": ["no referral"],
        "transfers": ["Oakwood Academy"]}
QUESTIONS = [("check-risk", "Is there a risk of serious harm?"), ("check-adult", "Is an adult involved?")]


def codes(found: list[Place]) -> list[str]:
    return [place.code for place in found]


def code_of(found: Place | None) -> str | None:
    return found.code if found else None


# Places ---------------------------------------------------------------------------------------------------
def test_an_empty_form_has_one_place_per_field_in_the_forms_order():
    found = places({}, [])
    assert codes(found) == TOP_CODES
    assert [(p.code, p.name, p.where) for p in found] == FIELDS
    assert found[0] == Place("s", "Summary", "f-summary")
    assert found[-1] == Place("k", "The checklist", "checklist")


def test_rows_and_questions_are_numbered_in_the_forms_order():
    found = places(ROWS, QUESTIONS)
    assert codes(found) == ["s", "w", "c", "g", "t", "h", "p", "p1", "p2", "q1", "q2", "e", "y", "r", "r1", "i", "n",
                            "f", "u", "a", "d", "d1", "o", "x", "x1", "k"]
    by_code = {place.code: place for place in found}
    assert by_code["p1"] == Place("p1", "Pupil 1: Jordan Example", "pupils-0-name")
    assert by_code["p2"] == Place("p2", "Pupil 2: Sam Other", "pupils-1-name")
    assert by_code["q1"] == Place("q1", "Question 1: Is there a risk of serious harm?", "check-risk")
    assert by_code["q2"] == Place("q2", "Question 2: Is an adult involved?", "check-adult")
    assert by_code["r1"] == Place("r1", "Referral 1: CEOP", "referrals-0-agency")
    assert by_code["d1"] == Place("d1", "Decision 1: no referral", "decisions-0-decision")
    assert by_code["x1"] == Place("x1", "Transfer 1: Oakwood Academy", "transfers-0-sent_to")


def test_a_row_without_a_label_is_named_by_its_number_alone():
    found = places({"pupils": ["", "Sam"]}, [])
    assert [p.name for p in found if p.code in ("p1", "p2")] == ["Pupil 1", "Pupil 2: Sam"]


def test_codes_are_unique_however_many_rows_and_questions():
    rows = {kind: [f"{kind} {n}" for n in range(25)] for kind in ("pupils", "referrals", "decisions", "transfers")}
    questions = [(f"question-{n}", f"question {n}") for n in range(25)]
    found = places(rows, questions)
    assert len(found) == len(TOP_CODES) + 5 * 25
    assert len(set(codes(found))) == len(found)
    assert len({place.where for place in found}) == len(found)
    assert {"p25", "r25", "d25", "x25", "q25"} <= set(codes(found))
    assert "p26" not in codes(found)


def test_before_the_lower_form_arrives_only_its_top_fields_and_the_checklist_are_places():
    found = places(ROWS, QUESTIONS, lower_form=False)
    assert codes(found) == ["s", "w", "c", "g", "t", "h", "k"]
    assert [p.where for p in found] == ["f-summary", "f-concern_at", "f-category", "f-scope", "f-status",
                                        "f-details", "checklist"]


# Narrowing ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed, go", [("f", "f"), ("s", "s"), ("k", "k"), ("F", "f"), (" a ", "a"), ("e", "e")])
def test_a_code_no_longer_code_starts_with_is_taken_at_once(typed, go):
    shown, at_once = narrow(places(ROWS, QUESTIONS), typed)
    assert codes(shown) == [go]
    assert code_of(at_once) == go


@pytest.mark.parametrize("typed, shown", [("p", ["p", "p1", "p2"]), ("r", ["r", "r1"]), ("d", ["d", "d1"]),
                                          ("x", ["x", "x1"]), ("q", ["q1", "q2"])])
def test_a_code_that_starts_longer_codes_waits_and_enter_takes_the_first_shown(typed, shown):
    found, at_once = narrow(places(ROWS, QUESTIONS), typed)
    assert codes(found) == shown
    assert at_once is None
    assert found[0].code == shown[0]  # what enter takes


@pytest.mark.parametrize("letter", ["p", "r", "d", "x"])
def test_a_lists_letter_waits_for_enter_even_with_no_rows(letter):
    """The same keys do the same thing on a new incident and on one with rows: ctrl+g p enter."""
    shown, at_once = narrow(places({}, []), letter)
    assert codes(shown) == [letter]
    assert at_once is None


@pytest.mark.parametrize("typed", ["p1", "p2", "q1", "q2", "r1", "d1", "x1"])
def test_a_row_or_question_code_is_taken_at_once(typed):
    shown, at_once = narrow(places(ROWS, QUESTIONS), typed)
    assert codes(shown) == [typed]
    assert code_of(at_once) == typed


def test_p1_waits_while_p10_exists():
    found = places({"pupils": [f"Pupil {n}" for n in range(1, 12)]}, [])
    shown, at_once = narrow(found, "p1")
    assert codes(shown) == ["p1", "p10", "p11"]
    assert at_once is None
    shown, at_once = narrow(found, "p10")
    assert (codes(shown), code_of(at_once)) == (["p10"], "p10")


@pytest.mark.parametrize("typed", ["zzz", "follow", "jordan", "quick add", "b"])
def test_letters_that_name_no_place_show_nothing_and_go_nowhere(typed):
    """Words are not guessed at: "follow" is f then o, and no place has "fo"."""
    assert narrow(places(ROWS, QUESTIONS), typed) == ([], None)


def test_nothing_typed_shows_every_place():
    everything = places(ROWS, QUESTIONS)
    shown, at_once = narrow(everything, "  ")
    assert shown == everything
    assert at_once is None


def test_hidden_lower_fields_cannot_be_reached():
    top = places(ROWS, QUESTIONS, lower_form=False)
    assert narrow(top, "f") == ([], None)
    assert narrow(top, "p1") == ([], None)
    shown, at_once = narrow(top, "h")
    assert code_of(at_once) == "h"


# Ticking --------------------------------------------------------------------------------------------------
TEXTS = [
    "Speak to the pupil who disclosed",      # 1
    "Inform parents unless unsafe",          # 2
    "Consider a referral to police",         # 3
    "Record the decision and the reason",    # 4
    "Contact police if a crime",             # 5
    "Tell parents the outcome",              # 6
    "Secure devices, do not view imagery",   # 7
    "Report to the platform",                # 8
    "Review the risk assessment",            # 9
    "Close the record",                      # 10
]
ITEMS = [ChecklistItem(id=f"item-{n}", text=text) for n, text in enumerate(TEXTS, 1)]


def ids(*numbers: int) -> list[str]:
    return [f"item-{n}" for n in numbers]


@pytest.mark.parametrize(
    "typed, chosen",
    [("1", ids(1)), ("1 3 5-7", ids(1, 3, 5, 6, 7)), ("1,3", ids(1, 3)), ("1, 3,, 10", ids(1, 3, 10)),
     ("7-5", ids(5, 6, 7)), ("1 1 1-2 2", ids(1, 2)), ("3 1 2", ids(3, 1, 2)), ("9-10 1", ids(9, 10, 1)),
     ("1-10", ids(*range(1, 11))), ("  4  ", ids(4)), ("", []), ("   ", [])],
)
def test_numbers_and_ranges(typed, chosen):
    assert pick(typed, ITEMS) == (chosen, [])


@pytest.mark.parametrize(
    "typed, chosen, problem",
    [("0", [], "There is no item 0: the checklist has 10."),
     ("11", [], "There is no item 11: the checklist has 10."),
     ("9999", [], "There is no item 9999: the checklist has 10."),
     ("3-12", [], "There is no item 12: the checklist has 10."),
     ("12-3", [], "There is no item 12: the checklist has 10."),
     ("0-2", [], "There is no item 0: the checklist has 10."),
     ("1 11 2", ids(1, 2), "There is no item 11: the checklist has 10.")],
)
def test_a_number_the_list_does_not_have_is_questioned_with_the_count(typed, chosen, problem):
    assert pick(typed, ITEMS) == (chosen, [problem])


def test_a_number_on_an_empty_checklist():
    assert pick("1", []) == ([], ["There is no item 1: the checklist has 0."])


@pytest.mark.parametrize("typed, chosen", [("platform", ids(8)), ("PLATFORM", ids(8)), ("police crime", ids(5)),
                                           ("crime police", ids(5)), ("imagery", ids(7)), ("risk", ids(9)),
                                           ("8 platform", ids(8)), ("platform 8", ids(8))])
def test_words_in_one_item_name_it(typed, chosen):
    assert pick(typed, ITEMS) == (chosen, [])


@pytest.mark.parametrize(
    "typed, problem",
    [("police", '"police" is in 2 items (3, 5): give the number or more words.'),
     ("parents", '"parents" is in 2 items (2, 6): give the number or more words.'),
     ("the", '"the" is in 6 items (1, 4, 6, 8, 9, 10): give the number or more words.')],
)
def test_words_in_several_items_are_questioned_with_their_numbers(typed, problem):
    assert pick(typed, ITEMS) == ([], [problem])


def test_more_than_eight_items_are_listed_as_the_first_eight():
    items = [ChecklistItem(id=f"i{n}", text=f"Check {n}") for n in range(1, 11)]
    assert pick("check", items) == ([], ['"check" is in 10 items (1, 2, 3, 4, 5, 6, 7, 8 …): give the number or '
                                         'more words.'])


@pytest.mark.parametrize("typed, phrase", [("nothing", "nothing"), ("police platform", "police platform")])
def test_words_in_no_item_are_questioned(typed, phrase):
    assert pick(typed, ITEMS) == ([], [f'No item has "{phrase}".'])


def test_numbers_and_words_mixed():
    assert pick("1 3 platform", ITEMS) == (ids(1, 3, 8), [])
    assert pick("1 3 police", ITEMS) == (ids(1, 3), ['"police" is in 2 items (3, 5): give the number or more words.'])
    assert pick("platform 1 risk", ITEMS) == (ids(8, 1, 9), [])  # a number ends the words before it


def test_the_find_line_takes_the_first_item_with_the_words():
    assert pick("police", ITEMS, several=False) == (ids(3), [])
    assert pick("parents", ITEMS, several=False) == (ids(2), [])
    assert pick("crime", ITEMS, several=False) == (ids(5), [])
    assert pick("7", ITEMS, several=False) == (ids(7), [])
    assert pick("nothing", ITEMS, several=False) == ([], ['No item has "nothing".'])


def test_the_find_line_wants_one_item():
    assert pick("1 2", ITEMS, several=False) == (ids(1, 2), ["Give one item: its number or words from it."])
    assert pick("1-3", ITEMS, several=False) == (ids(1, 2, 3), ["Give one item: its number or words from it."])
    assert pick("2 2", ITEMS, several=False) == (ids(2), [])


# Properties -----------------------------------------------------------------------------------------------
TOKENS = st.one_of(st.integers(-3, 40).map(str), st.tuples(st.integers(0, 40), st.integers(0, 40)).map(
    lambda pair: f"{pair[0]}-{pair[1]}"), st.sampled_from(["police", "parents", "the", "-", ",", "٣", "²", "1–3"]),
    st.text(max_size=6))
TYPED = st.one_of(st.text(max_size=40), st.lists(TOKENS, max_size=8).map(" ".join))
ITEM_LISTS = st.lists(st.text(max_size=30), max_size=15).map(
    lambda texts: [ChecklistItem(id=f"id-{n}", text=text) for n, text in enumerate(texts)])


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(typed=TYPED, items=ITEM_LISTS, several=st.booleans())
def test_pick_never_raises_and_names_only_the_items(typed, items, several):
    chosen, problems = pick(typed, items, several)
    known = {item.id for item in items}
    assert set(chosen) <= known
    assert len(chosen) == len(set(chosen))
    assert all(isinstance(problem, str) and problem for problem in problems)
    if not several and len(chosen) > 1:
        assert "Give one item: its number or words from it." in problems


def test_a_comma_ends_a_phrase_in_the_tick_line():
    items = [ChecklistItem(id="a", text="Report to the platform"), ChecklistItem(id="b", text="Assess the risk")]
    assert pick("platform, risk", items) == (["a", "b"], [])
    assert pick("platform risk", items) == ([], ['No item has "platform risk".'])
