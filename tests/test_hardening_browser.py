"""Issue 10: the HTML report in a real browser (Debian's chromium, installed by .ci/run). Payloads go in
every field a person can type; a script that would change the page's title if it ran must not run."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess

import pytest

from kentsafe_tui.export import chronology_html, html_report, pupil_chronology
from kentsafe_tui.model import ChecklistItem, Decision, Incident, Pupil, Referral, Transfer

BROWSER = next((found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))),
               None)
pytestmark = pytest.mark.skipif(BROWSER is None and not os.environ.get("CI"),
                                reason="no chromium on this machine (CI installs it)")

PAYLOADS = [
    "<script>document.title='PWNED'</script>",
    "<img src=x onerror=\"document.title='PWNED'\">",
    "\"><svg onload=\"document.title='PWNED'\">",
    "</title><script>document.title='PWNED'</script>",
    "</style><script>document.title='PWNED'</script>",
    "<iframe srcdoc=\"<script>parent.document.title='PWNED'</script>\"></iframe>",
    "javascript:document.title='PWNED'",
    "<a href=\"javascript:document.title='PWNED'\">x</a><meta http-equiv=refresh content=\"0;url=javascript:document.title='PWNED'\">",
]


def hostile_incident() -> Incident:
    p = " ".join(PAYLOADS)
    return Incident(
        id="2026-0001", summary=PAYLOADS[0], details=p, follow_up=p, actions=p, outcome=p,
        referral_rationale=p, parents_note=p, concern_at="2026-11-10T10:00:00+00:00",
        created_at="2026-11-10T10:00:00+00:00", created_by=PAYLOADS[1], updated_at="2026-11-10T10:00:00+00:00",
        updated_by=PAYLOADS[2], referral_check={PAYLOADS[3]: "yes"},
        pupils=[Pupil(name=PAYLOADS[4], year_group=PAYLOADS[5], role="harmed")],
        referrals=[Referral(agency="ceop", reference=PAYLOADS[6], note=PAYLOADS[7])],
        decisions=[Decision(decision=PAYLOADS[0], reason=PAYLOADS[1], by=PAYLOADS[2])],
        transfers=[Transfer(sent_to=PAYLOADS[3], note=PAYLOADS[4])],
        checklist=[ChecklistItem(id="x", text=PAYLOADS[5], state="done", by=PAYLOADS[6], note=PAYLOADS[7])],
        history=[{"seq": 1, "at": "2026-11-10T10:00:00+00:00", "by": PAYLOADS[0], "action": PAYLOADS[1],
                  "note": PAYLOADS[2], "login": PAYLOADS[3],
                  "changes": {"summary": [PAYLOADS[4], PAYLOADS[5]], PAYLOADS[6]: [None, PAYLOADS[7]]},
                  "hash": PAYLOADS[0]}],
    )


def rendered(path) -> str:
    done = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           "--no-first-run", "--virtual-time-budget=3000", f"--user-data-dir={path.parent / 'profile'}",
                           "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "<body" in done.stdout, done.stderr[-2000:]
    return done.stdout


def test_no_script_in_the_html_report_runs_in_a_real_browser(tmp_path):
    incident = hostile_incident()
    pages = {"report.html": (html_report(incident), "Safeguarding incident 2026-0001"),
             "chronology.html": (chronology_html(PAYLOADS[4], pupil_chronology([incident], PAYLOADS[4])),
                                 f"Chronology: {PAYLOADS[4]}")}
    for name, (page, title) in pages.items():
        assert "Content-Security-Policy" in page
        path = tmp_path / name
        path.write_text(page, encoding="utf-8")
        dom = rendered(path)
        titles = re.findall(r"<title>(.*?)</title>", dom, re.S)
        assert titles and html.unescape(titles[0]) == title, titles  # unchanged: no script ran
        assert len(re.findall(r"<script", dom)) == 0, "a payload became a script element"
        assert not re.search(r"<(img|svg|iframe|a|meta http-equiv=\"?refresh)\b", dom, re.I)
        # The payloads are there, as text a reader can see.
        assert "&lt;script&gt;document.title='PWNED'&lt;/script&gt;" in dom


def test_the_check_would_see_a_script_that_ran(tmp_path):
    """The browser does run scripts here, so the test above would catch one that got through."""
    path = tmp_path / "control.html"
    path.write_text("<!DOCTYPE html><html><head><title>before</title></head><body>"
                    "<script>document.title='PWNED'</script></body></html>")
    assert "<title>PWNED</title>" in rendered(path)
