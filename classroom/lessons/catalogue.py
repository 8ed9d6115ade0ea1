"""Lesson templates: versioned folders shipped with the project, loaded and validated once.

A lesson is a folder `<slug>/` holding `lesson.yaml` (the manifest), `student_steps.md`,
`teacher_guide.md` and `background.md`. Folders live in settings.LESSON_DIRS (the
project's own `classroom/lessons/library/` by default). A broken template is reported by
`manage.py check` naming its file (see checks.py); pages only ever see valid lessons.

Translations: a subfolder named after a language of settings.LANGUAGES (`es/`) holds the
same four files with only the words changed; the machine fields (models, questions' kinds,
goals) must match the original. Pages get the lesson in the active language, or the
original where no translation exists.
"""

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import yaml
from django.conf import settings
from django.utils.translation import get_language

# What a lesson may ask for: the model roles roles.py knows how to find, and the
# prediction questions outcomes.py knows how to check against the class's results.
MODEL_ROLES = ("balanced", "majority-heavy", "transfer")
QUESTION_KINDS = ("fairer_model", "worst_group", "higher_overall", "text")
PHOTO_SOURCES = ("gallery", "gallery-or-upload")
GUIDE_SECTIONS = ("Preparation", "Minute by minute", "What to say", "Common misconceptions", "Discussion questions")
FILES = ("lesson.yaml", "student_steps.md", "teacher_guide.md", "background.md")
REQUIRED = {
    "slug": str,
    "version": int,
    "title": str,
    "age_band": str,
    "duration_minutes": int,
    "summary": str,
    "learning_goals": list,
    "models": list,
    "photo_source": str,
    "tests_goal": int,
    "experiment_title": str,
    "prediction_questions": list,
    "reflection_questions": list,
}


class LessonError(ValueError):
    """A lesson template is broken; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Lesson:
    slug: str
    version: int
    title: str
    age_band: str
    duration_minutes: int
    summary: str
    learning_goals: tuple[str, ...]
    models: tuple[str, ...]  # roles
    photo_source: str
    tests_goal: int
    experiment_title: str
    prediction_questions: tuple[dict, ...]
    reflection_questions: tuple[str, ...]
    student_steps: str  # Markdown
    teacher_guide: str
    background: str
    perception_activity: bool = False
    audits: bool = False  # an "Audit a collection" step: students may audit (classroom.audits)
    folder: Path = field(default=Path("."), compare=False)
    language: str = "en"  # the language of this copy's words
    # Other languages' copies, by code (only on the original).
    translations: dict = field(default_factory=dict, compare=False, repr=False)

    def in_language(self, code: str | None) -> "Lesson":
        """This lesson in `code` ("es", "es-mx" -> "es"), or the original when there is no translation."""
        if not code:
            return self
        return self.translations.get(code.lower().split("-")[0], self)

    @property
    def languages(self) -> tuple[str, ...]:
        return (self.language, *self.translations)

    @property
    def allow_uploads(self) -> bool:
        return self.photo_source == "gallery-or-upload"

    def guide_section(self, name: str) -> str:
        """One section of the teacher guide by its English heading (GUIDE_SECTIONS), in any language:
        a translation keeps the sections in the same order."""
        sections = self.guide_sections()
        i = GUIDE_SECTIONS.index(name)
        return sections[i][1] if i < len(sections) else ""

    def guide_sections(self) -> list[tuple[str, str]]:
        """The teacher guide split at its `## ` headings: [(heading, Markdown)]."""
        parts = re.split(r"^## +(.+?)\s*$", self.teacher_guide, flags=re.M)
        return [(parts[i].strip(), parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]


def _fail(path: Path, message: str):
    raise LessonError(f"{path}: {message}")


def _check_question(path: Path, i: int, q, roles: tuple[str, ...]) -> dict:
    where = f"prediction_questions[{i}]"
    if not isinstance(q, dict) or not isinstance(q.get("text"), str) or not q["text"].strip():
        _fail(path, f"{where} needs a `text`.")
    if q.get("kind") not in QUESTION_KINDS:
        _fail(path, f"{where}: `kind` must be one of {', '.join(QUESTION_KINDS)} (got {q.get('kind')!r}).")
    unknown = set(q) - {"kind", "text", "model_role"}
    if unknown:
        _fail(path, f"{where}: unknown key(s) {', '.join(sorted(unknown))}.")
    if q["kind"] == "worst_group":
        if q.get("model_role") not in roles:
            _fail(path, f"{where}: a worst_group question needs `model_role`, one of this lesson's models {roles}.")
    elif "model_role" in q:
        _fail(path, f"{where}: only worst_group questions take a `model_role`.")
    return {k: (v.strip() if isinstance(v, str) else v) for k, v in q.items()}


def load_lesson(folder: Path) -> Lesson:
    """Read and validate one lesson folder and its translations; raises LessonError naming the broken file."""
    folder = Path(folder)
    lesson = _load_original(folder)
    codes = [code for code, _ in settings.LANGUAGES if code != lesson.language and (folder / code).is_dir()]
    return replace(lesson, translations={code: _load_translation(folder / code, lesson, code) for code in codes})


# Fields a translation copies from the original: only the words may differ.
_MACHINE_FIELDS = ("slug", "version", "duration_minutes", "models", "photo_source", "tests_goal")


def _load_translation(folder: Path, original: Lesson, code: str) -> Lesson:
    lesson = _load_original(folder, expected_slug=original.slug, guide_sections=None)
    manifest = folder / "lesson.yaml"
    for name in _MACHINE_FIELDS + ("perception_activity", "audits"):
        if getattr(lesson, name) != getattr(original, name):
            _fail(
                manifest,
                f"`{name}` must be the same as in the original lesson.yaml (a translation changes words only).",
            )
    kinds = [(q["kind"], q.get("model_role")) for q in lesson.prediction_questions]
    if kinds != [(q["kind"], q.get("model_role")) for q in original.prediction_questions]:
        _fail(manifest, "`prediction_questions` must have the same kinds, in the same order, as the original.")
    if len(lesson.reflection_questions) != len(original.reflection_questions):
        _fail(manifest, "`reflection_questions` must have as many questions as the original.")
    if len(lesson.guide_sections()) != len(GUIDE_SECTIONS):
        _fail(folder / "teacher_guide.md", f"needs the original's {len(GUIDE_SECTIONS)} `## ` sections, in order.")
    return replace(lesson, language=code, folder=original.folder)


def _load_original(folder: Path, expected_slug: str | None = None, guide_sections=GUIDE_SECTIONS) -> Lesson:
    for name in FILES:
        if not (folder / name).is_file():
            _fail(folder / name, "missing (a lesson needs " + ", ".join(FILES) + ").")
    manifest_path = folder / "lesson.yaml"
    try:
        data = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        _fail(manifest_path, f"not valid YAML ({str(exc).splitlines()[0]}).")
    if not isinstance(data, dict):
        _fail(manifest_path, "must be a mapping of keys to values.")
    for key, kind in REQUIRED.items():
        if key not in data:
            _fail(manifest_path, f"missing `{key}`.")
        # bool is an int subclass: `version: true` is not a version.
        if not isinstance(data[key], kind) or (kind is int and isinstance(data[key], bool)):
            _fail(manifest_path, f"`{key}` must be a {kind.__name__}.")
    unknown = set(data) - set(REQUIRED) - {"perception_activity", "audits"}
    if unknown:
        _fail(manifest_path, f"unknown key(s) {', '.join(sorted(unknown))}.")
    if data["slug"] != (expected_slug or folder.name):
        _fail(
            manifest_path, f"`slug` ({data['slug']!r}) must equal the folder name ({expected_slug or folder.name!r})."
        )
    roles = tuple(data["models"])
    if not roles or any(r not in MODEL_ROLES for r in roles) or len(set(roles)) != len(roles):
        _fail(manifest_path, f"`models` must list distinct roles among {', '.join(MODEL_ROLES)} (got {roles}).")
    if data["photo_source"] not in PHOTO_SOURCES:
        _fail(manifest_path, f"`photo_source` must be one of {', '.join(PHOTO_SOURCES)}.")
    if not 5 <= data["duration_minutes"] <= 180 or not 1 <= data["tests_goal"] <= 200:
        _fail(manifest_path, "`duration_minutes` must be 5–180 and `tests_goal` 1–200.")
    texts = data["learning_goals"] + data["reflection_questions"]
    if not all(isinstance(t, str) and t.strip() for t in texts) or not data["reflection_questions"]:
        _fail(manifest_path, "`learning_goals` and `reflection_questions` must be non-empty lists of text.")
    questions = tuple(_check_question(manifest_path, i, q, roles) for i, q in enumerate(data["prediction_questions"]))
    md = {name: (folder / name).read_text(encoding="utf-8").strip() for name in FILES[1:]}
    for name, text in md.items():
        if not text:
            _fail(folder / name, "is empty.")
    headings = [h for h, _ in re.findall(r"^## +(.+?)\s*$()", md["teacher_guide.md"], flags=re.M)]
    if guide_sections is not None and tuple(headings) != guide_sections:
        _fail(folder / "teacher_guide.md", f"needs exactly these `## ` sections, in order: {', '.join(GUIDE_SECTIONS)}")
    allowed = {"majority_group", "k", "groups", "tests_goal"} | {f"model:{r}" for r in roles}
    placed = [("student_steps.md", md["student_steps.md"])] + [
        ("lesson.yaml", t)
        for t in [data["experiment_title"], *data["reflection_questions"]] + [q["text"] for q in questions]
    ]
    for name, text in placed:
        bad = sorted(set(re.findall(r"\[\[([^\]]*)\]\]", text)) - allowed)
        if bad:
            _fail(
                folder / name, f"unknown placeholder(s) {', '.join(f'[[{b}]]' for b in bad)}; known: {sorted(allowed)}."
            )
    return Lesson(
        slug=data["slug"],
        version=data["version"],
        title=data["title"].strip(),
        age_band=data["age_band"].strip(),
        duration_minutes=data["duration_minutes"],
        summary=data["summary"].strip(),
        learning_goals=tuple(g.strip() for g in data["learning_goals"]),
        models=roles,
        photo_source=data["photo_source"],
        tests_goal=data["tests_goal"],
        experiment_title=data["experiment_title"].strip(),
        prediction_questions=questions,
        reflection_questions=tuple(q.strip() for q in data["reflection_questions"]),
        student_steps=md["student_steps.md"],
        teacher_guide=md["teacher_guide.md"],
        background=md["background.md"],
        perception_activity=bool(data.get("perception_activity", False)),
        audits=bool(data.get("audits", False)),
        folder=folder,
    )


def lesson_folders() -> list[Path]:
    folders = []
    for root in settings.LESSON_DIRS:
        root = Path(root)
        if root.is_dir():
            folders += sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    return folders


def validate_all() -> list[str]:
    """Every broken template's message (empty when all are valid): what `manage.py check` reports."""
    errors = []
    for folder in lesson_folders():
        try:
            load_lesson(folder)
        except LessonError as exc:
            errors.append(str(exc))
    return errors


@lru_cache(maxsize=4)
def _catalogue(dirs: tuple[str, ...]) -> dict[str, Lesson]:
    lessons = {}
    for folder in lesson_folders():
        try:
            lesson = load_lesson(folder)
        except LessonError:
            continue  # reported by `manage.py check`; a page never fails because of it
        lessons[lesson.slug] = lesson
    return lessons


def all_lessons(language: str | None = None) -> list[Lesson]:
    """The valid lessons, in folder order (a broken one is left out, never a 500), in `language`
    (default: the request's active language) where translated."""
    language = language or get_language()
    return [lesson.in_language(language) for lesson in _catalogue(tuple(str(d) for d in settings.LESSON_DIRS)).values()]


def get_lesson(slug: str, language: str | None = None) -> Lesson | None:
    """One lesson in `language` (default: the active language) where translated, else the original."""
    lesson = _catalogue(tuple(str(d) for d in settings.LESSON_DIRS)).get(slug or "")
    return lesson.in_language(language or get_language()) if lesson else None
