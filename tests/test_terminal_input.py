"""Alt keys arriving in one burst (as over SSH) are read as alt keys: Textual's own parser typed "^c^i" for a
burst of alt+c alt+i. See kentsafe_tui/terminal_input.py."""

from __future__ import annotations

import string

from textual import constants, events
from textual._xterm_parser import XTermParser
from textual.drivers import linux_driver

from kentsafe_tui import terminal_input
from kentsafe_tui.terminal_input import BurstSafeParser


def read(parser_class, *chunks: str) -> list[events.Event]:
    """What a parser makes of the chunks, each read at once, and of the end of input after them (which settles a
    lone ESC, or an ESC pair, as the escape delay's timeout does)."""
    parser, made = parser_class(), []
    for chunk in chunks:
        made += parser.feed(chunk)
    made += parser.feed("")
    return made


def key_names(made) -> list[str]:
    return [event.key for event in made if isinstance(event, events.Key)]


def test_each_esc_pair_alone_is_read_as_textual_reads_it():
    for character in string.printable[:-5]:  # everything printable but the whitespace controls
        assert key_names(read(BurstSafeParser, "\x1b" + character)) == \
            key_names(read(XTermParser, "\x1b" + character)), character


def test_alt_keys_in_one_burst_are_alt_keys_and_type_nothing():
    burst = "\x1bc\x1bi\x1bg\x1b[A\x1bI\x1bOP\x1bv\x1b"  # alt+c alt+i alt+g up alt+shift+i f1 alt+v escape
    expected = ["alt+c", "alt+i", "alt+g", "up", "alt+shift+i", "f1", "alt+v", "escape"]
    assert "circumflex_accent" in key_names(read(XTermParser, burst))  # what Textual alone does with it
    made = [event for event in read(BurstSafeParser, burst) if isinstance(event, events.Key)]
    assert [event.key for event in made] == expected
    assert not any(event.is_printable for event in made)


def test_a_burst_split_between_reads_still_reads_each_whole_pair():
    made = read(BurstSafeParser, "ab\x1bi", "\x1bc", "\x1bnx")
    assert key_names(made) == ["a", "b", "alt+i", "alt+c", "alt+n", "x"]


def test_word_moves_and_sequences_textual_maps_are_left_to_it():
    assert key_names(read(BurstSafeParser, "\x1bb\x1bf\x1b[1;5C")) == ["ctrl+left", "ctrl+right", "ctrl+right"]


def test_pasted_text_is_left_as_it_came():
    paste = "\x1b[200~Zoë said \x1bi is not a key\x1b[201~"
    pasted = [event.text for event in read(BurstSafeParser, paste) if isinstance(event, events.Paste)]
    assert pasted == [event.text for event in read(XTermParser, paste) if isinstance(event, events.Paste)]
    assert pasted and pasted[0].startswith("Zoë said")
    assert key_names(read(BurstSafeParser, paste, "\x1bi\x1bc"))[-2:] == ["alt+i", "alt+c"]  # after the paste


def test_with_textuals_kitty_keys_turned_off_the_pairs_are_left_to_it(monkeypatch):
    monkeypatch.setattr(constants, "DISABLE_KITTY_KEY", True)
    assert key_names(read(BurstSafeParser, "\x1bi")) == ["alt+i"]
    assert BurstSafeParser().spelled_out("\x1bi\x1bc") == "\x1bi\x1bc"


def test_install_makes_the_drivers_input_thread_use_it(monkeypatch):
    monkeypatch.setattr(linux_driver, "XTermParser", XTermParser)
    terminal_input.install()
    assert linux_driver.XTermParser is BurstSafeParser
    # The driver makes its parser by that name in its input thread: if Textual stops doing so, this says it.
    assert "XTermParser" in linux_driver.LinuxDriver.run_input_thread.__code__.co_names
