"""Hole 12 of issue 10: times typed in an hour the clocks change are read sensibly, and kentsafe can say in
words which time it understood (the form shows that beside "Understood as")."""

from __future__ import annotations

from kentsafe_tui.dates import clock_change_note, parse_when, to_iso


def test_a_time_in_the_hour_the_clocks_skip_is_read_after_the_jump():
    # London, 29 March 2026: 01:00 GMT becomes 02:00 BST; 01:30 never happens.
    assert to_iso(parse_when("29/03/2026 01:30")) == "2026-03-29T02:30:00+01:00"
    note = clock_change_note("29/03/2026 01:30")
    assert note and "did not happen" in note and "02:30 BST" in note


def test_a_time_in_the_hour_that_happens_twice_says_which_was_taken():
    # London, 25 October 2026: 02:00 BST becomes 01:00 GMT; 01:30 happens twice.
    assert to_iso(parse_when("25/10/2026 01:30")) == "2026-10-25T01:30:00+01:00"
    note = clock_change_note("25/10/2026 01:30")
    assert note and "happens twice" in note and "BST" in note and "GMT" in note


def test_ordinary_times_and_times_with_an_offset_need_no_note():
    for typed in ("25/10/2026 00:30", "28/11/2026 09:15", "2026-10-25T01:30:00+00:00", "yesterday"):
        assert clock_change_note(typed) is None
