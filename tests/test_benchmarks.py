"""The benchmarks' own measuring helpers (the benchmarks print figures; nothing here is timed)."""

from benchmarks.startup import Typist, de_bruijn


def test_a_de_bruijn_cycle_holds_every_run_once():
    assert de_bruijn("01", 3) == "00010111"
    cycle = Typist.LETTERS
    assert len(cycle) == 20 ** 3
    assert len({(cycle + cycle[:2])[i:i + 3] for i in range(len(cycle))}) == len(cycle)


def test_each_typed_letters_tail_comes_once_in_the_field_so_no_earlier_frame_can_show_it():
    class Quiet:  # a session that answers at once: only the text typed matters here
        def typing_time(self, letter, tail):
            tails.append(tail)
            return 0.0

    tails: list[str] = []
    typist = Typist(Quiet())
    for start in ("", "Typed while the records were read"):
        typist.text = start
        for _ in range(300):
            typist.next_letter()
        for end, tail in enumerate(tails, start=len(typist.text) - len(tails) + 1):
            assert typist.text.count(tail) == 1, (start, tail)
            assert typist.text[:end].endswith(tail)
        tails.clear()
