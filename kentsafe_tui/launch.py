"""Starting the app from the command line: a terminal check, the demo database, and a clean exit."""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
from pathlib import Path

from .cli import UsageError, load_library, open_store
from .demo import fictional_records
from .drafts import Drafts


class NoTerminal(UsageError):
    pass


def _check_terminal() -> None:
    # Textual reads keys from stdin and draws on stderr.
    if not (sys.stdin.isatty() and sys.__stderr__ is not None and sys.__stderr__.isatty()):
        raise NoTerminal("the app needs a terminal; for scripts use a command such as kentsafe list "
                         "(kentsafe --help lists them)")


def _demo_store(args: argparse.Namespace, library) -> tuple[Path, object]:
    folder = Path(tempfile.mkdtemp(prefix="kentsafe-demo-"))
    args.db = str(folder / "records.json")
    store = open_store(args, library)
    store.import_records(fictional_records(12, library), source="the demo")
    for key, value in (("school_name", "Demo Academy (fictional)"), ("dsl_name", "Demo DSL"),
                       ("dsl_phone", "01234 000000 (fictional)")):
        store.set_setting(key, value)
    return folder, store


def run_app(args: argparse.Namespace) -> int:
    _check_terminal()
    library = load_library(args)
    demo_folder = None
    if args.demo:
        demo_folder, store = _demo_store(args, library)
    else:
        store = open_store(args, library, read_now=False)  # read in the background after the first frame
    from .app import KentsafeApp
    from .context import Context
    from .terminal_input import install as read_alt_keys_in_bursts

    read_alt_keys_in_bursts()

    context = Context(store=store, library=library, drafts=Drafts(store.path, store.user), demo=bool(args.demo))
    # What is loaded by now (modules, the guidance) lives as long as the app: kept out of the cyclic
    # collector's walks, whose full collections otherwise held keys for up to 40 ms as the screen completed.
    gc.freeze()
    try:
        app = KentsafeApp(context)
        app.freeze_when_complete = True
        app.collect_in_pauses = True
        app.run()
    finally:
        if demo_folder is not None:
            shutil.rmtree(demo_folder, ignore_errors=True)
    if app.stop_reason:
        print(f"kentsafe: {app.stop_reason}", file=sys.stderr)
    return app.return_code or 0

