"""Whatever a DSL does, in whatever order and however fast, the file holds what was typed (issue 9).

A stateful property test in list form: hypothesis draws a sequence of things a DSL does (type into a field,
tick or untick, mark not applicable with a reason, add a note, add and remove a row of each list, save, start
a new incident, open one from the list, quit and answer the question), a plain model turns each into the keys
a DSL presses and says what the file must then hold, and the real app is driven through Pilot with those keys.

Each sequence runs twice on a fresh database:
- step by step, one key at a time (`slowly`), checking after every action that each write to the file so far
  is what the model expects, that the form shows what was typed, and that its tab order is the model's;
- all keys of an app's run queued at once (`burst`), as a laggy SSH link delivers them; then the same writes,
  in the same order, must have reached the file.

Every write (a save, a tick on a saved incident) is caught as the store makes it, and the record is read back
from the file with a fresh store: "after every save the file equals the model". The model is independent of
the app's code: it knows only the form's layout (which field follows which on tab) and the rules a DSL is
told (ctrl+s saves; a tick on a saved incident is saved at once; quit asks when something is unsaved).

Runtime: the hand-written sequence that does everything (EVERYTHING) and two drawn ones, about 1.5 minutes
on a loaded 2-core machine. KENTSAFE_PROPERTY_EXAMPLES=20 draws more (nightly, or when hunting a bug);
KENTSAFE_SHRINK=1 lets hypothesis shrink a failure (slow: every example starts the app several times).
Examples are derandomized, so CI runs the same sequences every time.

Every incident's summary starts with its own tag ("kw3q"), which is how the model finds it in the file and
in the incident list (ctrl+o, type the tag, enter). Typed text never contains k, w or q, so a tag is unique.
"""

from __future__ import annotations

import asyncio
import copy
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from textual.widgets import Input, TextArea

from kentsafe_tui.dates import now_local
from kentsafe_tui.model import Incident
from kentsafe_tui.screens.main import MainScreen

from .app_helpers import WIDE, make_app, make_store, q
from .keys_helpers import burst, settled, slowly

pytestmark = pytest.mark.slow

ROWS = ("pupils", "referrals", "decisions", "transfers")
# Rows per list: two pupils, to type into and remove a row that is not the last; one of each other kind, whose
# fields are further down the form (every tab costs time).
MAX_ROWS = {"pupils": 2, "referrals": 1, "decisions": 1, "transfers": 1}
ITEMS = 4  # the model acts on the first four checklist items
ANSWER_KEYS = {"save": ["s"], "discard": ["tab", "enter"], "cancel": ["escape"]}  # "Discard them" has no key
# Where typing into an existing row goes (the model appends to this field of the row).
ROW_TEXT = {"pupils": "name", "referrals": "reference", "decisions": "reason", "transfers": "sent_to"}
# Each row's focusable widgets, in tab order: the row's Remove button first.
ROW_WIDGETS = {
    "pupils": ("name", "year_group", "role", "date_of_birth"),
    "referrals": ("agency", "at", "reference", "note"),
    "decisions": ("decision", "reason"),
    "transfers": ("sent_to", "sent_at", "acknowledged_at", "note"),
}


# The model ---------------------------------------------------------------------------------------------------
@dataclass
class Rec:
    """What the model tracks of one incident. `stray` is any other text found in the record: typing that
    landed where nobody typed (a year group, a note, a reason for not referring) is never expected."""

    summary: str = ""
    details: str = ""
    pupils: list[str] = field(default_factory=list)  # names
    referrals: list[str] = field(default_factory=list)  # references
    decisions: list[tuple[str, str]] = field(default_factory=list)  # (what was decided, why)
    transfers: list[str] = field(default_factory=list)  # sent to
    checklist: dict[int, tuple[str, str]] = field(default_factory=dict)  # index -> (state, note); else todo, ""
    stray: tuple[str, ...] = ()

    def content(self) -> tuple:
        """What saving writes (a saved incident's ticks are written at once, so they are never unsaved)."""
        return (self.summary, self.details, self.pupils, self.referrals, self.decisions, self.transfers)

    def rows(self, name: str) -> list:
        return getattr(self, name)


def tracked(incident: Incident) -> Rec:
    """The model's view of a record read from the file."""
    stray = [incident.referral_rationale, incident.parents_note, incident.follow_up, incident.actions,
             incident.outcome]
    stray += [value for p in incident.pupils for value in (p.year_group, p.date_of_birth)]
    stray += [value for r in incident.referrals for value in (r.at, r.note)]
    stray += [value for t in incident.transfers for value in (t.sent_at, t.acknowledged_at, t.note)]
    return Rec(
        summary=incident.summary,
        details=incident.details,
        pupils=[p.name for p in incident.pupils],
        referrals=[r.reference for r in incident.referrals],
        decisions=[(d.decision, d.reason) for d in incident.decisions],
        transfers=[t.sent_to for t in incident.transfers],
        checklist={i: (item.state, item.note) for i, item in enumerate(incident.checklist)
                   if (item.state, item.note) != ("todo", "")},
        stray=tuple(value for value in stray if value),
    )


def focus_order(rec: Rec) -> list[str]:
    """The form's widgets in tab order, by id, for a record with these rows."""
    order = ["f-summary", "f-concern_at", "f-category", "f-scope", "f-status", "f-details"]

    def rows(name: str) -> list[str]:
        ids = []
        for index in range(len(rec.rows(name))):
            ids += [f"remove-{name}-{index}"] + [f"{name}-{index}-{part}" for part in ROW_WIDGETS[name]]
        return ids + [f"add-{name}", f"quick-{name}"]

    order += rows("pupils") + ["f-referral_decision", "f-referral_rationale"]
    order += rows("referrals") + ["f-parents_informed", "f-parents_note", "f-follow_up", "f-actions"]
    order += rows("decisions") + ["f-outcome"]
    order += rows("transfers")
    return order


@dataclass
class Step:
    op: tuple
    keys: list[str]
    writes: int  # how many writes to the file the model expects once this step is done
    running: bool  # the app is still running after it
    shown: Rec  # what the form should show after it


@dataclass
class Plan:
    segments: list[list[Step]]  # one list of steps per run of the app (a quit ends a run; the next starts)
    writes: list[tuple[str, Rec]]  # every write the file must see, in order: (how, the record after it)
    saved: dict[str, Rec]  # tag -> what the file holds at the end


class Model:
    def __init__(self) -> None:
        self.saved: dict[str, Rec] = {}
        self.writes: list[tuple[str, Rec]] = []
        self.next_tag = 1
        self.segments: list[list[Step]] = []
        self.current = Rec()
        self.tag = ""
        self.is_new = True

    # Building the plan --------------------------------------------------------------------------------------
    def plan(self, ops: list[tuple]) -> Plan:
        self._start_app()
        for op in ops:
            if not self.segments[-1] or self.segments[-1][-1].running:
                keys = self._keys_for(op)
            else:  # the app quit: the next action starts it again
                self._start_app()
                keys = self._keys_for(op)
            if keys is not None:
                self._step(op, keys)
        return Plan(self.segments, self.writes, copy.deepcopy(self.saved))

    def _step(self, op: tuple, keys: list[str], running: bool = True) -> None:
        self.segments[-1].append(Step(op, keys, len(self.writes), running, copy.deepcopy(self.current)))

    def _start_app(self) -> None:
        """kentsafe starts on a new incident with the cursor in Summary: the DSL types its tag first."""
        self.segments.append([])
        keys = self._begin_new()
        self._step(("start",), keys)

    def _begin_new(self) -> list[str]:
        self.tag = f"kw{self.next_tag}q"
        self.next_tag += 1
        self.current, self.is_new = Rec(summary=self.tag), True
        return [f"text:{self.tag}"]

    @property
    def dirty(self) -> bool:
        return self.is_new or self.current.content() != self.saved[self.tag].content()

    def _go(self, widget_id: str) -> list[str]:
        """F3 puts the cursor at the end of Summary, and tab moves on from there; the checklist (F4) follows
        the form's last button, so shift+tab from it reaches the bottom of the form sooner."""
        order = focus_order(self.current)
        forward = order.index(widget_id)
        backward = len(order) - forward
        return ["f3"] + ["tab"] * forward if forward <= backward else ["f4"] + ["shift+tab"] * backward

    def _save(self) -> None:
        self.writes.append(("create" if self.is_new else "save", copy.deepcopy(self.current)))
        self.is_new = False
        self.saved[self.tag] = copy.deepcopy(self.current)

    def _keys_for(self, op: tuple) -> list[str] | None:
        """The keys for one action, with the model moved on; None when the action makes no sense now."""
        kind, *args = op
        return getattr(self, f"_{kind}")(*args)

    def _type(self, where: str, index: int, text: str, newline: bool) -> list[str] | None:
        rec = self.current
        if where == "summary":
            rec.summary += text
            return self._go("f-summary") + [f"text:{text}"]
        if where == "details":
            # Entering "What happened" puts the cursor at the end of its text.
            keys = self._go("f-details") + (["enter"] if newline and rec.details else []) + [f"text:{text}"]
            rec.details += ("\n" if newline and rec.details else "") + text
            return keys
        rows = rec.rows(where)
        if not rows:
            return None
        index %= len(rows)
        keys = self._go(f"{where}-{index}-{ROW_TEXT[where]}") + ["end", f"text:{text}"]
        if where == "decisions":
            rows[index] = (rows[index][0], rows[index][1] + text)
        else:
            rows[index] += text
        return keys

    def _add(self, name: str, first: str, second: str) -> list[str] | None:
        rows = self.current.rows(name)
        if len(rows) >= MAX_ROWS[name]:
            return None
        keys = self._go(f"add-{name}") + ["enter"]  # the cursor lands in the new row's first text field
        if name == "pupils":
            keys += [f"text:{first}"]
            rows.append(first)
        elif name == "referrals":
            keys += ["tab", f"text:{first}"]  # from "When" to "Reference number"
            rows.append(first)
        elif name == "decisions":
            keys += [f"text:{first}", "tab", f"text:{second}"]
            rows.append((first, second))
        else:
            keys += [f"text:{first}"]
            rows.append(first)
        return keys

    def _remove(self, name: str, index: int) -> list[str] | None:
        rows = self.current.rows(name)
        if not rows:
            return None
        index %= len(rows)
        keys = self._go(f"remove-{name}-{index}") + ["enter", "tab", "enter"]  # "Keep it" is first: tab to Remove
        del rows[index]
        return keys

    def _item(self, index: int, keys: list[str], state: str, note: str) -> list[str]:
        self.current.checklist[index] = (state, note)
        if (state, note) == ("todo", ""):
            del self.current.checklist[index]
        if not self.is_new:  # written at once, with the rest of the record as last saved
            self.saved[self.tag].checklist = copy.deepcopy(self.current.checklist)
            self.writes.append(("set_item", copy.deepcopy(self.saved[self.tag])))
        return ["f4", "home"] + ["down"] * index + keys

    def _tick(self, index: int) -> list[str]:
        state, note = self.current.checklist.get(index, ("todo", ""))
        return self._item(index, ["space"], "done" if state == "todo" else "todo", note)

    def _na(self, index: int, reason: str) -> list[str]:
        state, note = self.current.checklist.get(index, ("todo", ""))
        # The reason asked for starts from the reason given before, if the item is already not applicable.
        return self._item(index, ["n", f"text:{reason}", "enter"], "not_applicable",
                          (note if state == "not_applicable" else "") + reason)

    def _note(self, index: int, text: str) -> list[str]:
        state, note = self.current.checklist.get(index, ("todo", ""))
        return self._item(index, ["e", f"text:{text}", "enter"], state, note + text)

    def _save_key(self) -> list[str]:
        self._save()
        return ["ctrl+s"]

    def _ask(self, first: str, answer: str) -> tuple[list[str], bool]:
        """A key that asks first when something is unsaved. Returns the keys and whether it goes ahead."""
        if not self.dirty:
            return [first], True
        if answer == "save":
            self._save()
        return [first] + ANSWER_KEYS[answer], answer != "cancel"

    def _new(self, answer: str) -> list[str]:
        keys, ahead = self._ask("ctrl+n", answer)
        return keys + (self._begin_new() if ahead else [])

    def _open(self, which: int, answer: str) -> list[str] | None:
        if not self.saved and not (self.dirty and answer == "save"):
            return None  # nothing in the list to open
        keys, ahead = self._ask("ctrl+o", answer)
        if ahead:
            tags = sorted(self.saved, key=lambda tag: int(tag[2:-1]))
            target = tags[which % len(tags)]
            keys += [f"text:{target}", "enter"]
            self.tag, self.is_new = target, False
            self.current = copy.deepcopy(self.saved[target])
        return keys

    def _quit(self, answer: str) -> None:
        keys, ahead = self._ask("ctrl+q", answer)
        self._step(("quit", answer), keys, running=not ahead)
        return None  # the step is recorded above, with whether the app is still running


# The actions hypothesis draws ---------------------------------------------------------------------------------
# Letters (never k, w or q: see the module docstring), digits and spaces: keys Pilot can send as typed.
word = st.text("abcdefghijlmnoprstuvxyz0123456789", min_size=1, max_size=4)
chunk = st.builds(lambda space, text: (" " if space else "") + text, st.booleans(), word)
answers = st.sampled_from(["save", "discard", "cancel"])
index = st.integers(0, ITEMS - 1)
action = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(ROWS), word, word),
    st.tuples(st.just("type"), st.sampled_from(("summary", "details", *ROWS)), index, chunk, st.booleans()),
    st.tuples(st.just("tick"), index),
    st.tuples(st.just("na"), index, word),
    st.tuples(st.just("note"), index, chunk),
    st.tuples(st.just("remove"), st.sampled_from(ROWS), index),
    st.just(("save_key",)),
    st.tuples(st.just("new"), answers),
    st.tuples(st.just("open"), index, answers),
    st.tuples(st.just("quit"), answers),
)


def with_saves(drawn: list[tuple[tuple, bool]]) -> list[tuple]:
    """Each drawn action, followed by ctrl+s unless drawn otherwise: saves are what the file is checked at.
    (Hypothesis starts from the simplest example, all False: adding rows and saving each time.)"""
    return [step for act, unsaved in drawn for step in ([act] if unsaved else [act, ("save_key",)])]


EVERYTHING = [  # every action and every answer at least once, in one sequence
    ("add", "pupils", "sam", ""), ("tick", 0), ("type", "summary", 0, " one", False),
    ("add", "decisions", "call", "why"), ("save_key",), ("tick", 1), ("type", "details", 0, "told", False),
    ("na", 2, "nope"), ("note", 1, " rang"), ("add", "referrals", "r1", ""), ("add", "pupils", "jo", ""),
    ("remove", "pupils", 0), ("type", "pupils", 0, "e", False), ("new", "cancel"), ("new", "save"),
    ("add", "transfers", "oak", ""), ("open", 0, "discard"), ("remove", "decisions", 0), ("quit", "cancel"),
    ("type", "details", 0, "more", True), ("quit", "save"), ("quit", "discard"), ("tick", 3), ("quit", "save"),
]


# Running a plan against the app --------------------------------------------------------------------------------
class FileWatch:
    """Every write the app makes through its store, with the record as a fresh store then reads it back."""

    def __init__(self, db_path: Path, library) -> None:
        self.db_path, self.library = db_path, library
        self.writes: list[tuple[str, Rec]] = []

    def watch(self, store) -> None:
        for name in ("create", "save", "set_item"):
            original = getattr(store, name)

            def written(*args, _original=original, _name=name, **kwargs):
                result = _original(*args, **kwargs)
                reader = make_store(self.db_path, self.library, now_local)
                try:
                    self.writes.append((_name, tracked(reader.get(result.id))))
                finally:
                    reader.close()
                return result

            setattr(store, name, written)


def in_file(db_path: Path, library) -> dict[str, Rec]:
    if not db_path.exists():
        return {}
    store = make_store(db_path, library, now_local)
    try:
        return {re.match(r"kw\d+q", row.summary).group(): tracked(store.get(row.id))  # type: ignore[union-attr]
                for row in store.summaries()}
    finally:
        store.close()


def describe(step: Step, number: int) -> str:
    return f"after action {number} {step.op} (keys {step.keys})"


def check_writes(watch: FileWatch, plan: Plan, count: int, where: str) -> None:
    got = watch.writes
    expected = plan.writes[:count]
    for number, (want, have) in enumerate(zip(expected, got), 1):
        assert have == want, f"{where}: write {number} to the file differs from the model"
    assert len(got) == len(expected), (
        f"{where}: the file was written {len(got)} times, the model expects {len(expected)}: "
        f"{[how for how, _ in got]} vs {[how for how, _ in expected]}")


def check_form(app, step: Step, where: str) -> None:
    """The form shows what was typed, and its tab order is the one the model navigates by."""
    assert isinstance(app.screen, MainScreen), f"{where}: {app.screen} is on top, not the form"
    rec = step.shown
    assert q(app, "#f-summary", Input).value == rec.summary, where
    assert q(app, "#f-details", TextArea).text == rec.details, where
    for name in ROWS:
        shown = [field.value for field in app.screen.query(f"#rows-{name} Input").results(Input)
                 if (field.id or "").endswith(("-name", "-reference", "-decision", "-reason", "-sent_to"))]
        wanted = [part for row in rec.rows(name) for part in (row if isinstance(row, tuple) else (row,))]
        assert shown == wanted, f"{where}: {name} rows"
    form = app.screen.form
    chain = [widget.id for widget in app.screen.focus_chain if form in widget.ancestors]
    assert chain == focus_order(rec), f"{where}: the form's tab order is not the model's"


async def until_ready(pilot) -> None:
    app = pilot.app
    for _ in range(500):
        if isinstance(app.screen, MainScreen) and app.screen.form.rest_mounted:
            return
        await pilot.pause()
    raise AssertionError(f"the form never became ready; {app.screen} is on top")


async def until_quit(pilot) -> None:
    for _ in range(500):
        if pilot.app.return_code is not None:
            return
        await pilot.pause()


async def run_plan(plan: Plan, folder: Path, library, how: str) -> dict[str, Rec]:
    db_path = folder / "records.json"
    watch = FileWatch(db_path, library)
    for run, steps in enumerate(plan.segments, 1):
        store = make_store(db_path, library, now_local)
        watch.watch(store)
        app = make_app(store, library)
        async with app.run_test(size=WIDE) as pilot:
            await until_ready(pilot)
            if how == "step":
                for number, step in enumerate(steps, 1):
                    where = f"{how}, run {run}, {describe(step, number)}"
                    await slowly(pilot, step.keys)
                    check_writes(watch, plan, step.writes, where)
                    if step.running:
                        assert app.return_code is None, f"{where}: the app quit without asking"
                        check_form(app, step, where)
            else:
                await burst(pilot, [key for step in steps for key in step.keys])
                await settled(pilot)
                where = f"{how}, run {run}, after all {len(steps)} actions of the run"
                if steps[-1].running:
                    check_writes(watch, plan, steps[-1].writes, where)
                    assert app.return_code is None, f"{where}: the app quit without asking"
                    check_form(app, steps[-1], where)
            if not steps[-1].running:
                await until_quit(pilot)
        where = f"{how}, run {run}"
        check_writes(watch, plan, steps[-1].writes, where)
        assert (app.return_code == 0) == (not steps[-1].running), f"{where}: quit ({app.return_code})"
    return in_file(db_path, library)


def run_both(ops: list[tuple], folder: Path, library) -> None:
    plan = Model().plan(ops)
    for how in ("step", "burst"):
        got = asyncio.run(run_plan(plan, folder / how, library, how))
        assert got == plan.saved, f"{how}: the file at the end is not what the model saved"


MAX_EXAMPLES = int(os.environ.get("KENTSAFE_PROPERTY_EXAMPLES", "2"))


@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=(Phase.explicit, Phase.generate) + ((Phase.shrink,) if os.environ.get("KENTSAFE_SHRINK") else ()),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(ops=st.lists(st.tuples(action, st.booleans()), min_size=3, max_size=6).map(with_saves))
@example(ops=EVERYTHING)
def test_the_file_holds_what_was_typed_step_by_step_and_in_a_burst(ops, tmp_path_factory, library):
    run_both(ops, tmp_path_factory.mktemp("property"), library)
