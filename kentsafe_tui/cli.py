"""The command line: `kentsafe` opens the app; its subcommands serve admins, scripts and tests.

Success exits 0, a problem found exits 1, bad usage exits 2. Errors are one line on stderr, never a traceback
(set KENTSAFE_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from . import __version__
from .dates import now_local
from .model import ValidationError
from .paths import default_db_path
from .store import ImportRefused, SETTINGS, Store, StoreError
from .text import safe_line

if TYPE_CHECKING:
    from .content import Library

# The guidance (content, markdown-it) is imported only by the commands that use it: it was 170 of the 286 ms
# it took to import the command line, paid by every `list` and `show --json`.

PROG = "kentsafe"


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see: {self.prog} --help)")


def _common(parser: argparse.ArgumentParser, defaults: bool) -> None:
    """Options every command takes, before or after its name."""
    default = None if defaults else argparse.SUPPRESS
    parser.add_argument("--db", metavar="PATH", default=default,
                        help="the database file (default: $KENTSAFE_DB, else records.json in your data folder)")
    parser.add_argument("--user", metavar="NAME", default=default,
                        help="who is recorded as acting (default: your login name)")
    parser.add_argument("--content", metavar="DIR", default=default,
                        help="a school's own guidance folder, layered over the built-in one ($KENTSAFE_CONTENT)")


def build_parser() -> Parser:
    parser = Parser(prog=PROG, description="kentsafe: safeguarding incidents, guidance and checklists for a DSL.")
    parser.add_argument("--version", action="version", version=f"kentsafe {__version__}")
    _common(parser, defaults=True)
    parser.add_argument("--demo", action="store_true",
                        help="open the app on a fresh temporary database of fictional incidents")
    common = Parser(add_help=False)
    _common(common, defaults=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    listing = commands.add_parser("list", parents=[common], help="one line per incident, newest first")
    listing.add_argument("--json", action="store_true", help="print an array of records")
    listing.add_argument("--status", choices=["open", "awaiting_response", "monitoring", "closed"])
    listing.add_argument("--search", metavar="TEXT", help="only incidents holding every word of TEXT")

    show = commands.add_parser("show", parents=[common], help="one incident in full")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")

    export = commands.add_parser("export", parents=[common], help="an incident's report, with its chronology")
    export.add_argument("id")
    export.add_argument("--format", choices=["markdown", "html"], default="markdown")
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of the screen")

    letter = commands.add_parser("letter", parents=[common], help="the parent letter for an incident")
    letter.add_argument("id")
    letter.add_argument("--format", choices=["text", "markdown"], default="text",
                        help="plain text to print or paste (default), or Markdown")
    letter.add_argument("-o", "--output", metavar="FILE")

    chronology = commands.add_parser("chronology", parents=[common],
                                     help="every incident naming a pupil, in the order the concerns arose")
    chronology.add_argument("pupil", help="the pupil's name as recorded")
    chronology.add_argument("--format", choices=["markdown", "html"], default="markdown")
    chronology.add_argument("-o", "--output", metavar="FILE")

    stats = commands.add_parser("stats", parents=[common], help="counts by status, category and month")
    stats.add_argument("--json", action="store_true")

    importing = commands.add_parser("import", parents=[common], help="add incidents from a JSON file (- for stdin)")
    importing.add_argument("file")
    importing.add_argument("--allow-duplicates", action="store_true",
                           help="import records that look like ones already in the database")

    commands.add_parser("verify", parents=[common], help="check the database and its history chain")

    settings = commands.add_parser("settings", parents=[common],
                                   help="show or set the school settings used in letters")
    settings.add_argument("key", nargs="?", choices=list(SETTINGS), metavar="KEY")
    settings.add_argument("value", nargs="?")

    content = commands.add_parser("content", help="work with the guidance content")
    content_commands = content.add_subparsers(dest="content_command", metavar="ACTION", parser_class=Parser)
    checking = content_commands.add_parser("check", help="check a content folder; one problem a line")
    checking.add_argument("dir", nargs="?", help="the folder (default: the built-in content)")
    checking.add_argument("--alone", action="store_true",
                          help="check the folder by itself, not layered over the built-in content")
    return parser


def resolve_db(args: argparse.Namespace) -> Path:
    chosen = getattr(args, "db", None) or os.environ.get("KENTSAFE_DB")
    return Path(chosen).expanduser() if chosen else default_db_path()


def resolve_content(args: argparse.Namespace) -> str | None:
    return getattr(args, "content", None) or os.environ.get("KENTSAFE_CONTENT") or None


def load_library(args: argparse.Namespace) -> Library:
    from .content import Library

    return Library.default(resolve_content(args))


def open_store(args: argparse.Namespace, library: Library | None = None, read_now: bool = True,
               progress: str | None = None, rows: bool = True) -> Store:
    """The store; the guidance is read only if a change needs a playbook's checklist. With `progress`, a
    large database is read now, saying how far it has got on a terminal."""
    loaded: list[Library] = [library] if library else []

    def checklist_for(category: str, scope: str, refer: bool) -> list:
        if not loaded:
            loaded.append(load_library(args))
        return loaded[0].checklist_for(category, scope, refer)

    store = Store(resolve_db(args), user=getattr(args, "user", None), checklist_for=checklist_for,
                  read_now=read_now and progress is None)
    if progress is not None:
        store.load(_progress(progress), rows=rows)
    return store


def _progress(what: str) -> Callable[[int, int], None] | None:
    """Progress on stderr, on a terminal only, for work on a large database (nothing below 5,000 records)."""
    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int) -> None:
        if total < 5000:
            return
        sys.stderr.write(f"\rkentsafe: {what} {done:,} of {total:,} records" if done < total else "\r\x1b[K")
        sys.stderr.flush()

    return report


def _print(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _write_output(text: str, output: str | None, what: str) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from .fileio import WriteFailed, atomic_write

    target = Path(output).expanduser()
    if target.is_dir():
        raise StoreError(f"{target} is a folder: give a file name")
    if not target.parent.is_dir():
        raise StoreError(f"cannot write {target}: the folder {target.parent} does not exist")
    try:
        atomic_write(target, text.encode())  # a new file is private (0600): it holds a child's record
    except WriteFailed as problem:
        raise StoreError(f"cannot write {target}: {problem}") from None
    print(f"{what} written to {target.absolute()}", file=sys.stderr)


def _print_records(store: Store, status: str | None, search: str | None) -> None:
    """The records as json.dumps(..., ensure_ascii=False, indent=2) prints them, made in C (json's indented
    output is made in Python, 10x slower) and written a thousand at a time, never all at once in memory."""
    import msgspec

    out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
    rows = store.summaries(status, search)
    if not rows:
        _print("[]")
        return
    sys.stdout.flush()
    for start in range(0, len(rows), 1000):
        batch = store.incidents_of(rows[start:start + 1000])  # dataclasses: encoded as to_dict() gives them
        # Each record indented one level more inside the array: a newline in JSON text is never inside a string.
        text = b",\n  ".join(msgspec.json.format(msgspec.json.encode(one), indent=2).replace(b"\n", b"\n  ")
                             for one in batch)
        chunk = (b"[\n  " if start == 0 else b",\n  ") + text
        if out is not None:
            out.write(chunk)
        else:
            sys.stdout.write(chunk.decode())
    if out is not None:
        out.write(b"\n]\n")
        out.flush()
    else:
        sys.stdout.write("\n]\n")


def cmd_list(args: argparse.Namespace) -> int:
    store = open_store(args, progress="reading" if args.json else None)
    if args.json:
        _print_records(store, args.status, args.search)
        return 0
    from .dates import describe

    rows = store.summaries(args.status, args.search)
    for row in rows:
        _print(f"{row.id}  {describe(row.concern_at):<22}  {row.status:<17}  {safe_line(row.summary)}")
    if not rows:
        print(f"kentsafe: no incidents{' match' if args.status or args.search else ''} in {store.path}",
              file=sys.stderr)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    store = open_store(args)
    incident = store.get(args.id)
    if args.json:
        _print(json.dumps(incident.to_dict(), ensure_ascii=False, indent=2))
    else:
        from .export import markdown_report

        _print(markdown_report(incident, load_library(args)))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .export import html_report, markdown_report

    library = load_library(args)
    incident = open_store(args, library).get(args.id)
    render = html_report if args.format == "html" else markdown_report
    _write_output(render(incident, library), args.output, "The report")
    return 0


def cmd_letter(args: argparse.Namespace) -> int:
    from .letters import parent_letter

    library = load_library(args)
    store = open_store(args, library)
    letter, missing = parent_letter(library, store.get(args.id), store.settings(), now_local(),
                                    plain=args.format == "text")
    _write_output(letter, args.output, "The letter")
    for key in missing:
        print(f"kentsafe: note: the setting {key} is not set: kentsafe settings {key} \"...\"", file=sys.stderr)
    return 0


def cmd_chronology(args: argparse.Namespace) -> int:
    from .export import chronology_html, chronology_markdown, pupil_chronology

    store = open_store(args, progress="reading")
    entries = pupil_chronology(store.incidents(), args.pupil)
    if not entries:
        raise StoreError(f"no incident names a pupil called {args.pupil!r}")
    render = chronology_html if args.format == "html" else chronology_markdown
    _write_output(render(args.pupil, entries), args.output, "The chronology")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from . import oversight

    library = load_library(args)
    store = open_store(args, library, progress="reading")
    now = now_local()
    days = store.settings().get("open_days_warning")
    stale = [(doc.path.name, doc.title, doc.review_due) for doc in library.stale(now.date())]
    view = oversight.compute(store.incidents(), now, int(days) if days else oversight.DEFAULT_OPEN_DAYS, stale)
    if args.json:
        _print(json.dumps(view.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print(safe_line(oversight.render_text(view), keep_newlines=True))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    try:
        raw = sys.stdin.read() if args.file == "-" else Path(args.file).expanduser().read_text(encoding="utf-8")
    except OSError as problem:
        raise StoreError(f"cannot read {args.file}: {problem.strerror}") from None
    except UnicodeDecodeError:
        raise StoreError(f"{args.file} is not UTF-8 text") from None
    try:
        records = json.loads(raw)
    except json.JSONDecodeError as problem:
        raise StoreError(
            f"{args.file} is not valid JSON (line {problem.lineno}, column {problem.colno}: {problem.msg}); "
            "nothing was imported"
        ) from None
    store = open_store(args, progress="reading")
    source = "standard input" if args.file == "-" else Path(args.file).name
    try:
        ids = store.import_records(records, source=source, allow_duplicates=args.allow_duplicates)
    except ImportRefused as refused:
        for problem in refused.problems:
            print(f"kentsafe: {safe_line(problem)}", file=sys.stderr)
        print(f"kentsafe: nothing was imported ({len(refused.problems)} problem(s))", file=sys.stderr)
        return 1
    if not ids:
        _print("the file held no incidents")
    else:  # one line, however many: the ids of one import follow on from each other
        _print(f"imported {len(ids)} incident(s): {ids[0]}" + (f" to {ids[-1]}" if len(ids) > 1 else ""))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    store = open_store(args, progress="reading", rows=False)
    problems = store.verify()
    for problem in problems:
        print(f"kentsafe: {safe_line(problem)}", file=sys.stderr)
    if problems:
        print(f"kentsafe: {len(problems)} problem(s) in {store.path}", file=sys.stderr)
        return 1
    head = store.chain_head()
    _print(f"ok: {store.count()} incident(s) in {store.path}; history chain of {head['seq']} entries intact")
    _print(f"chain head: {head['head']} (note it down to check later that nothing was rewritten)")
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    store = open_store(args)
    if args.key and args.value is not None:
        store.set_setting(args.key, args.value)
        _print(f"{args.key} set")
        return 0
    current = store.settings()
    for key, meaning in SETTINGS.items():
        if args.key and key != args.key:
            continue
        _print(f"{key:<18} {safe_line(current.get(key, '')) or '(not set)':<30}  {meaning}")
    return 0


def cmd_content(args: argparse.Namespace) -> int:
    if args.content_command != "check":
        raise UsageError("say what to do with the content: kentsafe content check [DIR]")
    from .content import Library, builtin_content_dir, check

    folder = Path(args.dir).expanduser() if args.dir else builtin_content_dir()
    if not folder.is_dir():
        raise StoreError(f"{folder} is not a folder")
    library = Library.load(folder) if args.alone else Library.load(builtin_content_dir(), folder)
    problems = check(library, now_local().date())
    for problem in problems:
        _print(safe_line(problem))
    if problems:
        print(f"kentsafe: {len(problems)} problem(s) in the content", file=sys.stderr)
        return 1
    _print(f"ok: {len(library.documents)} document(s) checked")
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    from .launch import run_app

    return run_app(args)


COMMANDS = {
    "list": cmd_list,
    "show": cmd_show,
    "export": cmd_export,
    "letter": cmd_letter,
    "chronology": cmd_chronology,
    "stats": cmd_stats,
    "import": cmd_import,
    "verify": cmd_verify,
    "settings": cmd_settings,
    "content": cmd_content,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        handler = COMMANDS.get(args.command, cmd_app)
        return handler(args)
    except UsageError as problem:
        print(f"kentsafe: {problem}", file=sys.stderr)
        return 2
    except ValidationError as problem:
        for field_name, message in problem.errors.items():
            print(f"kentsafe: {field_name}: {safe_line(message)}", file=sys.stderr)
        return 1
    except (StoreError, FileNotFoundError) as problem:
        print(f"kentsafe: {safe_line(str(problem))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as problem:  # the one-line promise holds even for a bug
        if os.environ.get("KENTSAFE_DEBUG"):
            raise
        print(f"kentsafe: unexpected error ({type(problem).__name__}: {safe_line(str(problem))}); "
              "the database keeps its last good save. Set KENTSAFE_DEBUG=1 to see details", file=sys.stderr)
        return 1

