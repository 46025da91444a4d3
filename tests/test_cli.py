import json
import sys

import pytest

from kentsafe_tui.cli import main
from kentsafe_tui.store import Store

from .helpers import run


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "data" / "records.json")


def kentsafe(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def seed(db, *summaries):
    store = Store(db, user="Alice")
    return store.import_records([{"summary": s, "concern_at": f"2026-11-{10 + n}T10:00:00+00:00"}
                                 for n, s in enumerate(summaries)])


def test_list_prints_one_line_per_incident_newest_first(capsys, db):
    seed(db, "First concern", "Second concern")
    code, out, _ = kentsafe(capsys, "list", "--db", db)
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == ["2026-0002", "2026-0001"]
    assert "open" in lines[0] and lines[0].endswith("Second concern")


def test_list_json_search_and_status(capsys, db):
    seed(db, "Video in a group chat", "Bullying on a game")
    code, out, _ = kentsafe(capsys, "--db", db, "list", "--json", "--search", "video")
    records = json.loads(out)
    assert code == 0 and [r["summary"] for r in records] == ["Video in a group chat"]
    assert {"id", "history", "checklist", "pupils", "referrals"} <= set(records[0])
    assert kentsafe(capsys, "list", "--db", db, "--status", "closed")[1] == ""


def test_the_database_comes_from_the_environment_or_the_user_data_folder(capsys, db, monkeypatch, tmp_path):
    seed(db, "Chosen by environment")
    monkeypatch.setenv("KENTSAFE_DB", db)
    assert "Chosen by environment" in kentsafe(capsys, "list")[1]
    monkeypatch.delenv("KENTSAFE_DB")
    assert kentsafe(capsys, "list")[1] == ""  # the default file does not exist yet, and is not created
    assert not (tmp_path / "home").exists() or not list((tmp_path / "home").rglob("records.json"))


def test_show_prints_the_record_checklist_and_history(capsys, db):
    (incident_id,) = seed(db, "A [b]concern[/b]")
    code, out, _ = kentsafe(capsys, "show", incident_id, "--db", db)
    assert code == 0 and "A \\[b\\]concern\\[/b\\]" in out and "Checklist" in out and "Chronology" in out
    code, out, _ = kentsafe(capsys, "show", incident_id, "--db", db, "--json")
    assert json.loads(out)["summary"] == "A [b]concern[/b]"


def test_import_from_a_file_and_from_stdin(capsys, db, tmp_path, monkeypatch):
    source = tmp_path / "in.json"
    source.write_text(json.dumps([{"summary": "From a file"}]))
    code, out, _ = kentsafe(capsys, "import", str(source), "--db", db, "--user", "Carol")
    assert code == 0 and "imported 1 incident(s): 2026-0001" in out
    assert Store(db).get("2026-0001").history[-1]["by"] == "Carol"
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO(json.dumps([{"summary": "From stdin"}])))
    assert kentsafe(capsys, "import", "-", "--db", db)[0] == 0
    assert Store(db).count() == 2


def test_a_bad_import_names_each_problem_and_imports_nothing(capsys, db, tmp_path):
    source = tmp_path / "in.json"
    source.write_text(json.dumps([{"summary": "fine"}, {"summary": "bad", "status": "finished"}]))
    code, _, err = kentsafe(capsys, "import", str(source), "--db", db)
    assert code == 1
    assert "record 2: status: 'finished' is not one of" in err and "nothing was imported" in err
    source.write_text("{not json")
    code, _, err = kentsafe(capsys, "import", str(source), "--db", db)
    assert code == 1 and err.count("\n") == 1 and "not valid JSON" in err


def test_verify_passes_then_finds_tampering(capsys, db):
    seed(db, "One", "Two")
    code, out, _ = kentsafe(capsys, "verify", "--db", db)
    assert code == 0 and "2 incident(s)" in out and "chain head:" in out
    data = json.loads(open(db).read())
    data["incidents"]["1"]["summary"] = "Rewritten"
    open(db, "w").write(json.dumps(data))
    code, _, err = kentsafe(capsys, "verify", "--db", db)
    assert code == 1 and "differs from what its history records" in err


def test_stats_counts_by_status_category_and_month(capsys, db):
    seed(db, "One", "Two")
    code, out, _ = kentsafe(capsys, "stats", "--db", db, "--json")
    stats = json.loads(out)
    assert code == 0 and stats["total"] == 2 and stats["by_status"]["open"] == 2
    assert stats["by_category"]["harmful_content"] == 2 and stats["by_month"] == {"2026-11": 2}
    assert "By status" in kentsafe(capsys, "stats", "--db", db)[1]


def test_stats_on_an_empty_database(capsys, db):
    code, out, _ = kentsafe(capsys, "stats", "--db", db, "--json")
    assert code == 0 and json.loads(out)["total"] == 0


def test_settings_are_shown_and_set(capsys, db):
    assert kentsafe(capsys, "settings", "school_name", "Oak Hill", "--db", db)[0] == 0
    out = kentsafe(capsys, "settings", "--db", db)[1]
    assert "Oak Hill" in out and "dsl_name" in out and "(not set)" in out


@pytest.mark.parametrize(
    "args, code, says",
    [
        (["show", "2026-0404"], 1, "no incident '2026-0404'"),
        (["frobnicate"], 2, "invalid choice"),
        (["list", "--status", "done"], 2, "invalid choice"),
        (["show"], 2, "required"),
    ],
)
def test_errors_are_one_line_with_the_right_exit_code(capsys, db, args, code, says):
    got, out, err = kentsafe(capsys, *args, "--db", db)
    assert got == code
    assert says in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_damaged_or_newer_database_is_one_line_and_exit_1(capsys, db):
    seed(db, "One")
    data = json.loads(open(db).read())
    data["_meta"]["1"]["schema"] = 7
    open(db, "w").write(json.dumps(data))
    code, _, err = kentsafe(capsys, "list", "--db", db)
    assert code == 1 and "newer kentsafe" in err and err.count("\n") == 1
    open(db, "w").write('{"incidents": {"1": ')
    code, _, err = kentsafe(capsys, "verify", "--db", db)
    assert code == 1 and "not valid JSON" in err and err.count("\n") == 1


def test_the_module_runs_and_errors_never_show_a_traceback(db):
    done = run("import sys; from kentsafe_tui.cli import main; sys.exit(main(sys.argv[1:]))", "show", "nope",
               "--db", db)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    done = run("import runpy; runpy.run_module('kentsafe_tui', run_name='__main__')")
    assert done.returncode == 2  # no terminal: the app refuses in one line instead of drawing into a pipe
    assert "needs a terminal" in done.stderr and done.stderr.count("\n") == 1
