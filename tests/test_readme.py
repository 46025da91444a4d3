"""The README's Quickstart is what CI runs, and documents every command and key there is."""

import re

from kentsafe_tui.cli import build_parser

from .conftest import REPO


def test_ci_runs_the_readmes_test_command_word_for_word():
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)\n```", readme.split("## Quickstart")[1].split("\n## ")[0], re.S)
    assert len(blocks) == 2, "the Quickstart has exactly two commands"
    assert "--demo" in blocks[0] and "pytest" in blocks[1]
    assert blocks[1] in (REPO / ".ci" / "run").read_text()


def test_every_cli_command_is_in_the_readme():
    readme = (REPO / "README.md").read_text()
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name in commands:
        assert f"`kentsafe {name}" in readme, name


def test_every_key_of_the_registry_is_in_the_readme_the_help_screen_and_the_bindings():
    from kentsafe_tui.app import KentsafeApp
    from kentsafe_tui.keys import all_keys, help_sections
    from kentsafe_tui.screens.main import MainScreen

    readme = (REPO / "README.md").read_text()
    helped = " ".join(key for _, rows in help_sections() for key, _ in rows)
    bound = {key for binding in [*MainScreen.BINDINGS, *KentsafeApp.BINDINGS] for key in binding.key.split(",")}
    for action in all_keys():
        for key in action.keys:
            assert f"`{key}`" in readme, key
            assert key in helped, key
            assert key in bound, key
    table = readme.split("### Keys")[1].split("\n### ")[0]
    for line in table.splitlines():
        if line.startswith("| `") and "alt+" in line:  # every fallback the README names is a real one
            for key in re.findall(r"`(alt\+\w)`", line):
                assert key in bound, key
