"""What the app was started with: the store, the guidance, the drafts. Plain data, built by the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rich.text import Text

from .content import Library
from .dates import now_local
from .drafts import Drafts
from .store import Store


@dataclass
class Context:
    """What the app was started with. Plain data, built by the command line."""

    store: Store
    library: Library
    drafts: Drafts
    demo: bool = False
    today: date = field(default_factory=lambda: now_local().date())

    @property
    def db_path(self) -> Path:
        return self.store.path

    @property
    def exports_folder(self) -> Path:
        return self.store.path.parent / "exports"

    def where(self) -> list[tuple[str, str]]:
        folders = [str(folder) for folder in self.library.folders]
        return [
            ("Database", str(self.db_path) + ("  (DEMO: temporary, fictional, deleted on exit)" if self.demo else "")),
            ("Lock file", str(self.db_path) + ".lock"),
            ("Drafts", f"{self.db_path.parent}/.{self.db_path.name}.draft-*.json (unsaved typing, same permissions)"),
            ("Exports", str(self.exports_folder)),
            ("Guidance", " then ".join(folders)),
            ("Acting as", self.store.user + (f" (login {self.store.login})" if self.store.login else "")),
        ]

    def top_line(self) -> Text:
        text = Text()
        if self.demo:
            text.append(" DEMO: fictional records ", style="bold reverse")
            text.append(" ")
        text.append("kentsafe", style="bold")
        # The path goes last: at 80 columns it is what gets shortened, not who you are or where help is.
        text.append(f"  {self.store.user}  ·  F1 help  ·  {self.db_path}")
        return text
