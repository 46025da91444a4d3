"""Keys typed while kentsafe starts reach the app as typed: the terminal is set as the app will set it, in the
command's first lines.

Until the app's toolkit takes the terminal over, about 0.4 s after `kentsafe` is typed (most of it imports),
the terminal's line discipline handles the keys: flow control took ctrl+s (stopping the screen's output) and
ctrl+q, enter arrived as ctrl+j (so "+ Add a pupil" was not pressed, and the name typed after it was refused),
backspace and ctrl+u edited the waiting line, and everything was echoed. So `kentsafe` switches those off at
once, exactly as Textual's driver does, and gives back what it changed when it ends. Only the standard library
is imported here: this runs before anything else is loaded.
"""

from __future__ import annotations

import atexit
import os
import sys

try:
    import termios
except ImportError:  # not a POSIX system: no line discipline to take over
    termios = None  # type: ignore[assignment]

IFLAG, LFLAG = 0, 3  # positions in termios' attribute list
# What textual.drivers.linux_driver switches off (its _patch_iflag and _patch_lflag): no flow control, enter as
# itself, no echo, no line editing, ctrl+c and ctrl+z as keys.
_TAKEN = ((IFLAG, ("IXON", "IXOFF", "ICRNL", "INLCR", "IGNCR")), (LFLAG, ("ECHO", "ICANON", "IEXTEN", "ISIG")))

_held: tuple[int, list] | None = None  # the terminal and its settings as they were


def _in_front(fd: int) -> bool:
    """This process's group has the terminal: setting it from the background would stop the process (SIGTTOU),
    as `kentsafe export ... &` would have been."""
    return os.tcgetpgrp(fd) == os.getpgrp()


def _masks() -> list[tuple[int, int]]:
    kept = {"ISIG"} if os.environ.get("TEXTUAL_ALLOW_SIGNALS") else set()  # as the driver reads it
    return [(index, sum(getattr(termios, name) for name in names if name not in kept)) for index, names in _TAKEN]


def hold(stream=None) -> None:
    """Set this terminal (stdin by default) as the app will, until release() or the end of the process."""
    global _held
    if termios is None or _held is not None:
        return
    stream = sys.stdin if stream is None else stream
    try:
        fd = stream.fileno()
        if not stream.isatty() or not _in_front(fd):  # in the background the keys are the shell's
            return
        before = termios.tcgetattr(fd)
        after = list(before)
        for index, mask in _masks():
            after[index] &= ~mask
        termios.tcsetattr(fd, termios.TCSANOW, after)  # TCSANOW: keys already typed are kept, not flushed
    except (OSError, ValueError, termios.error):  # no usable terminal: nothing to hold
        return
    _held = (fd, before)
    atexit.register(release)


def release() -> None:
    """Give the terminal back what hold() changed (a command that does not open the app reads as a shell
    does). The toolkit puts back, as it leaves, the settings it found, which are hold()'s."""
    global _held
    if _held is None:
        return
    fd, before = _held
    _held = None
    try:
        if not _in_front(fd):  # sent to the background (ctrl+z, bg): the shell has set the terminal its way
            return
        now = termios.tcgetattr(fd)
        for index, mask in _masks():
            now[index] = (now[index] & ~mask) | (before[index] & mask)
        termios.tcsetattr(fd, termios.TCSANOW, now)
    except (OSError, termios.error):  # the terminal has gone (an SSH drop): nothing to give back
        pass
