"""The guidance content: the loader, layering, the checklist drawn from it, the checker, staleness, search,
and that the content ships inside the wheel."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest

from kentsafe_tui import cli
from kentsafe_tui.cli import main
from kentsafe_tui.content import Document, Library, Source, builtin_content_dir, check
from kentsafe_tui.model import CATEGORIES, SCOPES

REPO = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 28)
SOURCE = ('[[sources]]\ntitle = "Working Together to Safeguard Children (DfE, 2023)"\nurl = "https://www.gov.uk/"\n'
          "date = 2023-12-15\nchecked = 2026-11-28\n")


def front(title: str = "A school guide", kind: str = "guide", scope: str = "any", extra: str = "",
          last_reviewed: str = "2026-11-28", review_every: str = '"12 months"', sources: str = SOURCE) -> str:
    lines = [f'title = "{title}"', f'kind = "{kind}"', f'scope = "{scope}"', f"last_reviewed = {last_reviewed}",
             f"review_every = {review_every}"]
    return "+++\n" + "\n".join(lines) + "\n" + extra + "\n" + sources + "+++\n"


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_layered(folder: Path) -> list[str]:
    """The problems a school folder brings when layered over the (clean) built-in content."""
    return check(Library.load(builtin_content_dir(), folder), TODAY)


def problems_alone(folder: Path) -> list[str]:
    """The problems of a folder on its own, without the lines about categories it has no playbook for."""
    return [p for p in check(Library.load(folder), TODAY) if not p.startswith("no playbook for")]


# The loader ---------------------------------------------------------------------------------------------
GUIDE = front(title="Mobile phones", kind="playbook", scope="reported_here",
              extra='categories = ["other"]\norder = 30\n', review_every='"6 months"') + """
# Mobile phones

Intro with a [link to contacts](contacts.md#ceop), a [same-page link](#who-to-call) and <https://www.iwf.org.uk/report>.

## Who to call {#who-to-call}

- [ ] Call the **police** on [101](contacts.md#police) when it is not an emergency. {#mp-call-101}
- An ordinary bullet, not an item.

## Keep it safe, now!

- [ ] Keep the phone switched off. {#mp-keep-off}
- [ ] Refer to social care. {#mp-refer if=refer}
- [?] Is an adult involved? {#rq-mp-adult}

### Deeper level

Text.
"""


def test_front_matter_is_parsed(tmp_path):
    write(tmp_path, "mobile-phones.md", GUIDE)
    doc = Library.load(tmp_path).get("mobile-phones")
    assert doc is not None and doc.slug == "mobile-phones"
    assert doc.title == "Mobile phones" and doc.kind == "playbook" and doc.scope == "reported_here"
    assert doc.categories == ["other"] and doc.order == 30
    assert doc.sources == [Source("Working Together to Safeguard Children (DfE, 2023)", "https://www.gov.uk/",
                                  date(2023, 12, 15), date(2026, 11, 28))]
    assert doc.last_reviewed == date(2026, 11, 28) and isinstance(doc.last_reviewed, date)
    assert doc.meta["review_every"] == "6 months"
    assert doc.problems == []
    assert doc.body.lstrip().startswith("# Mobile phones")  # the front matter is not part of the body


def test_sections_have_explicit_anchors_or_automatic_slugs(tmp_path):
    write(tmp_path, "mobile-phones.md", GUIDE)
    doc = Library.load(tmp_path).get("mobile-phones")
    assert [(s.anchor, s.title, s.level) for s in doc.sections] == [
        ("mobile-phones", "Mobile phones", 1),
        ("who-to-call", "Who to call", 2),
        ("keep-it-safe-now", "Keep it safe, now!", 2),
        ("deeper-level", "Deeper level", 3),
    ]
    body_lines = doc.body.splitlines()
    for section in doc.sections:
        assert body_lines[section.line].lstrip("#").strip().startswith(section.title.rstrip("!"))
    assert "Call the **police**" in doc.section_text("who-to-call")
    assert "Keep the phone" not in doc.section_text("who-to-call")
    assert "Deeper level" in doc.section_text("keep-it-safe-now")
    assert "Deeper level" not in doc.section_text("keep-it-safe-now", own=True)


def test_items_and_questions_are_found_with_their_section(tmp_path):
    write(tmp_path, "mobile-phones.md", GUIDE)
    doc = Library.load(tmp_path).get("mobile-phones")
    assert [(i.id, i.text, i.section, i.condition, i.document) for i in doc.items] == [
        ("mp-call-101", "Call the police on 101 when it is not an emergency.", "who-to-call", None, "mobile-phones"),
        ("mp-keep-off", "Keep the phone switched off.", "keep-it-safe-now", None, "mobile-phones"),
        ("mp-refer", "Refer to social care.", "keep-it-safe-now", "refer", "mobile-phones"),
    ]
    assert [(q.id, q.text, q.section) for q in doc.questions] == [
        ("rq-mp-adult", "Is an adult involved?", "keep-it-safe-now")]
    # The reader sees a box, not the markers.
    shown = doc.display_markdown()
    assert "☐ Keep the phone switched off." in shown and "{#" not in shown


def test_links_are_found(tmp_path):
    write(tmp_path, "mobile-phones.md", GUIDE)
    doc = Library.load(tmp_path).get("mobile-phones")
    found = [(link.target, link.text, link.external) for link in doc.links]
    assert found == [
        ("contacts.md#ceop", "link to contacts", False),
        ("#who-to-call", "same-page link", False),
        ("https://www.iwf.org.uk/report", "https://www.iwf.org.uk/report", True),
        ("contacts.md#police", "101", False),
    ]
    library = Library.load(builtin_content_dir(), tmp_path)
    assert library.resolve("mobile-phones", "contacts.md#ceop") == ("contacts", "ceop")
    assert library.resolve("mobile-phones", "#who-to-call") == ("mobile-phones", "who-to-call")
    assert library.resolve("mobile-phones", "contacts.md#nowhere") is None


def test_a_byte_order_mark_before_the_front_matter_is_accepted(tmp_path):
    """Windows editors may save UTF-8 with a byte-order mark; the file still starts with +++."""
    (tmp_path / "bom.md").write_bytes("\ufeff".encode() + front(title="With a BOM").encode() + b"\n# Hi\n")
    doc = Library.load(tmp_path).get("bom")
    assert doc.problems == [] and doc.title == "With a BOM"
    assert problems_layered(tmp_path) == []


# Layering -----------------------------------------------------------------------------------------------
def test_a_school_file_replaces_the_builtin_one_and_a_new_file_is_added(tmp_path):
    builtin = Library.load(builtin_content_dir())
    school = tmp_path / "school"
    write(school, "contacts.md", front(title="Our contacts", kind="contacts") + "\n# Our contacts\n\n## CEOP {#ceop}\n"
          "\n## Police {#police}\n\n## LESAS {#lesas}\n\n## IWF {#iwf}\n")
    write(school, "phones.md", front(title="Phones policy") + "\n# Phones\n")
    layered = Library.load(builtin_content_dir(), school)
    assert set(layered.documents) == set(builtin.documents) | {"phones"}
    assert len(layered.documents) == len(builtin.documents) + 1
    assert layered.get("contacts").title == "Our contacts"
    assert layered.get("contacts").path == school / "contacts.md"
    assert layered.get("phones").title == "Phones policy"
    assert layered.get("nudes").path == builtin_content_dir() / "nudes.md"
    assert layered.folders == [builtin_content_dir(), school]
    # Library.default layers the same way.
    default = Library.default(school)
    assert default.get("contacts").title == "Our contacts" and default.get("phones") is not None
    assert set(Library.default().documents) == set(builtin.documents)


def test_a_missing_content_folder_is_a_clear_error(tmp_path):
    missing = tmp_path / "no-such-folder"
    with pytest.raises(FileNotFoundError, match=r"content folder .*no-such-folder does not exist"):
        Library.load(missing)
    with pytest.raises(FileNotFoundError, match="no-such-folder"):
        Library.default(missing)


# The checklist drawn from the content ---------------------------------------------------------------------
_ITEM_LINE = re.compile(r"^\s*[-*+]\s+\[ \]\s+(?P<text>.*?)\s*\{#(?P<id>[a-z0-9-]+)(?P<refer> if=refer)?\}\s*$")
_HEADING_LINE = re.compile(r"^(#{1,6})\s+(?P<title>.*?)\s*(?:\{#(?P<anchor>[A-Za-z0-9_-]+)\})?\s*$")


def raw_items(slug: str) -> list[tuple[str, str, bool]]:
    """(id, section anchor, only when referring) read straight from the file, line by line."""
    text = (builtin_content_dir() / f"{slug}.md").read_text(encoding="utf-8")
    body = text.split("+++", 2)[2]
    found, section = [], ""
    for line in body.splitlines():
        heading = _HEADING_LINE.match(line)
        if heading:
            section = heading.group("anchor") or re.sub(r"\s+", "-", re.sub(r"[^\w\s-]", "", heading.group(
                "title").lower()).strip())
            continue
        item = _ITEM_LINE.match(line)
        if item:
            found.append((item.group("id"), section, bool(item.group("refer"))))
    return found


@pytest.mark.parametrize("scope, branch", [("reported_here", "harmful-content-reported-here"),
                                           ("no_direct_impact", "harmful-content-no-direct-impact")])
def test_harmful_content_checklist_is_the_playbooks_items_in_order(library, scope, branch):
    expected = [(slug, item_id, section) for slug in ("harmful-content", branch)
                for item_id, section, _ in raw_items(slug)]
    assert len(expected) > 10
    items = library.checklist_for("harmful_content", scope)
    assert [item.id for item in items] == [item_id for _, item_id, _ in expected]
    assert [item.source for item in items] == [f"{slug}#{section}" for slug, _, section in expected]
    # The starting playbook (order 10) comes before the branch (order 20).
    assert [d.slug for d in library.playbooks("harmful_content", scope)] == ["harmful-content", branch]
    for item in items:
        document, anchor = item.source.split("#")
        assert library.resolve(document, item.source) == (document, anchor)
        assert anchor in {s.anchor for s in library.get(document).sections}
        assert item.text and "{#" not in item.text and item.state == "todo"
    other = "no_direct_impact" if scope == "reported_here" else "reported_here"
    other_branch = {"reported_here": "harmful-content-reported-here",
                    "no_direct_impact": "harmful-content-no-direct-impact"}[other]
    assert not {i for i, _, _ in raw_items(other_branch)} & {item.id for item in items}


def test_nudes_refer_items_come_only_when_refer(library):
    raw = raw_items("nudes")
    refer_only = [item_id for item_id, _, refer in raw if refer]
    assert refer_only == ["nd-refer-police-or-social-care", "nd-record-referral"]
    without = [item.id for item in library.checklist_for("nudes", "reported_here", refer=False)]
    with_refer = [item.id for item in library.checklist_for("nudes", "reported_here", refer=True)]
    assert without == [item_id for item_id, _, refer in raw if not refer]
    assert with_refer == [item_id for item_id, _, _ in raw]
    assert not set(refer_only) & set(without)


def test_referral_questions_are_the_five_in_order(library):
    assert [q.id for q in library.questions_for("nudes")] == [
        "rq-adult", "rq-coercion", "rq-unusual-or-violent", "rq-under-13", "rq-immediate-risk"]
    assert all(q.document == "nudes" and q.section == "refer-questions" and q.text.endswith("?")
               for q in library.questions_for("nudes"))


@pytest.mark.parametrize("category", list(CATEGORIES))
@pytest.mark.parametrize("scope", list(SCOPES))
def test_every_category_and_scope_gets_a_checklist(library, category, scope):
    items = library.checklist_for(category, scope)
    assert items
    assert len({item.id for item in items}) == len(items)


# The checker: one test for each kind of problem -------------------------------------------------------------
def test_check_missing_front_matter(tmp_path):
    write(tmp_path, "bare.md", "# Just a heading\n\nNo front matter.\n")
    assert problems_layered(tmp_path) == ["bare.md:1: no front matter (the file must start with +++)"]


def test_check_unclosed_front_matter(tmp_path):
    write(tmp_path, "open.md", '+++\ntitle = "Never closed"\n\n# Heading\n')
    assert problems_layered(tmp_path) == ["open.md:1: the front matter is not closed with +++"]


def test_check_bad_toml(tmp_path):
    write(tmp_path, "bad.md", '+++\ntitle = "A guide"\nkind = "Unterminated\nscope = "any"\n+++\n# Heading\n')
    # The line is the file's (the third), not the front matter's (its second).
    (problem,) = problems_layered(tmp_path)
    assert problem.startswith("bad.md:3: bad front matter: ") and problem.endswith("(column 21)")
    assert "line" not in problem
    write(tmp_path, "bad.md", '+++\ntitle = "A guide"\ntitle = "Again"\n+++\n# Heading\n')
    (problem,) = problems_layered(tmp_path)
    assert problem.startswith("bad.md") and ": bad front matter: " in problem


@pytest.mark.parametrize("key", ["title", "kind", "scope", "last_reviewed", "review_every"])
def test_check_missing_required_key(tmp_path, key):
    text = front(title="Guide")
    text = "\n".join(line for line in text.splitlines() if not line.startswith(f"{key} =")) + "\n# Heading\n"
    write(tmp_path, "guide.md", text)
    assert f"guide.md: front matter has no '{key}'" in problems_layered(tmp_path)


def test_check_unknown_kind_and_scope(tmp_path):
    write(tmp_path, "odd-kind.md", front(kind="leaflet") + "\n# Heading\n")
    write(tmp_path, "odd-scope.md", front(scope="everywhere") + "\n# Heading\n")
    problems = problems_layered(tmp_path)
    assert problems == [
        "odd-kind.md: kind 'leaflet' is not one of playbook, contacts, guide, template, first_hour",
        "odd-scope.md: scope 'everywhere' is not one of reported_here, no_direct_impact, any",
    ]


def test_check_broken_link_to_a_missing_document(tmp_path):
    write(tmp_path, "guide.md", front() + "\n# Guide\n\nSee [the policy](no-such-policy.md) and [CEOP](contacts.md#ceop).\n")
    # Line 11 of the file: 9 lines of front matter, a blank line, the heading, a blank line, then the link.
    line = (tmp_path / "guide.md").read_text().splitlines().index(
        "See [the policy](no-such-policy.md) and [CEOP](contacts.md#ceop).") + 1
    assert problems_layered(tmp_path) == [f"guide.md:{line}: broken link to 'no-such-policy.md'"]


def test_check_broken_link_to_a_missing_anchor(tmp_path):
    write(tmp_path, "guide.md", front() + "\n# Guide\n\n## Ours {#ours}\n\n[ok](#ours) [bad](contacts.md#nowhere) "
          "[also bad](#missing)\n")
    problems = problems_layered(tmp_path)
    assert len(problems) == 2
    assert problems[0].endswith("broken link to 'contacts.md#nowhere'") and problems[0].startswith("guide.md:")
    assert problems[1].endswith("broken link to '#missing'")


def test_check_duplicate_checklist_id_across_two_files(tmp_path):
    playbook = front(kind="playbook", extra='categories = ["other"]\n')
    write(tmp_path, "a-first.md", playbook + "\n# A\n\n- [ ] Record the first thing. {#sc-same}\n")
    write(tmp_path, "b-second.md", playbook + "\n# B\n\n- [ ] Record another thing. {#sc-same}\n")
    assert problems_layered(tmp_path) == ["b-second.md: duplicate checklist id 'sc-same' (also in a-first.md)"]


def test_check_duplicate_of_a_builtin_checklist_id(tmp_path):
    write(tmp_path, "extra.md", front(kind="playbook", extra='categories = ["other"]\n')
          + "\n# Extra\n\n- [ ] Call 999. {#hc-call-999}\n")
    (problem,) = problems_layered(tmp_path)
    assert "duplicate checklist id 'hc-call-999'" in problem and "harmful-content.md" in problem


def test_check_checklist_item_without_an_id(tmp_path):
    write(tmp_path, "guide.md", front() + "\n# Guide\n\n- [ ] Do something with no id.\n")
    line = (tmp_path / "guide.md").read_text().splitlines().index("- [ ] Do something with no id.") + 1
    assert problems_layered(tmp_path) == [f"guide.md:{line}: checklist item without an id {{#...}} at its end"]


@pytest.mark.parametrize("bad_id", ["Sc_Upper", "sc.dot", "-sc-leading"])
def test_check_invalid_id_characters(tmp_path, bad_id):
    write(tmp_path, "guide.md", front() + f"\n# Guide\n\n- [ ] Record it. {{#{bad_id}}}\n")
    (problem,) = problems_layered(tmp_path)
    assert problem.startswith("guide.md:")
    assert f"checklist id '{bad_id}' must be lower case letters, digits and hyphens" in problem


def test_check_missing_sources(tmp_path):
    write(tmp_path, "guide.md", front(sources="") + "\n# Guide\n")
    assert problems_layered(tmp_path) == [
        "guide.md: no sources: name where the guidance comes from ([[sources]] with a title)"]


def test_check_source_without_title(tmp_path):
    write(tmp_path, "guide.md", front(sources=SOURCE + '[[sources]]\nurl = "https://example.org/"\n') + "\n# Guide\n")
    assert problems_layered(tmp_path) == ["guide.md: source 2 has no title"]


def test_check_a_review_date_that_has_passed(tmp_path):
    write(tmp_path, "old.md", front(last_reviewed="2020-01-01", review_every='"12 months"') + "\n# Old\n")
    assert problems_layered(tmp_path) == ["old.md: review was due on 2021-01-01 (last reviewed 2020-01-01)"]
    # Not yet past on the due date itself; past the day after.
    library = Library.load(builtin_content_dir(), tmp_path)
    assert check(library, date(2021, 1, 1)) == []
    assert check(library, date(2021, 1, 2)) == ["old.md: review was due on 2021-01-01 (last reviewed 2020-01-01)"]


def test_check_unknown_placeholder_in_a_template(tmp_path):
    write(tmp_path, "letter.md", front(kind="template", extra='template_for = "parent_letter"\n')
          + "\nDear {{parent_name}}, from {{school_name}}\n")
    (problem,) = problems_layered(tmp_path)
    assert problem.startswith("letter.md: unknown placeholder {{parent_name}} (known: school_name, dsl_name")


def test_check_placeholder_outside_a_template(tmp_path):
    write(tmp_path, "guide.md", front() + "\n# Guide\n\nCall {{dsl_name}}.\n")
    assert problems_layered(tmp_path) == ["guide.md: placeholder {{dsl_name}} outside a template"]


def test_check_a_category_without_a_playbook_for_a_scope(tmp_path):
    # The school narrows the general playbook to one scope: the other scope is left without one.
    original = (builtin_content_dir() / "general-concern.md").read_text(encoding="utf-8")
    assert '\nscope = "any"\n' in original
    write(tmp_path, "general-concern.md", original.replace('\nscope = "any"\n', '\nscope = "reported_here"\n', 1))
    assert problems_layered(tmp_path) == [
        f"no playbook for category '{category}' with scope 'no_direct_impact'"
        for category in ("online_bullying", "online_grooming", "other_online", "other")]


def test_check_a_folder_alone_reports_every_category_without_a_playbook(tmp_path):
    write(tmp_path, "guide.md", front() + "\n# Guide\n")
    problems = check(Library.load(tmp_path), TODAY)
    assert problems == [f"no playbook for category '{c}' with scope '{s}'" for c in CATEGORIES for s in SCOPES]
    assert problems_alone(tmp_path) == []


def test_the_shipped_content_has_no_problems():
    assert check(Library.default(), TODAY) == []


# The CLI -------------------------------------------------------------------------------------------------
@pytest.fixture
def pinned_today(monkeypatch):
    """`content check` judges review dates against today: pin it so the tests do not depend on the calendar."""
    monkeypatch.setattr(cli, "now_local", lambda: datetime(2026, 11, 28, 9, 30).astimezone())


def test_cli_content_check_passes_the_shipped_content(capsys, pinned_today):
    assert main(["content", "check"]) == 0
    out, err = capsys.readouterr()
    assert out == f"ok: {len(Library.default().documents)} document(s) checked\n" and err == ""
    assert main(["content", "check", str(builtin_content_dir())]) == 0
    assert main(["content", "check", "--alone", str(builtin_content_dir())]) == 0


def test_cli_content_check_prints_one_problem_a_line(capsys, tmp_path, pinned_today):
    write(tmp_path, "bare.md", "no front matter\n")
    write(tmp_path, "guide.md", front() + "\n# Guide\n\n[x](missing.md) {{dsl_name}}\n")
    expected = problems_layered(tmp_path)
    assert len(expected) == 3
    assert main(["content", "check", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == expected
    assert err.strip() == "kentsafe: 3 problem(s) in the content"


def test_cli_content_check_alone(capsys, tmp_path, pinned_today):
    write(tmp_path, "guide.md", front() + "\n# Guide\n")
    assert main(["content", "check", str(tmp_path)]) == 0  # layered over the built-in content: complete
    assert capsys.readouterr().out == f"ok: {len(Library.default().documents) + 1} document(s) checked\n"
    assert main(["content", "check", "--alone", str(tmp_path)]) == 1  # alone: no playbooks at all
    out, _ = capsys.readouterr()
    assert out.splitlines() == [f"no playbook for category '{c}' with scope '{s}'" for c in CATEGORIES for s in SCOPES]
    # A full copy of the built-in content passes alone.
    copy = tmp_path / "copy"
    shutil.copytree(builtin_content_dir(), copy)
    assert main(["content", "check", "--alone", str(copy)]) == 0


def test_cli_content_check_a_missing_folder(capsys, tmp_path):
    assert main(["content", "check", str(tmp_path / "nope")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and "nope is not a folder" in err


# Staleness -----------------------------------------------------------------------------------------------
def document(last_reviewed, review_every) -> Document:
    meta = {"title": "T", "kind": "guide", "scope": "any", "review_every": review_every}
    if last_reviewed is not None:
        meta["last_reviewed"] = last_reviewed
    return Document("t", Path("t.md"), meta, "", 0)


@pytest.mark.parametrize("reviewed, every, due", [
    (date(2026, 11, 28), "6 months", date(2027, 5, 28)),
    (date(2026, 11, 28), "12 months", date(2027, 11, 28)),
    (date(2026, 11, 28), "1 year", date(2027, 11, 28)),
    (date(2026, 11, 28), "2 years", date(2028, 11, 28)),
    (date(2026, 8, 31), "6 months", date(2027, 2, 28)),
    (date(2027, 8, 31), "6 months", date(2028, 2, 29)),
    (date(2028, 2, 29), "1 year", date(2029, 2, 28)),
    (date(2026, 1, 31), "1 month", date(2026, 2, 28)),
    (date(2026, 11, 28), "fortnightly", None),
    (None, "6 months", None),
])
def test_review_due(reviewed, every, due):
    assert document(reviewed, every).review_due == due


def test_stale_documents(tmp_path):
    write(tmp_path, "old.md", front(title="Old", last_reviewed="2025-01-01") + "\n# Old\n")
    write(tmp_path, "fresh.md", front(title="Fresh", last_reviewed="2026-06-01") + "\n# Fresh\n")
    library = Library.load(tmp_path)
    assert [d.slug for d in library.stale(date(2026, 1, 1))] == []  # due that day: not yet stale
    assert [d.slug for d in library.stale(date(2026, 1, 2))] == ["old"]
    assert [d.slug for d in library.stale(TODAY)] == ["old"]
    assert sorted(d.slug for d in library.stale(date(2027, 6, 2))) == ["fresh", "old"]
    assert Library.default().stale(TODAY) == []


# Contact search ------------------------------------------------------------------------------------------
def test_search_finds_contacts(library):
    found = library.search("ceop", kind="contacts")
    assert found and all(doc.kind == "contacts" for doc, _ in found)
    assert ("contacts", "ceop") in [(doc.slug, section.anchor) for doc, section in found]
    assert [(doc.slug, s.anchor) for doc, s in library.search("0344 381 4772")] == [("contacts", "posh")]
    assert [(doc.slug, s.anchor) for doc, s in library.search("specialist child protection staff", kind="contacts")] == [
        ("contacts", "ceop")]
    in_playbooks = library.search("ceop", kind="playbook")
    assert in_playbooks and {doc.kind for doc, _ in in_playbooks} == {"playbook"}
    assert library.search("no such words anywhere xyzzy") == []


# Content ships inside the wheel ------------------------------------------------------------------------------
@pytest.mark.slow
def test_content_is_found_in_an_installed_wheel(tmp_path):
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(REPO)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = wheels.glob("kentsafe_tui-*.whl")
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacked)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = ("from kentsafe_tui.content import builtin_content_dir, Library\n"
            "import kentsafe_tui\n"
            "print(builtin_content_dir())\n"
            "print(len(Library.default().documents))\n"
            "print(kentsafe_tui.__file__)\n")
    env = {"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, cwd=elsewhere, timeout=120)
    assert result.returncode == 0, result.stderr
    content_dir, count, module = result.stdout.splitlines()
    assert Path(module).resolve().is_relative_to(unpacked.resolve())
    assert Path(content_dir).resolve() == (unpacked / "kentsafe_tui" / "content").resolve()
    assert not Path(content_dir).resolve().is_relative_to(REPO)
    assert int(count) == len(Library.default().documents) == 12
