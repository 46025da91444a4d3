"""Textual bindings built from the key registry (kentsafe_tui.keys)."""

from __future__ import annotations

from textual.binding import Binding

from ..keys import KeyAction


def bindings_for(actions: list[KeyAction]) -> list[Binding]:
    return [Binding(",".join(a.keys), a.action, a.footer or a.title, id=a.id, show=bool(a.footer), tooltip=a.meaning,
                    priority=True) for a in actions]
