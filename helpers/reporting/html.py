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


def table_of_contents(page: str, *, stop_at: int | None = None) -> tuple[str, str]:
    """Give every h1-h3 an id and build a ``<nav class="toc">`` linking to them.

    Sections (h2) are numbered 1..n; an h3 is listed under its section in a nested list, so it never
    takes a number of the sections' sequence. Headings at or after ``stop_at`` (the appendix) get ids
    but are not listed. Returns ``(page_with_ids, nav_html)``; the nav is empty when the page has fewer
    than two headings.
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
        if stop_at is None or match.start() < stop_at:
            entries.append((level, anchor, text))
        return f"<h{level}{attrs}>{body}</h{level}>"

    page = _HEADING.sub(add_id, page)
    toc_entries = [e for e in entries if e[0] > 1] or entries
    if len(toc_entries) < 2:
        return page, ""
    top = min(level for level, _, _ in toc_entries)
    items: list[str] = []
    open_sub = False
    for level, anchor, text in toc_entries:
        link = f'<a href="#{html.escape(anchor, quote=True)}">{html.escape(text)}</a>'
        if level > top and items:
            if not open_sub:
                items[-1] = items[-1].removesuffix("</li>") + '<ul class="sub">'
                open_sub = True
            items.append(f'<li class="level-{level}">{link}</li>')
            continue
        if open_sub:
            items[-1] += "</ul></li>"
            open_sub = False
        items.append(f'<li class="level-{level}">{link}</li>')
    if open_sub:
        items[-1] += "</ul></li>"
    nav = '<nav class="toc" aria-label="Contents"><p>Contents</p><ol>\n' + "\n".join(items) + "\n</ol></nav>"
    return page, nav


#: Sections (h2 headings) moved to the appendix of the leadership page: how the data was read, the full
#: findings list (the summary at the top already has the headline and actions), the numbers behind verdicts.
#: A notebook can send any cell there with the tag ``appendix``.
APPENDIX_HEADINGS = re.compile(
    r"^\s*##\s+(?:the data behind|data behind|the numbers behind|headline|conclusion|all findings|method|"
    r"how the .* (?:is|are) (?:computed|measured|estimated)|technical)", re.IGNORECASE)
_H2_LINE = re.compile(r"^\s*##\s+\S", re.MULTILINE)
#: A sentence for developers, not leaders: a command-line flag, a notebook parameter, a config key, a path.
_DEVELOPER_SENTENCE = re.compile(
    r"(?:(?:^|[\s`(])--[a-z][a-z-]+|\bparameter\b|\bnotebook\b|\[[a-z_]+\]\s*`?[a-z]+_[a-z_]+|`?docs/[\w./-]+|"
    r"(?:^|\s)/(?:[\w.+-]+/){2,}|\bjupyterlab\b|\.ipynb\b|\.json\b)", re.IGNORECASE)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z*_(\"\u201c])")
_PATH = re.compile(r"(?:\s(?:at|in|from|under)\s+)?(?<![\w<])/(?:[\w.+-]+/){2,}[\w.+-]*")


_ASIDE = re.compile(r"\s*\(([^()]*)\)")


def _drop_developer_asides(sentence: str) -> str:
    """``sentence`` without the parts of its brackets meant for developers: "an illustrative goal of $63,388 (25%
    above the last three months' mean; set [predictable_revenue] monthly_revenue_goal)" keeps the mean and loses
    the config key, so the sentence itself (the goal's numbers) is not dropped for it."""
    def keep_leader_parts(match: re.Match[str]) -> str:
        if not _DEVELOPER_SENTENCE.search(match.group(1)):
            return match.group(0)
        parts = [part for part in re.split(r";\s*", match.group(1)) if not _DEVELOPER_SENTENCE.search(part)]
        return f" ({'; '.join(parts)})" if parts else ""
    return _ASIDE.sub(keep_leader_parts, sentence)


def _drop_developer_sentences(text: str) -> str:
    """``text`` (Markdown) without sentences meant for developers (flags, parameters, paths, config keys); a
    bracketed aside for developers goes alone, the rest of its sentence stays."""
    out_lines = []
    for paragraph in re.split(r"(\n\s*\n)", text):
        if paragraph.strip() == "" or paragraph.lstrip().startswith(("#", "|", "```")):
            out_lines.append(paragraph)
            continue
        lines = paragraph.split("\n")
        if all(line.lstrip().startswith(("- ", "* ", "1.", "> ")) for line in lines if line.strip()):
            kept = [line for line in map(_drop_developer_asides, lines) if not _DEVELOPER_SENTENCE.search(line)]
            out_lines.append("\n".join(kept))
            continue
        sentences = [_drop_developer_asides(x) for x in _SENTENCE_SPLIT.split(paragraph)]
        kept = [x for x in sentences if not _DEVELOPER_SENTENCE.search(x)]
        out_lines.append(" ".join(kept) if kept else "")
    return _PATH.sub("", "".join(out_lines))


def _is_debris(output: dict[str, Any]) -> bool:
    """An output a leader should not see: stderr, printed text, a bare Python repr, a widget view."""
    kind = output.get("output_type")
    if kind == "stream":
        return True  # print(...) dumps: the analyst notebook keeps them
    if kind == "error":
        return False
    data = output.get("data", {})
    if "application/vnd.jupyter.widget-view+json" in data:
        return True
    return set(data) <= {"text/plain"}  # a repr with no rich form (a dict, a path, a number)


def _leadership_notebook(nb: Any) -> Any:
    """A copy of ``nb`` fit for leaders.

    Analyst cells, printed text, bare reprs, widget views and stderr are removed; sentences meant for
    developers (flags, parameters, paths) are dropped from the prose; and the sections that explain
    the data or repeat the findings (:data:`APPENDIX_HEADINGS`, or cells tagged ``appendix``) move to
    an appendix after the evidence.
    """
    import copy

    import nbformat

    nb = copy.deepcopy(nb)
    main: list[Any] = []
    appendix: list[Any] = []
    in_appendix_section = False
    for cell in nb.cells:  # a notebook's cells, a few dozen at most
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REMOVED_CELL_TAGS:
            continue
        if cell.get("cell_type") == "code":
            cell["outputs"] = [out for out in cell.get("outputs", []) if not _is_debris(out)]
            for out in cell["outputs"]:
                data = out.get("data", {})
                if "text/markdown" in data:
                    data["text/markdown"] = _drop_developer_sentences(str(data["text/markdown"]))
            if not cell["outputs"]:
                continue
        elif cell.get("cell_type") == "markdown":
            source = str(cell.get("source", ""))
            if _H2_LINE.match(source):
                in_appendix_section = bool(APPENDIX_HEADINGS.match(source))
            cell["source"] = _drop_developer_sentences(source)
        (appendix if in_appendix_section or "appendix" in tags else main).append(cell)
    # a section heading left with nothing under it (its outputs were debris) goes too
    cleaned: list[Any] = []
    for i, cell in enumerate(main):
        source = str(cell.get("source", "")) if cell.get("cell_type") == "markdown" else ""
        heading_only = _H2_LINE.match(source) and len(source.strip().splitlines()) == 1
        nxt = main[i + 1] if i + 1 < len(main) else None
        if heading_only and (nxt is None or (nxt.get("cell_type") == "markdown"
                                             and _H2_LINE.match(str(nxt.get("source", ""))))):
            continue
        cleaned.append(cell)
    cleaned = _fold_long_sections(cleaned)
    if appendix:
        # a fixed cell id: a re-run of the same month must publish the same bytes
        marker = nbformat.v4.new_markdown_cell(f"## {APPENDIX_TITLE}\n\n{APPENDIX_INTRO}", id="appendix-start")
        cleaned += [marker, *appendix]
    nb.cells = cleaned
    nb.metadata.pop("widgets", None)  # widget state would pull the widget manager from a CDN
    return nb


#: A section shows this many figures or tables; the rest (more reps, more segments) is folded under "Show more".
FIGURES_PER_SECTION = 3
#: After this many figures and tables on the page, later sections show their words and fold their evidence.
FIGURES_PER_PAGE = 6


def _weight_of(cell: Any) -> float:
    return sum(_weight(o) for o in cell.get("outputs", []))


def _weight(output: dict[str, Any]) -> float:
    """How much of a screen an output takes, in figures: a chart or a short table 1, a folded table 1/4."""
    data = output.get("data", {})
    if "image/png" in data or "image/svg+xml" in data:
        return 1.0
    table = str(data.get("text/html", ""))
    if "<table" in table:
        rows = table.split("<tbody", 1)[-1].count("<tr")
        return 0.25 if rows > FOLD_TABLE_ROWS else 1.0
    return 0.0


def _fold_long_sections(cells: list[Any]) -> list[Any]:
    """Cells after a section's first :data:`FIGURES_PER_SECTION` figures, tagged ``fold`` (a cell whose
    outputs straddle the budget is split in two)."""
    import copy

    out: list[Any] = []
    figures = page = 0.0
    for cell in cells:
        if cell.get("cell_type") == "markdown" and _H2_LINE.match(str(cell.get("source", ""))):
            figures = 0.0
        is_code = cell.get("cell_type") == "code"
        if figures >= FIGURES_PER_SECTION or (is_code and page >= FIGURES_PER_PAGE and _weight_of(cell)):
            # past the section's budget everything folds; past the page's, a section keeps its words and
            # folds its charts and tables
            cell.setdefault("metadata", {}).setdefault("tags", []).append("fold")
            out.append(cell)
            continue
        if not is_code:
            out.append(cell)
            continue
        for i, output in enumerate(cell["outputs"]):
            weight = _weight(output)
            if weight:
                figures += weight
                page += weight
                if figures >= FIGURES_PER_SECTION and i + 1 < len(cell["outputs"]):
                    rest = copy.deepcopy(cell)
                    rest["id"] = f"{cell.get('id', 'cell')}-more"
                    rest["outputs"] = cell["outputs"][i + 1:]
                    rest.setdefault("metadata", {}).setdefault("tags", []).append("fold")
                    cell["outputs"] = cell["outputs"][:i + 1]
                    out += [cell, rest]
                    break
        else:
            out.append(cell)
    return out


_CELL_START = re.compile(r'(?=<div class="jp-Cell )')


def _fold_cells(page: str, fold_ids: set[str]) -> str:
    """Wrap each run of consecutive cells whose id is in ``fold_ids`` in one ``<details>``."""
    if not fold_ids:
        return page
    chunks = _CELL_START.split(page)
    out: list[str] = []
    run: list[str] = []

    def close() -> None:
        if run:
            out.append('<details class="more"><summary>Show more of this section</summary>' + "".join(run)
                       + "</details>\n")
            run.clear()

    for chunk in chunks:
        found = re.match(r'<div class="jp-Cell [^"]*" id="cell-id=([^"]+)"', chunk)
        if found and found.group(1) in fold_ids:
            tail_at = chunk.find("</main>")
            if tail_at >= 0:
                run.append(chunk[:tail_at])
                close()
                out.append(chunk[tail_at:])
            else:
                run.append(chunk)
            continue
        close()
        out.append(chunk)
    close()
    return "".join(out)


APPENDIX_TITLE = "Appendix: the data and every finding"
APPENDIX_INTRO = ("For readers who want the detail: which data the report read, and every finding with its caveats. "
                  "Analysts find the executed notebook, with every table in full, in the report's run folder.")
#: Tables longer than this are folded (``<details>``): the page shows their caption, a click shows the rows.
FOLD_TABLE_ROWS = 12
_TABLE = re.compile(r"<table\b.*?</table>", re.DOTALL | re.IGNORECASE)


def _present_tables(page: str) -> str:
    """Every table through :func:`helpers.reporting.present.present_table_html`; long ones folded."""
    from helpers.reporting.present import present_table_html

    def one(match: re.Match[str]) -> str:
        table = present_table_html(match.group(0))
        body = table.split("<tbody", 1)[-1]
        rows = body.count("<tr")
        if rows > FOLD_TABLE_ROWS:
            return (f'<details class="table"><summary>Show the table ({rows:,} rows)</summary>'
                    f"{table}</details>")
        return table

    return _TABLE.sub(one, page)


def _summary_box(results: Any) -> str:
    """The five lines a leader reads first: headline, key figure with its interval in words, actions."""
    from helpers.reporting.present import plain_interval

    if results is None:
        return ""
    lines: list[str] = []
    if results.headline:
        lines.append(f'<p class="headline">{html.escape(results.headline)}</p>')
    fig = results.key_figure
    if fig is not None and fig.value is not None:
        from helpers.reporting.index_page import card_figure_text

        shown = card_figure_text({"value": fig.value, "unit": fig.unit})  # as on the index card: 30%, $1,234
        text = f"<strong>{html.escape(fig.label)}:</strong> {html.escape(shown)}"
        if fig.n is not None:
            text += f" (based on {fig.n:,})"
        if fig.ci_low is not None and fig.ci_high is not None:
            kind = ("money" if fig.unit == "$" else "percent" if fig.unit == "%"
                    else "share" if fig.unit in ("share", "fraction") else "ratio")
            text += "; " + html.escape(plain_interval(fig.ci_low, fig.ci_high, kind=kind,
                                                      level=fig.ci_level or 0.95))
        lines.append(f'<p class="key-figure">{text}</p>')
    actions = [f.text for f in results.findings if f.severity == "action"][:3]
    if not actions:
        actions = [f.text for f in results.findings if f.severity == "warning"][:2]
    # as on the page below and the index: no config keys, flags or paths in what a leader reads first
    actions = [a for a in (_drop_developer_sentences(a).strip() for a in actions) if a]
    if actions:
        items = "".join(f"<li>{html.escape(a)}</li>" for a in actions)
        lines.append(f'<p class="actions-title">What to do</p><ul class="actions">{items}</ul>')
    else:
        lines.append('<p class="actions-title">No action needed this month.</p>')
    return '<section class="summary-box" aria-label="Summary">' + "".join(lines) + "</section>"


def _glossary(page: str) -> str:
    """One line per statistic named on the page, in plain words (the analyst notebooks keep the terms)."""
    from helpers.reporting.present import STATISTIC_MEANINGS

    text = html.unescape(_TAG.sub(" ", page))
    found = [(term, meaning) for term, meaning in STATISTIC_MEANINGS.items() if term.lower() in text.lower()]
    if not found:
        return ""
    items = "".join(f"<li><strong>{html.escape(t)}</strong>: {html.escape(m)}.</li>" for t, m in found)
    return f'<aside class="glossary"><p>What the statistics on this page mean</p><ul>{items}</ul></aside>'


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


def render_report_html(nb: Any, *, title: str, organisation: str, period: str, footer: str,
                       results: Any = None) -> str:
    """The leadership page of an executed notebook (an ``nbformat.NotebookNode``), as a string.

    With ``results`` (the report's :class:`helpers.core.results.Results`) the page opens with a
    five-line summary: headline, key figure with its interval in plain words, the actions.
    Raises :class:`OfflineViolation` if the result would load anything from the network.
    """
    exporter = _exporter()
    resources = {"report_title": f"{title} | {organisation}", "report_organisation": organisation,
                 "report_period": period, "report_footer": footer, "report_css": report_css()}
    shown = _leadership_notebook(nb)
    page, _ = exporter.from_notebook_node(shown, resources=resources)
    page = _fold_cells(page, {str(c.get("id")) for c in shown.cells if "fold" in c.get("metadata", {}).get("tags", [])})
    page = _present_tables(page)
    appendix_at = page.find(f">{html.escape(APPENDIX_TITLE, quote=False)}")
    if appendix_at < 0:
        appendix_at = page.find(APPENDIX_TITLE)
    appendix_heading = page.rfind("<h2", 0, appendix_at) if appendix_at > 0 else -1
    page, nav = table_of_contents(page, stop_at=None if appendix_heading < 0 else appendix_heading)
    if appendix_heading > 0:  # the appendix is listed once, as the last entry
        nav = nav.replace("\n</ol></nav>", '\n<li class="level-2 appendix"><a href="#appendix">Appendix</a></li>'
                                           "\n</ol></nav>") if nav else nav
        heading_at = page.rfind("<h2", 0, page.find(html.escape(APPENDIX_TITLE, quote=False)))
        cell_start = page.rfind('<div class="jp-Cell', 0, heading_at)
        glossary = _glossary(page[:cell_start])
        page = page[:cell_start] + glossary + '<section id="appendix" class="appendix">' + page[cell_start:]
        page = page.replace("</main>", "</section>\n</main>", 1)
    else:
        page = page.replace("</main>", _glossary(page) + "\n</main>", 1)
    page = page.replace("<!--TOC-->", "", 1)
    summary = _summary_box(results)
    h1_end = page.find("</h1>")
    if summary and h1_end > 0:
        page = page[:h1_end + 5] + summary + page[h1_end + 5:]
    if nav:  # after the title and introduction, before the first section
        first_section = _FIRST_H2.search(page)
        marker = page.rfind("jp-MarkdownCell", 0, first_section.start()) if first_section else -1
        cell_start = page.rfind("<div", 0, marker) if marker > 0 else -1
        at = cell_start if cell_start > 0 else (first_section.start() if first_section else page.find("<main>") + 6)
        page = page[:at] + nav + "\n" + page[at:]
    from helpers.core.text import clean_page

    return ensure_offline(clean_page(page), what=f"the report {title!r}")  # no bidi/control character survives


def render_index_html(context: dict[str, Any]) -> str:
    """The index page from ``context`` (see ``helpers.reporting.pipeline``); every value is HTML-escaped."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=False)
    def scrub(value: Any) -> Any:  # a path of the machine that ran the report means nothing to a leader
        if isinstance(value, str):  # and no config keys or command-line flags ("set [section] key")
            return _drop_developer_sentences(value).strip() or _PATH.sub("", value)
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: v if k in ("html_name", "ipynb_name", "results_name", "href") else scrub(v)
                    for k, v in value.items()}
        return value

    context = {k: scrub(v) if k in ("cards", "actions", "data_notes") else v for k, v in context.items()}
    page = env.get_template("index.html.j2").render(css=report_css(), **context)
    from helpers.core.text import clean_page

    return ensure_offline(clean_page(page), what="the index page")  # no bidi/control character survives
