"""The keystroke benchmark's cases (benchmarks/flows.py, issue 13) make exactly the record they mean, in a real
terminal, typed slowly and in one burst.

Each case is typed into the installed `kentsafe` in its own tmux server, on a fresh database, twice: slow (a key
at a time, each after the screen has settled) and burst (every key of the case in one write, as a laggy SSH line
delivers them). The record saved is read back with `kentsafe show ID --json` and must equal the expected record
field by field; only the id, the creation and update times, the moments stamped on ticks and decisions and the
history may differ. The report and the letter must be in `exports/`.

tmux is needed: without it these tests fail rather than skip (CI installs it, see .ci/run). Nothing here times
anything; waiting is by polling the screen, with timeouts only against a hang.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from benchmarks.flows import DEFAULTS, USER, Flow, Key, Text, Wait, flows
from benchmarks.keystrokes import Result, compare, key_bytes, run_flow, table

FLOWS = flows()
MODES = ("slow", "burst")


# Without a terminal: the flows are well formed and the checker is not vacuous --------------------------------------
@pytest.mark.parametrize("flow", FLOWS, ids=[flow.name for flow in FLOWS])
def test_flow_is_well_formed(flow: Flow):
    assert flow.steps, "a flow has steps"
    names = [s.name for s in flow.steps]
    assert len(names) == len(set(names)), f"step names repeat: {names}"
    for s in flow.steps:
        assert s.tokens, f"step {s.name!r} has no tokens"
        for token in s.tokens:
            assert isinstance(token, (Text, Key, Wait)), f"{s.name}: {token!r} is not a token"
            if isinstance(token, Key):
                assert key_bytes(token), f"{s.name}: no bytes for {token!r}"
    assert flow.keys == sum(s.keys for s in flow.steps) > 0
    assert set(DEFAULTS) <= set(flow.expected), "the expected record names every editable field"
    assert flow.expected["created_by"] == USER
    printed = table(flow)
    assert f"total ({flow.name})" in printed and str(flow.keys) in printed


def test_counting_keeps_text_apart_and_counts_repeats():
    from benchmarks.flows import step

    s = step("x", Text("hello"), Key("tab", 5), Key("enter"), Wait("Saved"))
    assert (s.keys, s.text_chars) == (6, 5)


def test_the_founding_case_is_the_issues_case():
    founding = next(flow for flow in FLOWS if flow.name == "founding")
    want = founding.expected
    assert len(want["pupils"]) == 3 and len({p["role"] for p in want["pupils"]}) == 3
    assert [r["agency"] for r in want["referrals"]] == ["police_101", "childrens_social_care"]
    assert all(r["reference"] and r["at"] for r in want["referrals"])
    assert len(want["decisions"]) == 1 and want["decisions"][0]["reason"]
    states = [state for state, _ in founding.checklist.values()]
    assert states.count("done") == 7 and states.count("not_applicable") == 1
    assert sum(1 for state, note in founding.checklist.values() if state == "done" and note) == 1
    assert want["status"] == "closed" and want["outcome"]
    assert set(founding.outputs) == {"report", "letter"}


def test_the_nudes_case_answers_the_five_questions():
    nudes = next(flow for flow in FLOWS if flow.name == "nudes")
    want = nudes.expected
    assert want["category"] == "nudes" and len(want["referral_check"]) == 5
    assert want["referral_decision"] == "not_referred" and want["referral_rationale"]
    assert want["status"] == "closed" and want["outcome"]


def _saved_as_expected(flow: Flow) -> dict:
    """A record as `show --json` would print it for this flow, had every key landed."""
    record = {**flow.expected, "id": "2026-0001", "created_at": "x", "updated_at": "x", "updated_by": USER,
              "history": [], "rev": 3, "concern_at": flow.expected.get("concern_at", "x")}
    record["decisions"] = [{**d, "at": "2026-12-01T10:00:00+00:00"} for d in flow.expected["decisions"]]
    record["checklist"] = [{"id": item_id, "text": "", "state": state, "note": note, "by": USER, "at": "t",
                            "source": ""} for item_id, (state, note) in flow.checklist.items()]
    record["checklist"].append({"id": "other-item", "text": "", "state": "todo", "note": "", "by": "", "at": "",
                                "source": ""})
    return record


def _exports(flow: Flow) -> list[str]:
    names = []
    if "report" in flow.outputs:
        names += ["2026-0001-report-20261201-100000.md", "2026-0001-report-20261201-100000.html"]
    if "letter" in flow.outputs:
        names += ["2026-0001-parent-letter-20261201-100001.txt"]
    return names


@pytest.mark.parametrize("flow", FLOWS, ids=[flow.name for flow in FLOWS])
def test_the_checker_finds_each_kind_of_difference(flow: Flow):
    good = _saved_as_expected(flow)
    assert compare(flow, {"2026-0001": good}, _exports(flow)) == []
    wrong_field = {**good, "summary": good["summary"] + "x"}
    assert [line.split(":")[0] for line in compare(flow, {"2026-0001": wrong_field}, _exports(flow))] == ["summary"]
    extra_field = {**good, "mood": "calm"}
    assert len(compare(flow, {"2026-0001": extra_field}, _exports(flow))) == 1
    unticked = {**good, "checklist": [{**item, "state": "done"} if item["id"] == "other-item" else item
                                      for item in good["checklist"]]}
    assert len(compare(flow, {"2026-0001": unticked}, _exports(flow))) == 1
    assert len(compare(flow, {"2026-0001": good, "2026-0002": good}, _exports(flow))) == 1
    assert compare(flow, {}, _exports(flow))
    assert compare(flow, {"2026-0001": good}, _exports(flow) + ["2026-0001-staff-briefing-x.txt"])
    if flow.outputs:
        assert compare(flow, {"2026-0001": good}, [])


# In a real terminal --------------------------------------------------------------------------------------------------
def test_tmux_is_installed():
    """The terminal tests below need tmux; without it they would prove nothing, so this fails (never skips)."""
    assert shutil.which("tmux"), "tmux is not installed: the keystroke flows cannot run (install tmux; .ci/run does)"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[tuple[str, str], Result]:
    """Every flow, slow and burst, each on its own database and tmux server. The slow runs mostly wait for the
    screen, so they go side by side; the bursts go one at a time beside them."""
    assert shutil.which("tmux"), "tmux is not installed: the keystroke flows cannot run"
    folder = tmp_path_factory.mktemp("keystrokes")
    with ThreadPoolExecutor(max_workers=2) as slow_pool, ThreadPoolExecutor(max_workers=1) as burst_pool:
        futures = {(flow.name, mode): (slow_pool if mode == "slow" else burst_pool).submit(
            run_flow, flow, mode, folder / f"{flow.name}-{mode}") for flow in FLOWS for mode in MODES}
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.terminal
@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("flow", FLOWS, ids=[flow.name for flow in FLOWS])
def test_flow_saves_the_expected_record(runs, flow: Flow, mode: str):
    result = runs[(flow.name, mode)]
    lines = [f"problem: {line}" for line in result.problems] + [f"mismatch: {line}" for line in result.mismatches]
    assert not lines, f"{flow.name}, {mode}:\n" + "\n".join(lines)
