"""The interpreter's garbage, collected while the DSL pauses rather than within a key.

Python collects cyclic garbage on a schedule of its own, set by how many objects have been made. Its full
collections walk every object made since the last freeze (the list's rows and dialogs, Textual's caches of
drawn lines): 17 to 57 ms at 50,000 incidents, growing through a session, and landing in whichever key's
frame came next. The same typing tends to pay for one at the same key (in the benchmark, 43 ms of a 78 ms
key in the incident list). Collected in a pause once the interpreter is half the way to a full collection of
its own, one seldom falls within a key. A read of the records pauses the collector, and nothing is
collected then.
"""

from __future__ import annotations

import gc


def collect_if_due() -> bool:
    """A full collection now, if the interpreter is half the way to one; whether it was made."""
    # get_count()[2]: younger collections since the last full one; a full one may follow get_threshold()[2].
    # A threshold of 0 is an interpreter that keeps no such schedule (the incremental collector of later
    # Pythons): its collections are left to it.
    threshold = gc.get_threshold()[2]
    if not gc.isenabled() or threshold <= 0:
        return False
    if gc.get_count()[2] * 2 < threshold:
        return False
    gc.collect()
    return True
