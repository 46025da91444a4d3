"""The `kentsafe` command's first lines: take ctrl+s from the terminal's flow control before the imports that
take most of the start (see flow_control), then run the command line."""

from __future__ import annotations

from . import flow_control


def main() -> int:
    flow_control.hold()
    from .cli import main as run_command_line

    return run_command_line()
