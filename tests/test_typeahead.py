"""Keys typed while kentsafe starts arrive as typed: the terminal is set as the app will set it in the command's
first lines, and given back (kentsafe_tui.typeahead).

The real command in a real terminal is tested in tests/test_terminal.py; these use a pseudo-terminal of their
own, so each setting can be read back.
"""

from __future__ import annotations

import ast
import io
import os
import pty
import select
import termios
from pathlib import Path

import pytest

from kentsafe_tui import cli, typeahead

ROOT = Path(__file__).resolve().parent.parent
IFLAG, LFLAG = 0, 3
TAKEN = ((IFLAG, termios.IXON | termios.ICRNL), (LFLAG, termios.ECHO | termios.ICANON | termios.ISIG))


@pytest.fixture
def terminal(monkeypatch):
    """A pseudo-terminal set as a login shell has it (sane), with this process's group in front (it is not
    the test process's controlling terminal, so that is said for it); yields its two ends."""
    leader, follower = pty.openpty()
    monkeypatch.setattr(typeahead.os, "tcgetpgrp", lambda fd: os.getpgrp() if fd == follower else -1)
    settings = termios.tcgetattr(follower)
    settings[IFLAG] |= termios.IXON | termios.ICRNL
    settings[LFLAG] |= termios.ECHO | termios.ICANON | termios.ISIG | termios.IEXTEN
    termios.tcsetattr(follower, termios.TCSANOW, settings)
    stream = os.fdopen(follower, "r", closefd=False)
    yield leader, stream
    typeahead.release()
    stream.close()
    os.close(follower)
    os.close(leader)


def as_a_shell_has_it(stream) -> bool:
    settings = termios.tcgetattr(stream.fileno())
    return all(settings[index] & mask == mask for index, mask in TAKEN)


def as_the_app_has_it(stream) -> bool:
    settings = termios.tcgetattr(stream.fileno())
    return not any(settings[index] & mask for index, mask in TAKEN)


def test_hold_sets_the_terminal_as_the_app_will_and_release_gives_it_back(terminal):
    leader, stream = terminal
    typeahead.hold(stream)
    assert as_the_app_has_it(stream)
    typeahead.release()
    assert as_a_shell_has_it(stream)


def test_keys_typed_after_the_hold_arrive_as_a_terminal_sends_them(terminal):
    """Enter as \\r (not \\n, which the app reads as ctrl+j), ctrl+s and ctrl+q as keys, backspace and ctrl+u
    as keys rather than edits of a waiting line."""
    leader, stream = terminal
    typeahead.hold(stream)
    typed = b"Sam\x7f\x15\r\x13\x11x"
    os.write(leader, typed)
    assert os.read(stream.fileno(), 100) == typed
    assert not _readable(leader)  # nothing echoed onto the screen


def _readable(fd: int) -> bool:
    return bool(select.select([fd], [], [], 0.2)[0])


def test_keys_typed_before_the_hold_are_kept(terminal):
    leader, stream = terminal
    os.write(leader, b"typed at once\r")
    assert _readable(stream.fileno())  # the line discipline has taken the line (enter became \n then)
    typeahead.hold(stream)
    assert os.read(stream.fileno(), 100) == b"typed at once\n"  # not flushed by the change of settings


def test_release_gives_back_only_what_hold_changed(terminal):
    """The app's toolkit puts back, as it leaves, the settings it found (hold's); release() changes only what
    hold() changed, not what others set meanwhile."""
    leader, stream = terminal
    typeahead.hold(stream)
    settings = termios.tcgetattr(stream.fileno())
    settings[IFLAG] |= termios.IXANY
    termios.tcsetattr(stream.fileno(), termios.TCSANOW, settings)
    typeahead.release()
    assert as_a_shell_has_it(stream) and termios.tcgetattr(stream.fileno())[IFLAG] & termios.IXANY


def test_in_the_background_the_terminal_is_left_alone(terminal, monkeypatch):
    """`kentsafe export ... &`: setting the terminal from the background would stop the process."""
    leader, stream = terminal
    monkeypatch.setattr(typeahead.os, "tcgetpgrp", lambda fd: os.getpgrp() + 1)  # another group has it
    typeahead.hold(stream)
    assert as_a_shell_has_it(stream)


def test_no_terminal_nothing_held():
    typeahead.hold(io.StringIO("not a terminal"))  # a pipe or a file: no settings to change, no error
    typeahead.release()


def test_a_command_gives_the_terminal_back_at_once_and_the_app_keeps_it(terminal, db_path, monkeypatch):
    leader, stream = terminal
    typeahead.hold(stream)
    assert cli.main(["list", "--db", str(db_path)]) == 0
    assert as_a_shell_has_it(stream)  # `kentsafe list` and the rest read the terminal as the shell left it

    typeahead.hold(stream)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # the app refuses at once without a terminal
    assert cli.main(["--db", str(db_path)]) == 2
    assert as_the_app_has_it(stream)  # the app keeps it until the process ends


def test_the_command_holds_the_terminal_before_importing_anything_else():
    """The console script runs kentsafe_tui.start, whose only import is typeahead, itself standard library
    only: the ~0.4 s of imports come after the hold."""
    assert 'kentsafe = "kentsafe_tui.start:main"' in (ROOT / "pyproject.toml").read_text()
    for name, allowed in (("start", {"__future__", "typeahead"}),
                          ("typeahead", {"__future__", "atexit", "os", "sys", "termios"})):
        tree = ast.parse((ROOT / "kentsafe_tui" / f"{name}.py").read_text())
        top = {alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
        top |= {node.module or alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
                for alias in node.names}
        assert top <= allowed, name
    start = ast.parse((ROOT / "kentsafe_tui" / "start.py").read_text())
    main = next(node for node in start.body if isinstance(node, ast.FunctionDef) and node.name == "main")
    first, second = (ast.unparse(node) for node in main.body[:2])
    assert first == "typeahead.hold()" and second.startswith("from .cli import")  # the hold comes first


def test_ctrl_c_stops_the_start_where_the_toolkit_is_told_to_let_it(terminal, monkeypatch):
    """TEXTUAL_ALLOW_SIGNALS: Textual leaves ctrl+c as a signal, and so does the start."""
    leader, stream = terminal
    monkeypatch.setenv("TEXTUAL_ALLOW_SIGNALS", "1")
    typeahead.hold(stream)
    settings = termios.tcgetattr(stream.fileno())
    assert settings[LFLAG] & termios.ISIG and not settings[LFLAG] & termios.ICANON
