"""Turning executed notebooks into leadership HTML, in-process, offline and self-contained.

A sales leader reads the report, not the notebook: the page carries no code, no prompts, no
cells meant for analysts (tagged ``analyst-only``), no warnings written to stderr, and a table of
contents built from the headings. Plots are embedded as PNG; everything (styles included) is
inside the one file, so the page renders the same on a laptop on a plane as in a mail client.

nbconvert's stock templates load require.js, MathJax and Mermaid from CDNs; our template
(``templates/leadership.html.j2``) replaces that head, and :func:`external_references` is the
check (also run on every page written) that no ``src``/``href``/``url()`` points off the page.
"""
from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any

from helpers.paths import PACKAGE_DIR

TEMPLATES_DIR = PACKAGE_DIR / "reporting" / "templates"

#: Cells with these tags never reach the leadership HTML.
REMOVED_CELL_TAGS = frozenset({"analyst-only", "remove-cell", "parameters", "injected-parameters"})

_EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:@import\s+["']?(?:https?:)?//)""",
    re.IGNORECASE,
)
_HEADING = re.compile(r"<h([1-3])(?P<attrs>[^>]*)>(?P<body>.*?)</h\1>", re.IGNORECASE | re.DOTALL)
_ID = re.compile(r"""\bid\s*=\s*(?:"([^"]+)"|'([^']+)')""")  # an id may hold the other quote (Month's)
_TAG = re.compile(r"<[^>]+>")
_FIRST_H2 = re.compile(r"<h2[\s>]", re.IGNORECASE)


class OfflineViolation(RuntimeError):
    """A rendered page still refers to an external URL; the message lists the references."""


def external_references(page: str) -> list[str]:
    """Every ``src=``/``href=``/``url(``/``@import`` in ``page`` that points to another host."""
    return [page[max(0, m.start() - 20): m.end() + 60] for m in _EXTERNAL.finditer(page)]


def ensure_offline(page: str, *, what: str) -> str:
    """Return ``page`` unchanged if it loads nothing from the network; raise :class:`OfflineViolation` if it does."""
    found = external_references(page)
    if found:
        raise OfflineViolation(f"{what} refers to {len(found)} external resource(s), e.g. {found[0]!r}. Reports must "
                               "render offline: embed the resource or remove the link from the notebook's prose.")
    return page


@lru_cache(maxsize=1)
def report_css() -> str:
    return (TEMPLATES_DIR / "report.css").read_text(encoding="utf-8")


def table_of_contents(page: str) -> tuple[str, str]:
    """Give every h1-h3 an id and build a ``<nav class="toc">`` linking to them.

    Returns ``(page_with_ids, nav_html)``; the nav is empty when the page has fewer than two headings.
    """
    entries: list[tuple[int, str, str]] = []
    used: set[str] = set()

    def add_id(match: re.Match[str]) -> str:
        level, attrs, body = int(match.group(1)), match.group("attrs"), match.group("body")
        text = html.unescape(_TAG.sub("", body)).replace("\u00b6", "").strip()
        found = _ID.search(attrs)
        anchor = html.unescape(found.group(1) or found.group(2)) if found else (re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "section")
        base, k = anchor, 2
        while anchor in used and not found:
            anchor, k = f"{base}-{k}", k + 1
        used.add(anchor)
        if not found:
            attrs = f' id="{html.escape(anchor, quote=True)}"{attrs}'
        entries.append((level, anchor, text))
        return f"<h{level}{attrs}>{body}</h{level}>"

    page = _HEADING.sub(add_id, page)
    toc_entries = [e for e in entries if e[0] > 1] or entries
    if len(toc_entries) < 2:
        return page, ""
    items = "\n".join(
        f'<li class="level-{level}"><a href="#{html.escape(anchor, quote=True)}">{html.escape(text)}</a></li>'
        for level, anchor, text in toc_entries
    )
    nav = f'<nav class="toc" aria-label="Contents"><p>Contents</p><ol>\n{items}\n</ol></nav>'
    return page, nav


def _leadership_notebook(nb: Any) -> Any:
    """A copy of ``nb`` fit for leaders: analyst cells, stderr, widget views and error cells removed."""
    import copy

    nb = copy.deepcopy(nb)
    kept = []
    for cell in nb.cells:  # a notebook's cells, a few dozen at most
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REMOVED_CELL_TAGS:
            continue
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                out for out in cell.get("outputs", [])
                if not (out.get("output_type") == "stream" and out.get("name") == "stderr")
                and "application/vnd.jupyter.widget-view+json" not in out.get("data", {})
            ]
        kept.append(cell)
    nb.cells = kept
    nb.metadata.pop("widgets", None)  # widget state would pull the widget manager from a CDN
    return nb


@lru_cache(maxsize=1)
def _exporter():
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    cfg = Config()
    cfg.TemplateExporter.exclude_input = True
    cfg.TemplateExporter.exclude_input_prompt = True
    cfg.TemplateExporter.exclude_output_prompt = True
    cfg.HTMLExporter.embed_images = True
    exporter = HTMLExporter(config=cfg, template_name="lab", template_file="leadership.html.j2",
                            extra_template_paths=[str(TEMPLATES_DIR)])
    return exporter


def render_report_html(nb: Any, *, title: str, organisation: str, period: str, footer: str) -> str:
    """The leadership page of an executed notebook (an ``nbformat.NotebookNode``), as a string.

    Raises :class:`OfflineViolation` if the result would load anything from the network.
    """
    exporter = _exporter()
    resources = {"report_title": f"{title} | {organisation}", "report_organisation": organisation,
                 "report_period": period, "report_footer": footer, "report_css": report_css()}
    page, _ = exporter.from_notebook_node(_leadership_notebook(nb), resources=resources)
    page, nav = table_of_contents(page)
    page = page.replace("<!--TOC-->", "", 1)
    if nav:  # after the title and introduction, before the first section
        first_section = _FIRST_H2.search(page)
        marker = page.rfind("jp-MarkdownCell", 0, first_section.start()) if first_section else -1
        cell_start = page.rfind("<div", 0, marker) if marker > 0 else -1
        at = cell_start if cell_start > 0 else (first_section.start() if first_section else page.find("<main>") + 6)
        page = page[:at] + nav + "\n" + page[at:]
    return ensure_offline(page, what=f"the report {title!r}")


def render_index_html(context: dict[str, Any]) -> str:
    """The index page from ``context`` (see ``helpers.reporting.pipeline``); every value is HTML-escaped."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=False)
    page = env.get_template("index.html.j2").render(css=report_css(), **context)
    return ensure_offline(page, what="the index page")
