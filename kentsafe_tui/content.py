"""The guidance: Markdown documents with TOML front matter, layered, parsed and checked.

The format is described in docs/content-format.md. One file drives both what the guidance pane shows and the
checklist an incident gets: checklist items, referral questions and links are read from the Markdown itself.
"""

from __future__ import annotations

import calendar
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from .model import CATEGORIES, SCOPES, ChecklistItem

KINDS = ("playbook", "contacts", "guide", "template", "first_hour")
DOC_SCOPES = (*SCOPES, "any")
TEMPLATE_PURPOSES = ("parent_letter", "staff_briefing")
PLACEHOLDERS = {
    "school_name": "school setting school_name",
    "dsl_name": "school setting dsl_name",
    "dsl_phone": "school setting dsl_phone",
    "dsl_email": "school setting dsl_email",
    "headteacher_name": "school setting headteacher_name",
    "today": "the date the letter is made",
    "concern_date": "the date the concern arose",
    "incident_id": "the incident's reference",
}
REQUIRED = ("title", "kind", "scope", "last_reviewed", "review_every")

ITEM = re.compile(r"^\[ \]\s+(?P<text>.+?)\s*\{#(?P<id>[^\s}]*)(?:\s+if=(?P<cond>[a-z]+))?"
                  r"(?:\s+see=(?P<see>[^\s}]+))?\}\s*$", re.S)
QUESTION = re.compile(r"^\[\?\]\s+(?P<text>.+?)\s*\{#(?P<id>[^\s}]*)\}\s*$", re.S)
VALID_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
HEADING_ANCHOR = re.compile(r"^(?P<title>.*?)\s*\{#(?P<anchor>[A-Za-z0-9_-]+)\}\s*$")
PLACEHOLDER = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")
REVIEW_EVERY = re.compile(r"^(\d+)\s+(month|months|year|years)$")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)

_parser = MarkdownIt("commonmark")

# Checklist items are steps a DSL can tick: each starts with one of these verbs, or with a condition ("If ...,",
# "Where ...,") followed by one. Add a verb here when a new, genuinely actionable one is needed.
ACTION_VERBS = frozenset("""
    agree apply arrange ask assign block book brief call check close collect complete confirm contact correct decide
    delete email escalate establish explain file find give hand help hold identify inform invite keep label list log
    make meet name note notify offer open pass phone plan point prepare preserve provide put read record refer
    remind reply report request review say search secure send set share sit speak start stop support switch take
    talk tell update use write
""".split())
# Words that open an item but ask for no step a DSL could tick, with what to write instead.
VAGUE_OPENINGS = {
    "consider": "say what to decide and record the decision",
    "think": "say what to decide and record the decision",
    "remember": "say what to do",
    "try": "say what to do",
    "be": "say what to do",
    "ensure": "say who does what, e.g. \"Check that ...\" or \"Tell ...\"",
    "do": "a rule is not a step: say what to do, e.g. \"Brief staff not to ...\"",
    "don't": "a rule is not a step: say what to do, e.g. \"Brief staff not to ...\"",
    "never": "a rule is not a step: say what to do, e.g. \"Tell staff never to ...\"",
    "avoid": "a rule is not a step: say what to do",
}
CONDITIONS = frozenset("if where when once before after unless while".split())

# Telephone numbers in the guidance: UK numbers of 8 to 11 digits starting with 0 (spaces allowed), the textphone
# prefix form, and the short police and NHS numbers. Each must be listed in the contacts with its source.
PHONE = re.compile(r"(?<![\w.#/=-])(?:0\d(?: ?\d){6,9}|18001 101|999|101|111)(?![\w/-])")
SOURCE_LINE = re.compile(r"\bSource:", re.I)
FIRST_HOUR_STEPS = 10       # at most this many steps,
FIRST_HOUR_STEP_WIDTH = 72  # each step at most this many characters, so it fits one line at 80 columns,
FIRST_HOUR_LINES = 20       # and the whole document at most this many lines, so it fits 80x24 with a header and footer


def builtin_content_dir() -> Path:
    """The content shipped with kentsafe: inside the installed package, or the checkout's content/."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "content", package.parent / "content"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("kentsafe's built-in content is missing: reinstall kentsafe")


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier, if negative), kept within the month: 31 August + 6 months is 28 or
    29 February."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def slugify(text: str) -> str:
    text = re.sub(r"[^\w\s-]", "", text.lower()).strip()
    return re.sub(r"\s+", "-", text)


def plain(markdown: str) -> str:
    """Inline Markdown as plain text: links keep their words, emphasis and code marks go."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
    text = re.sub(r"(\*\*|__|\*|_|`)(.+?)\1", r"\2", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class Source:
    """A source a document relies on. `date` is the source's own date (published or last updated), `checked` the
    day someone last confirmed it still says what the document relies on, and `historical` marks a source cited for
    what it said at the time (such as the 2017 advisory), not as current guidance."""
    title: str
    url: str = ""
    date: date | None = None
    checked: date | None = None
    historical: bool = False

    @property
    def as_of(self) -> date | None:
        """The latest of the source's own date and the day it was last checked: how current the citation is."""
        known = [d for d in (self.date, self.checked) if d is not None]
        return max(known) if known else None


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    level: int
    line: int  # 0-based line in the body


@dataclass(frozen=True)
class ChecklistSpec:
    id: str
    text: str
    document: str
    section: str
    condition: str | None
    line: int
    see: tuple[str, ...] = ()  # first-hour steps: the playbook checklist items the step stands for


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    document: str
    section: str


@dataclass(frozen=True)
class Link:
    target: str
    text: str
    line: int

    @property
    def external(self) -> bool:
        return bool(EXTERNAL.match(self.target))


@dataclass
class Document:
    slug: str
    path: Path
    meta: dict[str, Any] = field(repr=False)
    body: str = field(repr=False)
    body_line: int = field(repr=False)  # line of the file where the body starts, for messages
    problems: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.meta.get("title") or self.slug)

    @property
    def kind(self) -> str:
        return str(self.meta.get("kind", ""))

    @property
    def scope(self) -> str:
        return str(self.meta.get("scope", "any"))

    @property
    def categories(self) -> list[str]:
        value = self.meta.get("categories", [])
        return [str(v) for v in value] if isinstance(value, list) else []

    @property
    def order(self) -> int:
        value = self.meta.get("order", 100)
        return value if isinstance(value, int) else 100

    @property
    def sources(self) -> list[Source]:
        value = self.meta.get("sources", [])
        if not isinstance(value, list):
            return []
        return [Source(str(s.get("title", "")), str(s.get("url", "")), _a_date(s.get("date")),
                       _a_date(s.get("checked")), s.get("historical") is True)
                for s in value if isinstance(s, dict)]

    @property
    def template_for(self) -> str:
        return str(self.meta.get("template_for", ""))

    @property
    def last_reviewed(self) -> date | None:
        value = self.meta.get("last_reviewed")
        return value if isinstance(value, date) else None

    @property
    def review_months(self) -> int | None:
        match = REVIEW_EVERY.match(str(self.meta.get("review_every", "")).strip())
        return int(match.group(1)) * (12 if match.group(2).startswith("year") else 1) if match else None

    @property
    def review_due(self) -> date | None:
        """The date the document should next be reviewed, from last_reviewed and review_every."""
        reviewed, months = self.last_reviewed, self.review_months
        if reviewed is None or months is None:
            return None
        return add_months(reviewed, months)

    @property
    def sources_due_from(self) -> date | None:
        """The oldest date a current source may carry: one review period before the last review. A source dated, or
        last checked, before this was not looked at in the review and must be checked again or marked historical."""
        reviewed, months = self.last_reviewed, self.review_months
        if reviewed is None or months is None:
            return None
        return add_months(reviewed, -months)

    def is_stale(self, today: date) -> bool:
        due = self.review_due
        return due is not None and due < today

    @cached_property
    def _tokens(self) -> list[Any]:
        return _parser.parse(self.body)

    @cached_property
    def sections(self) -> list[Section]:
        found, tokens = [], self._tokens
        for index, token in enumerate(tokens):
            if token.type == "heading_open":
                text = tokens[index + 1].content
                match = HEADING_ANCHOR.match(text)
                title, anchor = (match.group("title"), match.group("anchor")) if match else (text, slugify(text))
                found.append(Section(anchor, plain(title), int(token.tag[1]), token.map[0] if token.map else 0))
        return found

    def section_at(self, line: int) -> str:
        anchor = ""
        for section in self.sections:
            if section.line <= line:
                anchor = section.anchor
        return anchor

    @cached_property
    def _list_entries(self) -> list[tuple[str, int]]:
        """The inline text of each list item's first paragraph, with its line."""
        entries, tokens = [], self._tokens
        for index, token in enumerate(tokens):
            if token.type == "list_item_open" and index + 2 < len(tokens) and tokens[index + 2].type == "inline":
                inline = tokens[index + 2]
                entries.append((inline.content, inline.map[0] if inline.map else 0))
        return entries

    def _marked(self, pattern: re.Pattern[str]) -> Iterable[tuple[re.Match[str], int]]:
        """List items whose text matches `pattern` (a checklist item or a referral question), with their line."""
        for content, line in self._list_entries:
            match = pattern.match(content)
            if match:
                yield match, line

    @cached_property
    def items(self) -> list[ChecklistSpec]:
        return [ChecklistSpec(m.group("id"), plain(m.group("text")), self.slug, self.section_at(line),
                              m.group("cond"), line, tuple(i for i in (m.group("see") or "").split(",") if i))
                for m, line in self._marked(ITEM)]

    @cached_property
    def questions(self) -> list[Question]:
        return [Question(m.group("id"), plain(m.group("text")), self.slug, self.section_at(line))
                for m, line in self._marked(QUESTION)]

    @cached_property
    def links(self) -> list[Link]:
        found = []
        for token in self._tokens:
            if token.type != "inline" or not token.children:
                continue
            children = token.children
            for index, child in enumerate(children):
                if child.type == "link_open":
                    words = []
                    for following in children[index + 1:]:
                        if following.type == "link_close":
                            break
                        words.append(following.content)
                    found.append(Link(str(child.attrs.get("href", "")), "".join(words),
                                      token.map[0] if token.map else 0))
        return found

    def display_markdown(self) -> str:
        """The body as a reader sees it: checklist marks and explicit anchors turned into plain text."""
        lines = []
        for line in self.body.splitlines():
            line = re.sub(r"^(\s*[-*+]\s+)\[ \]\s+(.*?)\s*\{#[^}]*\}\s*$", r"\1☐ \2", line)
            line = re.sub(r"^(\s*[-*+]\s+)\[\?\]\s+(.*?)\s*\{#[^}]*\}\s*$", r"\1**?** \2", line)
            line = re.sub(r"^(#{1,6}\s.*?)\s*\{#[A-Za-z0-9_-]+\}\s*$", r"\1", line)
            lines.append(line)
        return "\n".join(lines)

    def section_text(self, anchor: str, own: bool = False) -> str:
        """The Markdown of one section: to the next heading of the same or a higher level, or with `own`,
        to the next heading of any level."""
        sections = self.sections
        lines = self.display_markdown().splitlines()
        for index, section in enumerate(sections):
            if section.anchor == anchor:
                end = next((s.line for s in sections[index + 1:] if own or s.level <= section.level), len(lines))
                return "\n".join(lines[section.line:end])
        return ""


def _a_date(value: Any) -> date | None:
    return value if isinstance(value, date) else None


def _read_document(path: Path) -> Document:
    slug = path.stem
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark (as some Windows editors save) is not text
    except (OSError, UnicodeDecodeError) as problem:
        return Document(slug, path, {}, "", 0, [f"{path.name}: cannot be read ({problem})"])
    lines = text.splitlines()
    if not lines or lines[0].strip() != "+++":
        return Document(slug, path, {}, text, 0, [f"{path.name}:1: no front matter (the file must start with +++)"])
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "+++")
    except StopIteration:
        return Document(slug, path, {}, text, 0, [f"{path.name}:1: the front matter is not closed with +++"])
    try:
        meta = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as problem:
        # tomllib counts lines from the first line after +++: name the line of the file, as other messages do.
        message, where = str(problem), re.search(r"\s*\(at line (\d+), column (\d+)\)", str(problem))
        prefix = path.name
        if where:
            prefix = f"{path.name}:{int(where.group(1)) + 1}"
            message = f"{message[:where.start()]} (column {where.group(2)})"
        return Document(slug, path, {}, "\n".join(lines[end + 1:]), end + 1,
                        [f"{prefix}: bad front matter: {message}"])
    return Document(slug, path, meta, "\n".join(lines[end + 1:]), end + 1)


class Library:
    """All documents, the built-in ones with a school's own folders layered over them."""

    def __init__(self, documents: dict[str, Document], folders: list[Path]):
        self.documents = documents
        self.folders = folders

    @classmethod
    def load(cls, *folders: Path | str | None) -> Library:
        """Later folders win: a file of the same name replaces the earlier one, new names are added."""
        chosen = [Path(f) for f in folders if f]
        documents: dict[str, Document] = {}
        for folder in chosen:
            if not folder.is_dir():
                raise FileNotFoundError(f"the content folder {folder} does not exist")
            for path in sorted(folder.glob("*.md")):
                documents[path.stem] = _read_document(path)
        return cls(documents, chosen)

    @classmethod
    def default(cls, school_folder: Path | str | None = None) -> Library:
        return cls.load(builtin_content_dir(), school_folder)

    def get(self, slug: str) -> Document | None:
        return self.documents.get(slug.removesuffix(".md"))

    def of_kind(self, kind: str) -> list[Document]:
        return [doc for doc in self.documents.values() if doc.kind == kind]

    def playbooks(self, category: str, scope: str | None = None) -> list[Document]:
        """The playbooks for an incident's category (and scope), in the order their items apply."""
        found = [
            doc for doc in self.of_kind("playbook")
            if category in doc.categories and (scope is None or doc.scope in ("any", scope))
        ]
        return sorted(found, key=lambda doc: (doc.order, doc.slug))

    def checklist_for(self, category: str, scope: str, refer: bool = False) -> list[ChecklistItem]:
        items = []
        for doc in self.playbooks(category, scope):
            for spec in doc.items:
                if spec.condition is None or (spec.condition == "refer" and refer):
                    items.append(ChecklistItem(id=spec.id, text=spec.text, source=f"{doc.slug}#{spec.section}"))
        return items

    def questions_for(self, category: str) -> list[Question]:
        return [q for doc in self.playbooks(category) for q in doc.questions]

    def first_hour(self) -> Document | None:
        """The one-screen list of what to do in the first hour (kind "first_hour"), if the content has one.

        Each of its items is a step; `spec.see` names the playbook checklist items that step stands for, so the app
        can show, beside each step, the matching items of the incident open on screen."""
        found = sorted(self.of_kind("first_hour"), key=lambda doc: doc.slug)
        return found[0] if found else None

    def first_hour_steps(self, checklist_ids: Iterable[str] = ()) -> list[tuple[ChecklistSpec, list[str]]]:
        """Each first-hour step with the ids, among `checklist_ids` (an incident's checklist), that it stands for,
        in the step's own order. With no incident, every step comes with an empty list."""
        first = self.first_hour()
        if first is None:
            return []
        present = set(checklist_ids)
        return [(step, [item_id for item_id in step.see if item_id in present]) for step in first.items]

    def template(self, purpose: str, scope: str) -> Document | None:
        matches = [doc for doc in self.of_kind("template") if doc.template_for == purpose]
        for doc in matches:
            if doc.scope == scope:
                return doc
        return next((doc for doc in matches if doc.scope == "any"), None)

    def stale(self, today: date) -> list[Document]:
        return [doc for doc in self.documents.values() if doc.is_stale(today)]

    def resolve(self, current: str, target: str) -> tuple[str, str] | None:
        """(document, anchor) for an internal link from `current`, or None if it leads nowhere."""
        name, _, anchor = target.partition("#")
        slug = current if not name else name.removesuffix(".md")
        doc = self.get(slug)
        if doc is None or (anchor and anchor not in {s.anchor for s in doc.sections}):
            return None
        return slug, anchor

    def search(self, words: str, kind: str | None = None) -> list[tuple[Document, Section]]:
        """Sections whose text holds every word, e.g. to find a contact."""
        wanted = words.casefold().split()
        found = []
        for doc in self.documents.values():
            if kind and doc.kind != kind:
                continue
            for section in doc.sections:
                text = (doc.title + "\n" + doc.section_text(section.anchor, own=True)).casefold()
                if all(word in text for word in wanted):
                    found.append((doc, section))
        return found


def check(library: Library, today: date) -> list[str]:
    """Every problem in a content library, one line each, as `kentsafe content check` prints them."""
    problems: list[str] = []
    seen_ids: dict[str, str] = {}
    for doc in library.documents.values():
        name = doc.path.name
        problems += doc.problems
        if doc.problems:
            continue
        problems += _check_meta(doc)
        for content, line in doc._list_entries:
            if content.startswith(("[ ]", "[?]")) and not (ITEM.match(content) or QUESTION.match(content)):
                problems.append(f"{name}:{doc.body_line + line + 1}: checklist item without an id {{#...}} at its end")
        for spec in [*doc.items, *doc.questions]:
            where = f"{name}:{doc.body_line + getattr(spec, 'line', 0) + 1}"
            if not VALID_ID.match(spec.id):
                problems.append(f"{where}: checklist id '{spec.id}' must be lower case letters, digits and hyphens")
            elif spec.id in seen_ids:
                problems.append(f"{name}: duplicate checklist id '{spec.id}' (also in {seen_ids[spec.id]})")
            else:
                seen_ids[spec.id] = name
            if isinstance(spec, ChecklistSpec) and spec.condition not in (None, "refer"):
                problems.append(f"{where}: unknown condition if={spec.condition} (only if=refer exists)")
        for link in doc.links:
            if link.external or link.target.startswith("mailto:"):
                continue
            if library.resolve(doc.slug, link.target) is None:
                problems.append(f"{name}:{doc.body_line + link.line + 1}: broken link to '{link.target}'")
        for placeholder in PLACEHOLDER.findall(doc.body):
            if doc.kind != "template":
                problems.append(f"{name}: placeholder {{{{{placeholder}}}}} outside a template")
            elif placeholder not in PLACEHOLDERS:
                problems.append(f"{name}: unknown placeholder {{{{{placeholder}}}}} (known: {', '.join(PLACEHOLDERS)})")
        due = doc.review_due
        if due is not None and due < today:
            problems.append(f"{name}: review was due on {due.isoformat()} (last reviewed {doc.last_reviewed})")
        problems += _check_sources(doc)
        problems += _check_actions(doc)
        problems += _check_first_hour(doc, library)
    problems += _check_phone_numbers(library)
    first_hours = sorted(doc.path.name for doc in library.of_kind("first_hour"))
    if len(first_hours) > 1:
        problems.append(f"more than one first-hour document ({', '.join(first_hours)}): keep one")
    for category in CATEGORIES:
        for scope in SCOPES:
            if not library.playbooks(category, scope):
                problems.append(f"no playbook for category '{category}' with scope '{scope}'")
    return problems


def _check_meta(doc: Document) -> list[str]:
    name, meta, problems = doc.path.name, doc.meta, []
    for key in REQUIRED:
        if key not in meta:
            problems.append(f"{name}: front matter has no '{key}'")
    if "kind" in meta and meta["kind"] not in KINDS:
        problems.append(f"{name}: kind '{meta['kind']}' is not one of {', '.join(KINDS)}")
    if "scope" in meta and meta["scope"] not in DOC_SCOPES:
        problems.append(f"{name}: scope '{meta['scope']}' is not one of {', '.join(DOC_SCOPES)}")
    if "last_reviewed" in meta and not isinstance(meta["last_reviewed"], date):
        problems.append(f"{name}: last_reviewed must be a date like 2026-11-28 (no quotes)")
    if "review_every" in meta and not REVIEW_EVERY.match(str(meta["review_every"]).strip()):
        problems.append(f"{name}: review_every must read like \"12 months\" or \"1 year\"")
    sources = meta.get("sources")
    if not isinstance(sources, list) or not sources:
        problems.append(f"{name}: no sources: name where the guidance comes from ([[sources]] with a title)")
    else:
        for number, source in enumerate(sources, start=1):
            if not isinstance(source, dict) or not str(source.get("title", "")).strip():
                problems.append(f"{name}: source {number} has no title")
    if doc.kind == "playbook":
        if not doc.categories:
            problems.append(f"{name}: a playbook needs categories = [...]")
        for category in doc.categories:
            if category not in CATEGORIES:
                problems.append(f"{name}: unknown category '{category}' (known: {', '.join(CATEGORIES)})")
    if doc.kind == "template" and doc.template_for not in TEMPLATE_PURPOSES:
        problems.append(f"{name}: a template needs template_for = one of {', '.join(TEMPLATE_PURPOSES)}")
    return problems


def _check_sources(doc: Document) -> list[str]:
    """At least one dated source, dates that are dates, and no current source older than the review allows."""
    name, raw, problems = doc.path.name, doc.meta.get("sources"), []
    if not isinstance(raw, list) or not raw:
        return []  # reported by _check_meta
    for number, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            continue
        for key in ("date", "checked"):
            if key in entry and not isinstance(entry[key], date):
                problems.append(f"{name}: source {number} {key} must be a date like 2026-12-01 (no quotes)")
        if "historical" in entry and not isinstance(entry["historical"], bool):
            problems.append(f"{name}: source {number} historical must be true or false")
    sources = doc.sources
    if not any(source.date for source in sources):
        problems.append(f"{name}: no dated source: give at least one [[sources]] its own date = YYYY-MM-DD")
    oldest = doc.sources_due_from
    for number, source in enumerate(sources, start=1):
        as_of = source.as_of
        if oldest is None or as_of is None or source.historical or as_of >= oldest:
            continue
        problems.append(
            f"{name}: source {number} ({source.title[:60]}) is dated {as_of}, older than the review of "
            f"{doc.last_reviewed} allows (from {oldest}): check it and add checked = YYYY-MM-DD, or mark it "
            f"historical = true")
    return problems


def action_problem(text: str) -> str | None:
    """Why a checklist item is not a step a DSL can tick, or None when it starts with an action."""
    words = re.findall(r"[A-Za-z']+", text)
    if not words:
        return "has no words"
    first = words[0].lower()
    if first in CONDITIONS:
        # The action follows the condition, after a comma: "If a child is in danger now, call 999." The condition
        # may hold commas of its own ("If staff, a volunteer or a contractor ..."), so take the first clause after
        # a comma that opens with an action, or else the first clause, to report it.
        following = [re.findall(r"[A-Za-z']+", part) for part in text.split(",")[1:]]
        leads = [part[0].lower() for part in following if part]
        if not leads:
            return f"starts with a condition ('{words[0]} ...') and no action after a comma"
        first = next((w for w in leads if w in ACTION_VERBS or w in VAGUE_OPENINGS), leads[-1])
    if first in VAGUE_OPENINGS:
        return f"starts with '{first}', which is not a step a DSL can tick: {VAGUE_OPENINGS[first]}"
    if first not in ACTION_VERBS:
        return f"starts with '{first}', not an action verb (known: ACTION_VERBS in kentsafe_tui/content.py)"
    return None


def _check_actions(doc: Document) -> list[str]:
    problems = []
    for spec in doc.items:
        why = action_problem(spec.text)
        if why:
            problems.append(f"{doc.path.name}:{doc.body_line + spec.line + 1}: checklist item '{spec.id}' {why}")
    return problems


def _check_first_hour(doc: Document, library: Library) -> list[str]:
    name, problems = doc.path.name, []
    if doc.kind != "first_hour":
        for spec in doc.items:
            if spec.see:
                problems.append(f"{name}:{doc.body_line + spec.line + 1}: see= belongs on first-hour steps only")
        return problems
    playbook_items = {spec.id for playbook in library.of_kind("playbook") for spec in playbook.items}
    if not doc.items:
        problems.append(f"{name}: a first-hour document needs its steps as checklist items")
    if len(doc.items) > FIRST_HOUR_STEPS:
        problems.append(f"{name}: {len(doc.items)} steps; keep to {FIRST_HOUR_STEPS} so they fit one screen")
    for spec in doc.items:
        where = f"{name}:{doc.body_line + spec.line + 1}"
        if not spec.see:
            problems.append(f"{where}: step '{spec.id}' names no playbook items (add see=item-id,item-id)")
        for item_id in spec.see:
            if item_id not in playbook_items:
                problems.append(f"{where}: step '{spec.id}' sees '{item_id}', which no playbook has")
        if len(spec.text) > FIRST_HOUR_STEP_WIDTH:
            problems.append(f"{where}: step '{spec.id}' is {len(spec.text)} characters; keep to "
                            f"{FIRST_HOUR_STEP_WIDTH} so it fits one line at 80 columns")
    lines = doc.display_markdown().strip("\n").splitlines()
    if len(lines) > FIRST_HOUR_LINES:
        problems.append(f"{name}: {len(lines)} lines; keep to {FIRST_HOUR_LINES} so it fits 80x24")
    return problems


def phone_numbers(text: str) -> list[str]:
    """The telephone numbers in a piece of text, as written."""
    return [match.group(0) for match in PHONE.finditer(re.sub(r"\{#[^}]*\}", "", text))]


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def _check_phone_numbers(library: Library) -> list[str]:
    """Every number in the guidance is one the contacts list, in a section that names its source."""
    problems: list[str] = []
    listed: set[str] = set()
    contacts = [doc for doc in library.of_kind("contacts") if not doc.problems]
    for doc in contacts:  # a number is listed when a contacts section gives it beside a Source: line
        for section in doc.sections:
            text = doc.section_text(section.anchor, own=True)
            if SOURCE_LINE.search(text):
                listed.update(_digits(n) for n in phone_numbers(text))
    where_listed = ", ".join(sorted(doc.path.name for doc in contacts)) or "a contacts document"
    for doc in library.documents.values():
        if doc.problems:
            continue
        for number, line in enumerate(doc.body.splitlines()):
            for found in phone_numbers(line):
                if _digits(found) not in listed:
                    problems.append(f"{doc.path.name}:{doc.body_line + number + 1}: phone number {found} is not "
                                    f"in {where_listed} with its source")
        for source in doc.sources:
            for found in phone_numbers(source.title):
                if _digits(found) not in listed:
                    problems.append(f"{doc.path.name}: phone number {found} in a source title is not in "
                                    f"{where_listed} with its source")
    return problems


def documents_in_reading_order(library: Library) -> Iterable[Document]:
    """Start page first, then the first hour, guides, playbooks, contacts and templates, each by title."""
    rank = {"first_hour": -1, "guide": 0, "playbook": 1, "contacts": 2, "template": 3}
    return sorted(library.documents.values(),
                  key=lambda d: (d.slug != "index", rank.get(d.kind, 4), d.order, d.title))
