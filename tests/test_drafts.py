import json
import os
import stat
import threading

from kentsafe_tui.drafts import Drafts
from kentsafe_tui.model import Incident

DEAD_PID = 999_999_999  # no process has this id


def test_a_draft_is_kept_beside_the_database_as_private_as_it(tmp_path):
    db = tmp_path / "records.json"
    drafts = Drafts(db, "Jo DSL")
    drafts.save(Incident(summary="Typed").to_dict(), None)
    assert drafts.path.parent == tmp_path and drafts.path.name == f".records.json.draft-Jo_DSL-{os.getpid()}.json"
    assert stat.S_IMODE(drafts.path.stat().st_mode) == 0o600
    db.write_text("{}")
    os.chmod(db, 0o640)
    drafts.save(Incident(summary="Typed").to_dict(), None)
    assert stat.S_IMODE(drafts.path.stat().st_mode) == 0o640  # the database's own mode
    drafts.clear()
    assert not drafts.path.exists()


def test_only_drafts_of_this_user_whose_kentsafe_has_gone_are_offered(tmp_path):
    db = tmp_path / "records.json"
    Drafts(db, "Jo DSL", pid=DEAD_PID).save(Incident(summary="Left behind").to_dict(), None)
    Drafts(db, "Sam DSL", pid=DEAD_PID).save(Incident(summary="Someone else's").to_dict(), None)
    Drafts(db, "Jo DSL", pid=os.getppid()).save(Incident(summary="Still running").to_dict(), None)
    mine = Drafts(db, "Jo DSL")
    (left,) = mine.left_behind()
    assert left.edited["summary"] == "Left behind" and left.incident_id is None
    assert "summary: Left behind" in left.preview()


def test_a_damaged_draft_is_left_alone_not_offered(tmp_path):
    db = tmp_path / "records.json"
    broken = tmp_path / f".records.json.draft-Jo_DSL-{DEAD_PID}.json"
    broken.write_text('{"saved_at": ')
    assert Drafts(db, "Jo DSL").left_behind() == []
    assert broken.exists()


def test_the_preview_says_what_changed_from_the_saved_version(tmp_path):
    base = Incident(id="2026-0004", summary="Old", details="").to_dict()
    edited = dict(base, details="New words typed", pupils=[{"name": "Sam", "year_group": "", "role": "harmed",
                                                            "date_of_birth": ""}])
    Drafts(tmp_path / "r.json", "Jo", pid=DEAD_PID).save(edited, base)
    (draft,) = Drafts(tmp_path / "r.json", "Jo").left_behind()
    assert draft.incident_id == "2026-0004"
    assert draft.preview() == "details: New words typed; pupils: 1 row(s)"
    assert json.loads(draft.path.read_text())["base"]["summary"] == "Old"


def test_a_quick_line_not_yet_added_is_kept_and_a_planted_one_is_cleaned(tmp_path):
    db = tmp_path / "records.json"
    Drafts(db, "Jo DSL", pid=DEAD_PID).save(Incident(summary="Typed").to_dict(), None,
                                            {"pupils": "Jordan Example, Y9, received"})
    (left,) = Drafts(db, "Jo DSL").left_behind()
    assert left.lines == {"pupils": "Jordan Example, Y9, received"}
    assert "pupils line: Jordan Example, Y9, received" in left.preview()
    planted = json.loads(left.path.read_text())
    planted["lines"] = {"pupils": "Jo\x1b[2J\u202eDoe", "referrals": 5, "../evil": "x", "decisions": "d" * 30_000}
    left.path.write_text(json.dumps(planted))
    (again,) = Drafts(db, "Jo DSL").left_behind()
    assert again.lines == {"pupils": "Jo[2JDoe", "decisions": "d" * 20_000}  # bounded by the longest field


def test_a_draft_copied_before_a_clear_is_never_left_after_it(tmp_path, monkeypatch):
    """The app writes drafts in a thread and clears them on the screen's, without waiting for the write."""
    drafts = Drafts(tmp_path / "records.json", "Jo DSL")
    taken = drafts.generation
    drafts.clear()
    assert drafts.save(Incident(summary="Old").to_dict(), None, taken_at=taken) is False
    assert not drafts.path.exists()

    writing, go_on = threading.Event(), threading.Event()
    write = drafts._write

    def slow_write(*args):
        writing.set()
        assert go_on.wait(10)
        write(*args)

    monkeypatch.setattr(drafts, "_write", slow_write)
    taken = drafts.generation
    result = []
    writer = threading.Thread(target=lambda: result.append(drafts.save(Incident(summary="Typed").to_dict(), None,
                                                                       taken_at=taken)))
    writer.start()
    assert writing.wait(10)
    drafts.clear()  # the incident was saved meanwhile: returns at once, the write is still under way
    go_on.set()
    writer.join(10)
    assert result == [False] and not drafts.path.exists()

    assert drafts.save(Incident(summary="Typed").to_dict(), None, taken_at=drafts.generation) is True
    assert drafts.path.exists()
