"""The `kentsafe` command's first lines: the terminal is set as the app will set it before the imports that take
most of the start, so keys typed meanwhile arrive as typed (see typeahead); then the command line runs."""

from __future__ import annotations

from . import typeahead


def main() -> int:
    typeahead.hold()
    from .cli import main as run_command_line

    return run_command_line()
