"""Text from the data, made safe for the pages a sales leader reads: one place, used everywhere.

A rep's name, an experiment's title or a lead source comes from a CRM export that anyone in the
organisation can type into. On a page it must show as typed, never act: no HTML (``<script>``,
``<img onerror>``), no Markdown link or image (``[x](javascript:...)``, ``![](...)``), no bare
URL turned into a link that points off the page, no bidirectional override that makes ``gpj.exe``
read ``exe.jpg``, no control character.

* :func:`clean_text` removes control characters and bidirectional controls (nothing else);
* :func:`escape_html` is for HTML (cleaned, then every ``& < > " '`` escaped);
* :func:`escape_markdown` is for a value interpolated into Markdown (cleaned, HTML escaped, every
  Markdown punctuation backslash-escaped: the value shows as typed);
* :func:`neutralise_markdown` is for a whole sentence an analysis wrote with values from the data
  inside: its emphasis (``**...**``) keeps working, but no link, image, autolink, HTML or raw
  control can form, whatever the values hold.
"""
from __future__ import annotations

import html
import re

#: C0 and C1 control characters except tab and newline, and DEL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: Bidirectional embedding, override and isolate controls (and the invisible marks), U+061C, U+200E/F,
#: U+202A-E, U+2066-9: they reorder what a reader sees.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MD_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:])")
_LINK_OPENERS = re.compile(r"([\[\]\\`])")
_SCHEME = re.compile(r"(?i)\b((?:https?|ftp|javascript|data|vbscript|file|mailto)):")
_WWW = re.compile(r"(?i)\bwww\.")


def clean_text(text: object) -> str:
    """``text`` as a string without control characters (except tab and newline) and bidi controls."""
    return BIDI_CONTROLS.sub("", CONTROL_CHARACTERS.sub("", str(text)))


def has_unsafe_characters(text: object) -> bool:
    """Whether :func:`clean_text` would change ``text`` (validation notes such values)."""
    value = str(text)
    return bool(CONTROL_CHARACTERS.search(value) or BIDI_CONTROLS.search(value))


def escape_html(text: object) -> str:
    """``text`` for HTML: cleaned, then ``& < > " '`` escaped."""
    return html.escape(clean_text(text), quote=True)


def escape_markdown(text: object) -> str:
    """A value from the data for a Markdown cell: shows exactly as typed (no emphasis, link or HTML)."""
    escaped = html.escape(clean_text(text), quote=False)  # & < > as entities (a backslash would not do)
    return _no_math(_MD_PUNCTUATION.sub(r"\\\1", escaped).replace("\n", " "))


def neutralise_markdown(text: object) -> str:
    """A sentence for a Markdown cell that keeps its emphasis but can form no link, image or HTML.

    HTML is escaped; ``[``, ``]``, backticks and backslashes are backslash-escaped (no link, image or
    reference can open); URL schemes and ``www.`` are broken with an escape so no autolink forms.
    """
    escaped = html.escape(clean_text(text), quote=False)
    escaped = _LINK_OPENERS.sub(r"\\\1", escaped)
    escaped = _SCHEME.sub(r"\1\\:", escaped)
    return _no_math(_WWW.sub(r"www\\.", escaped))


def _no_math(markdown: str) -> str:
    """Dollar signs as entities: Jupyter's Markdown takes the text between two ``$`` as a formula and shows
    it raw, backslash escapes included ("worth $4,854 ... lead \\($203\\)" showed a stray backslash)."""
    return markdown.replace("$", "&#36;")


def clean_page(page: str) -> str:
    """A rendered page without bidi or control characters (a last guard for text that reached it otherwise)."""
    return clean_text(page)


__all__ = ["BIDI_CONTROLS", "CONTROL_CHARACTERS", "clean_page", "clean_text", "escape_html", "escape_markdown",
           "has_unsafe_characters", "neutralise_markdown"]
