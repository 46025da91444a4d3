"""The incident on screen: what it was when opened, what it is now, and getting it safely into the store.

Plain Python, so every rule of editing is tested without a terminal. The session is the one owner of the
record being edited (`edited`): the form posts each edit as a path and a value, and `apply` puts it here.
Saving sends only what changed since `base` (the version opened), so another DSL's changes to other fields
are never undone. Checklist ticks on a saved incident go to the store at once, with who and when; on an
unsaved one they travel with the incident until its first save. When someone else saved in between,
`keep_both` puts their changes and ours together (see kentsafe_tui.merge).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, fields, is_dataclass
from typing import Any

from . import history
from .dates import to_iso
from .merge import merge_field
from .model import ChecklistItem, Decision, Incident, Pupil, Referral, Transfer, clean_incident, validate
from .store import ConflictError, Store, merge_checklist

__all__ = ["EditSession", "ConflictError", "PendingItem"]

CONTENT_FIELDS = [f.name for f in fields(Incident) if f.name not in history.DERIVED]
ROW_KINDS: dict[str, type] = {"pupils": Pupil, "referrals": Referral, "decisions": Decision, "transfers": Transfer}
PLAYBOOK_FIELDS = ("category", "scope", "referral_check")
NOT_REFERRED_DESPITE_YES = "Not referred, although a refer-at-once question is answered yes"


def _plain(incident: Incident, names: list[str]) -> dict[str, Any]:
    """These fields of the record as `to_dict` gives them."""
    def plain(value: Any) -> Any:
        if isinstance(value, list):
            return [asdict(item) if is_dataclass(item) else copy.deepcopy(item) for item in value]
        return copy.deepcopy(value)
    return {name: plain(getattr(incident, name)) for name in names}


class EditRefused(Exception):
    """An edit names a place the record does not have (a row that is no longer there)."""


class PendingItem(Exception):
    """The item only appears once a change of category, scope or referral check is saved."""


class EditSession:
    def __init__(self, store: Store, clock=None):
        self.store = store
        self._clock = clock or store.clock  # one clock for everything stamped, as the store sees time
        self.base: Incident | None = None
        self.origin: Incident = store.new_incident()
        self.edited: Incident = copy.deepcopy(self.origin)

    # What is on screen ---------------------------------------------------------------------------------
    @property
    def is_new(self) -> bool:
        return self.base is None

    def changes(self) -> dict[str, list]:
        """What the user changed since opening (a saved incident's checklist is saved as it is ticked)."""
        delta = history.diff(self.origin.to_dict(), self.edited.to_dict())
        if not self.is_new:
            delta = {k: v for k, v in delta.items() if not k.startswith("checklist")}
        return delta

    @property
    def dirty(self) -> bool:
        """Cheap enough for every key: compares the records field by field, copying nothing."""
        for name in CONTENT_FIELDS:
            if name == "checklist" and not self.is_new:
                continue
            if getattr(self.edited, name) != getattr(self.origin, name):
                return True
        return False

    # Opening -------------------------------------------------------------------------------------------
    def new(self) -> None:
        self.base = None
        self.origin = self.store.new_incident()
        self.edited = copy.deepcopy(self.origin)

    def open(self, incident_id: str) -> None:
        self.base = self.store.get(incident_id)
        self.origin = copy.deepcopy(self.base)
        self.edited = copy.deepcopy(self.base)

    def restore(self, edited: dict, base: dict | None) -> None:
        """Bring back a draft: the version it was opened at, and what had been typed."""
        self.base = Incident.from_dict(base) if base else None
        self.origin = copy.deepcopy(self.base) if self.base else self.store.new_incident()
        self.edited = Incident.from_dict(edited)

    # Editing -------------------------------------------------------------------------------------------
    def apply(self, path: str, value) -> bool:
        """Put one edit from the form into the record: "summary", "pupils.0.name", "referral_check.q1" (None
        removes an answer). Returns True when the playbook (the checklist) should follow it."""
        parts = path.split(".")
        name = parts[0]
        if name == "referral_check" and len(parts) == 2:
            answers = dict(self.edited.referral_check)
            if value is None:
                answers.pop(parts[1], None)
            else:
                answers[parts[1]] = value
            self.edited.referral_check = answers
        elif name in ROW_KINDS and len(parts) == 3:
            rows = getattr(self.edited, name)
            index = int(parts[1])
            if not 0 <= index < len(rows) or not hasattr(rows[index], parts[2]):
                raise EditRefused(f"{name} row {index + 1} is not there any more")
            setattr(rows[index], parts[2], value)
        elif len(parts) == 1 and name in CONTENT_FIELDS and name not in ROW_KINDS and name != "checklist":
            setattr(self.edited, name, value)
        else:
            raise EditRefused(f"the form has no field {path!r}")
        return name in PLAYBOOK_FIELDS

    def add_row(self, name: str, row=None) -> list:
        """An empty row, or one a quick-entry line made (copied: the record holds its own)."""
        rows = getattr(self.edited, name)
        if row is not None and not isinstance(row, ROW_KINDS[name]):
            raise EditRefused(f"a {type(row).__name__} is not a row of {name}")
        rows.append(copy.deepcopy(row) if row is not None else ROW_KINDS[name]())
        return rows

    def remove_row(self, name: str, index: int) -> list:
        rows = getattr(self.edited, name)
        if 0 <= index < len(rows):
            del rows[index]
        return rows

    def reopen(self, status: str, reason: str) -> None:
        """Reopening a closed record needs its reason, recorded as a decision."""
        self.edited.decisions.append(Decision(decision="Reopened", reason=reason))
        self.stamp_decision(len(self.edited.decisions) - 1)
        self.edited.status = status

    def take_their_checklist(self, latest: Incident) -> None:
        """A tick clashed with another DSL's: show their checklist; typed fields stay as they are."""
        if not self.dirty:
            self.base = latest
            self.origin = copy.deepcopy(latest)
        elif self.base is not None:
            self.base.checklist = copy.deepcopy(latest.checklist)
        self.edited.checklist = copy.deepcopy(latest.checklist)

    def refer_now_not_referred(self) -> bool:
        """A yes to a refer-at-once question, a decision not to refer, and no recorded reason for that yet."""
        incident = self.edited
        return incident.refer_now() and incident.referral_decision == "not_referred" and not any(
            d.decision == NOT_REFERRED_DESPITE_YES for d in incident.decisions)

    def confirm_not_referring(self, reason: str) -> None:
        """The DSL's explicit decision not to refer despite a yes, with its reason, stamped who and when."""
        self.edited.decisions.append(Decision(decision=NOT_REFERRED_DESPITE_YES, reason=reason.strip()))
        self.stamp_decision(len(self.edited.decisions) - 1)

    def follow_playbook(self) -> None:
        """Keep the checklist on screen in step with category, scope and the referral check."""
        wanted = self.store.checklist_for(self.edited.category, self.edited.scope, self.edited.refer_now())
        current = self.edited.checklist if self.is_new else self.base.checklist  # type: ignore[union-attr]
        self.edited.checklist = merge_checklist(copy.deepcopy(current), wanted)

    def pending_items(self) -> set[str]:
        """Items shown because of an unsaved change; they can be ticked once it is saved."""
        if self.is_new:
            return set()
        saved = {item.id for item in self.base.checklist}  # type: ignore[union-attr]
        return {item.id for item in self.edited.checklist if item.id not in saved}

    # Saving --------------------------------------------------------------------------------------------
    def check(self) -> None:
        """The record's own rules, as saving will apply them. Raises ValidationError."""
        validate(clean_incident(self.edited), self._clock())

    def save(self, amend: bool = False) -> Incident:
        """Create or save, in one step. Raises ValidationError, ConflictError, StoreError; on any of them
        nothing on screen is lost."""
        taken = self.snapshot()
        return self.saved(taken, self.write(taken, amend))

    # The screen saves in three steps, so that typing goes on while the file is written: `snapshot` (what is
    # on screen now), `write` (in a thread; it reads neither `edited` nor `origin`, which the typing changes)
    # and `saved` (back on the screen's thread, once every key typed meanwhile has been applied).
    def snapshot(self) -> Incident:
        """What a save started now writes: the record as typed so far, a copy of its own."""
        return self.edited.editable_copy()

    def write(self, taken: Incident, amend: bool = False) -> Incident:
        if self.is_new:
            return self.store.create(copy.deepcopy(taken))
        assert self.base is not None
        edited = copy.deepcopy(taken)
        edited.checklist = copy.deepcopy(self.base.checklist)  # ticks are already saved one by one
        return self.store.save(edited, self.base, amend=amend)

    def saved(self, taken: Incident, saved: Incident) -> Incident:
        """The saved version is the new starting point; whatever was typed after `taken` is put on top of it,
        unsaved, so no key typed during the save is lost or counted as saved.

        On the screen's thread, as the DSL types on: only the fields typed in are made plain data (the whole
        record, its history too, took 10 ms of a key's time)."""
        typed = [name for name in CONTENT_FIELDS if getattr(taken, name) != getattr(self.edited, name)]
        changes = history.diff(_plain(taken, typed), _plain(self.edited, typed)) if typed else {}
        self._now_saved(saved)
        if changes:
            data = _plain(saved, typed)
            history.apply(data, changes)
            rebuilt = Incident.from_dict(data)
            for name in typed:
                setattr(self.edited, name, getattr(rebuilt, name))
        return saved

    def reload(self) -> None:
        """Drop what was typed and show the newest saved version."""
        assert self.base is not None
        self.open(self.base.id)

    def keep_both(self, conflict: ConflictError) -> list[str]:
        """Someone else saved since we opened: start again from their version with our changes put on top,
        merged so that nothing of theirs is removed (see kentsafe_tui.merge). Returns the fields where both
        changed the same lines: the form then holds both texts for the DSL to put right before saving."""
        latest = conflict.latest
        by = str(conflict.theirs[-1].get("by") or "another DSL")
        mine = self.changes()
        origin, theirs, typed = self.origin.to_dict(), latest.to_dict(), self.edited.to_dict()
        data = copy.deepcopy(theirs)
        both = []
        for key in sorted({k.split(".")[0] for k in mine}):
            if key == "checklist" or key not in theirs:
                continue  # ticks were saved one by one as they were made
            data[key], clash = merge_field(origin.get(key), typed.get(key), theirs.get(key), by)
            if clash:
                both.append(key)
        self.base = latest
        self.origin = copy.deepcopy(latest)
        self.edited = Incident.from_dict(data)
        return sorted(both)

    def _now_saved(self, saved: Incident) -> None:
        self.base = saved
        self.origin = saved.editable_copy()
        self.edited = saved.editable_copy()

    # The checklist -------------------------------------------------------------------------------------
    def set_item(self, item_id: str, state: str, note: str | None = None) -> Incident | None:
        """Tick, untick or mark not applicable. Returns the saved incident, or None when kept with a new one."""
        if self.is_new:
            self._set_local(item_id, state, note)
            return None
        if item_id in self.pending_items():
            raise PendingItem("save first (ctrl+s): this item comes with the change you have not saved yet")
        assert self.base is not None
        saved = self.store.set_item(self.base.id, item_id, state, note, base_rev=self.base.rev)
        if saved.rev == self.base.rev + 1 or not self.dirty:
            # Only our tick happened since we opened it (or nothing is typed that could clash): the saved
            # version is the new starting point, and the form shows it.
            typed = self.changes()
            self.base, self.origin = saved, copy.deepcopy(saved)
            data = saved.to_dict()
            history.apply(data, typed)
            self.edited = Incident.from_dict(data)
        else:
            # Someone else saved in between and there is typing: keep the old base, so that saving the
            # form meets their change as a conflict instead of undoing it.
            self.base.checklist = copy.deepcopy(saved.checklist)
            self.edited.checklist = copy.deepcopy(saved.checklist)
        if self.pending_items() or self.edited.refer_now() != saved.refer_now():
            self.follow_playbook()
        return saved

    def _set_local(self, item_id: str, state: str, note: str | None) -> None:
        for index, item in enumerate(self.edited.checklist):
            if item.id == item_id:
                updated: ChecklistItem = copy.copy(item)
                if note is not None:
                    updated.note = note
                if state != item.state:
                    updated.state, updated.at, updated.by = state, to_iso(self._clock()), self.store.user
                self.edited.checklist[index] = updated
                return
        raise KeyError(item_id)

    def stamp_decision(self, index: int) -> None:
        """A decision added on screen gets who and when at once."""
        decision = self.edited.decisions[index]
        if not decision.at:
            decision.at = to_iso(self._clock())
        if not decision.by:
            decision.by = self.store.user

