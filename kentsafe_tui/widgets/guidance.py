"""The guidance pane: the content's Markdown rendered inline, as one scrolling widget.

Textual's Markdown widget mounts a widget per block (about 10 ms each here, seconds for a long document), and
even a Static per section is rendered again at every layout pass just to learn its height. This pane renders
the document once per width with Rich's Markdown renderer (built on the same markdown-it parser) into lines
it keeps, noting the line where each section starts, so every heading can still be jumped to. Links are
listed with `l`: a link to another document opens it here; a web address is copied to the clipboard (OSC 52,
which reaches the DSL's own computer over SSH) and never opened on the server.
"""

from __future__ import annotations

import re
from datetime import date

from rich.console import RenderableType
from rich.markdown import Markdown
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from rich.theme import Theme
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..content import Document, Library, documents_in_reading_order

_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)")
# Rich's default Markdown colours put headings in magenta and red: guidance should read calm, not alarming.
CALM = Theme({
    "markdown.h1": "bold", "markdown.h1.border": "dim", "markdown.h2": "bold underline", "markdown.h3": "bold",
    "markdown.h4": "bold italic", "markdown.h5": "italic", "markdown.link": "underline",
    "markdown.link_url": "underline", "markdown.item.bullet": "bold", "markdown.code": "bold",
    "markdown.block_quote": "italic",
})


def for_display(markdown: str) -> str:
    """Web links show their address; links to other documents are marked, to be followed with `l`;
    template placeholders show as ‹school name›."""

    def replace(match: re.Match) -> str:
        words, target = match.group(1), match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
            if target.startswith("mailto:"):
                return f"{words} ({target[7:]})"
            return f"{words} <{target}>" if words.strip() != target else f"<{target}>"
        return f"**{words}** ›"

    shown = _LINK.sub(replace, markdown)
    # A template's slots read as slots; the filled letter comes from f8 or `kentsafe letter`.
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: "‹" + m.group(1).replace("_", " ") + "›", shown)


class GuidancePane(ScrollView, can_focus=True):
    """See the module docstring."""

    BINDINGS = [
        Binding("l", "links", "Links", id="guidance.links", tooltip="Follow a link, or copy a web address"),
        # The footer has room for two at 80 columns; the pane's border lists them all.
        Binding("h", "headings", "Headings", id="guidance.headings", tooltip="Jump to a section", show=False),
        Binding("d", "documents", "Docs", id="guidance.documents", tooltip="Open another document", show=False),
        Binding("slash", "search", "Search", id="guidance.search", tooltip="Search contacts and guidance"),
        Binding("b", "back", "Back", id="guidance.back", tooltip="Back to the previous document", show=False),
        Binding("right_square_bracket", "next_section", "Next section", show=False),
        Binding("left_square_bracket", "previous_section", "Previous section", show=False),
    ]

    class CopyRequested(Message):
        def __init__(self, url: str) -> None:
            super().__init__()
            self.url = url

    def __init__(self, library: Library, today: date, **kwargs) -> None:
        super().__init__(**kwargs)
        self.library = library
        self.today = today
        self.document: Document | None = None
        self.anchor = ""
        self._parts: list[tuple[str, RenderableType]] = []  # (anchor, what to draw), in order
        self._sections: dict[str, int] = {}  # anchor -> first line, at the width last drawn
        self._lines: list[Strip] = []
        self._drawn_width = -1
        self._drawn_parts = 0
        self._trail: list[tuple[str, str]] = []
        self._line_style = Style()

    def on_mount(self) -> None:
        self.border_subtitle = "l links · h headings · d documents · / search · b back"

    # Showing ------------------------------------------------------------------------------------------
    def show(self, slug: str, anchor: str = "", remember: bool = True) -> bool:
        document = self.library.get(slug)
        if document is None:
            self.app.notify(f"There is no guidance document called {slug}.", severity="warning", markup=False)
            return False
        if self.document is None or document.slug != self.document.slug:
            if remember and self.document is not None:
                self._trail.append((self.document.slug, self.anchor))
            self._render_document(document)
        self.anchor = anchor
        self.call_after_refresh(self._scroll_to_anchor, anchor)
        return True

    def _render_document(self, document: Document) -> None:
        self.document = document
        self.border_title = f"Guidance: {document.title}"
        parts: list[tuple[str, RenderableType]] = [("", self._review_line(document))]
        lines = document.display_markdown().splitlines()
        starts = [(section.line, section.anchor) for section in document.sections]
        if not starts or starts[0][0] > 0:
            starts.insert(0, (0, ""))
        for index, (line, anchor) in enumerate(starts):
            end = starts[index + 1][0] if index + 1 < len(starts) else len(lines)
            text = "\n".join(lines[line:end]).strip()
            if text:
                parts.append((anchor, Markdown(for_display(text), hyperlinks=True)))
        if document.sources:
            cited = Text("Sources\n", style="bold")
            for source in document.sources:
                cited.append(f"• {source.title}" + (f"\n  {source.url}" if source.url else "") + "\n")
            parts.append(("", cited))
        self._parts = parts
        self._drawn_width = -1
        self.scroll_to(0, 0, animate=False)
        self._draw()

    def _draw(self, whole: bool = False) -> None:
        """Render the parts at the current width, once; layout and scrolling then only read lines.

        Only enough to fill the pane is drawn at first, and the rest once the keyboard is quiet; `whole`
        draws everything now (to find a section further down).
        """
        width = self.scrollable_content_region.width
        if width <= 0:
            return
        if width != self._drawn_width:
            self._lines, self._sections, self._drawn_width, self._drawn_parts = [], {}, width, 0
        if self._drawn_parts >= len(self._parts):
            return
        console = self.app.console
        options = console.options.update_width(width)
        wanted = self.scrollable_content_region.height + self.scroll_offset.y + 10
        with console.use_theme(CALM):
            for anchor, renderable in self._parts[self._drawn_parts:]:
                if not whole and len(self._lines) > wanted:
                    self._draw_rest_later()
                    break
                self._sections.setdefault(anchor, len(self._lines))
                rendered = Segment.split_and_crop_lines(console.render(renderable, options), width, pad=True,
                                                       include_new_lines=False)
                self._lines.extend(Strip(line, width) for line in rendered)
                self._lines.append(Strip.blank(width))
                self._drawn_parts += 1
        self.virtual_size = Size(width, len(self._lines))
        self.refresh()

    def _draw_rest_later(self) -> None:
        # Between keys: drawn straight after the first frame, the rest (18 ms) delayed the DSL's first key.
        # Scrolling or jumping further down draws it at once (render_line, _section_order).
        when_quiet = getattr(self.app, "when_quiet", None)
        if when_quiet is None:
            self.call_after_refresh(self._draw, True)
        else:
            when_quiet(lambda: self._draw(True))

    def draw_all(self) -> None:
        """The whole document drawn now, not at the next pause in the typing."""
        self._draw(True)

    def on_focus(self) -> None:
        self.draw_all()  # the DSL has come to read: End and page down must reach the real end

    def on_resize(self) -> None:
        self._draw()
        self.call_after_refresh(self._scroll_to_anchor, self.anchor)

    def render_lines(self, crop: Region) -> list[Strip]:
        self._line_style = self.rich_style  # once a frame, not once a line: it is worked out from the CSS
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        if self._drawn_width != self.scrollable_content_region.width:
            self._draw()  # what fills the pane now; the rest follows the frame
        if self.scroll_offset.y + y >= len(self._lines) and self._drawn_parts < len(self._parts):
            self._draw(whole=True)
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if 0 <= index < len(self._lines):
            return self._lines[index].crop_extend(0, width, self._line_style)
        return Strip.blank(width, self._line_style)

    def _review_line(self, document: Document) -> Text:
        due, reviewed = document.review_due, document.last_reviewed
        if document.is_stale(self.today) and due is not None:
            return Text(f"⚠ REVIEW OVERDUE: this guidance was due for review on {due:%d %b %Y}. Check its "
                        "sources before relying on it.", style="bold reverse")
        if reviewed and due:
            return Text(f"Reviewed {reviewed:%d %b %Y}; next review {due:%d %b %Y}.", style="dim")
        return Text("No review date recorded.", style="bold")

    def _scroll_to_anchor(self, anchor: str) -> None:
        self._draw(whole=bool(anchor))
        self.scroll_to(y=self._sections.get(anchor, 0) if anchor else 0, animate=False)

    # Navigation ---------------------------------------------------------------------------------------
    def _section_order(self) -> list[str]:
        self._draw(whole=True)
        return [anchor for anchor in self._sections]

    def action_next_section(self) -> None:
        order = self._section_order()
        if self.anchor in order and order.index(self.anchor) + 1 < len(order):
            self.show(self.document.slug, order[order.index(self.anchor) + 1])  # type: ignore[union-attr]
        elif order:
            self.show(self.document.slug, order[min(1, len(order) - 1)])  # type: ignore[union-attr]

    def action_previous_section(self) -> None:
        order = self._section_order()
        if self.anchor in order and order.index(self.anchor) > 0:
            self.show(self.document.slug, order[order.index(self.anchor) - 1])  # type: ignore[union-attr]

    def action_back(self) -> None:
        if not self._trail:
            self.app.notify("This is the first document you opened here.", markup=False)
            return
        slug, anchor = self._trail.pop()
        self.show(slug, anchor, remember=False)

    def action_headings(self) -> None:
        from ..dialogs import PickerDialog

        if self.document is None:
            return
        choices = [(Text(("  " * (s.level - 1)) + s.title), s.anchor) for s in self.document.sections]
        self.app.push_screen(PickerDialog("Jump to a section", choices), self._picked_anchor)

    def _picked_anchor(self, anchor: str | None) -> None:
        if anchor is not None and self.document is not None:
            self.show(self.document.slug, anchor)

    def action_documents(self) -> None:
        from ..dialogs import PickerDialog

        choices = []
        for document in documents_in_reading_order(self.library):
            label = Text(document.title)
            label.append(f"  ({document.kind})", style="dim")
            if document.is_stale(self.today):
                label.append("  ⚠ review overdue", style="bold")
            choices.append((label, document.slug))
        self.app.push_screen(PickerDialog("Open a guidance document", choices), self._picked_document)

    def _picked_document(self, slug: str | None) -> None:
        if slug:
            self.show(slug)

    def action_links(self) -> None:
        from ..dialogs import PickerDialog

        if self.document is None:
            return
        choices = []
        for link in self.document.links:
            if link.external:
                label = Text(f"{link.text}  ")
                label.append(link.target, style="underline")
                label.append("  (copy)", style="dim")
            else:
                resolved = self.library.resolve(self.document.slug, link.target)
                where = self.library.get(resolved[0]).title if resolved else "missing"  # type: ignore[union-attr]
                label = Text(f"{link.text}  › {where}")
            choices.append((label, link.target))
        if not choices:
            self.app.notify("This document has no links.", markup=False)
            return
        self.app.push_screen(PickerDialog("Links in this document: enter follows or copies", choices),
                             self._picked_link)

    def _picked_link(self, target: str | None) -> None:
        if not target or self.document is None:
            return
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
            self.post_message(self.CopyRequested(target.removeprefix("mailto:")))
            return
        resolved = self.library.resolve(self.document.slug, target)
        if resolved:
            self.show(*resolved)

    def action_search(self) -> None:
        from ..dialogs import SearchDialog

        self.app.push_screen(SearchDialog(self.library), self._picked_search)

    def _picked_search(self, found: tuple[str, str] | None) -> None:
        if found:
            self.show(*found)
