"""helpers.core.text: one escaping helper for HTML and Markdown, checked with a corpus of hostile names.

Rendered with nbconvert's own Markdown renderer (the one that turns the notebooks' Markdown outputs into
the leadership page), so the test sees what a reader's browser would get.
"""
from __future__ import annotations

import re

import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from helpers.core.text import (BIDI_CONTROLS, clean_text, escape_html, escape_markdown, has_unsafe_characters,
                               neutralise_markdown)

HOSTILE = [
    "Md [link](javascript:alert(3)) **bold**",
    "![img](http://evil.example/p.png)",
    "[ref][1]\n\n[1]: javascript:alert(1)",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "<a href='javascript:alert(4)'>click</a>",
    "<http://evil.example>",
    "see http://evil.example/x and www.evil.example",
    "mailto:boss@example.com",
    "Eve \u202egnp.exe\u202c",
    "\u2067isolate\u2069 \u200fmark",
    "nul\x00byte and bell\x07 and esc\x1b[31m",
    "`code` and ``more``",
    "# heading\n- list",
    "a & b &amp; &lt;",
    "x\\[y\\](z)",
    "[[nested](a)](javascript:b)",
    "O'Brien \"the closer\"",
]
LINK = re.compile(r"<(?:a|img|script|iframe|b)\b", re.I)  # a real tag, not escaped text


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_value_inside_a_sentence_never_becomes_a_link_image_or_html(name):
    for escaped in (escape_markdown(name), neutralise_markdown(name)):
        rendered = markdown2html_mistune(f"Rep {escaped} is **flagged** this month.")
        assert not LINK.search(rendered), rendered
        assert not BIDI_CONTROLS.search(rendered) and "\x00" not in rendered and "\x1b" not in rendered
        assert "<strong>flagged</strong>" in rendered  # the sentence's own emphasis still works


@pytest.mark.parametrize("name", ["Md [link](javascript:alert(3)) **bold**", "a_b_c *x* #1 (team) 5.0 - ok!",
                                  "<b>bold</b> & co", "Jo`s`e ~~gone~~ |pipe|"])
def test_escape_markdown_shows_a_value_exactly_as_typed(name):
    rendered = markdown2html_mistune(escape_markdown(name))
    text = re.sub(r"<[^>]+>", "", rendered).strip()
    import html

    assert html.unescape(text) == name


def test_clean_text_removes_only_controls_and_bidi():
    assert clean_text("Ana\u202e Silva\x00\t\n") == "Ana Silva\t\n"
    assert clean_text("Zoë Ng 李 ليلى") == "Zoë Ng 李 ليلى"  # letters of every script stay
    assert has_unsafe_characters("a\u202eb") and has_unsafe_characters("a\x00") and not has_unsafe_characters("ab")


def test_escape_html_escapes_quotes_too():
    assert escape_html("<a href='x'>\"\u202e") == "&lt;a href=&#x27;x&#x27;&gt;&quot;"


@pytest.mark.parametrize("escape", [escape_markdown, neutralise_markdown])
def test_dollar_amounts_never_open_a_formula(escape):
    """Jupyter's Markdown reads text between two '$' as a formula and shows it raw: 05's conclusion showed
    'a blog subscribe lead \\($203)' with a stray backslash."""
    sentence = "A demo request lead is worth $4,854, 24 times a blog subscribe lead ($203) [x] (119% of it)."
    rendered = markdown2html_mistune(escape(sentence))
    import html

    assert html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip() == sentence
