"""What the app writes for a DSL to keep or send: reports, letters, the staff briefing, a pupil's chronology.

Plain Python (the screen only shows the result). Each file goes into the `exports` folder beside the database,
written atomically with the database's own permissions, named by incident and time so nothing is overwritten.
A file that cannot be written is reported, and the text is still returned to be read and copied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .content import Library
from .dates import now_local
from .fileio import WriteFailed, atomic_write, ensure_folder, mode_for
from .model import Incident
from .store import Store


@dataclass
class Output:
    title: str
    text: str
    path: Path | None  # None when it could not be saved (see problem)
    problem: str = ""
    missing_settings: tuple[str, ...] = ()


class Outputs:
    def __init__(self, store: Store, library: Library, clock=now_local):
        self.store, self.library, self._clock = store, library, clock

    @property
    def folder(self) -> Path:
        return self.store.path.parent / "exports"

    def _stamp(self) -> str:
        now: datetime = self._clock()
        return now.strftime("%Y%m%d-%H%M%S")

    def save(self, name: str, text: str) -> tuple[Path | None, str]:
        try:
            ensure_folder(self.folder)
            mode, group = mode_for(self.store.path)
            atomic_write(self.folder / name, text.encode(), mode, group)
        except (OSError, WriteFailed) as problem:
            return None, f"Could not save the file: {problem}. You can still copy it from the window."
        return self.folder / name, ""

    def report(self, incident_id: str) -> Output:
        """The saved record's report, as Markdown (shown) and HTML (beside it)."""
        from .export import html_report, markdown_report

        incident = self.store.get(incident_id)
        stamp = self._stamp()
        markdown = markdown_report(incident, self.library)
        path, problem = self.save(f"{incident.id}-report-{stamp}.md", markdown)
        _, html_problem = self.save(f"{incident.id}-report-{stamp}.html", html_report(incident, self.library))
        title = f"Report {incident.id}" + (" (also saved as HTML beside it)" if path and not html_problem else "")
        return Output(title, markdown, path, problem or html_problem)

    def letter(self, incident: Incident, parent: bool = True) -> Output:
        """The parent letter or the staff briefing for the incident as it is on screen. Raises
        FileNotFoundError when the template is missing."""
        from .letters import parent_letter, staff_briefing

        make = parent_letter if parent else staff_briefing
        text, missing = make(self.library, incident, self.store.settings(), self._clock(), plain=True)
        kind = "parent-letter" if parent else "staff-briefing"
        path, problem = self.save(f"{incident.id or 'new'}-{kind}-{self._stamp()}.txt", text)
        return Output("Parent letter" if parent else "Staff briefing", text, path, problem, tuple(missing))

    def chronology(self, name: str) -> Output | None:
        """Every incident naming the pupil, in the order the concerns arose; None when none does."""
        from .export import chronology_markdown, pupil_chronology

        # Each record decoded once and kept only if it names the pupil (the store holds them lean).
        entries = pupil_chronology(self.store.read_matching(lambda incident: bool(pupil_chronology([incident], name))),
                                   name)
        if not entries:
            return None
        text = chronology_markdown(name.strip(), entries)
        path, problem = self.save(f"chronology-{self._stamp()}.md", text)
        return Output(f"Chronology: {name.strip()}", text, path, problem)
