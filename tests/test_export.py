"""Reports: an incident in Markdown and HTML with its chronology, a pupil's chronology, and the CLI."""

from __future__ import annotations

import copy
import re
from datetime import timedelta

import pytest
from markdown_it import MarkdownIt

from kentsafe_tui.cli import main
from kentsafe_tui.export import (
    chronology_html,
    chronology_markdown,
    html_report,
    markdown_report,
    pupil_chronology,
)
from kentsafe_tui.model import Decision, Pupil, Referral
from kentsafe_tui.store import Store

from .conftest import make_incident

SUBSTANCE, PROCESS = "The concern (substance)", "What was done (process)"


def render(markdown: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(markdown)


@pytest.fixture
def worked(store, clock):
    """An incident with real history: recorded, an item ticked, a referral and a decision added."""
    created = store.create(make_incident(
        summary="Video shared in a Year 9 group chat",
        details="A tutor was told at break.\nThe pupil did not forward it.",
        concern_at="2026-11-27T16:05:00+00:00",
        pupils=[Pupil(name="Sam Example", year_group="9", role="received", date_of_birth="2012-03-04")],
    ))
    clock.now += timedelta(minutes=45)  # 10:15
    ticked = store.set_item(created.id, created.checklist[0].id, "done")
    clock.now += timedelta(minutes=30)  # 10:45
    edited = copy.deepcopy(ticked)
    edited.referrals = [Referral(agency="ceop", at="2026-11-28T10:40:00+00:00", reference="CEOP-4471",
                                 note="Online report made")]
    edited.referral_decision = "referred"
    edited.decisions = [Decision(decision="Speak to tutor groups", reason="Rumours are spreading",
                                 at="2026-11-28T10:44:00+00:00", by="Alice DSL")]
    return store.save(edited, ticked)


def test_markdown_report_holds_the_record_checklist_referrals_and_chronology(worked):
    report = markdown_report(worked)
    assert report.startswith(f"# Safeguarding incident {worked.id}\n")
    for text in ("Video shared in a Year 9 group chat", "A tutor was told at break.", "The pupil did not forward it.",
                 "Fri 27 Nov 2026, 16:05", "Harmful video or images circulating", "A concern has been reported here",
                 "Sam Example", "Received it", "4 March 2012", "CEOP-4471", "Online report made", "Referred",
                 "Speak to tutor groups", "Rumours are spreading", "CONFIDENTIAL"):
        assert text in report, text
    first = worked.checklist[0]
    row = next(line for line in report.splitlines() if line.startswith(f"| {first.text[:40]}"))
    assert "| Done | Alice DSL | Sat 28 Nov 2026, 10:15 |" in row
    done, total = worked.checklist_progress()
    assert f"### Checklist ({done}/{total})" in report and done == 1
    # One chronology entry per history entry, in order.
    entries = re.findall(r"^(\d+)\. \*\*(.+?)\*\*: (.+?) by (.+)$", report, re.M)
    assert [int(number) for number, *_ in entries] == list(range(1, len(worked.history) + 1)) == [1, 2, 3]
    assert [action for _, _, action, _ in entries] == ["Recorded", "Checklist", "Edited"]
    assert [when for _, when, _, _ in entries] == ["Sat 28 Nov 2026, 09:30", "Sat 28 Nov 2026, 10:15",
                                                   "Sat 28 Nov 2026, 10:45"]
    assert "was «To do», now «Done»" in report
    assert "Referral decision: was «(empty)», now «Referred»" in report
    assert "Referrals: was «(empty)», now «CEOP CEOP-4471»" in report


def test_substance_comes_before_and_apart_from_process(worked):
    for report in (markdown_report(worked), html_report(worked)):
        substance, process = report.index(SUBSTANCE), report.index(PROCESS)
        assert substance < process
        before, after = report[substance:process], report[process:]
        assert "A tutor was told at break." in before and "CEOP-4471" in before and "Rumours are spreading" in before
        assert worked.checklist[0].text not in before and "Chronology" not in before
        assert worked.checklist[0].text in after and "Chronology of every change" in after
        assert "What happened" not in after.split("Chronology of every change")[0]


def test_html_report_holds_the_record_checklist_referrals_and_chronology(worked):
    page = html_report(worked)
    for text in ("Video shared in a Year 9 group chat", "A tutor was told at break.", "Fri 27 Nov 2026, 16:05",
                 "Sam Example", "Received it", "CEOP-4471", "Online report made", "Speak to tutor groups",
                 "Rumours are spreading"):
        assert text in page, text
    first = worked.checklist[0]
    assert (f'<tr><td class="text">{first.text}</td><td class="text">Done</td><td class="text">Alice DSL</td>'
            f'<td class="text">Sat 28 Nov 2026, 10:15</td>') in page
    chronology = page[page.index("Chronology of every change"):]
    for number in range(1, len(worked.history) + 1):
        assert f"<tr><td>{number}</td>" in chronology
    assert f"<tr><td>{len(worked.history) + 1}</td>" not in chronology
    assert '<td class="text was">To do</td><td class="text">Done</td>' in chronology
    assert '<td class="text was">(empty)</td><td class="text">Referred</td>' in chronology


HOSTILE_DETAILS = "\n".join([
    "<script>alert(1)</script>",
    "*bold* and _under_",
    "[link](http://x)",
    "# heading",
    "| pipe | cell |",
    "`code`",
    "1. list",
    "> quote",
    "<b>tag</b> & &amp; \"double\" 'single'",
])


@pytest.fixture
def hostile(store):
    return store.create(make_incident(
        summary="<script>alert(1)</script> [link](http://x) *bold*",
        details=HOSTILE_DETAILS,
        pupils=[Pupil(name="<i>Sam</i> *Example*", role="harmed")],
        concern_at="2026-11-27T16:05:00+00:00",
    ))


def test_html_escapes_everything_typed(hostile):
    page = html_report(hostile)
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>tag</b>" not in page and "&lt;b&gt;tag&lt;/b&gt; &amp; &amp;amp; &quot;double&quot; &#x27;single&#x27;" in page
    assert "<i>Sam</i>" not in page and "&lt;i&gt;Sam&lt;/i&gt; *Example*" in page
    assert "<a " not in page and "[link](http://x)" in page


def test_markdown_escapes_everything_typed(hostile):
    report = markdown_report(hostile)
    # Every < a person typed is escaped in the Markdown source itself.
    assert not re.search(r"(?<!\\)<", report.replace("<br>", ""))
    assert "\\<script\\>alert(1)\\</script\\>" in report
    html = render(report)
    assert "<script" not in html.lower() and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<a href" not in html and "<code>" not in html and "<blockquote>" not in html
    assert "<em>bold</em>" not in html and "<em>under</em>" not in html and "<em>Example</em>" not in html
    assert "<h1>heading" not in html and html.count("<h1>") == 1  # only the report's own title
    assert "<b>" not in html and "<i>" not in html
    for literal in ("*bold* and _under_", "[link](http://x)", "# heading", "| pipe | cell |", "`code`", "1. list",
                    "&gt; quote", "&lt;b&gt;tag&lt;/b&gt; &amp; &amp;amp;", "&lt;i&gt;Sam&lt;/i&gt; *Example*",
                    "&lt;script&gt;alert(1)&lt;/script&gt; [link](http://x) *bold*"):
        assert literal in html, literal
    # The pupils table is still one table with the name in one cell.
    assert "<td>&lt;i&gt;Sam&lt;/i&gt; *Example*</td>" in html


@pytest.fixture
def amended(store, library, db_path, clock):
    """Details edited twice by Alice, then Bob changes the outcome and Alice amends on top of his change."""
    first = store.create(make_incident(details="First account", concern_at="2026-11-27T16:05:00+00:00"))
    clock.now += timedelta(minutes=10)
    edit = copy.deepcopy(first)
    edit.details = "Second account"
    second = store.save(edit, first)
    clock.now += timedelta(minutes=10)
    edit = copy.deepcopy(second)
    edit.details = "Third account\n\nwith a blank line and\n1. a list line"
    third = store.save(edit, second)
    bob = Store(db_path, user="Bob DSL", checklist_for=library.checklist_for, clock=clock)
    clock.now += timedelta(minutes=10)
    theirs = copy.deepcopy(third)
    theirs.follow_up = "Bob phoned the parents"
    bob.save(theirs, third)
    clock.now += timedelta(minutes=10)
    mine = copy.deepcopy(third)  # opened before Bob saved
    mine.follow_up = "Alice spoke to the tutor"
    return store.save(mine, third, amend=True)


def test_amendments_stand_beside_their_originals_in_markdown(amended):
    assert [entry["action"] for entry in amended.history] == ["create", "edit", "edit", "edit", "amend"]
    report = markdown_report(amended)
    assert "What happened: was «First account», now «Second account»" in report
    assert "What happened: was «Second account», now «Third account<br><br>with a blank line and<br>1\\. a list line»" \
        in report
    assert "How it was followed up: was «(empty)», now «Bob phoned the parents»" in report
    assert "How it was followed up: was «Bob phoned the parents», now «Alice spoke to the tutor»" in report
    assert re.search(r"^5\. \*\*Sat 28 Nov 2026, 10:10\*\*: Amended after another DSL's change by Alice DSL", report,
                     re.M)
    assert "What happened (2)" in report and "How it was followed up (2)" in report
    # Rendered, the chronology stays one list of five entries, whatever the edited text held.
    html = render(report)
    chronology = html[html.index("Chronology of every change"):]
    assert chronology.count("<ol>") == 1 and "<ol start" not in chronology
    items = re.findall(r"<li><strong>([^<]+)</strong>: ([^<\n]+)", chronology)
    assert [action.split(" by ")[0] for _, action in items] == [
        "Recorded", "Edited", "Edited", "Edited", "Amended after another DSL's change"]


def test_amendments_stand_beside_their_originals_in_html(amended):
    page = html_report(amended)
    assert "<th>Before</th><th>After</th>" in page
    assert ('<td class="text">Edited: What happened</td><td class="text was">First account</td>'
            '<td class="text">Second account</td>') in page
    assert ('<td class="text was">Second account</td><td class="text">Third account\n\nwith a blank line and\n'
            '1. a list line</td>') in page
    assert ('<td class="text">Amended after another DSL&#x27;s change: How it was followed up</td>'
            '<td class="text was">Bob phoned the parents</td><td class="text">Alice spoke to the tutor</td>') in page
    assert re.search(r"<td>Bob DSL( \(login [^)<]*\))?</td>", page)
    assert re.search(r"<td>Alice DSL( \(login [^)<]*\))?</td>", page)


def test_html_is_one_self_contained_printable_file(worked, hostile):
    for incident in (worked, hostile):
        page = html_report(incident)
        assert page.startswith("<!DOCTYPE html>\n")
        assert re.search(r"@page\s*\{\s*size:\s*A4", page)
        assert "<style>" in page and page.rstrip().endswith("</html>")
        assert "src=" not in page and "<link" not in page and "@import" not in page and "url(" not in page
        tags = re.findall(r"<[^>]*>", page)
        assert tags and not [tag for tag in tags if "http" in tag.lower().replace("http-equiv", "")]
    assert "http://x" in html_report(hostile)  # typed text keeps its words, as text


# Pupil chronology ----------------------------------------------------------------------------------------
@pytest.fixture
def pupils_store(store, clock):
    first = store.create(make_incident(summary="Concern one", concern_at="2026-11-20T10:00:00+00:00",
                                       pupils=[Pupil(name="Sam Example", year_group="9", role="received")]))
    second = store.create(make_incident(summary="Concern two", concern_at="2026-11-25T10:00:00+00:00",
                                        pupils=[Pupil(name="Ava Other", role="shared"),
                                                Pupil(name="sam   EXAMPLE", year_group="9", role="harmed")]))
    unrelated = store.create(make_incident(summary="Someone else", concern_at="2026-11-26T10:00:00+00:00",
                                           pupils=[Pupil(name="Sam Examples", role="harmed")]))
    clock.now += timedelta(hours=2)
    backdated = store.create(make_incident(summary="Backdated <concern>", concern_at="2026-10-01T08:00:00+01:00",
                                           pupils=[Pupil(name=" Sam Example ", year_group="8", role="disclosed")]))
    return store, (first, second, unrelated, backdated)


def test_pupil_chronology_in_order_of_concern(pupils_store):
    store, (first, second, unrelated, backdated) = pupils_store
    entries = pupil_chronology(store.incidents(), "  SAM example ")
    assert [e.incident_id for e in entries] == [backdated.id, first.id, second.id]
    assert backdated.id > second.id  # created last, sorted first
    assert [e.role for e in entries] == ["Told us", "Received it", "Harmed or at risk"]
    assert [e.summary for e in entries] == ["Backdated <concern>", "Concern one", "Concern two"]
    assert entries[0].year_group == "8" and entries[0].status == "Open"
    assert pupil_chronology(store.incidents(), "Nobody Here") == []


def test_chronology_renders(pupils_store):
    store, (first, second, _, backdated) = pupils_store
    entries = pupil_chronology(store.incidents(), "Sam Example")
    markdown = chronology_markdown("Sam *Example*", entries)
    assert markdown.startswith("# Chronology: Sam \\*Example\\*\n")
    assert markdown.index(backdated.id) < markdown.index(first.id) < markdown.index(second.id)
    assert "Backdated \\<concern\\>" in markdown and "3 incident(s)" in markdown
    html = render(markdown)
    assert "<h1>Chronology: Sam *Example*</h1>" in html and html.count("<tr>") == 4  # header and three rows
    page = chronology_html("Sam <Example>", entries)
    assert page.startswith("<!DOCTYPE html>") and "<h1>Chronology: Sam &lt;Example&gt;</h1>" in page
    assert "Backdated &lt;concern&gt;" in page and "<concern>" not in page
    assert page.index(backdated.id) < page.index(first.id) < page.index(second.id)
    assert "Thu 01 Oct 2026, 08:00" in page  # when the backdated concern arose


def test_a_pupil_name_ending_in_a_hash_keeps_it_in_the_heading():
    html = render(chronology_markdown("Sam #", []))
    assert "<h1>Chronology: Sam #</h1>" in html


# The CLI -------------------------------------------------------------------------------------------------
@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "data" / "records.json")


def seed(db: str) -> list[str]:
    return Store(db, user="Alice").import_records([
        {"summary": "Later concern", "concern_at": "2026-11-20T10:00:00+00:00",
         "pupils": [{"name": "Sam Example", "role": "received"}]},
        {"summary": "Earlier concern", "concern_at": "2026-11-02T10:00:00+00:00",
         "pupils": [{"name": "sam example", "role": "harmed"}]},
        {"summary": "Not about Sam", "concern_at": "2026-11-03T10:00:00+00:00",
         "pupils": [{"name": "Ava Other", "role": "harmed"}]},
    ])


def test_cli_chronology(capsys, db):
    later, earlier, _ = seed(db)
    assert main(["chronology", "Sam Example", "--db", db]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.startswith("# Chronology: Sam Example")
    assert out.index(earlier) < out.index(later) and "Not about Sam" not in out
    assert main(["chronology", "Nobody", "--db", db]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == "kentsafe: no incident names a pupil called 'Nobody'\n"


def test_cli_chronology_html_to_a_file(capsys, db, tmp_path):
    later, earlier, _ = seed(db)
    target = tmp_path / "sam.html"
    assert main(["chronology", "SAM EXAMPLE", "--db", db, "--format", "html", "-o", str(target)]) == 0
    _, err = capsys.readouterr()
    assert err == f"The chronology written to {target}\n"
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.index(earlier) < page.index(later)


def test_cli_export_html_to_a_file_and_markdown_to_stdout(capsys, db, tmp_path):
    incident_id = seed(db)[0]
    target = tmp_path / "report.html"
    assert main(["export", incident_id, "--format", "html", "-o", str(target), "--db", db]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err == f"The report written to {target}\n"
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and f"Safeguarding incident {incident_id}" in page
    assert "Later concern" in page and "Imported" in page
    assert main(["export", incident_id, "--format", "markdown", "--db", db]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.startswith(f"# Safeguarding incident {incident_id}\n")
    assert "Later concern" in out and PROCESS in out
    assert main(["export", "2026-9999", "--db", db]) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
