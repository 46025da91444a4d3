"""Waiting until the screens have caught up with every key already given to them.

Each widget processes its own queue of messages. A key handed to a field makes that field post "changed",
which bubbles to the form and the screen; a button press mounts a row and moves the focus. `settle` returns
once every widget of the active screen has an empty queue and nothing left to call, so the next key (or a
save, or a quit) sees the result of all the keys before it.

Waiting is bounded: if something never settles (it should not), keys carry on after `LIMIT` seconds rather
than the app hanging; they are still delivered in order.
"""

from __future__ import annotations

import asyncio
import time

from textual.app import App
from textual.message_pump import MessagePump

LIMIT = 3.0


def _busy(pump: MessagePump) -> bool:
    """Something queued, or a handler still running. An idle pump's task waits on its queue's ready event
    (textual._queue.Queue.get), so a pump with no waiter on that event is in the middle of a message."""
    if not pump._running or pump._closed or pump._closing:
        return False
    queue = pump._message_queue
    if queue.qsize() or pump._next_callbacks:
        return True
    waiters = getattr(queue.ready_event, "_waiters", None)
    return waiters is not None and not waiters


async def settle(app: App, limit: float = LIMIT) -> bool:
    """Wait until the active screen and its widgets are idle. True if they were within `limit` seconds."""
    deadline = time.monotonic() + limit
    quiet = 0
    turns = 0
    while True:
        try:
            # Every screen of the stack, not only the one on top: a dialog's answer is handled by the screen
            # below it, and a key must wait for that too (say, "save" before "new incident").
            busy = any(_busy(node) for screen in list(app.screen_stack)
                       for node in screen.walk_children(with_self=True))
        except Exception:  # no screen yet (start-up) or none any more (exit): nothing to wait for
            return True
        # Quiet twice in a row: a task woken in between has had its turn to post what follows.
        quiet = 0 if busy else quiet + 1
        if quiet >= 2:
            return True
        if time.monotonic() > deadline:
            return False
        turns += 1
        await asyncio.sleep(0 if turns < 100 else 0.001)
