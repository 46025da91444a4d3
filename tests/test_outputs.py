"""Reports, letters and chronologies the app writes (kentsafe_tui.outputs), and oversight's refer-now flag."""

from __future__ import annotations

import stat

from kentsafe_tui.dates import now_local
from kentsafe_tui.model import Decision
from kentsafe_tui.outputs import Outputs
from kentsafe_tui.oversight import compute, render_text

from .conftest import make_incident


def test_a_report_is_saved_beside_the_database_privately(store, library):
    saved = store.create(make_incident())
    output = Outputs(store, library).report(saved.id)
    assert output.path is not None and output.path.parent == store.path.parent / "exports"
    assert output.path.read_text() == output.text and saved.id in output.text
    assert stat.S_IMODE(output.path.stat().st_mode) & 0o077 == 0
    assert not output.problem


def test_an_unwritable_exports_folder_is_reported_and_the_text_still_shown(store, library):
    saved = store.create(make_incident())
    (store.path.parent / "exports").write_text("a file where the folder should be")
    output = Outputs(store, library).letter(saved, parent=True)
    assert output.path is None and "Could not save" in output.problem
    assert output.text


def test_a_chronology_of_nobody_is_none(store, library):
    store.create(make_incident())
    assert Outputs(store, library).chronology("Nobody Known") is None
    assert Outputs(store, library).chronology("Sam Example").path is not None


def test_oversight_lists_every_yes_that_was_not_referred(store):
    flagged = make_incident(summary="Image shared", category="nudes", referral_check={"rq-adult": "yes"},
                            referral_decision="not_referred", referral_rationale="Police advised")
    flagged.decisions = [Decision(decision="Not referred, although a refer-at-once question is answered yes",
                                  reason="Sibling is 18")]
    referred = make_incident(summary="Referred one", category="nudes", referral_check={"rq-adult": "yes"},
                             referral_decision="referred")
    ids = [store.create(flagged).id, store.create(referred).id]
    view = compute(store.incidents(), now_local())
    assert [row["id"] for row in view.refer_now_not_referred] == ids[:1]
    assert view.refer_now_not_referred[0]["reason"] == "Sibling is 18"
    assert "NOT REFERRED despite a yes" in render_text(view)
    assert view.to_dict()["refer_now_not_referred"][0]["answered_yes"] == ["rq-adult"]
