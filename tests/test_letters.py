"""Parent letters and staff briefings filled from the content templates, and `kentsafe letter`."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from markdown_it import MarkdownIt
from rich.text import Text

from kentsafe_tui.cli import main
from kentsafe_tui.content import builtin_content_dir
from kentsafe_tui.dates import now_local
from kentsafe_tui.letters import SETTING_KEYS, fill, long_date, parent_letter, staff_briefing
from kentsafe_tui.model import Incident
from kentsafe_tui.store import Store

NOW = datetime(2026, 11, 28, 9, 30).astimezone()
SETTINGS = {
    "school_name": "Oakfield Academy",
    "dsl_name": "Priya Shah",
    "dsl_phone": "01622 555 0199",
    "dsl_email": "dsl@oakfield.example",
    "headteacher_name": "Tom Reed",
}
RAW_PLACEHOLDER = re.compile(r"\{\{.*?\}\}", re.S)


def incident(scope: str = "reported_here") -> Incident:
    return Incident(id="2026-0007", summary="Video shared", scope=scope, concern_at="2026-11-25T15:10:00+00:00")


def template_lines(slug: str) -> set[str]:
    """The body lines of a template file that hold no placeholder, read from the file itself."""
    text = (builtin_content_dir() / f"{slug}.md").read_text(encoding="utf-8").split("+++", 2)[2]
    return {line.strip() for line in text.splitlines() if line.strip() and "{{" not in line}


def test_long_date():
    assert long_date(datetime(2026, 11, 28, 9, 30)) == "28 November 2026"
    assert long_date(datetime(2027, 3, 1)) == "1 March 2027"  # no leading zero


@pytest.mark.parametrize("scope", ["reported_here", "no_direct_impact"])
def test_parent_letter_with_every_setting(library, scope):
    letter, missing = parent_letter(library, incident(scope), SETTINGS, NOW)
    assert missing == []
    assert not RAW_PLACEHOLDER.search(letter) and "{{" not in letter and "}}" not in letter
    for key in ("school_name", "dsl_name", "dsl_phone"):
        assert SETTINGS[key] in letter
    assert "Tom Reed" in letter
    assert "28 November 2026" in letter  # today, as a long date
    assert letter.startswith("Oakfield Academy\n")
    if scope == "reported_here":
        assert "25 November 2026" in letter  # the date the concern arose
        assert SETTINGS["dsl_email"] in letter
    assert "{#" not in letter and letter.endswith("\n")


def test_the_letter_matches_the_incidents_scope(library):
    here, _ = parent_letter(library, incident("reported_here"), SETTINGS, NOW)
    elsewhere, _ = parent_letter(library, incident("no_direct_impact"), SETTINGS, NOW)
    assert here != elsewhere
    assert library.template("parent_letter", "reported_here").slug == "letter-parents-reported-here"
    assert library.template("parent_letter", "no_direct_impact").slug == "letter-parents-no-direct-impact"
    flat = lambda text: " ".join(text.split())  # noqa: E731  letters join wrapped lines into paragraphs
    here_text, elsewhere_text = flat(here), flat(elsewhere)
    body = lambda slug: flat((builtin_content_dir() / f"{slug}.md").read_text(encoding="utf-8"))  # noqa: E731
    here_template, elsewhere_template = body("letter-parents-reported-here"), body("letter-parents-no-direct-impact")
    only_here = [line for line in template_lines("letter-parents-reported-here")
                 if len(line) >= 40 and line not in elsewhere_template]
    only_elsewhere = [line for line in template_lines("letter-parents-no-direct-impact")
                      if len(line) >= 40 and line not in here_template]
    assert only_here and only_elsewhere
    assert all(line in here_text for line in only_here) and not any(line in elsewhere_text for line in only_here)
    assert all(line in elsewhere_text for line in only_elsewhere)
    assert not any(line in here_text for line in only_elsewhere)


def test_missing_settings_say_which_to_set(library):
    letter, missing = parent_letter(library, incident(), {}, NOW)
    assert missing == ["school_name", "dsl_name", "dsl_phone", "dsl_email", "headteacher_name"]
    assert not RAW_PLACEHOLDER.search(letter) and "{{" not in letter
    for key in missing:
        assert f"kentsafe settings {key}" in letter
    assert '[school name not set: kentsafe settings school_name "..."]' in letter
    # Dates still come from the incident and the clock.
    assert "28 November 2026" in letter and "25 November 2026" in letter


def test_only_the_missing_settings_are_reported(library):
    partial = {key: value for key, value in SETTINGS.items() if key != "headteacher_name"}
    partial["dsl_email"] = "   "  # blank counts as missing
    letter, missing = parent_letter(library, incident(), partial, NOW)
    assert missing == ["dsl_email", "headteacher_name"]
    assert "kentsafe settings headteacher_name" in letter and "kentsafe settings dsl_email" in letter
    assert "kentsafe settings school_name" not in letter and "Oakfield Academy" in letter


def test_markup_and_control_characters_in_a_setting_are_not_passed_through(library):
    hostile = dict(SETTINGS, school_name="[bold red]Oak[/] *Academy* {{dsl_name}} <b>x</b>\x1b[31m\u202eend\x07")
    letter, missing = parent_letter(library, incident(), hostile, NOW)
    assert missing == []
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", letter)
    assert "{{" not in letter
    # Rich markup shows as typed: no style takes effect.
    assert Text.from_markup(letter).spans == []
    # Markdown shows it as typed too: no emphasis, no HTML, the brackets and braces kept.
    html = MarkdownIt("commonmark").render(letter)
    assert "<em>Academy</em>" not in html and "<b>" not in html
    assert "[bold red]Oak[/] *Academy* {{dsl_name}} &lt;b&gt;x&lt;/b&gt;[31mend" in html


def test_a_setting_at_the_start_of_a_line_does_not_become_markdown(library):
    letter, _ = parent_letter(library, incident(), dict(SETTINGS, school_name="1. Oak # Academy"), NOW)
    html = MarkdownIt("commonmark").render(letter)
    assert "<ol" not in html and "<h1" not in html
    assert html.count("1. Oak # Academy") == 2  # the letterhead and the signature


def test_staff_briefing(library):
    briefing, missing = staff_briefing(library, None, SETTINGS, NOW)
    assert missing == []
    assert "Oakfield Academy" in briefing and "Priya Shah" in briefing and "01622 555 0199" in briefing
    assert "28 November 2026" in briefing and "{{" not in briefing
    with_incident, _ = staff_briefing(library, incident(), SETTINGS, NOW)
    assert with_incident == briefing  # the briefing names nothing from the incident
    empty, missing = staff_briefing(library, None, {}, NOW)
    assert missing == ["school_name", "dsl_name", "dsl_phone"] and "{{" not in empty
    assert "kentsafe settings dsl_phone" in empty


def test_fill_marks_a_placeholder_it_cannot_fill(library):
    template = library.template("parent_letter", "reported_here")
    letter, missing = fill(template, None, SETTINGS, NOW)  # no incident: no concern date
    assert missing == [] and "{{" not in letter
    assert "[concern date not known here]" in letter
    assert set(SETTING_KEYS) == {"school_name", "dsl_name", "dsl_phone", "dsl_email", "headteacher_name"}


# The CLI -------------------------------------------------------------------------------------------------
@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "data" / "records.json")


def seed(db: str, scope: str = "reported_here") -> str:
    (incident_id,) = Store(db, user="Alice").import_records(
        [{"summary": "Video shared in a group chat", "scope": scope, "concern_at": "2026-11-25T15:10:00+00:00"}])
    return incident_id


def today_long() -> set[str]:
    now = now_local()
    return {long_date(now), long_date(now + timedelta(minutes=5))}


def test_cli_letter_prints_the_letter(capsys, db):
    incident_id = seed(db)
    store = Store(db, user="Alice")
    for key, value in SETTINGS.items():
        store.set_setting(key, value)
    assert main(["letter", incident_id, "--db", db]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.startswith("Oakfield Academy\n") and "Priya Shah" in out and "25 November 2026" in out
    assert any(day in out for day in today_long()) and "{{" not in out


def test_cli_letter_notes_each_missing_setting(capsys, db):
    incident_id = seed(db)
    Store(db, user="Alice").set_setting("school_name", "Oakfield Academy")
    assert main(["letter", incident_id, "--db", db]) == 0
    out, err = capsys.readouterr()
    assert "Oakfield Academy" in out and "{{" not in out
    notes = err.splitlines()
    assert notes == [f'kentsafe: note: the setting {key} is not set: kentsafe settings {key} "..."'
                     for key in ("dsl_name", "dsl_phone", "dsl_email", "headteacher_name")]


def test_cli_letter_to_a_file(capsys, db, tmp_path, library):
    incident_id = seed(db, scope="no_direct_impact")
    store = Store(db, user="Alice")
    for key, value in SETTINGS.items():
        store.set_setting(key, value)
    target = tmp_path / "out" / "letter.md"
    target.parent.mkdir()
    assert main(["letter", incident_id, "--db", db, "-o", str(target)]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"The letter written to {target}\n"
    written = target.read_text(encoding="utf-8")
    expected, _ = parent_letter(library, Store(db).get(incident_id), SETTINGS, now_local(), plain=True)
    assert written == expected  # plain text by default: parents do not read Markdown
    assert "Oakfield Academy" in written and "{{" not in written and "**" not in written
    assert main(["letter", incident_id, "--db", db, "--format", "markdown", "-o", str(target)]) == 0
    expected, _ = parent_letter(library, Store(db).get(incident_id), SETTINGS, now_local())
    assert target.read_text(encoding="utf-8") == expected and "**" in expected


def test_plain_letters_keep_settings_as_typed_and_the_signature_on_its_own_lines(library):
    settings = dict(SETTINGS, school_name="St *Mary's* [School](x)")
    letter, _ = parent_letter(library, incident("reported_here"), settings, NOW, plain=True)
    assert "St *Mary's* [School](x)" in letter  # nothing in a setting is read as markup
    assert "<https://" not in letter and "**" not in letter and "https://www.ceop.police.uk" in letter
    lines = letter.rstrip().splitlines()
    assert lines[-2:] == [settings["headteacher_name"], "Headteacher, St *Mary's* [School](x)"]


def test_cli_letter_for_an_unknown_incident(capsys, db):
    seed(db)
    assert main(["letter", "2026-9999", "--db", db]) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and "2026-9999" in err


def test_letters_are_whole_paragraphs_not_the_templates_wrapped_lines(library):
    letter, _ = parent_letter(library, incident("reported_here"), SETTINGS, NOW)
    paragraph = next(p for p in letter.split("\n\n") if p.startswith("On or around"))
    assert "\n" not in paragraph and paragraph.endswith(".")
    items = [line for line in letter.splitlines() if line.startswith("- ")]
    assert len(items) >= 3  # list items stay separate lines
