"""User markdown to HTML that is safe to put in a page: markdown-it-py, then nh3.

markdown-it runs with raw HTML off (``js-default``), and nh3 then keeps only a
small allow-list of tags and attributes, so what comes out is inert whatever
came in: no script, no event handler, no ``javascript:`` link.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("js-default").disable(["image"])
_TAGS = {"p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a",
         "h1", "h2", "h3", "h4", "hr"}


def render_markdown(text: str) -> str:
    return nh3.clean(
        _md.render(text), tags=_TAGS, attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow",
    )
