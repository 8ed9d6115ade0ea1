"""Assignment instructions: Markdown rendered to HTML, then sanitised."""

import re

import markdown
import nh3

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h2",
    "h3",
    "h4",
    "a",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}


# A checklist item ("- [ ] Publish a gallery") shows a box, not the raw brackets.
_TASK = re.compile(r"^(\s*[-*+] )\[( |x|X)\] ", re.M)


def render_markdown(text: str) -> str:
    text = _TASK.sub(lambda m: m.group(1) + ("\u2611 " if m.group(2).strip() else "\u2610 "), text or "")
    html = markdown.markdown(text, extensions=["tables", "sane_lists"])
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
