"""Messages a worker stores for a page to show later, shown in the reader's language.

A worker answers nobody's request, so what it stores (a prediction's error, a job's stage, why
a file of an audit was skipped) is English, the project's LANGUAGE_CODE. The page translates it
when it shows it (`translated`): a fixed message, marked with gettext_noop where it is written,
is looked up as it is; a message with values ("Fine-tuning (epoch 3 of 29)") is declared with
`declare`, so its English form is recognised and its values carried into the translation.
Anything else (a file name, a technical error) is shown as it was stored.

Only `%(name)s` placeholders are recognised. A message whose English depends on a count is
declared once per English form (see classroom.services.sweeper).
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext

_PLACEHOLDER = re.compile(r"%\(([a-z_]+)\)s|%%")
# A number as English writes it with a separator ("1,000", "2.5"): written the reader's way.
_ENGLISH_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+")


@dataclass(frozen=True)
class _Declared:
    msgid: str
    pattern: re.Pattern
    nested: frozenset[str]  # values that are stored messages themselves (translated in turn)


_DECLARED: list[_Declared] = []


def _pattern(msgid: str) -> re.Pattern:
    out, end = [], 0
    for m in _PLACEHOLDER.finditer(msgid):
        out.append(re.escape(msgid[end : m.start()]))
        out.append(f"(?P<{m.group(1)}>.+?)" if m.group(1) else "%")
        end = m.end()
    out.append(re.escape(msgid[end:]))
    return re.compile("".join(out), re.S)


def declare(msgid: str, *, nested: tuple[str, ...] = ()) -> str:
    """Make a message with values recognisable once stored; returns the msgid, to format as usual.
    Call it at module level with `gettext_noop("...")`, so the catalogue has the msgid."""
    _DECLARED.append(_Declared(msgid, _pattern(msgid), frozenset(nested)))
    return msgid


def _localized(value: str) -> str:
    if not _ENGLISH_NUMBER.fullmatch(value):
        return value
    plain = value.replace(",", "")
    decimals = len(plain.partition(".")[2])
    return formats.number_format(Decimal(plain), decimals, force_grouping="," in value)


def translated(text: str) -> str:
    """A stored English message in the active language; unknown text comes back as it is."""
    if not text:
        return text
    found = gettext(text)
    if found != text:
        return found
    for declared in _DECLARED:
        match = declared.pattern.fullmatch(text)
        if match:
            values = {k: translated(v) if k in declared.nested else _localized(v) for k, v in match.groupdict().items()}
            return gettext(declared.msgid) % values
    return text
