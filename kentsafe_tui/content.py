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

KINDS = ("playbook", "contacts", "guide", "template")
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

ITEM = re.compile(r"^\[ \]\s+(?P<text>.+?)\s*\{#(?P<id>[^\s}]*)(?:\s+if=(?P<cond>[a-z]+))?\}\s*$", re.S)
QUESTION = re.compile(r"^\[\?\]\s+(?P<text>.+?)\s*\{#(?P<id>[^\s}]*)\}\s*$", re.S)
VALID_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
HEADING_ANCHOR = re.compile(r"^(?P<title>.*?)\s*\{#(?P<anchor>[A-Za-z0-9_-]+)\}\s*$")
PLACEHOLDER = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")
REVIEW_EVERY = re.compile(r"^(\d+)\s+(month|months|year|years)$")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)

_parser = MarkdownIt("commonmark")


def builtin_content_dir() -> Path:
    """The content shipped with kentsafe: inside the installed package, or the checkout's content/."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "content", package.parent / "content"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("kentsafe's built-in content is missing: reinstall kentsafe")


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
    title: str
    url: str = ""


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
        return [Source(str(s.get("title", "")), str(s.get("url", ""))) for s in value if isinstance(s, dict)]

    @property
    def template_for(self) -> str:
        return str(self.meta.get("template_for", ""))

    @property
    def last_reviewed(self) -> date | None:
        value = self.meta.get("last_reviewed")
        return value if isinstance(value, date) else None

    @property
    def review_due(self) -> date | None:
        """The date the document should next be reviewed, from last_reviewed and review_every."""
        reviewed, match = self.last_reviewed, REVIEW_EVERY.match(str(self.meta.get("review_every", "")).strip())
        if reviewed is None or match is None:
            return None
        months = int(match.group(1)) * (12 if match.group(2).startswith("year") else 1)
        year, month = divmod(reviewed.month - 1 + months, 12)
        year, month = reviewed.year + year, month + 1
        return date(year, month, min(reviewed.day, calendar.monthrange(year, month)[1]))

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
                              m.group("cond"), line) for m, line in self._marked(ITEM)]

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


def documents_in_reading_order(library: Library) -> Iterable[Document]:
    """Start page first, then playbooks, guides, contacts and templates, each by title."""
    rank = {"guide": 0, "playbook": 1, "contacts": 2, "template": 3}
    return sorted(library.documents.values(),
                  key=lambda d: (d.slug != "index", rank.get(d.kind, 4), d.order, d.title))
