"""Letters and briefings filled from the content templates, the incident and the school's settings.

A missing setting never leaves a raw placeholder: the text says which setting to set and how.
"""

from __future__ import annotations

import re
from datetime import datetime

from .content import PLACEHOLDER, Document, Library
from .dates import from_iso
from .export import _MD_ALWAYS, md
from .model import Incident
from .text import safe_line, strip_controls

SETTING_KEYS = ("school_name", "dsl_name", "dsl_phone", "dsl_email", "headteacher_name")


def long_date(moment: datetime) -> str:
    return f"{moment.day} {moment.strftime('%B %Y')}"


def fill(template: Document, incident: Incident | None, settings: dict[str, str], now: datetime,
         plain: bool = False) -> tuple[str, list[str]]:
    """The template's text with every placeholder filled; also the settings that were missing.

    Markdown by default; `plain` gives text to print or paste into a letter (parents do not read Markdown).
    """
    values = {key: safe_line(settings.get(key, "")).strip() for key in SETTING_KEYS}
    values["today"] = long_date(now)
    if incident is not None:
        try:
            values["concern_date"] = long_date(from_iso(incident.concern_at).astimezone())
        except (ValueError, TypeError, OverflowError):  # a damaged record never stops a letter
            values["concern_date"] = safe_line(str(incident.concern_at))
        values["incident_id"] = safe_line(incident.id)
    missing: list[str] = []

    def replace(match) -> str:
        key = match.group(1)
        value = values.get(key, "")
        if value:
            if key not in SETTING_KEYS or plain:
                return value
            # A setting is text a person typed: escaped so the letter (Markdown) shows it exactly as typed, and
            # no markup or placeholder in it takes effect. Line-start marks only matter at the start of a line.
            at_line_start = not match.string[match.string.rfind("\n", 0, match.start()) + 1:match.start()].strip()
            return md(value) if at_line_start else _MD_ALWAYS.sub(r"\\\1", value)
        if key in SETTING_KEYS:
            if key not in missing:
                missing.append(key)
            return f"[{key.replace('_', ' ')} not set: kentsafe settings {key} \"...\"]"
        return f"[{key.replace('_', ' ')} not known here]"

    text = template.display_markdown()
    if plain:  # the template's own marks go; placeholders are kept aside so "{{school_name}}" is untouched
        parts = PLACEHOLDER.split(text)
        text = "".join(to_plain(part) if index % 2 == 0 else "{{" + part + "}}" for index, part in enumerate(parts))
    filled = reflow(PLACEHOLDER.sub(replace, text))
    if plain:  # Markdown's two-space line breaks mean nothing in plain text
        filled = "\n".join(line.rstrip() for line in filled.splitlines())
    return strip_controls(filled.strip()) + "\n", missing


def to_plain(markdown: str) -> str:
    """The template's Markdown as plain text: no heading marks, emphasis, link brackets or escapes."""
    text = re.sub(r"^#{1,6}\s+", "", markdown, flags=re.M)
    text = re.sub(r"\[([^\]]+)\]\((https?://[^)\s]+)\)", r"\1 (\2)", text)
    text = re.sub(r"<((?:https?://|mailto:)[^>\s]+)>", r"\1", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\1", text)
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>~&])", r"\1", text)


_BLOCK_START = re.compile(r"^\s*(#|[-*+]\s|\d+[.)]\s|>|\||```)")


def reflow(markdown: str) -> str:
    """Join the template's wrapped lines into whole paragraphs, so a letter reads well at any width."""
    lines: list[str] = []
    for line in markdown.splitlines():
        joinable = lines and lines[-1].strip() and line.strip() and not _BLOCK_START.match(line)
        if joinable and not lines[-1].endswith("  "):  # two trailing spaces are a deliberate line break
            lines[-1] = lines[-1].rstrip() + " " + line.strip()
        else:
            lines.append(line)
    return "\n".join(lines)


def parent_letter(library: Library, incident: Incident, settings: dict[str, str], now: datetime,
                  plain: bool = False) -> tuple[str, list[str]]:
    template = library.template("parent_letter", incident.scope)
    if template is None:
        raise FileNotFoundError(f"no parent letter template for scope {incident.scope} in the content")
    return fill(template, incident, settings, now, plain)


def staff_briefing(library: Library, incident: Incident | None, settings: dict[str, str], now: datetime,
                   plain: bool = False) -> tuple[str, list[str]]:
    template = library.template("staff_briefing", incident.scope if incident else "any")
    if template is None:
        raise FileNotFoundError("no staff briefing template in the content")
    return fill(template, incident, settings, now, plain)
