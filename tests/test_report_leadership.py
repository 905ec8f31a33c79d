"""The leadership layer: what a sales leader's page and the month's index show (no kernel, seconds).

The browser test (tests/test_browser_report.py) checks the same on real reports in Chromium; these
pin each rule on a small hand-made notebook so that a failure names the rule.
"""
from __future__ import annotations

import json
from types import SimpleNamespace

import nbformat
import pytest

from helpers.core.results import Figure, Finding, Results
from helpers.reporting.html import render_report_html, table_of_contents
from helpers.reporting.index_page import action_verb, month_actions, plain_data_description, since_last_month
from helpers.reporting.present import (figure_height, format_frame, format_value, label, name_label, plain_interval,
                                       present_table_html)


# ------------------------------------------------------------------ presentation helper
def test_values_are_formatted_by_kind():
    assert format_value(2515.0, "money") == "$2,515"
    assert format_value(1.121, "share") == "112%"
    assert format_value(1987, "count") == "1,987"
    assert format_value(float("nan"), "money") == "\u2013" and format_value(None) == "\u2013"
    assert format_value(0.47912) == "0.479"
    assert format_value(float("inf")) == "\u2013"


def test_codes_become_labels_and_words_stay_words():
    assert label("final_exam") == "Final exam" and label("cert_connect") == "Certification: connect"
    assert label("mid_market") == "Mid-market" and label("demo_request") == "Demo request"
    assert label("weekly_pipeline_review") == "Weekly pipeline review"
    assert label("Harper Hughes") == "Harper Hughes" and label("R00018") == "R00018"
    stage = SimpleNamespace(funnel_stages=(SimpleNamespace(name="discovery", label="Discovery calls"),))
    assert label("discovery", config=stage) == "Discovery calls"
    assert label("cert_negotiation") == "Certification: negotiation"  # any certification, not only known stages


def test_persona_codes_read_as_names_and_typed_names_stay_as_typed():
    assert name_label("marketing_mary") == "Marketing Mary" and name_label("owner ollie") == "Owner Ollie"
    assert name_label("CFO Carl") == "CFO Carl" and name_label("sdr_sam") == "SDR Sam"
    assert name_label(None) == "\u2013" and name_label("") == ""


def test_frame_is_formatted_by_column_kind():
    import pandas as pd

    frame = pd.DataFrame({"new_mrr": [2515.0, None], "attainment": [1.121, 0.9], "segment": ["mid_market", "smb"]})
    shown = format_frame(frame)
    assert list(shown.columns) == ["New MRR", "Attainment", "Segment"]
    assert shown.iloc[0].tolist() == ["$2,515", "112%", "Mid-market"]
    assert shown.iloc[1, 0] == "\u2013"


def test_degenerate_interval_is_said_as_one_number():
    text = plain_interval(179094, 179094, kind="money")
    assert "$179,094 to $179,094" not in text and "between" not in text and "$179,094" in text
    assert "95 of 100" in plain_interval(1, 2, kind="money")
    assert "too few" in plain_interval(None, 3)


def test_figure_height_follows_the_rows_drawn():
    assert figure_height(5) < figure_height(20) <= 9.0
    assert figure_height(0) >= 2.4
    assert figure_height(5) * 100 < 450  # five rows never get a 20-row canvas


def test_table_cells_lose_nan_codes_and_long_decimals():
    table = ("<table><thead><tr><th>trait</th><th>work_ethic</th></tr></thead><tbody>"
             "<tr><td>prior_success</td><td>NaN</td></tr><tr><td>&lt;NA&gt;</td><td>2515.000</td></tr>"
             "<tr><td>None</td><td>1.12134</td></tr></tbody></table>")
    out = present_table_html(table)
    for bad in ("NaN", "&lt;NA&gt;", "None", "2515.000", "prior_success", "work_ethic"):
        assert bad not in out, bad
    assert "Prior success" in out and "Work ethic" in out and "2,515" in out and "1.12" in out


# ------------------------------------------------------------------ leadership page
def _notebook():
    nb = nbformat.v4.new_notebook()
    md = nbformat.v4.new_markdown_cell
    code = nbformat.v4.new_code_cell

    def out(data, kind="execute_result"):
        o = nbformat.v4.new_output(kind, data=data)
        if kind == "execute_result":
            o.execution_count = 1
        return o

    printed = code("print(x)")
    printed.outputs = [nbformat.v4.new_output("stream", name="stdout", text="needs reps: present\nrep_id weak_stage\n")]
    rep = code("x")
    rep.outputs = [out({"text/plain": "{'a': 1}"})]
    prose = code("report.say(...)")
    prose.outputs = [out({"text/markdown": "No results file from 2026-09 at /srv/reports/2026-09/03.json. "
                                           "Run with --daily for the list. Run with `--rep` for one rep. The team improved.",
                          "text/plain": "<IPython.core.display.Markdown object>"})]
    rows = "".join(f"<tr><td>R{i:05d}</td><td>NaN</td></tr>" for i in range(20))
    table = code("t")
    table.outputs = [out({"text/html": f"<table><thead><tr><th>rep_id</th><th>weak_stage</th></tr></thead>"
                                       f"<tbody>{rows}</tbody></table>", "text/plain": "df"})]
    fig = code("plot")
    fig.outputs = [out({"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}, "display_data")] * 6
    nb.cells = [md("# Title\n\nIntro."), md("## The data behind this report\n\nWhat was read."), printed,
                md("## Evidence\n\nThe chart; the p-value is small."), prose, rep, table, fig,
                md("### Detail"), md("## Second section"), md("## Conclusion"), code("report.conclusion()")]
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i}"
    return nb


@pytest.fixture(scope="module")
def page():
    results = Results(notebook="x", title="X", month="2026-10", as_of="2026-10-31", headline="Coach Ana on demos.",
                      key_figure=Figure("lift", "Median deal lift", 40.0, unit="$", n=120, ci_low=10.0, ci_high=70.0,
                                        ci_level=0.95),
                      findings=[Finding("Coach Ana on demos this month.", "action"), Finding("Fine.", "info")])
    return render_report_html(_notebook(), title="X", organisation="Org", period="October 2026", footer="f",
                              results=results)


def test_page_opens_with_the_five_line_summary(page):
    summary = page[page.index('class="summary-box"'):page.index("</section>", page.index('class="summary-box"'))]
    assert "Coach Ana on demos." in summary and "Median deal lift" in summary and "$40" in summary
    assert "95 of 100" in summary and "$10" in summary and "$70" in summary and "based on 120" in summary
    assert "What to do" in summary and "Coach Ana on demos this month." in summary
    assert page.index("summary-box") < page.index("Evidence")


def test_a_share_key_figure_reads_as_a_percentage_in_the_summary():
    """00's summary said "Closed deals won: 0.301 share"; the index card said 30%: one formatting for both."""
    results = Results(notebook="x", title="X", month="2026-10", as_of="2026-10-31", headline="Rates.",
                      key_figure=Figure("win_rate", "Closed deals won", 0.301, unit="share", n=6635, ci_low=0.29,
                                        ci_high=0.312, ci_level=0.95))
    page = render_report_html(_notebook(), title="X", organisation="Org", period="October 2026", footer="f",
                              results=results)
    summary = page[page.index('class="summary-box"'):page.index("</section>", page.index('class="summary-box"'))]
    assert "Closed deals won:</strong> 30%" in summary and "between 29% and 31%" in summary
    assert "0.301" not in summary and "share" not in summary


def test_page_has_no_notebook_debris(page):
    for debris in ("needs reps", "rep_id weak_stage", "{'a': 1}", "/srv/reports", "--daily", "--rep", "NaN",
                   "IPython.core.display"):
        assert debris not in page, debris
    assert "The team improved." in page


def test_long_tables_and_extra_figures_are_folded_and_data_goes_to_the_appendix(page):
    assert '<details class="table"><summary>Show the table (20 rows)' in page
    assert '<details class="more">' in page and page.count("<img") == 6
    assert page.index("Evidence") < page.index('id="appendix"') < page.index("What was read.")
    assert "The p-value" in page or "the p-value" in page
    assert "how surprising the result would be" in page  # the glossary line for a statistic named on the page


def test_contents_are_numbered_one_to_n_with_subsections_nested(page):
    nav = page[page.index('<nav class="toc"'):page.index("</nav>")]
    top = nav.split("<ol>", 1)[1]
    assert top.count('<li class="level-2') == 2  # Evidence, Appendix ("Second section" had nothing under it)
    assert "Second section" not in page
    assert '<ul class="sub">\n<li class="level-3"><a href="#Detail">' in nav  # Detail: nested, not numbered among sections
    assert "Conclusion" not in nav and "data behind" not in nav


def test_toc_stops_at_the_appendix():
    page, nav = table_of_contents("<h2>A</h2><h2>B</h2><h2>C</h2>", stop_at=len("<h2>A</h2><h2>B</h2>"))
    assert nav.count("<li") == 2 and 'id="c"' in page


# ------------------------------------------------------------------ index
def _run(tmp_path, number, value, findings=()):
    stem = f"{number}_x"
    results = Results(notebook=stem, title=f"Report {number}", month="2026-10", as_of="2026-10-31",
                      key_figure=Figure("rate", "Win rate", value, unit="%"), findings=list(findings))
    (tmp_path / f"{stem}.json").write_text(json.dumps(results.to_dict()))
    return SimpleNamespace(notebook=stem, title=f"Report {number}", state="ok",
                           files={"results": f"{stem}.json", "html": f"{stem}.html"},
                           key_figure={"name": "rate", "label": "Win rate", "value": value, "unit": "%"})


def test_index_gathers_the_months_actions_with_a_verb(tmp_path):
    runs = [_run(tmp_path, "03", 20.0, [Finding("Stop the cold-call script test: it lost.", "action")]),
            _run(tmp_path, "05", 21.0, [Finding("Coach Ana on discovery calls.", "action"),
                                        Finding("Nothing to see.", "info")])]
    actions = month_actions(runs, folder=tmp_path)
    assert [a["verb"] for a in actions] == ["coach", "stop"]
    assert actions[0]["report"] == "Report 05" and actions[0]["href"] == "05_x.html"
    assert action_verb("Call these 12 leads back today") == "call" and action_verb("Fix the payout") == "fix"


def test_index_says_what_changed_since_last_month(tmp_path):
    reports = tmp_path / "reports"
    (reports / "2026-09").mkdir(parents=True)
    (reports / "2026-09" / "run.json").write_text(json.dumps({"reports": [
        {"notebook": "03_x", "key_figure": {"name": "rate", "value": 18.0, "unit": "%"}}]}))
    runs = [_run(tmp_path, "03", 21.5), _run(tmp_path, "05", 3.0)]
    deltas = since_last_month(runs, reports_dir=reports, month="2026-10")
    assert deltas == {"03_x": "Since last month: up 3.5% from 18% in September."}
    assert since_last_month(runs, reports_dir=reports, month="2026-12") == {}  # no November run: no delta


def test_index_data_description_has_no_machine_path():
    assert plain_data_description("data folder /work/main/data/sample") == "data folder sample"


# ------------------------------------------------------------------ figures
def test_log_axes_read_as_plain_numbers_and_bucket_labels_do_not_run_together():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from helpers.analyses.lead_value.plots import plot_speed_to_lead
    from helpers.reporting.present import legend_outside, plain_log_ticks

    fig, ax = plt.subplots()
    ax.scatter([0.3, 1, 4], [1, 2, 3])
    ax.set_xscale("log")
    plain_log_ticks(ax.xaxis)
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "1" in ticks and not any("10^" in t or "$" in t for t in ticks)
    ax.plot([1, 2], [1, 2], label="team")
    legend = legend_outside(ax)
    assert legend.get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1  # right of the plot, not on the data
    plt.close(fig)

    table = pd.DataFrame({"bucket": ["within 5 min", "5 min to 30 min", "30 min to 1 h", "over 1 h"],
                          "leads": [10, 10, 10, 10], "win_rate": [0.3, 0.2, 0.1, 0.05],
                          "ci_low": [0.1, 0.05, 0.02, 0.01], "ci_high": [0.5, 0.4, 0.3, 0.2]})
    ax = plot_speed_to_lead(table)
    ax.figure.canvas.draw()
    boxes = [t.get_window_extent() for t in ax.get_xticklabels()]
    assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:])), "tick labels overlap"
    plt.close(ax.figure)


def test_card_figures_read_by_their_unit_and_actions_lose_config_keys():
    from helpers.reporting.html import render_index_html
    from helpers.reporting.index_page import card_figure_text

    assert card_figure_text({"value": 0.301, "unit": "share"}) == "30%"
    assert card_figure_text({"value": 258819.4, "unit": "USD"}) == "$258,819"
    assert card_figure_text({"value": 9, "unit": "reps"}) == "9 reps" and card_figure_text({"value": 0.479}) == "0.479"
    assert action_verb("Roll out the new script: the lift reaches its bar") == "decide"
    # the first verb in the text decides: a capacity plan that mentions coaching at the end is a hiring decision
    assert action_verb("To book $90,000 a month: 28 closers (now 16). New hires take 3 months to ramp. If coaching "
                       "lifts every conversion rate by 10%, 25 closers cover it.") == "decide"
    assert action_verb("Coach Uma on demos; hire nobody yet") == "coach"
    card = {"number": "07", "title": "T", "state": "ok", "state_text": "Ready", "headline": "H", "figure_text": "1",
            "figure_label": "L", "warnings": ["No results file from 2026-09 at /srv/r/2026-09/x.json: first run."],
            "error": "", "skip_reason": "", "html_name": "07_t.html", "ipynb_name": "07_t.ipynb", "results_name": "",
            "seconds": 1.0, "delta": ""}
    page = render_index_html({
        "actions": [{"verb": "coach", "report": "T", "href": "07_t.html",
                     "text": "To book the goal set [predictable_revenue] monthly_revenue_goal to 2. Hire 3 closers."}],
        "data_notes": [], "organisation": "Org", "heading": "H", "summary": "S", "mode": "monthly", "label": "2026-10",
        "as_of": "2026-10-31", "run_at": "now", "wall_seconds": 1.0, "fingerprint": "abc123",
        "data_description": "data folder sample", "version": "0", "period_text": "October", "cards": [card]})
    assert "monthly_revenue_goal" not in page and "Hire 3 closers." in page
    assert "/srv/r" not in page and "first run." in page
    assert "07_t.ipynb" not in page and "Data fingerprint" not in page and "<!-- data fingerprint" in page


def test_a_developer_aside_goes_alone_and_its_sentence_stays():
    """The index dropped 07's whole capacity sentence (the closers and leads needed) for a bracketed config key."""
    from helpers.reporting.html import _drop_developer_sentences

    text = ("To book an illustrative goal of $63,388 (25% above the last three months' mean; set "
            "[predictable_revenue] monthly_revenue_goal) of new MRR a month: 28 closers (now 15). Hire at once.")
    assert _drop_developer_sentences(text) == ("To book an illustrative goal of $63,388 (25% above the last three "
                                               "months' mean) of new MRR a month: 28 closers (now 15). Hire at once.")
    assert _drop_developer_sentences("Goal of $5 (set [predictable_revenue] monthly_revenue_goal). Hire.") == \
        "Goal of $5. Hire."
    assert _drop_developer_sentences("Run it with --month 2026-10 to see more. Hire.") == "Hire."
    assert _drop_developer_sentences("Closers (now 15) are short.") == "Closers (now 15) are short."
