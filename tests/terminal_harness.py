"""A real terminal for kentsafe: its own tmux server, keys sent as the bytes a terminal sends, the screen read back.

Shared by the timing test (tests/test_timing.py). Waiting is always by polling the screen for text, with a
generous timeout that only guards against hanging for ever; nothing here asserts how long anything took.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

KENTSAFE = Path(sys.executable).parent / "kentsafe"
EXITED = "KENTSAFE-EXITED="

# The bytes an xterm sends for each key (TERM=xterm-256color, normal cursor-key mode). Sending bytes with
# `tmux send-keys -H` means a burst is one write into the terminal, exactly as a fast line delivers it, and
# literal text can never be mistaken for a tmux key name.
KEY_BYTES: dict[str, bytes] = {
    "Tab": b"\t",
    "BTab": b"\x1b[Z",
    "Enter": b"\r",
    "Escape": b"\x1b",
    "Space": b" ",
    "BSpace": b"\x7f",
    "Up": b"\x1b[A",
    "Down": b"\x1b[B",
    "Right": b"\x1b[C",
    "Left": b"\x1b[D",
    "Home": b"\x1b[H",
    "End": b"\x1b[F",
    "C-End": b"\x1b[1;5F",
    "C-Home": b"\x1b[1;5H",
    "F1": b"\x1bOP",
    "F2": b"\x1bOQ",
    "F3": b"\x1bOR",
    "F4": b"\x1bOS",
    "F5": b"\x1b[15~",
    "F6": b"\x1b[17~",
    "F7": b"\x1b[18~",
    "F8": b"\x1b[19~",
    **{f"C-{letter}": bytes([ord(letter) - ord("a") + 1]) for letter in "abcdefghijklmnopqrstuvwxyz"},
}

_counter = itertools.count()
_open: set[Terminal] = set()


@atexit.register
def _close_all() -> None:
    """A test run that is interrupted still leaves no tmux server or kentsafe behind."""
    for terminal in list(_open):
        terminal.close()


def key_bytes(key: str) -> bytes:
    """A key name from KEY_BYTES, or text to type as it is."""
    return KEY_BYTES.get(key, key.encode())


class Terminal:
    """One tmux server of our own (its own socket), one window running kentsafe."""

    def __init__(self, tmp: Path, name: str):
        self.socket = f"kentsafe-timing-{os.getpid()}-{next(_counter)}-{name}"[:100]
        self.tmp = tmp

    def tmux(self, *args: str, check: bool = False) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args], capture_output=True,
                              text=True, timeout=60)
        if check and done.returncode != 0:
            raise AssertionError(f"tmux {args[0]} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self, *arguments: str, width: int = 100, height: int = 30, env: dict[str, str] | None = None) -> None:
        settings = {"TZ": "Europe/London", "HOME": str(self.tmp / "home"), "TERM": "xterm-256color",
                    "TEXTUAL_ANIMATIONS": "none", **(env or {})}
        exports = " ".join(f"{key}={shlex.quote(value)}" for key, value in settings.items())
        # COLUMNS and LINES (pytest sets them) would override the window's real size.
        command = (f"env -u COLUMNS -u LINES {exports} {shlex.quote(str(KENTSAFE))} "
                   f"{' '.join(shlex.quote(a) for a in arguments)}; echo {EXITED}$?; sleep 600")
        _open.add(self)
        self.tmux("new-session", "-d", "-s", "k", "-x", str(width), "-y", str(height), command, check=True)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "k")

    def send(self, data: bytes) -> None:
        """Write bytes into the terminal in one go, as if they arrived in one read from the line."""
        if data:
            self.tmux("send-keys", "-t", "k", "-H", *(f"{byte:02x}" for byte in data), check=True)

    def wait_for(self, *texts: str, timeout: float = 120, give_up: tuple[str, ...] = (),
                 still: float = 25) -> str:
        """Poll the screen until one of the texts shows; return that text.

        Fails at once when one of `give_up` shows (an outcome that rules the texts out, such as "Not saved"),
        when the screen has not changed for `still` seconds (nothing is happening any more), or after
        `timeout` seconds. These are guards against waiting for ever, never a measure of speed."""
        deadline = time.monotonic() + timeout
        last, last_change = None, time.monotonic()
        while True:
            screen = self.screen()
            for text in texts:
                if text in screen:
                    return text
            now = time.monotonic()
            if screen != last:
                last, last_change = screen, now
            if any(text in screen for text in give_up) or now > deadline or now - last_change > still:
                raise WaitTimedOut(texts, screen)
            time.sleep(0.1)

    def app_pids(self) -> list[int]:
        """The kentsafe process(es) running in the window (children of its shell)."""
        shell = self.tmux("display-message", "-p", "-t", "k", "#{pane_pid}").strip()
        if not shell.isdigit():
            return []
        children = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True).stdout.split()
        return [int(child) for child in children
                if "kentsafe" in _read(Path(f"/proc/{child}/cmdline"))]

    def close(self) -> None:
        """Stop kentsafe if it is still running (a run that got stuck), by its pid, then the tmux server.
        A kentsafe whose terminal goes away does not always exit, so it is killed rather than left behind."""
        for pid in self.app_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.tmux("kill-server")
        _open.discard(self)


class WaitTimedOut(AssertionError):
    def __init__(self, texts: tuple[str, ...], screen: str):
        super().__init__(f"{' or '.join(map(repr, texts))} never appeared; the screen shows:\n{screen}")
        self.texts, self.screen = texts, screen


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def kentsafe_cli(*arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(KENTSAFE), *arguments], capture_output=True, text=True, timeout=120, input=stdin,
                          env={**os.environ, "TZ": "Europe/London"})
