"""`{{ text|stored }}`: a text the platform stored in English (a demo dataset's name, a worker's
message) in the reader's language; anything else, such as a name a teacher typed, as it is."""

from django import template

from ..stored_text import translated

register = template.Library()


@register.filter
def stored(text):
    return translated(text) if isinstance(text, str) else text
