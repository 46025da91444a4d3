"""The store against a plain dict: whatever sequence of saves, edits, ticks and reopenings, they agree."""

import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kentsafe_tui.content import Library
from kentsafe_tui.model import Incident, ValidationError, clean_text
from kentsafe_tui.store import Store
from kentsafe_tui.text import visible

LIBRARY = Library.default()
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


class StoreMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="kentsafe-prop-"))
        self.now = datetime(2026, 11, 28, 9, 0).astimezone()
        self.store = self._open("Alice")
        self.model: dict[str, dict] = {}

    def _open(self, user):
        return Store(self.folder / "records.json", user=user, checklist_for=LIBRARY.checklist_for,
                     clock=lambda: self.now)

    def teardown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    @rule(summary=text)
    def create(self, summary):
        self.now += timedelta(seconds=7)
        cleaned = clean_text(summary)
        try:
            saved = self.store.create(Incident(summary=summary))
        except ValidationError:
            assert not visible(cleaned) or "\n" in cleaned  # nothing visible counts as empty (issue 10)
            return
        assert visible(cleaned) and "\n" not in cleaned
        assert saved.id not in self.model
        self.model[saved.id] = {"summary": cleaned, "details": "",
                                "states": {item.id: "todo" for item in saved.checklist}}

    @precondition(lambda self: self.model)
    @rule(data=st.data(), details=text)
    def edit(self, data, details):
        incident_id = data.draw(st.sampled_from(sorted(self.model)))
        self.now += timedelta(seconds=3)
        base = self.store.get(incident_id)
        edited = Incident.from_dict(base.to_dict())
        edited.details = details
        self.store.save(edited, base)
        self.model[incident_id]["details"] = clean_text(details)

    @precondition(lambda self: self.model)
    @rule(data=st.data(), done=st.booleans())
    def tick(self, data, done):
        incident_id = data.draw(st.sampled_from(sorted(self.model)))
        item = data.draw(st.sampled_from(sorted(self.model[incident_id]["states"])))
        self.now += timedelta(seconds=1)
        self.store.set_item(incident_id, item, "done" if done else "todo",
                            base_rev=self.store.get(incident_id).rev)
        self.model[incident_id]["states"][item] = "done" if done else "todo"

    @rule(user=st.sampled_from(["Alice", "Bob", "Carol"]))
    def another_dsl_opens_the_file(self, user):
        self.store = self._open(user)

    @invariant()
    def agrees_with_the_model(self):
        rows = self.store.summaries()
        assert sorted(row.id for row in rows) == sorted(self.model)
        for incident_id, expected in self.model.items():
            incident = self.store.get(incident_id)
            assert incident.summary == expected["summary"]
            assert incident.details == expected["details"]
            assert {item.id: item.state for item in incident.checklist} == expected["states"]

    @invariant()
    def verifies(self):
        if self.store.path.exists():  # before the first save there is no database to verify
            assert self.store.verify() == []


StoreMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=12, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestStore = StoreMachine.TestCase
