"""Two DSLs' changes to one record put together: keeping mine never removes theirs (kentsafe_tui.merge), and
the editing session that owns the record (kentsafe_tui.editing): edits by path, rows, conflicts, refer-now."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kentsafe_tui.drafts import Drafts
from kentsafe_tui.editing import NOT_REFERRED_DESPITE_YES, EditRefused, EditSession
from kentsafe_tui.merge import BOTH_MARK, merge_field, merge_rows, merge_text
from kentsafe_tui.model import ValidationError
from kentsafe_tui.store import ConflictError

from .conftest import make_incident


def test_both_appended_keeps_theirs_then_mine():
    base = "Reported by a pupil."
    assert merge_text(base, base + " Alice spoke to her.", base + " Bob called the police.") == \
        "Reported by a pupil. Bob called the police. Alice spoke to her."


def test_both_writing_into_an_empty_field_keeps_both_as_lines():
    assert merge_text("", "Alice's account", "Bob's account") == "Bob's account\nAlice's account"


def test_changes_to_different_lines_are_both_kept():
    base = "one\ntwo\nthree\nfour"
    mine = "ONE\ntwo\nthree\nfour"
    theirs = "one\ntwo\nthree\nFOUR"
    assert merge_text(base, mine, theirs) == "ONE\ntwo\nthree\nFOUR"


def test_changes_to_the_same_line_cannot_be_merged():
    assert merge_text("one\ntwo", "one\nmine", "one\ntheirs") is None
    value, clash = merge_field("one\ntwo", "one\nmine", "one\ntheirs", "Bob")
    assert clash
    assert value.index("mine") < value.index(BOTH_MARK.format(by="Bob")) < value.index("theirs")


def test_one_side_unchanged_takes_the_other():
    assert merge_text("a", "a", "b") == "b"
    assert merge_text("a", "b", "a") == "b"


def test_rows_they_added_are_kept_beside_mine():
    base = [{"name": "Sam"}]
    mine = [{"name": "Sam"}, {"name": "Jo"}]
    theirs = [{"name": "Sam"}, {"name": "Alex"}]
    assert merge_rows(base, mine, theirs) == [{"name": "Sam"}, {"name": "Jo"}, {"name": "Alex"}]


texts = st.text(alphabet="abc \n.", max_size=30)


@given(texts, texts, texts)
def test_a_merge_never_loses_a_line_that_only_one_side_added(base, mine_added, theirs_added):
    mine, theirs = base + mine_added, base + theirs_added
    value, _ = merge_field(base, mine, theirs, "Bob")
    for added in (mine_added, theirs_added):
        for line in added.split("\n"):
            assert line in value


# The editing session ---------------------------------------------------------------------------------------
def test_edits_by_path_reach_the_one_record(store):
    session = EditSession(store)
    session.apply("summary", "A video")
    session.add_row("pupils")
    session.apply("pupils.0.name", "Sam Example")
    assert session.apply("referral_check.rq-adult", "yes") is True
    assert session.edited.summary == "A video" and session.edited.pupils[0].name == "Sam Example"
    assert session.edited.referral_check == {"rq-adult": "yes"}
    session.apply("referral_check.rq-adult", None)
    assert session.edited.referral_check == {}


def test_an_edit_to_a_row_that_is_gone_is_refused_not_dropped(store):
    session = EditSession(store)
    with pytest.raises(EditRefused):
        session.apply("pupils.3.name", "Nobody")
    with pytest.raises(EditRefused):
        session.apply("checklist", [])


def test_a_tick_replaces_the_record_and_typing_still_reaches_it(store):
    saved = store.create(make_incident())
    session = EditSession(store)
    session.open(saved.id)
    session.set_item(saved.checklist[0].id, "done")
    session.apply("summary", "Edited after the tick")
    session.save()
    assert store.get(saved.id).summary == "Edited after the tick"
    assert store.get(saved.id).checklist[0].state == "done"


def test_refer_now_with_not_referred_needs_its_own_reason(store):
    session = EditSession(store)
    session.apply("summary", "Image")
    session.apply("category", "nudes")
    session.apply("referral_check.rq-adult", "yes")
    session.apply("referral_decision", "not_referred")
    session.apply("referral_rationale", "Police advised")
    assert session.refer_now_not_referred()
    session.confirm_not_referring("Sibling is 18")
    assert not session.refer_now_not_referred()
    (decision,) = session.edited.decisions
    assert decision.decision == NOT_REFERRED_DESPITE_YES and decision.by == store.user and decision.at


def test_check_applies_the_records_rules_before_saving(store):
    session = EditSession(store)
    with pytest.raises(ValidationError):
        session.check()


def test_keep_both_merges_their_saved_change_with_my_typing(store, library, db_path, clock):
    saved = store.create(make_incident(details="Reported."))
    session = EditSession(store)
    session.open(saved.id)
    session.apply("details", "Reported. Alice spoke to Sam.")
    from .app_helpers import make_store

    bob = make_store(db_path, library, clock, user="Bob DSL")
    base = bob.get(saved.id)
    theirs = copy.deepcopy(base)
    theirs.details = "Reported. Bob called the police."
    bob.save(theirs, base)
    with pytest.raises(ConflictError) as caught:
        session.save()
    assert session.keep_both(caught.value) == []
    session.save()
    assert store.get(saved.id).details == "Reported. Bob called the police. Alice spoke to Sam."


def test_typing_set_aside_is_offered_back(db_path):
    drafts = Drafts(db_path, "alice")
    drafts.set_aside({"summary": "mine", "details": "typed"}, None)
    drafts.set_aside({"summary": "mine again"}, None)
    left = drafts.left_behind()
    assert sorted(draft.edited["summary"] for draft in left) == ["mine", "mine again"]
    assert drafts.left_behind(aside=False) == []
