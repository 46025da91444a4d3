"""The incident list (ctrl+o): newest concern first, type to filter on any text, enter opens."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ..dates import from_iso
from ..keys import MAIN_KEYS
from ..store import Store, Summary
from ..widgets.safe_inputs import SafeInput
from ..dialogs import Dialog
from ..text import clean

SHOWN = 100  # more rows than a screen holds; the filter finds the rest
QUICK = 20_000  # records' text a filter key may read before its frame (10 ms or so)
MADE_KEPT = 20 * SHOWN  # rows kept drawn for the filter: a few searches' worth
UNSEEN_STEP = 0.01  # seconds between the steps of readying the list unseen: the loop's turn for a key
STATUS_STYLES = {"open": "bold yellow", "awaiting_response": "bold cyan", "monitoring": "bold green", "closed": "dim"}


# The main screen's keys that start something else (a new incident, a pane, a guide, oversight) close the list
# and then do their work. Those acting on "this incident" (save, export, the letter, go to a field) do nothing
# here: the list highlights another incident than the one they would act on.
LEAVES_THE_LIST = ("main.new", "main.guidance", "main.form", "main.checklist", "main.record_keeping",
                   "main.oversight")
LEAVING_KEYS = tuple(key for action in MAIN_KEYS if action.id in LEAVES_THE_LIST for key in action.keys)

# Short words for the list, so the summary keeps its room at 80 columns; the form shows the full status.
LIST_STATUS = {"open": "Open", "awaiting_response": "Awaiting", "monitoring": "Monitoring", "closed": "Closed"}
HEADER = Text(f"{'Ref':<11}{'Concern':<16}{'Status':<11} Done  Summary · pupils", style="bold")


def row_text(row: Summary) -> Text:
    """One line per incident; what does not fit ends in an ellipsis rather than wrapping."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{row.id}  ", style="bold")
    text.append(f"{short_date(row.concern_at):<14}  ")
    text.append(f"{LIST_STATUS.get(row.status, row.status):<10}", style=STATUS_STYLES.get(row.status, ""))
    text.append(f" {row.done:>2}/{row.total:<2}  ", style="dim")
    text.append(row.summary)
    if row.pupils:
        text.append("  · " + ", ".join(row.pupils), style="dim")
    return text


def short_date(moment: str) -> str:
    try:
        return from_iso(moment).astimezone().strftime("%d/%m/%y %H:%M")
    except ValueError:
        return moment


class ListRows(OptionList):
    """The list's rows. Textual tells a new widget its size after drawing it at that size, and OptionList drops
    every line it has made when told: the rows were made and drawn a second time as the list opened. They are
    dropped only when the width they were made for has changed.

    Uses OptionList's private `_update_lines`, `_line_cache` and `_on_resize` (textual is pinned below 9); a
    test counts the rows made as the list opens and after a resize."""

    _lines_width: int | None = None  # the width the lines kept were made for

    def _update_lines(self) -> None:
        if not self._line_cache.lines:  # made afresh; later calls only add lines for new options
            self._lines_width = self.scrollable_content_region.width
        super()._update_lines()

    def _on_resize(self, event: events.Resize) -> None:
        if self._line_cache.lines and self.scrollable_content_region.width == self._lines_width:
            event.prevent_default()  # OptionList's handler is not called: the lines fit this width


class IncidentListScreen(Dialog):
    DEFAULT_CLASSES = "covering"
    BINDINGS = [*Dialog.BINDINGS, Binding("down", "down", show=False), Binding("up", "up", show=False),
                Binding("pagedown", "page(1)", show=False), Binding("pageup", "page(-1)", show=False),
                # Priority: the filter would type an alt+letter fallback as its letter.
                *(Binding(key, f"leave_for({key!r})", show=False, priority=True) for key in LEAVING_KEYS)]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.ids: list[str] = []
        self._filter_wanted: str | None = None  # typed, not yet applied to the rows
        self._shown = False  # opened at least once
        self._styled_unseen = False  # restyled by ready_unseen since last shown
        self.made_unseen = False  # ready_unseen's steps all done since last shown
        self._readying = 0  # ready_unseen's runs: a run made stale by a later one stops
        self._count_shown = ""
        # Each row drawn once: a letter typed or erased mostly shows rows shown before (at 50,000 incidents,
        # making the hundred rows again was a third of a filter key). Keyed by id, kept while the summary
        # object is the same, so a record saved since is drawn afresh.
        self._rows_made: dict[str, tuple[Summary, Option]] = {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog full-dialog") as box:
            box.border_title = "Incidents (newest concern first)"
            box.border_subtitle = "type to filter · ↑↓ move · enter open · escape close"
            yield SafeInput(placeholder="Filter: any words from any field (names, summary, details, id…)",
                            id="list-filter")
            yield Static("", id="list-count", classes="hint")
            yield Static(HEADER, classes="list-header")
            # More rows than the screen has lines: "-long" (set by _as_new before the first layout, not here,
            # where a save may hold the store) gives the scrollbar from the first layout. Appearing at the
            # first drawing of the rows (or going as a filter narrows them), it laid the dialog out again and
            # Textual drew the rows a second time.
            yield ListRows(id="list-rows")

    def _rows_fill_screen(self) -> bool:
        return min(self.store.count(), SHOWN) >= self.app.size.height

    def on_mount(self) -> None:
        # Made unseen just as the app leaves (ctrl+q, a dropped line), the screen is closed before its parts are
        # mounted, and Textual mounts none: nothing to watch, and a failure here was a traceback at the exit.
        try:
            words = self.query_one("#list-filter", Input)
        except NoMatches:
            return
        # A watch, not Input.Changed: that message reaches the screen after the letter's frame is drawn.
        # (The rows are filled as it opens, or by ready_unseen: never here, where a save may hold the store.)
        self.watch(words, "value", self._filter, init=False)

    def ready_unseen(self) -> None:
        """Made ready to show while another screen is up (see EditingFlows.prepare_list): the newest rows, laid
        out and drawn for the terminal's size, so an opening has only to put them on the screen. Made or
        changed at ctrl+o (the record just saved at the top), the rows were drawn afresh and the screen laid
        out before its first frame: 114 to 201 ms at 50,000 incidents.

        Reads the store: called only when no save or read holds it (EditingFlows.prepare_list). Uses Textual's
        private `Screen._refresh_layout`, `_layout_required` and `_compositor` (as MainScreen's `_on_resize`;
        textual is pinned below 9). Tests check the opening after a save shows the new record."""
        if self in self.app.screen_stack:
            return
        self.made_unseen = False
        try:
            self._as_new()
        except NoMatches:  # its parts are gone: Textual is taking it apart as the app leaves (seen in CI)
            return
        self._readying += 1
        self._unseen_steps(self._readying, [self._restyle_unseen, self._lay_out_unseen, self._draw_unseen])

    def _unseen_steps(self, run: int, steps: list[Callable[[], None]]) -> None:
        """One step at a time, each at a tick of its own: a key that comes between them goes first, and what is
        left waits for the next pause. In one go, the steps held a key typed just then for 100 ms and more at
        50,000 incidents. Each step leaves the screen as an opening would find it: an opening in between does
        the rest itself."""
        def step() -> None:
            if run != self._readying or self in self.app.screen_stack or not (self.is_running and self.app.is_running):
                return  # made again since, opened, or gone (or the app leaving)
            if not self.app.quiet:
                self.app.when_quiet(step)
                return
            steps.pop(0)()
            if steps:
                self.app.set_timer(UNSEEN_STEP, step)
            else:
                self.made_unseen = True

        self.app.set_timer(UNSEEN_STEP, step)

    def _restyle_unseen(self) -> None:
        self.update_node_styles(animate=False)  # as an opening would (see _styled_before)
        self._styled_unseen = True

    def _lay_out_unseen(self) -> None:
        self._refresh_layout(self.app.size)
        self._layout_required = False  # what the rows asked for is done

    def _draw_unseen(self) -> None:
        self._compositor.render_update(full=True)  # each row's lines made and kept for the opening

    @on(events.ScreenResume)
    def _styled_before(self, event: events.ScreenResume) -> None:
        # Run before Screen's own handler: its restyling of every widget (10 ms at the first opening) asked the
        # scroll bar and the notices for a layout, and the screen was laid out and drawn whole again before
        # its first frame. Readied unseen since it was last shown, the screen was restyled then.
        self.made_unseen = False
        if self._styled_unseen:
            event.refresh_styles = False
            self._styled_unseen = False

    def on_screen_resume(self) -> None:
        """Each opening: as new, with no filter, the newest rows (records saved since included) and the cursor
        in the filter. The screen is kept between openings, and made before the first: composed, styled and
        laid out at each ctrl+o, it took more than 100 ms at 50,000 incidents."""
        if self._shown and not self._dismissed:
            return  # open already: a dialog over it (the command palette) has closed
        self._shown, self._dismissed = True, False
        self._as_new()
        self.set_focus(self.query_one("#list-filter", Input))
        # Searches read every record's text until the index of words is made (about a second and a half at
        # 50,000 incidents, beside the screen): made once the list is open, where searches are typed, at the
        # first pause (begun with the list, it held its first frame back 80 ms), and not after every read, when
        # it shared the interpreter with a save and the typing in the form.
        self.app.when_quiet(self._index_words_soon)

    def _as_new(self) -> None:
        self._filter_wanted = None
        words = self.query_one("#list-filter", Input)
        self.query_one("#list-rows", OptionList).set_class(self._rows_fill_screen(), "-long")
        if words.value:
            words.value = ""  # its watch fills the rows for no words
        else:
            self._fill("")

    def _fill(self, words: str) -> None:
        words = clean(words)  # as records are stored: composed, no invisible characters
        shown, matched = self.store.summaries_head(SHOWN, search=words or None)
        options = self.query_one("#list-rows", OptionList)
        made = [self._option_for(row) for row in shown]
        changed = made != options.options
        if changed:  # the same rows (words every recent record holds) are left as drawn
            options.set_options(made)
        self.ids = [row.id for row in shown]
        if shown:
            options.highlighted = 0
        total = self.store.count()
        count = f"{matched:,} of {total:,} incidents"
        if matched > SHOWN:
            count += f" (showing the newest {SHOWN}: type to narrow)"
        if count != self._count_shown:  # the same words again: nothing to draw (it came a frame late)
            self._count_shown = count
            # One line whatever it says (the count is cut, never wrapped): no need to lay the dialog out again.
            self.query_one("#list-count", Static).update(Text(count, no_wrap=True, overflow="ellipsis"),
                                                         layout=False)
            changed = True
        if changed:
            self.call_later(self._let_rows_report)

    async def _let_rows_report(self) -> None:
        # The rows and the count tell the screen they need drawing from their own tasks, once those next run.
        # Filled as the letter is typed, the filter's own Update reached the screen first, and the screen draws
        # its frame as soon as it has nothing left to read: the rows and the count came a frame later, 17 to
        # 33 ms after the letter. Queued on the screen before the filter's Update, this lets their tasks run
        # first, so the letter, the rows and the count land in one frame (a test counts the frames).
        for _ in range(3):
            await asyncio.sleep(0)

    def _index_words_soon(self) -> None:
        if self.is_attached and self.store.index_wanted():
            self.run_worker(self._index_words, thread=True, group="index", exclusive=True)

    def _index_words(self) -> None:
        self.store.index_words(busy=lambda: self.app.answering_key)

    def _option_for(self, row: Summary) -> Option:
        kept = self._rows_made.get(row.id)
        if kept is None or kept[0] is not row:
            if len(self._rows_made) >= MADE_KEPT:
                self._rows_made.clear()
            kept = self._rows_made[row.id] = (row, Option(row_text(row)))
        return kept[1]

    def _filter(self, words: str) -> None:
        # Called as the letter is typed, before its frame. A search reading few records' text (one kept, or
        # narrowing one kept to a few thousand) fills the rows now, in the letter's own frame: Textual's next
        # frame comes 17 to 33 ms after one just drawn. A longer one (tens of milliseconds at 50,000) is made
        # once the letter is drawn, and keys typed meanwhile are filtered once, for the latest words.
        reading = self.store.texts_to_search(clean(words))
        if self._filter_wanted is None and reading is not None and reading < QUICK:
            self._fill(words)
            return
        if self._filter_wanted is None:
            self.call_after_refresh(self._apply_filter)
        self._filter_wanted = words

    def _apply_filter(self) -> None:
        if self._filter_wanted is not None:
            words, self._filter_wanted = self._filter_wanted, None
            self._fill(words)

    @on(Input.Submitted, "#list-filter")
    def _open_highlighted(self) -> None:
        self._apply_filter()  # enter straight after typing opens a row of what was typed, not of before
        options = self.query_one("#list-rows", OptionList)
        if options.highlighted is not None and self.ids:
            self.dismiss(self.ids[options.highlighted])

    @on(OptionList.OptionSelected, "#list-rows")
    def _open(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.ids[event.option_index])

    def action_leave_for(self, key: str) -> None:
        """As ClosesForActions: the list closes and the main screen gets the key (ctrl+n: a new incident)."""
        if self.is_current:
            self.dismiss(None)
            self.app.hand_on_next(events.Key(key, None))

    def action_down(self) -> None:
        self.query_one("#list-rows", OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one("#list-rows", OptionList).action_cursor_up()

    def action_page(self, direction: int) -> None:
        options = self.query_one("#list-rows", OptionList)
        options.action_page_down() if direction > 0 else options.action_page_up()
