"""The installed `kentsafe` in a real terminal (tmux), used the way a DSL uses it over SSH.

Each test types into the app, then checks the database with `kentsafe show --json`, the way an admin would.
Waiting is by polling the screen for text, never by asserting how long anything took.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.terminal,
    pytest.mark.skipif(shutil.which("tmux") is None and not os.environ.get("CI"), reason="tmux is not installed"),
]

KENTSAFE = Path(sys.executable).parent / "kentsafe"


class Terminal:
    """One tmux server of our own, one window running kentsafe."""

    def __init__(self, tmp: Path, name: str):
        self.socket = f"kentsafe-test-{os.getpid()}-{name}"
        self.tmp = tmp

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args], capture_output=True,
                              text=True, timeout=30)
        return done.stdout

    def start(self, *arguments: str, width: int = 100, height: int = 30, env: dict[str, str] | None = None) -> None:
        settings = {"TZ": "Europe/London", "HOME": str(self.tmp / "home"), "TERM": "xterm-256color",
                    "TEXTUAL_ANIMATIONS": "none", **(env or {})}
        exports = " ".join(f"{key}={shlex.quote(value)}" for key, value in settings.items())
        # COLUMNS and LINES (pytest sets them) would override the window's real size.
        command = f"env -u COLUMNS -u LINES {exports} {shlex.quote(str(KENTSAFE))} {' '.join(shlex.quote(a) for a in arguments)}; " \
                  "echo KENTSAFE-EXITED=$?; sleep 30"
        self.tmux("new-session", "-d", "-s", "k", "-x", str(width), "-y", str(height), command)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "k")

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen shows:\n{self.screen()}")

    def keys(self, *keys: str, pause: float = 0.15) -> None:
        """Each argument is sent on its own, as a person types: text, or a tmux key name like C-s."""
        for key in keys:
            self.tmux("send-keys", "-t", "k", *(["-l", key] if len(key) > 1 and not _is_key_name(key) else [key]))
            time.sleep(pause)

    def pid(self) -> int:
        """The kentsafe process running in the window."""
        shell = int(self.tmux("display-message", "-p", "-t", "k", "#{pane_pid}").strip())
        children = subprocess.run(["pgrep", "-P", str(shell)], capture_output=True, text=True).stdout.split()
        for child in children:
            if "kentsafe" in Path(f"/proc/{child}/cmdline").read_text(errors="replace"):
                return int(child)
        raise AssertionError("kentsafe is not running in the terminal")

    def close(self) -> None:
        self.tmux("kill-server")


def _is_key_name(key: str) -> bool:
    return key in {"Tab", "BTab", "Enter", "Escape", "Space", "Up", "Down", "Left", "Right", "BSpace"} or \
        key.startswith(("C-", "M-", "F")) and len(key) <= 4


@pytest.fixture
def terminal(tmp_path, request):
    term = Terminal(tmp_path, request.node.name[:40])
    yield term
    term.close()


def show(db: Path, incident_id: str) -> dict:
    done = subprocess.run([str(KENTSAFE), "show", incident_id, "--json", "--db", str(db)], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "TZ": "Europe/London"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_typing_and_saving_a_new_incident(terminal, tmp_path):
    db = tmp_path / "school" / "records.json"
    terminal.start("--db", str(db), "--user", "Jo DSL")
    terminal.wait_for("Summary *")
    terminal.keys("Video [b]shared[/b] in a Year 8 chat", "Tab", "yesterday 15:40")
    # The typed day, not just "Understood as": a new incident shows that for its own time before the typing.
    yesterday = datetime.now() - timedelta(days=1)
    terminal.wait_for(f"Understood as {yesterday:%a %d %b %Y}, 15:40")
    terminal.keys("Tab", "Tab", "Tab", "Tab", "A pupil told their tutor at break.")
    terminal.keys("C-s")
    terminal.wait_for("Saved at")
    record = show(db, "2026-0001")
    assert record["summary"] == "Video [b]shared[/b] in a Year 8 chat"  # markup kept as typed
    assert record["details"] == "A pupil told their tutor at break."
    assert record["created_by"] == "Jo DSL"
    assert record["concern_at"].endswith(("15:40:00+00:00", "15:40:00+01:00"))
    assert oct(db.stat().st_mode & 0o777) == "0o600"


def test_typing_ahead_while_kentsafe_starts_lands_in_summary(terminal, tmp_path):
    """A DSL who types before the screen has appeared: those keys reach kentsafe before anything has the
    focus, and must not vanish."""
    db = tmp_path / "records.json"
    terminal.start("--db", str(db), "--user", "Jo DSL")
    terminal.keys("Typed before the screen appeared", pause=0)  # at once: kentsafe is still starting
    # Not the words themselves: the terminal echoes them before kentsafe takes it over.
    terminal.wait_for("unsaved changes")  # kentsafe's own screen is up, not the shell's echo of the keys
    screen = terminal.wait_for("Typed before the screen appeared")
    assert "Summary *" in screen
    terminal.keys("C-s")
    terminal.wait_for("Saved at")
    assert show(db, "2026-0001")["summary"] == "Typed before the screen appeared"


def test_ticking_the_checklist_at_80x24(terminal, tmp_path):
    db = tmp_path / "records.json"
    terminal.start("--db", str(db), "--user", "Jo DSL", width=80, height=24)
    screen = terminal.wait_for("F2 Guidance")  # narrow: one pane at a time, with a tab line
    assert "F4 Checklist" in screen and "Summary *" in screen
    terminal.keys("Concern about a video", "C-s")
    terminal.wait_for("Saved at")
    terminal.keys("F4")
    terminal.wait_for("space done")
    terminal.keys("Space")
    terminal.wait_for("done by Jo DSL")
    terminal.keys("Down", "n")
    terminal.wait_for("Why does this not apply?")
    terminal.keys("Nothing was forwarded here", "Enter")
    terminal.wait_for("note: Nothing was forwarded here")
    states = [(item["state"], item["by"], item["note"]) for item in show(db, "2026-0001")["checklist"][:2]]
    assert states == [("done", "Jo DSL", ""), ("not_applicable", "Jo DSL", "Nothing was forwarded here")]


def test_a_dropped_ssh_line_keeps_the_typing_for_the_next_start(terminal, tmp_path):
    db = tmp_path / "records.json"
    terminal.start("--db", str(db), "--user", "Jo DSL")
    terminal.wait_for("Summary *")
    terminal.keys("Typed just before the line dropped")
    terminal.wait_for("unsaved changes")
    time.sleep(1.5)  # the draft is written within a second of typing
    os.kill(terminal.pid(), signal.SIGHUP)  # what the kernel sends when the SSH session goes
    terminal.wait_for("KENTSAFE-EXITED=")
    drafts = list(db.parent.glob(".records.json.draft-Jo_DSL-*.json"))
    assert len(drafts) == 1 and oct(drafts[0].stat().st_mode & 0o777) == "0o600"
    terminal.close()

    again = Terminal(tmp_path, "again")
    try:
        again.start("--db", str(db), "--user", "Jo DSL")
        again.wait_for("Restore it now?")
        again.keys("r")
        again.wait_for("Typed just before the line dropped")
        again.keys("C-s")
        again.wait_for("Saved at")
        assert show(db, "2026-0001")["summary"] == "Typed just before the line dropped"
        assert not list(db.parent.glob(".records.json.draft-*"))
    finally:
        again.close()


def test_quitting_with_unsaved_typing_asks_first(terminal, tmp_path):
    db = tmp_path / "records.json"
    terminal.start("--db", str(db), "--user", "Jo DSL")
    terminal.wait_for("Summary *")
    terminal.keys("Half-written concern", "C-q")
    terminal.wait_for("Unsaved changes")
    terminal.keys("s")
    terminal.wait_for("KENTSAFE-EXITED=0")
    assert show(db, "2026-0001")["summary"] == "Half-written concern"


def test_the_demo_says_demo_and_leaves_no_database_behind(terminal, tmp_path):
    terminal.start("--demo", width=160, height=45)
    terminal.wait_for("Incidents (newest concern first)")  # the demo opens on its incidents
    terminal.keys("Escape")
    # Rows of the list say "DEMO:" too; the header line is seen only once the list has closed.
    screen = terminal.wait_for("DEMO: fictional records")
    assert "Guidance:" in screen and "Checklist" in screen  # three panes side by side at 160 columns
    demo_db = next(line for line in screen.splitlines() if "records.json" in line).split()
    path = Path(next(word for word in demo_db if word.endswith("records.json")))
    assert path.exists()
    terminal.keys("C-q")
    terminal.wait_for("KENTSAFE-EXITED=0")
    assert not path.parent.exists()
    assert not (tmp_path / "home" / ".local" / "share" / "kentsafe").exists()  # the real database untouched



HOLD_THE_TOOLKIT = '''
import os, sys, termios, time

class _Hold:
    """As the app's toolkit starts to load: note how the terminal is set, then wait for the test's keys."""
    def find_spec(self, name, path=None, target=None):
        if name == "textual":
            sys.meta_path.remove(self)
            settings = termios.tcgetattr(sys.stdin.fileno())
            taken = not (settings[0] & (termios.IXON | termios.ICRNL) or settings[3] & (termios.ICANON | termios.ECHO))
            with open({seen!r}, "w") as file:
                file.write("as the app sets it" if taken else "as the shell left it")
            deadline = time.monotonic() + 20
            while not os.path.exists({go!r}) and time.monotonic() < deadline:
                time.sleep(0.02)
        return None

sys.meta_path.insert(0, _Hold())
'''


def test_keys_typed_while_kentsafe_starts_arrive_as_typed_and_the_shell_gets_its_terminal_back(terminal, tmp_path):
    """Until the toolkit took the terminal over (~0.4 s of imports), the terminal's line discipline had the keys:
    ctrl+s was taken as "stop output", enter arrived as ctrl+j (so "+ Add a pupil" was not pressed and the name
    after it was refused). kentsafe's first lines now set the terminal as the app will. Here the toolkit's load
    is held until a whole burst, ending in ctrl+s, has been typed."""
    hook, seen, go = tmp_path / "hook", tmp_path / "terminal-at-toolkit-load", tmp_path / "go"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(HOLD_THE_TOOLKIT.format(seen=str(seen), go=str(go)))
    db = tmp_path / "records.json"
    terminal.start("--db", str(db), "--user", "Jo DSL", env={"PYTHONPATH": str(hook)})
    deadline = time.monotonic() + 30
    while not seen.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert seen.read_text() == "as the app sets it"
    burst = b"Video shared\tyesterday 15:40\t\t\t\tTold by tutor.\t\rSam Pupil\x13"
    terminal.tmux("send-keys", "-t", "k", "-H", *(f"{byte:02x}" for byte in burst))  # one write, as over SSH
    time.sleep(0.3)  # the terminal has had the keys before the toolkit goes on
    tty = terminal.tmux("display-message", "-p", "-t", "k", "#{pane_tty}").strip()
    go.touch()
    terminal.wait_for("Saved at")
    record = show(db, "2026-0001")
    assert record["summary"] == "Video shared" and record["details"] == "Told by tutor."
    assert [pupil["name"] for pupil in record["pupils"]] == ["Sam Pupil"]
    terminal.keys("C-q")
    terminal.wait_for("KENTSAFE-EXITED=0")
    settings = subprocess.run(["stty", "-a", "-F", tty], capture_output=True, text=True).stdout.split()
    assert {"ixon", "icrnl", "icanon", "echo"} <= set(settings)  # the shell has its terminal back


def test_a_command_sent_to_the_background_runs_on(terminal, tmp_path):
    """`kentsafe list ... &` from a shell with job control: the terminal belongs to the shell, so kentsafe leaves
    its settings alone (setting them from the background stops the process, "Stopped (tty output)")."""
    db, out = tmp_path / "records.json", tmp_path / "list.txt"
    terminal.tmux("new-session", "-d", "-s", "k", "-x", "100", "-y", "30",
                  f"env -u COLUMNS -u LINES HOME={shlex.quote(str(tmp_path))} bash --norc --noprofile -i")
    command = f"{shlex.quote(str(KENTSAFE))} list --db {shlex.quote(str(db))} > {shlex.quote(str(out))} 2>&1 & " \
              "wait $!; echo BACKGROUND-DONE=$?"
    terminal.tmux("send-keys", "-t", "k", "-l", command)
    terminal.tmux("send-keys", "-t", "k", "Enter")
    terminal.wait_for("BACKGROUND-DONE=0")
    assert "no incidents" in out.read_text()
