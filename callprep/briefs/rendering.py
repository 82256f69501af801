"""Markdown to safe HTML, done once at save time and stored.

Two layers, so that a mistake in one is caught by the other:
1. markdown-it-py in CommonMark mode with raw HTML off: ``<script>`` is text, not a tag, and
   its link validator refuses ``javascript:``, ``vbscript:``, ``file:`` and ``data:`` links
   (including entity-encoded forms, which it decodes before checking);
2. nh3 (the Rust ``ammonia`` sanitiser) with a small allow-list of tags, attributes, classes
   and URL schemes. No images, no inline styles, no event handlers can survive.

Claim marks
-----------
A claim in any paragraph or bullet can say how we know it, with a tag in curly braces::

    Margins fell three quarters in a row {source: https://www.sec.gov/...}
    "Our plants run at 60 %" {said: Dana Buyer, 12 May 2025}
    They will consolidate suppliers {inference}

``{said: who, when}`` renders as a "Customer said — who, when" badge, ``{source: link}`` as a
"Public source" badge linking to an http(s) address, ``{inference}`` as "Our inference". The
marks are collected into a list stored with the section, so the executive view can show where
each section's claims come from.

Citations
---------
``[^c12]`` in a section cites the evidence snapshot ``Citation`` 12 (the editor's "Cite"
action inserts it). Citations are numbered **per section**, in order of first appearance in
the section's text: the first cited snapshot is 1, the next new one 2, and a second mention of
the same snapshot reuses its number. Each reference renders as a superscript link
(``<sup class="footnote-ref">``) and the section ends with a footnote list (label, value with
unit, source, period, retrieved date and an http(s) link). Per section, because each section
is rendered on its own when it is saved; footnote ids carry the section key, so a page showing
all sections never repeats an id. Only citations the caller passes (the brief's own, see
``services.citations_for``) are resolved: any other marker stays plain text. The footnote list
is built from escaped snapshot values and passes through nh3 like everything else.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_inline import StateInline

CLAIM = re.compile(r"\{(said|source|inference)(?:\s*:\s*([^{}\n]{1,500}))?\}", re.IGNORECASE)

ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "li", "ol", "p", "pre", "s", "span", "strong", "table", "tbody", "td", "th", "thead", "tr",
    "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "span": {"title"},
    "ol": {"start"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}
CLAIM_CLASSES = {"claim", "claim-said", "claim-source", "claim-inference"}
ALLOWED_CLASSES = {"a": CLAIM_CLASSES, "span": CLAIM_CLASSES | {"cite-ref"}}
CITE_MARK = re.compile(r"\[\^c(\d{1,12})\]")
# The citation placeholder our inline rule leaves in the sanitised HTML; user text cannot
# produce a real tag (raw HTML is off), so only the rule's output matches.
CITE_PLACEHOLDER = re.compile(r'<span class="cite-ref" title="c(\d{1,12})">\[\^c\d{1,12}\]</span>')
FOOTNOTE_TAGS = {"a", "div", "li", "ol", "span", "sup"}
FOOTNOTE_ATTRIBUTES = {"a": {"href", "id", "title"}, "li": {"id"}, "sup": {"id"}}
FOOTNOTE_CLASSES = {
    "a": {"footnote-back", "footnote-link"},
    "div": {"footnotes"},
    "ol": {"footnote-list"},
    "span": {"footnote-source", "footnote-value"},
    "sup": {"footnote-ref"},
}
URL_SCHEMES = {"http", "https", "mailto"}


@dataclass
class Rendered:
    html: str
    claims: list[dict[str, str]] = field(default_factory=list)
    # Citation ids resolved into footnotes, in footnote order.
    cited: list[int] = field(default_factory=list)

    def claim_counts(self) -> dict[str, int]:
        return claim_counts(self.claims)


def claim_counts(claims: list[dict[str, str]]) -> dict[str, int]:
    counts = {"said": 0, "source": 0, "inference": 0}
    for claim in claims:
        if claim.get("kind") in counts:
            counts[claim["kind"]] += 1
    return counts


def safe_http_url(url: str) -> str:
    """The URL if it is an absolute http(s) address, else ""."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return ""
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return ""
    return url


def _claim_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "{":
        return False
    match = CLAIM.match(state.src, state.pos)
    if not match:
        return False
    if not silent:
        token = state.push("claim", "", 0)
        token.meta = {"kind": match.group(1).lower(), "detail": (match.group(2) or "").strip()}
    state.pos = match.end()
    return True


def _render_claim(self, tokens, idx, options, env) -> str:
    kind, detail = tokens[idx].meta["kind"], tokens[idx].meta["detail"]
    claims = env.setdefault("claims", [])
    if kind == "said":
        claims.append({"kind": "said", "who": detail})
        label = "Customer said" + (f" — {detail}" if detail else "")
        return f'<span class="claim claim-said">{escapeHtml(label)}</span>'
    if kind == "source":
        url = safe_http_url(detail)
        claims.append({"kind": "source", "url": url, "text": detail})
        if url:
            return (
                f'<a class="claim claim-source" href="{escapeHtml(url)}" '
                f'title="{escapeHtml(url)}">Public source</a>'
            )
        label = "Public source" + (f" — {detail}" if detail else " (no link)")
        return f'<span class="claim claim-source">{escapeHtml(label)}</span>'
    claims.append({"kind": "inference"})
    return '<span class="claim claim-inference">Our inference</span>'


def _cite_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "[" or not state.src.startswith("[^c", state.pos):
        return False
    match = CITE_MARK.match(state.src, state.pos)
    if not match:
        return False
    if not silent:
        token = state.push("cite", "", 0)
        token.meta = {"id": match.group(1)}
    state.pos = match.end()
    return True


def _render_cite(self, tokens, idx, options, env) -> str:
    pk = tokens[idx].meta["id"]
    return f'<span class="cite-ref" title="c{pk}">[^c{pk}]</span>'


def _make_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.disable("image")
    md.inline.ruler.before("emphasis", "claim", _claim_rule)
    md.add_render_rule("claim", _render_claim)
    md.inline.ruler.before("link", "cite", _cite_rule)
    md.add_render_rule("cite", _render_cite)
    return md


_MD = _make_parser()


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def cited_ids(text: str) -> list[int]:
    """The citation ids marked in ``text`` (``[^c12]``), in order of first appearance."""
    seen: dict[int, None] = {}
    for match in CITE_MARK.finditer(text or ""):
        seen.setdefault(int(match.group(1)), None)
    return list(seen)


def render_markdown(
    text: str, *, citations: Mapping[int, Mapping] | None = None, scope: str = "s"
) -> Rendered:
    """Markdown (with claim marks and citation markers) to sanitised HTML, plus its claims.

    ``citations`` maps the ids this text may cite to their footnote data (see
    ``footnote_data``); ``scope`` (the section key) keeps footnote ids unique on a page.

    A long section is rendered block by block, and each block's result is cached: between
    two autosaves only the paragraph being typed changes, so only it is rendered again.
    Blocks are split only where CommonMark itself ends every open block (see ``blocks``); a
    text with link reference definitions, which reach across blocks, is rendered whole.
    """
    if not text or not text.strip():
        return Rendered(html="", claims=[])
    parts = blocks(text) if len(text) > BLOCKWISE_FROM and not REFERENCE.search(text) else [text]
    html: list[str] = []
    claims: list[dict[str, str]] = []
    for part in parts:
        part_html, part_claims = _render_block(part)
        html.append(part_html)
        claims.extend(dict(c) for c in part_claims)
    body = "".join(html)
    cited: list[int] = []
    if "cite-ref" in body:
        body, cited = _resolve_citations(body, citations or {}, scope)
    return Rendered(html=body, claims=claims, cited=cited)


def footnote_data(*, label, value_text, source_name, period_text, retrieved, url) -> dict:
    """What a footnote shows, as plain JSON-able values (kept with the section)."""
    return {
        "label": str(label or ""),
        "value": str(value_text or ""),
        "source": str(source_name or ""),
        "period": str(period_text or ""),
        "retrieved": str(retrieved or ""),
        "url": safe_http_url(str(url or "")),
    }


def _resolve_citations(html: str, citations: Mapping[int, Mapping], scope: str):
    scope = re.sub(r"[^a-z0-9_-]", "", scope.lower()) or "s"
    numbers: dict[int, int] = {}

    def ref(match: re.Match) -> str:
        pk = int(match.group(1))
        if not citations.get(pk):
            return f"[^c{pk}]"  # not one of this brief's citations: plain text
        first = pk not in numbers
        n = numbers.setdefault(pk, len(numbers) + 1)
        anchor = f' id="fnref-{scope}-{n}"' if first else ""
        return (
            f'<sup class="footnote-ref"{anchor}><a href="#fn-{scope}-{n}" '
            f'title="Source {n}">{n}</a></sup>'
        )

    body = CITE_PLACEHOLDER.sub(ref, html)
    if not numbers:
        return body, []
    items = []
    for pk, n in numbers.items():
        note = citations[pk]
        value = (
            f': <span class="footnote-value">{escapeHtml(note["value"])}</span>'
            if note.get("value")
            else ""
        )
        bits = [f'<span class="footnote-source">{escapeHtml(note.get("source", ""))}</span>']
        if note.get("period"):
            bits.append(escapeHtml(note["period"]))
        if note.get("retrieved"):
            bits.append(f"retrieved {escapeHtml(note['retrieved'])}")
        url = safe_http_url(note.get("url", ""))
        link = (
            f' <a class="footnote-link" href="{escapeHtml(url)}">{escapeHtml(url)}</a>'
            if url
            else ""
        )
        items.append(
            f'<li id="fn-{scope}-{n}">{escapeHtml(note.get("label", ""))}{value}. '
            f"{', '.join(bits)}.{link} "
            f'<a class="footnote-back" href="#fnref-{scope}-{n}" title="Back to the text">'
            "↩</a></li>"
        )
    notes = nh3.clean(
        f'<div class="footnotes"><ol class="footnote-list">{"".join(items)}</ol></div>',
        tags=FOOTNOTE_TAGS,
        attributes=FOOTNOTE_ATTRIBUTES,
        allowed_classes=FOOTNOTE_CLASSES,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return body + notes, list(numbers)


BLOCKWISE_FROM = 2_000
REFERENCE = re.compile(r"^ {0,3}\[[^\]\n]+\]:", re.MULTILINE)
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
LIST_ITEM = re.compile(r"^(?:[-+*]|\d{1,9}[.)])(?:\s|$)")


def blocks(text: str) -> list[str]:
    """Split Markdown at blank lines where a new top-level block must start.

    A split happens only before a line that is not indented (so it cannot continue a list
    item or an indented code block), is not a list item (so loose lists stay one list), and
    is outside a fenced code block. Rendering the pieces separately then gives the same
    HTML as rendering the whole.
    """
    lines = text.split("\n")
    parts: list[str] = []
    current: list[str] = []
    fence: str | None = None
    previous_blank = False
    for line in lines:
        if fence is None:
            if (
                previous_blank
                and current
                and line[:1] not in {"", " ", "\t"}
                and not LIST_ITEM.match(line)
            ):
                parts.append("\n".join(current))
                current = []
            opening = FENCE.match(line)
            if opening:
                fence = opening.group(1)
        elif line.lstrip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
            fence = None
        current.append(line)
        previous_blank = not line.strip()
    if current:
        parts.append("\n".join(current))
    return parts


@functools.lru_cache(maxsize=4096)
def _render_block(text: str) -> tuple[str, tuple[dict[str, str], ...]]:
    env: dict = {}
    html = _MD.render(text, env)
    return sanitize(html), tuple(env.get("claims", []))


def render_plain(text: str) -> str:
    """A short plain value (a structured field) as safe HTML, claim marks included."""
    return render_markdown(text).html
