"""Textual's footer, made again only when the keys it shows change.

Textual's Footer removes and mounts all its keys, and lays out the screen again, whenever the screen says its
bindings may have changed: on every move of the focus, a dialog opening or closing, a save. Mostly they have
not (tab from one field to the next shows the same keys), and that work delayed the frame a key was waiting for.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class SteadyFooter(Footer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._showing: tuple | None = None

    def compose(self):
        # The keys from the first frame: Textual's footer waits for the screen's first word on its bindings, and
        # composing them then laid out the whole screen again just after the first frame, as the DSL's first
        # key waited. Should the keys differ once the focus is placed, that word makes them again.
        self._bindings_ready = True
        self._showing = self.shown_keys()
        yield from super().compose()

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    def shown_keys(self) -> tuple:
        """What compose would show: each binding shown, its key, label, whether it can be used, its tooltip."""
        return tuple((binding.key, binding.action, binding.description, enabled, tooltip)
                     for _, binding, enabled, tooltip in self.screen.active_bindings.values() if binding.show)

    async def _recompose_if_changed(self) -> None:
        if not self.is_attached:
            return
        shown = self.shown_keys()
        if shown != self._showing:
            self._showing = shown
            await self.recompose()
