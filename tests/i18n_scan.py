"""Simple scans for user-facing text that is not marked for translation.

They are deliberately plain (regular expressions and the ast module): they catch the
common slip, a sentence typed straight into a template, a script or a message call,
not every possible one. tests/test_translations.py runs them on every file.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Words that are the same in every language: the product's name.
ALLOWED_TEXT = {"EthiTech classroom", "EthiTech"}

_COMMENTS = re.compile(r"{#.*?#}|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.S)
_BLOCKTRANS = re.compile(r"{%\s*blocktrans(?:late)?\b.*?%}.*?{%\s*endblocktrans(?:late)?\s*%}", re.S)
_SCRIPT_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?</\1>", re.S | re.I)
_TEMPLATE_TAGS = re.compile(r"{%.*?%}|{{.*?}}", re.S)
_HTML_TAG = re.compile(r"<[^>]*>", re.S)
_ENTITY = re.compile(r"&#?\w+;")
_WORD = re.compile(r"[^\W\d_]{2,}")
# Attributes a person reads or hears (screen readers read aria-label and alt).
_TEXT_ATTR_NAMES = "title|alt|placeholder|aria-label|aria-description|aria-roledescription"
_TEXT_ATTRS = re.compile(rf"""\s({_TEXT_ATTR_NAMES})\s*=\s*(["'])(.*?)\2""", re.S)
# Messages handed to scripts in data attributes: a sentence, not a code or URL.
_DATA_ATTRS = re.compile(r"""\s(data-[\w-]+)\s*=\s*(["'])(.*?)\2""", re.S)
_SENTENCE = re.compile(r"^[A-Z][a-z']+(\s+[\w'’,.?!]+)+$")


def _has_words(text: str) -> bool:
    text = text.strip(" \t\n·|—-:")  # "· EthiTech classroom" after a translated page title
    return bool(text) and text not in ALLOWED_TEXT and bool(_WORD.search(text))


def _line_of(source: str, fragment: str) -> int:
    index = source.find(fragment)
    return source.count("\n", 0, index) + 1 if index >= 0 else 0


def untranslated_template_text(path: Path) -> list[str]:
    """Text outside {% translate %}/{% blocktranslate %} in a template, as 'line: text'."""
    source = path.read_text(encoding="utf-8")
    text = _COMMENTS.sub(" ", source)
    text = _BLOCKTRANS.sub(" ", text)
    text = _SCRIPT_STYLE.sub(" ", text)
    found = []
    tags_blanked = _TEMPLATE_TAGS.sub("\x00", text)  # a tag's own quotes must not end an attribute
    for pattern in (_TEXT_ATTRS, _DATA_ATTRS):
        for match in pattern.finditer(tags_blanked):
            value = match.group(3).replace("\x00", " ").strip()
            is_text = _has_words(value) if pattern is _TEXT_ATTRS else bool(_SENTENCE.match(value))
            if is_text:
                found.append(f"{_line_of(source, match.group(0))}: {match.group(1)}={value!r}")
    text = _TEMPLATE_TAGS.sub(" ", text)
    text = _HTML_TAG.sub(" ", text)
    text = _ENTITY.sub(" ", text)
    for chunk in re.split(r"\s{2,}|\n", text):
        if _has_words(chunk):
            found.append(f"{_line_of(source, chunk.strip()[:40])}: {chunk.strip()!r}")
    return found


# A JavaScript string with at least two words, e.g. "Waiting for the models".
_JS_STRING = re.compile(r"""(["'`])((?:\\.|(?!\1).)*?)\1""", re.S)
_JS_WORDS = re.compile(r"[A-Za-z]{2,}[^\n]*\s+[A-Za-z]{2,}")
_JS_MARKED = re.compile(r"(n?gettext|pgettext|npgettext)\(\s*(?:[\"'`][^\"'`]*[\"'`]\s*,\s*)?$")
_JS_COMMENT = re.compile(r"/\*.*?\*/|(?<![:\\])//[^\n]*", re.S)  # blanked out, lines kept
_JS_CODE_LIKE = re.compile(r"^[\w.#:\-\[\]=\"' >*,()]+$")  # CSS selectors, class lists


def untranslated_script_text(path: Path) -> list[str]:
    """Sentences in a script not passed to gettext()/ngettext(), as 'line: text'.

    A line may opt out with the comment `// not user-facing`.
    """
    source = _JS_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), path.read_text(encoding="utf-8"))
    found = []
    for match in _JS_STRING.finditer(source):
        value = match.group(2)
        line_start = source.rfind("\n", 0, match.start()) + 1
        line_end = source.find("\n", match.end())
        line = source[line_start : line_end if line_end >= 0 else None]
        if "not user-facing" in line or "${" in value and not _JS_WORDS.search(re.sub(r"\$\{.*?\}", "", value)):
            continue
        if not _JS_WORDS.search(value) or (" " not in value.strip()):
            continue
        if _JS_CODE_LIKE.match(value) and not re.search(r"[A-Z][a-z]+ [a-z]+ [a-z]+", value):
            continue
        before = source[max(0, match.start() - 80) : match.start()]
        if _JS_MARKED.search(before):
            continue
        found.append(f"{source.count(chr(10), 0, match.start()) + 1}: {value[:70]!r}")
    return found


_MESSAGE_CALLS = {"success", "error", "info", "warning", "add_message"}
_TEXT_KEYWORDS = {"label", "help_text", "empty_label", "verbose_name", "verbose_name_plural"}


def _is_literal_text(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _has_words(node.value)
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and _has_words(str(v.value)) for v in node.values)
    return False


def untranslated_python_text(path: Path) -> list[str]:
    """Literal text in messages.*(), ValidationError() and form/model labels, as 'line: text'."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
        candidates = []
        if owner == "messages" and name in _MESSAGE_CALLS:
            candidates = node.args[1:3]
        elif name == "ValidationError" and node.args:
            candidates = node.args[:1]
        if path.name != "serializers.py":  # API field docs are for developers, in English
            candidates += [kw.value for kw in node.keywords if kw.arg in _TEXT_KEYWORDS]
        for arg in candidates:
            if _is_literal_text(arg):
                found.append(f"{arg.lineno}: {ast.unparse(arg)[:70]}")
    return found


def templates() -> list[Path]:
    return sorted(p for p in (ROOT / "templates").rglob("*") if p.suffix in {".html", ".txt"})


def scripts() -> list[Path]:
    return sorted((ROOT / "static" / "js").glob("*.js"))


def python_modules() -> list[Path]:
    paths = []
    for app in ("classroom", "training", "inference", "ethitech"):
        paths += [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]
    return sorted(paths)
