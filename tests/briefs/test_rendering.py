"""Markdown is rendered safely at save time; claim marks become badges."""

from __future__ import annotations

import pytest

from callprep.briefs.rendering import render_markdown

from .fixtures import hostile_markup

XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "[x](javascript&#58;alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;&#x61;vascript:alert(1))",
    "[x]( javascript:alert(1))",
    "<javascript:alert(1)>",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "{source: javascript:alert(1)}",
    "{source: data:text/html,<script>alert(1)</script>}",
    "{said: <img src=x onerror=alert(1)>}",
    "`<script>` and ```\n<script>alert(1)</script>\n```",
]


def assert_inert(html: str) -> None:
    assert hostile_markup(html) == [], html


@pytest.mark.parametrize("text", XSS)
def test_hostile_markdown_renders_inert(text):
    assert_inert(render_markdown(text).html)


def test_raw_html_is_shown_as_text():
    assert render_markdown("<b>hi</b>").html == "<p>&lt;b&gt;hi&lt;/b&gt;</p>\n"


def test_ordinary_markdown_keeps_its_structure_and_safe_links():
    html = render_markdown("# Plan\n\n- **one**\n- [SEC](https://www.sec.gov/)\n").html

    assert "<h1>Plan</h1>" in html
    assert "<li><strong>one</strong></li>" in html
    assert '<a href="https://www.sec.gov/" rel="noopener noreferrer nofollow">SEC</a>' in html


def test_claim_marks_render_as_badges_and_are_collected():
    rendered = render_markdown(
        "Cash fell {source: https://www.sec.gov/x?a=1&b=2}\n\n"
        "- Plants at 60 % {said: Dana Buyer, 12 May}\n- Consolidation ahead {inference}"
    )

    assert '<a class="claim claim-source" href="https://www.sec.gov/x?a=1&amp;b=2"' in rendered.html
    assert '<span class="claim claim-said">Customer said — Dana Buyer, 12 May</span>' in (
        rendered.html
    )
    assert '<span class="claim claim-inference">Our inference</span>' in rendered.html
    assert rendered.claims == [
        {
            "kind": "source",
            "url": "https://www.sec.gov/x?a=1&b=2",
            "text": "https://www.sec.gov/x?a=1&b=2",
        },
        {"kind": "said", "who": "Dana Buyer, 12 May"},
        {"kind": "inference"},
    ]
    assert rendered.claim_counts() == {"said": 1, "source": 1, "inference": 1}


def test_a_source_mark_without_a_web_link_is_a_plain_badge():
    html = render_markdown("{source: the 10-K}").html

    assert html == '<p><span class="claim claim-source">Public source — the 10-K</span></p>\n'


def test_braces_that_are_not_claim_marks_stay_text():
    assert render_markdown("a {b} c").html == "<p>a {b} c</p>\n"


BLOCKY = (
    "- a\n\n- b\n\npara {inference}\n\n1. x\n\n2. y\n\n```\ncode\n\nmore\n```\n\n    indented\n\n"
    "    code\n\n> q\n\n> r\n\nT | U\n--|--\n1 | 2\n\n* list\n\n  continued\n\nend *em\n\nph* x\n\n"
) * 40


def test_long_text_rendered_block_by_block_matches_a_whole_render():
    from callprep.briefs.rendering import _MD, blocks, sanitize

    assert len(blocks(BLOCKY)) > 1
    assert render_markdown(BLOCKY).html == sanitize(_MD.render(BLOCKY, {}))
    assert render_markdown(BLOCKY).claim_counts()["inference"] == 40


def test_reference_links_are_rendered_whole_so_they_resolve():
    text = ("filler paragraph\n\n" * 200) + "[SEC][1]\n\n[1]: https://www.sec.gov/\n"

    assert '<a href="https://www.sec.gov/"' in render_markdown(text).html
