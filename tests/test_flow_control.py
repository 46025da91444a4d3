"""The terminal's flow control is taken at kentsafe's first lines and given back (kentsafe_tui.flow_control).

The real command in a real terminal is tested in tests/test_terminal.py; these use a pseudo-terminal of their
own, so each setting can be read back.
"""

from __future__ import annotations

import ast
import io
import os
import pty
import termios
from pathlib import Path

import pytest

from kentsafe_tui import cli, flow_control

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def terminal():
    """A pseudo-terminal with flow control on, as a login shell has it; yields its end kentsafe reads."""
    leader, follower = pty.openpty()
    settings = termios.tcgetattr(follower)
    settings[0] |= termios.IXON
    termios.tcsetattr(follower, termios.TCSANOW, settings)
    stream = os.fdopen(follower, "r", closefd=False)
    yield leader, stream
    flow_control.release()
    stream.close()
    os.close(follower)
    os.close(leader)


def flow_control_on(stream) -> bool:
    return bool(termios.tcgetattr(stream.fileno())[0] & termios.IXON)


def test_hold_switches_flow_control_off_and_release_gives_it_back(terminal):
    leader, stream = terminal
    flow_control.hold(stream)
    assert not flow_control_on(stream)
    flow_control.release()
    assert flow_control_on(stream)


def test_keys_typed_before_the_hold_are_kept(terminal):
    leader, stream = terminal
    os.write(leader, b"typed at once\r")
    flow_control.hold(stream)
    assert os.read(stream.fileno(), 100) == b"typed at once\n"  # not flushed by the change of settings


def test_release_gives_back_only_flow_control(terminal):
    """The app's toolkit puts back the settings it found (flow control off) as it leaves; release() changes
    only flow control, not what others set meanwhile."""
    leader, stream = terminal
    flow_control.hold(stream)
    settings = termios.tcgetattr(stream.fileno())
    settings[3] &= ~termios.ECHO
    termios.tcsetattr(stream.fileno(), termios.TCSANOW, settings)
    flow_control.release()
    now = termios.tcgetattr(stream.fileno())
    assert now[0] & termios.IXON and not now[3] & termios.ECHO


def test_no_terminal_nothing_held():
    flow_control.hold(io.StringIO("not a terminal"))  # a pipe or a file: no settings to change, no error
    flow_control.release()


def test_a_command_gives_the_terminal_its_flow_control_back_and_the_app_keeps_it(terminal, db_path, monkeypatch):
    leader, stream = terminal
    flow_control.hold(stream)
    assert cli.main(["list", "--db", str(db_path)]) == 0
    assert flow_control_on(stream)  # `kentsafe list` needs no ctrl+s

    flow_control.hold(stream)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # the app refuses at once without a terminal
    assert cli.main(["--db", str(db_path)]) == 2
    assert not flow_control_on(stream)  # the app's own start keeps it until the process ends


def test_the_command_holds_flow_control_before_importing_anything_else():
    """The console script runs kentsafe_tui.start, whose only import is flow_control, itself standard
    library only: the ~0.4 s of imports come after the hold."""
    assert 'kentsafe = "kentsafe_tui.start:main"' in (ROOT / "pyproject.toml").read_text()
    for name, allowed in (("start", {"__future__", "flow_control"}),
                          ("flow_control", {"__future__", "atexit", "sys", "termios"})):
        tree = ast.parse((ROOT / "kentsafe_tui" / f"{name}.py").read_text())
        top = {alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
        top |= {node.module or alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
                for alias in node.names}
        assert top <= allowed, name
    start = ast.parse((ROOT / "kentsafe_tui" / "start.py").read_text())
    main = next(node for node in start.body if isinstance(node, ast.FunctionDef) and node.name == "main")
    first, second = (ast.unparse(node) for node in main.body[:2])
    assert first == "flow_control.hold()" and second.startswith("from .cli import")  # the hold comes first
