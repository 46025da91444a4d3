"""ctrl+s belongs to kentsafe from its first moment, not to the terminal.

A terminal with flow control on (most are) takes ctrl+s as "stop output" until the program switches it off.
Textual does that only once it has been imported and has started, about 0.4 s after `kentsafe` is typed: a DSL
who types a line and ctrl+s at once lost the save key, and their screen stopped drawing until the app took over.
So the `kentsafe` command switches flow control off in its first lines, and puts the terminal's own settings
back when it ends. Only the standard library is imported here: this runs before anything else is loaded.
"""

from __future__ import annotations

import atexit
import sys

try:
    import termios
except ImportError:  # not a POSIX system: there is no flow control to take
    termios = None  # type: ignore[assignment]

_held: tuple[int, list] | None = None  # the terminal and its settings as they were


def hold(stream=None) -> None:
    """Switch flow control off on this terminal (stdin by default) until release() or the end of the process."""
    global _held
    if termios is None or _held is not None:
        return
    stream = sys.stdin if stream is None else stream
    try:
        fd = stream.fileno()
        if not stream.isatty():
            return
        before = termios.tcgetattr(fd)
        if not before[0] & termios.IXON:
            return
        after = list(before)
        after[0] &= ~termios.IXON
        termios.tcsetattr(fd, termios.TCSANOW, after)  # TCSANOW: keys already typed are kept, not flushed
    except (OSError, ValueError, termios.error):  # no usable terminal: nothing to hold
        return
    _held = (fd, before)
    atexit.register(release)


def release() -> None:
    """Give the terminal its own settings back (a command that does not open the app has no use for ctrl+s)."""
    global _held
    if _held is None:
        return
    fd, before = _held
    _held = None
    try:
        now = termios.tcgetattr(fd)
        now[0] = (now[0] & ~termios.IXON) | (before[0] & termios.IXON)  # only what hold() changed
        termios.tcsetattr(fd, termios.TCSANOW, now)
    except (OSError, termios.error):  # the terminal has gone (an SSH drop): nothing to give back
        pass
