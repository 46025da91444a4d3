"""The checks `kentsafe content check` gained for issue 11, each with a small failing content folder, and the
first-hour document the app shows on one key."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

from kentsafe_tui.content import (
    ACTION_VERBS, FIRST_HOUR_LINES, FIRST_HOUR_STEP_WIDTH, Library, Source, action_problem, builtin_content_dir,
    check, phone_numbers,
)

TODAY = date(2026, 12, 1)
DATED = '[[sources]]\ntitle = "Working Together to Safeguard Children (DfE)"\ndate = 2023-12-15\nchecked = 2026-12-01\n'


def doc(title="A school guide", kind="guide", extra="", sources=DATED, reviewed="2026-12-01",
        every='"12 months"', body="\n# Guide\n") -> str:
    return (f'+++\ntitle = "{title}"\nkind = "{kind}"\nscope = "any"\nlast_reviewed = {reviewed}\n'
            f"review_every = {every}\n{extra}\n{sources}+++\n{body}")


def layered(tmp_path: Path, **files: str) -> list[str]:
    for name, text in files.items():
        (tmp_path / f"{name}.md").write_text(text, encoding="utf-8")
    return check(Library.load(builtin_content_dir(), tmp_path), TODAY)


# Every document cites at least one source with a date -------------------------------------------------------
def test_a_document_without_a_dated_source_fails(tmp_path):
    undated = '[[sources]]\ntitle = "A council web page"\nurl = "https://example.org/"\n'
    assert layered(tmp_path, guide=doc(sources=undated)) == [
        "guide.md: no dated source: give at least one [[sources]] its own date = YYYY-MM-DD"]
    # A "checked" date alone does not date the source itself.
    assert layered(tmp_path, guide=doc(sources=undated + "checked = 2026-12-01\n")) == [
        "guide.md: no dated source: give at least one [[sources]] its own date = YYYY-MM-DD"]
    assert layered(tmp_path, guide=doc(sources=undated + "date = 2026-11-01\n")) == []


def test_source_dates_must_be_dates_and_historical_a_boolean(tmp_path):
    sources = DATED + '[[sources]]\ntitle = "Quoted"\ndate = "2024-03-11"\nchecked = "yesterday"\nhistorical = "yes"\n'
    assert layered(tmp_path, guide=doc(sources=sources)) == [
        "guide.md: source 2 date must be a date like 2026-12-01 (no quotes)",
        "guide.md: source 2 checked must be a date like 2026-12-01 (no quotes)",
        "guide.md: source 2 historical must be true or false",
    ]


def test_source_fields_are_read(tmp_path):
    (tmp_path / "guide.md").write_text(doc(sources=DATED + '[[sources]]\ntitle = "Alert"\ndate = 2017-12-08\n'
                                           "historical = true\n"), encoding="utf-8")
    sources = Library.load(tmp_path).get("guide").sources
    assert sources == [Source("Working Together to Safeguard Children (DfE)", "", date(2023, 12, 15),
                              date(2026, 12, 1)),
                       Source("Alert", "", date(2017, 12, 8), None, True)]
    assert sources[0].as_of == date(2026, 12, 1) and sources[1].as_of == date(2017, 12, 8)


# No source older than the document's review allows, unless historical -----------------------------------------
def test_a_source_older_than_the_review_period_fails_unless_checked_or_historical(tmp_path):
    old = DATED + '[[sources]]\ntitle = "Online Safety Alert 2017"\ndate = 2017-12-08\n'
    (problem,) = layered(tmp_path, guide=doc(sources=old))
    assert problem.startswith("guide.md: source 2 (Online Safety Alert 2017) is dated 2017-12-08, older than the "
                              "review of 2026-12-01 allows (from 2025-12-01)")
    assert "checked = YYYY-MM-DD" in problem and "historical = true" in problem
    # Marked historical, it is cited for what it said then: no problem.
    assert layered(tmp_path, guide=doc(sources=old + "historical = true\n")) == []
    # Checked in this review, it is current again.
    assert layered(tmp_path, guide=doc(sources=old + "checked = 2026-11-30\n")) == []
    # Checked, but before the previous review: still too old.
    assert len(layered(tmp_path, guide=doc(sources=old + "checked = 2025-11-30\n"))) == 1


def test_the_allowed_age_follows_review_every(tmp_path):
    source = '[[sources]]\ntitle = "A page"\ndate = 2026-03-01\n'
    assert layered(tmp_path, guide=doc(sources=source, every='"12 months"')) == []
    (problem,) = layered(tmp_path, guide=doc(sources=source, every='"6 months"'))
    assert "is dated 2026-03-01" in problem and "(from 2026-06-01)" in problem


def test_undated_unchecked_sources_are_not_judged_by_age(tmp_path):
    extra = '[[sources]]\ntitle = "Common practice"\n'
    assert layered(tmp_path, guide=doc(sources=DATED + extra)) == []


# Every checklist item starts with a verb a DSL can act on -----------------------------------------------------
@pytest.mark.parametrize("text, why", [
    ("Keep the response in proportion. ", None),  # a verb: the checker cannot judge more than that
    ("Consider waiting for the police.", "starts with 'consider', which is not a step a DSL can tick"),
    ("Do not name the apps.", "starts with 'do', which is not a step a DSL can tick"),
    ("Parents informed where safe.", "starts with 'parents', not an action verb"),
    ("If a child is in danger now, call 999.", None),
    ("If staff, a volunteer or a contractor may be involved, tell the police.", None),
    ("Once reported, and only after asking the police, support the pupil.", None),
    ("If the police are involved, waiting is best.", "starts with 'waiting', not an action verb"),
    ("If the police are involved.", "starts with a condition ('If ...') and no action after a comma"),
    ("Where unsure, consider asking LESAS.", "starts with 'consider'"),
])
def test_action_problem(text, why):
    problem = action_problem(text)
    assert (problem is None) if why is None else (problem is not None and why in problem), problem


def test_an_item_that_is_not_an_action_fails(tmp_path):
    body = "\n# Guide\n\n- [ ] Consider waiting for a reply from the police. {#sc-wait}\n"
    (problem,) = layered(tmp_path, guide=doc(body=body))
    line = doc(body=body).splitlines().index("- [ ] Consider waiting for a reply from the police. {#sc-wait}") + 1
    assert problem == (f"guide.md:{line}: checklist item 'sc-wait' starts with 'consider', which is not a step a "
                       "DSL can tick: say what to decide and record the decision")
    assert layered(tmp_path, guide=doc(body=body.replace("Consider waiting", "Decide whether to wait"))) == []


def test_every_shipped_item_starts_with_an_action():
    library = Library.default()
    items = [spec for document in library.documents.values() for spec in document.items]
    assert len(items) > 60
    assert [(spec.id, action_problem(spec.text)) for spec in items if action_problem(spec.text)] == []
    assert {"record", "call", "tell"} <= ACTION_VERBS


# Every phone number in content/ appears in the contacts, with its source ---------------------------------------
def test_phone_numbers_are_found():
    text = ("Call 999 or 101 (textphone 18001 101). Front Door 03000 41 11 11, out of hours 03000 41 91 91; "
            "Childline 0800 1111; POSH 0344 381 4772. Not numbers: {#hc-call-999}, 2026-12-01, KCSIE 2025, "
            "https://example.org/article/70729, aged 13, 10:00.")
    assert phone_numbers(text) == ["999", "101", "18001 101", "03000 41 11 11", "03000 41 91 91", "0800 1111",
                                   "0344 381 4772"]


def test_a_number_missing_from_the_contacts_fails(tmp_path):
    body = "\n# Guide\n\nRing the helpline on 0800 000 1234, or the police on 101.\n"
    (problem,) = layered(tmp_path, guide=doc(body=body))
    line = doc(body=body).splitlines().index("Ring the helpline on 0800 000 1234, or the police on 101.") + 1
    assert problem == f"guide.md:{line}: phone number 0800 000 1234 is not in contacts.md with its source"


def test_a_number_in_a_source_title_is_checked_too(tmp_path):
    sources = DATED + '[[sources]]\ntitle = "Helpline 0800 000 1234"\n'
    assert layered(tmp_path, guide=doc(sources=sources)) == [
        "guide.md: phone number 0800 000 1234 in a source title is not in contacts.md with its source"]


def test_a_contacts_number_without_a_source_line_does_not_count(tmp_path):
    original = (builtin_content_dir() / "contacts.md").read_text(encoding="utf-8")
    # The school's own contacts add a helpline but forget to say where the number comes from.
    extra = "\n## Local helpline {#local}\n\n- **Contact:** 0800 000 1234\n"
    problems = layered(tmp_path, contacts=original + extra)
    assert len(problems) == 1 and "phone number 0800 000 1234 is not in contacts.md with its source" in problems[0]
    assert layered(tmp_path, contacts=original + extra + "- **Source:** the helpline's leaflet, 2026.\n") == []


def test_every_shipped_number_is_in_the_contacts():
    library = Library.default()
    found = {n for d in library.documents.values() for n in phone_numbers(d.body)}
    assert {"999", "101", "03000 41 11 11", "03000 41 91 91", "03000 41 08 88"} <= found
    assert [p for p in check(library, TODAY) if "phone number" in p] == []


# The first hour ---------------------------------------------------------------------------------------------
FIRST = doc(title="First hour", kind="first_hour", body="""
# First hour

- [ ] Make the child safe: call 999 if anyone is in danger now. {#fh-safe see=hc-call-999,gc-call-999}
- [ ] Record each step as you go. {#fh-record see=hc-record}
""")


def test_the_first_hour_document_is_found_and_its_steps_name_playbook_items(tmp_path):
    (tmp_path / "first-hour.md").write_text(FIRST, encoding="utf-8")
    library = Library.load(builtin_content_dir(), tmp_path)
    first = library.first_hour()
    assert first is not None and first.path == tmp_path / "first-hour.md"
    assert [(s.id, s.see) for s in first.items] == [("fh-safe", ("hc-call-999", "gc-call-999")),
                                                    ("fh-record", ("hc-record",))]
    assert "see=" not in first.display_markdown() and "☐ Make the child safe" in first.display_markdown()
    assert check(library, TODAY) == []
    # A first-hour step never becomes an incident's checklist item.
    assert "fh-safe" not in [i.id for i in library.checklist_for("harmful_content", "reported_here")]


def test_a_first_hour_step_must_name_existing_playbook_items(tmp_path):
    text = FIRST.replace("see=hc-record", "see=hc-no-such-item").replace(" see=hc-call-999,gc-call-999", "")
    problems = layered(tmp_path, **{"first-hour": text})
    assert len(problems) == 2
    assert problems[0].endswith("step 'fh-safe' names no playbook items (add see=item-id,item-id)")
    assert problems[1].endswith("step 'fh-record' sees 'hc-no-such-item', which no playbook has")


def test_a_first_hour_that_does_not_fit_80x24_fails(tmp_path):
    long_step = "- [ ] Record " + "every single thing " * 5 + "as you go. {#fh-long see=hc-record}\n"
    problems = layered(tmp_path, **{"first-hour": FIRST + long_step})
    assert len(problems) == 1 and f"keep to {FIRST_HOUR_STEP_WIDTH} so it fits one line at 80 columns" in problems[0]
    many = "".join(f"- [ ] Record step {n}. {{#fh-{n} see=hc-record}}\n" for n in range(20))
    problems = layered(tmp_path, **{"first-hour": FIRST + many})
    assert any("steps; keep to 10" in p for p in problems)
    assert any(f"lines; keep to {FIRST_HOUR_LINES} so it fits 80x24" in p for p in problems)


def test_see_belongs_on_first_hour_steps_only(tmp_path):
    body = "\n# Guide\n\n- [ ] Record it. {#sc-record see=hc-record}\n"
    (problem,) = layered(tmp_path, guide=doc(body=body))
    assert problem.endswith("see= belongs on first-hour steps only")


def test_only_one_first_hour_document(tmp_path):
    second = FIRST.replace("{#fh-safe", "{#fh2-safe").replace("{#fh-record", "{#fh2-record")
    problems = layered(tmp_path, **{"first-hour-ours": second})
    assert problems == ["more than one first-hour document (first-hour-ours.md, first-hour.md): keep one"]


def test_the_shipped_first_hour_fits_one_screen_and_covers_every_playbook():
    library = Library.default()
    first = library.first_hour()
    assert first is not None and first.slug == "first-hour" and first.kind == "first_hour"
    steps = first.items
    assert [s.id for s in steps] == ["fh-child-safe", "fh-devices", "fh-children", "fh-police", "fh-front-door",
                                     "fh-parents", "fh-staff", "fh-record"]
    lines = first.display_markdown().strip("\n").splitlines()
    assert len(lines) <= FIRST_HOUR_LINES and all(len(line) <= 80 for line in lines if "](" not in line)
    assert all(len(s.text) <= FIRST_HOUR_STEP_WIDTH for s in steps)
    # Every step maps to items an incident really gets; each category finds its 999 step and its record step.
    for category in ("harmful_content", "nudes", "other"):
        ids = {i.id for i in library.checklist_for(category, "reported_here", refer=True)}
        for step in ("fh-child-safe", "fh-record", "fh-parents"):
            see = next(s.see for s in steps if s.id == step)
            assert set(see) & ids, (category, step)
    assert check(library, TODAY) == []


def test_first_hour_steps_pick_the_items_an_incident_has():
    library = Library.default()
    checklist = [item.id for item in library.checklist_for("harmful_content", "reported_here")]
    steps = library.first_hour_steps(checklist)
    assert [step.id for step, _ in steps][:2] == ["fh-child-safe", "fh-devices"]
    assert dict((step.id, ids) for step, ids in steps)["fh-child-safe"] == ["hc-call-999"]
    assert dict((step.id, ids) for step, ids in steps)["fh-police"] == ["hc-school-report-police"]
    assert all(ids for _, ids in steps)  # every step has something to tick in a reported-here incident
    nudes = [item.id for item in library.checklist_for("nudes", "reported_here")]
    assert dict((s.id, ids) for s, ids in library.first_hour_steps(nudes))["fh-child-safe"] == ["nd-call-999"]
    assert [ids for _, ids in library.first_hour_steps()] == [[]] * len(steps)


# content.py stays free of Textual ------------------------------------------------------------------------------
def test_content_module_imports_no_textual():
    source = (Path(__file__).resolve().parent.parent / "kentsafe_tui" / "content.py").read_text(encoding="utf-8")
    imported = [node.module or "" for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)]
    imported += [alias.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Import)
                 for alias in node.names]
    assert not [name for name in imported if re.match(r"^(textual|rich)\b", name)]
