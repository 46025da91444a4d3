"""Reading the records in a worker thread: at start, and again whenever another DSL's save is seen, so no key
ever waits for a parse. Anything that needs the records waits for the read instead of reading them itself."""

from __future__ import annotations

import asyncio
import sys

from textual.message import Message

from ..store import StoreError


READING_SWITCH_INTERVAL = 0.0005  # seconds


class RecordsInBackground:
    """Mixed into MainScreen, which provides context, run_worker, post_message, notify, app and prepare_list."""

    _reading = False

    def _start_reading(self) -> None:
        self._reading = True
        self.run_worker(self._read_records, thread=True, group="read")

    def _reread_if_changed(self) -> None:
        if not self._reading and self.context.store.changed_on_disk():
            self._start_reading()

    async def records_ready(self, *, say: bool = True) -> bool:
        """Wait for the records to be read (in the worker), saying so if it takes a moment (unless not `say`:
        nobody asked), rather than read them here and freeze the screen. Keys typed meanwhile wait too, for
        what opens next."""
        for turn in range(1200):  # a minute at most
            if self.context.store.loaded:
                return True
            if not self._reading:
                self._start_reading()
            if say and turn == 20:  # a second: long enough to be worth a word
                self.notify("Reading the records (a large database takes a few seconds)…", markup=False, timeout=4)
            await asyncio.sleep(0.05)
        return False

    def _read_records(self) -> None:
        """Read the database in the background, so a large one does not hold back the first frame. The
        store's lock makes anything that needs the records wait for this read."""
        # The interpreter hands the lock between threads every 5 ms by default: a key then waits up to 5 ms at
        # every step of its way to the screen while this thread reads (p99 86 ms at 10,000 records). A shorter
        # interval while reading hands it back to the screen at once.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(min(interval, READING_SWITCH_INTERVAL))
        try:
            # issue 12 (perf): parses one record at a time, so the screen keeps answering keys meanwhile, and
            # makes the list's summaries and search text here rather than at the first ctrl+o or filter key.
            # While a key is on its way to the screen the read stands aside: sharing the interpreter with it
            # turn about doubled what any key took to be drawn.
            self.context.store.load(search=True, gentle=True, busy=lambda: self.app.answering_key)
            self.post_message(self.RecordsRead())
        except StoreError as problem:
            # Posted, not called: the worker finishes at once, and the app leaves from its own loop.
            self.post_message(self.RecordsUnreadable(str(problem)))
        finally:
            sys.setswitchinterval(interval)
            self._reading = False

    class RecordsRead(Message):
        """The records (at start, or after another DSL's save) have been read."""

    def on_records_in_background_records_read(self) -> None:
        self.app.when_quiet(self.prepare_list)  # the incident list, made or brought up to date unseen

    class RecordsUnreadable(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def on_records_in_background_records_unreadable(self, event: RecordsUnreadable) -> None:
        self.app.quit_with_error(event.reason)
