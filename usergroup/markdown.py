"""Markdown in, safe HTML out: markdown-it-py renders (raw HTML off), nh3 keeps only a short
list of tags and attributes. Nothing a member writes reaches a page unsanitised."""

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

ALLOWED_TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
                "a", "h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td", "hr"}


def render(text: str) -> str:
    html = _md.render(text or "")
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")
