"""The command line: `kentsafe` opens the app; its subcommands serve admins, scripts and tests.

Success exits 0, a problem found exits 1, bad usage exits 2. Errors are one line on stderr, never a traceback
(set KENTSAFE_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import msgspec

from . import __version__, typeahead
from .dates import now_local
from .model import ValidationError
from .paths import default_db_path
from .store import ImportRefused, SETTINGS, Store, StoreError
from .text import json_escape, safe_line, strip_controls

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

    verify = commands.add_parser("verify", parents=[common], help="check the database and its history chain")
    verify.add_argument("--head", metavar="SEQ:HASH",
                        help="also prove that a chain head noted earlier (as verify printed it) is still in the chain")

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
    store.on_wait = _Waiting()
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


class _Waiting:
    """A progress line on stderr while a change queues behind other kentsafes' saves."""

    def __init__(self) -> None:
        self.shown = -1

    def __call__(self, seconds: float) -> None:
        if seconds < 1 or int(seconds) == self.shown:
            return
        self.shown = int(seconds)
        if sys.stderr.isatty():
            if self.shown == 1:
                import atexit

                atexit.register(lambda: sys.stderr.write("\n"))
            sys.stderr.write(f"\rkentsafe: waiting for other kentsafes to finish saving ({self.shown} s)...")
            sys.stderr.flush()
        elif self.shown == 1:
            print("kentsafe: waiting for other kentsafes to finish saving...", file=sys.stderr)


def _print(text: str = "") -> None:
    # A second line of defence: whatever a record holds, no control character reaches the terminal.
    sys.stdout.write(strip_controls(text) + "\n")


def _json(value: object) -> str:
    """JSON for people and scripts: C0 controls are escaped by json itself; C1 controls, DEL and the
    characters that reorder or break lines are escaped here too, so no terminal acts on them."""
    return json_escape(json.dumps(value, ensure_ascii=False, indent=2, allow_nan=False))


def _write_output(text: str, output: str | None, what: str, db: Path) -> None:
    text = strip_controls(text)
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from .fileio import WriteFailed, output_refusal, write_output

    target = Path(output).expanduser()
    refusal = output_refusal(target, db)
    if refusal:
        raise StoreError(f"nothing was written: {refusal}")
    if target.is_dir():
        raise StoreError(f"{target} is a folder: give a file name")
    if not target.parent.is_dir():
        raise StoreError(f"cannot write {target}: the folder {target.parent} does not exist")
    try:
        write_output(target, text.encode())  # always private (0600): it holds a child's record
    except WriteFailed as problem:
        raise StoreError(f"cannot write {target}: {problem}") from None
    print(f"{what} written to {safe_line(str(target.absolute()))}", file=sys.stderr)


# The characters `json_escape` escapes, as UTF-8: DEL, C1 controls, U+2028 to U+202E, U+2066 to U+2069.
_UNSAFE_UTF8 = re.compile(rb"(?:\x7f|\xc2[\x80-\x9f]|\xe2(?:\x80[\xa8-\xae]|\x81[\xa6-\xa9]))")


def _may_need_escapes(text: bytes) -> bool:
    """Whether `json_escape` could change this UTF-8 JSON text; the quick tests first (a regular expression
    over 170 MB took half a second, `isascii` and `in` a few milliseconds)."""
    if text.isascii():
        return b"\x7f" in text
    if b"\xc2" not in text and b"\xe2" not in text and b"\x7f" not in text:
        return False
    return _UNSAFE_UTF8.search(text) is not None


def _print_records(records: list[bytes]) -> None:
    """The records (compact JSON, as msgspec encodes the dataclasses) as json.dumps(..., ensure_ascii=False,
    indent=2) prints them, made in C (json's indented output is made in Python, 10x slower) and written a
    thousand at a time. Text holding no character `json_escape` would change is written as it is."""
    out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
    if not records:
        _print("[]")
        return
    sys.stdout.flush()
    for start in range(0, len(records), 1000):
        # Each record indented one level more inside the array: a newline in JSON text is never inside a string.
        chunk = (b"[\n  " if start == 0 else b",\n  ") + b",\n  ".join(
            msgspec.json.format(one, indent=2).replace(b"\n", b"\n  ") for one in records[start:start + 1000])
        if _may_need_escapes(chunk):
            chunk = json_escape(chunk.decode()).encode()
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
    store = open_store(args, read_now=False)  # each record is read once, and not kept (see Store.read_through)
    if args.search:
        from .text import clean

        args.search = clean(args.search)  # composed and without invisible characters, as records are stored
    if args.json:
        _print_records(store.list_records(args.status, args.search, _progress("reading")))
        return 0
    from .dates import describe

    rows = store.list_rows(args.status, args.search)
    for row in rows:
        _print(f"{row.id}  {describe(row.concern_at):<22}  {row.status:<17}  {safe_line(row.summary)}")
    if not rows:
        print(f"kentsafe: no incidents{' match' if args.status or args.search else ''} in {store.path}",
              file=sys.stderr)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    store = open_store(args, read_now=False)
    incident, _ = store.read_one(args.id)
    if args.json:
        _print(_json(incident.to_dict()))
    else:
        from .export import markdown_report

        _print(markdown_report(incident, load_library(args)))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .export import html_report, markdown_report

    library = load_library(args)
    store = open_store(args, library, read_now=False)
    incident, _ = store.read_one(args.id)
    render = html_report if args.format == "html" else markdown_report
    _write_output(render(incident, library), args.output, "The report", store.path)
    return 0


def cmd_letter(args: argparse.Namespace) -> int:
    from .letters import parent_letter

    library = load_library(args)
    store = open_store(args, library, read_now=False)
    incident, settings = store.read_one(args.id)
    letter, missing = parent_letter(library, incident, settings, now_local(), plain=args.format == "text")
    _write_output(letter, args.output, "The letter", store.path)
    for key in missing:
        print(f"kentsafe: note: the setting {key} is not set: kentsafe settings {key} \"...\"", file=sys.stderr)
    return 0


def cmd_chronology(args: argparse.Namespace) -> int:
    from .export import chronology_html, chronology_markdown, pupil_chronology

    store = open_store(args, read_now=False)
    named = store.read_matching(lambda incident: bool(pupil_chronology([incident], args.pupil)), _progress("reading"))
    entries = pupil_chronology(named, args.pupil)
    if not entries:
        raise StoreError(f"no incident names a pupil called {args.pupil!r}")
    render = chronology_html if args.format == "html" else chronology_markdown
    _write_output(render(args.pupil, entries), args.output, "The chronology", store.path)
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from . import oversight

    library = load_library(args)
    store = open_store(args, library, read_now=False)
    records, settings = store.read_all(_progress("reading"))  # decoded one at a time as they are counted
    now = now_local()
    days = settings.get("open_days_warning")
    stale = [(doc.path.name, doc.title, doc.review_due) for doc in library.stale(now.date())]
    view = oversight.compute(records, now, int(days) if days else oversight.DEFAULT_OPEN_DAYS, stale)
    if args.json:
        _print(_json(view.to_dict()))
    else:
        _print(safe_line(oversight.render_text(view), keep_newlines=True))
    return 0


def _not_json(constant: str) -> object:
    raise ValueError(f"{constant} is not a number JSON can hold")


def _no_repeats(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object, refused if it names a field twice: which of the two was meant cannot be known."""
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the field {safe_line(key)[:40]!r} appears twice in one object")
        result[key] = value
    return result


def cmd_import(args: argparse.Namespace) -> int:
    try:
        raw = sys.stdin.read() if args.file == "-" else Path(args.file).expanduser().read_text(encoding="utf-8")
    except OSError as problem:
        raise StoreError(f"cannot read {args.file}: {problem.strerror}") from None
    except UnicodeDecodeError:
        raise StoreError(f"{args.file} is not UTF-8 text; nothing was imported") from None
    name = safe_line(args.file)
    try:
        records = json.loads(raw, parse_constant=_not_json, object_pairs_hook=_no_repeats)
    except json.JSONDecodeError as problem:
        raise StoreError(
            f"{name} is not valid JSON (line {problem.lineno}, column {problem.colno}: {problem.msg}); "
            "nothing was imported"
        ) from None
    except RecursionError:
        raise StoreError(f"{name} is nested too deeply to be a list of incidents; nothing was imported") from None
    except ValueError as problem:  # NaN, Infinity, a repeated key, an integer of thousands of digits
        if "digits" in str(problem):
            problem = ValueError("it holds a number thousands of digits long")
        raise StoreError(f"{name} cannot be imported: {safe_line(str(problem))[:200]}; nothing was imported") from None
    store = open_store(args, read_now=False)  # the records already there are held only by what import reads
    source = "standard input" if args.file == "-" else Path(args.file).name
    try:
        ids = store.import_lean(records, source=source, allow_duplicates=args.allow_duplicates,
                                progress=_progress("reading"))
    except ImportRefused as refused:
        for problem in refused.problems:
            print(f"kentsafe: {safe_line(problem)}", file=sys.stderr)
        print(f"kentsafe: nothing was imported ({len(refused.problems)} problem(s))", file=sys.stderr)
        return 1
    if store.interrupted_after_save:
        print("kentsafe: interrupted while saving, but the import had already been saved whole", file=sys.stderr)
    try:
        if not ids:
            _print("the file held no incidents")
        else:  # one line, however many: the ids of one import follow on from each other
            _print(f"imported {len(ids)} incident(s): {ids[0]}" + (f" to {ids[-1]}" if len(ids) > 1 else ""))
    except KeyboardInterrupt:  # it landed: say so, and do not report it as interrupted
        print(f"kentsafe: imported {len(ids)} incident(s) before the interrupt", file=sys.stderr)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    noted = None
    if args.head:
        parts = args.head.strip().split(":")
        if len(parts) != 2 or not parts[0].isdigit() or not re.fullmatch(r"[0-9a-f]{64}", parts[1]):
            raise UsageError("--head takes SEQ:HASH as verify printed it, e.g. 340:9f2c...(64 hex digits)")
        noted = int(parts[0]), parts[1]
    store = open_store(args, read_now=False)  # each record is read once, and not kept
    checked = store.check(noted, _progress("reading"))
    problems = checked.problems
    if noted and not problems and checked.holds:
        problems.append(checked.holds)
    for problem in problems:
        print(f"kentsafe: {safe_line(problem)}", file=sys.stderr)
    if problems:
        print(f"kentsafe: {len(problems)} problem(s) in {store.path}", file=sys.stderr)
        return 1
    head = checked.head
    _print(f"ok: {checked.count} incident(s) in {store.path}; history chain of {head['seq']} entries intact")
    if noted:
        _print(f"the head noted earlier ({noted[0]}:{noted[1][:12]}...) is still in the chain")
    _print(f"chain head: {head['seq']}:{head['head']} (note it down; verify --head checks it later)")
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
        if args.command is not None:
            typeahead.release()  # a command reads the terminal as the shell left it
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

