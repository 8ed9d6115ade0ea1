"""The anonymised export: one row per prediction, pseudonyms new for every export."""

import secrets

from django.db.models import F

from ..models import Assignment, LessonResponse, Prediction

EXPORT_FIELDS = [
    "test",
    "student",
    "submitted_at",
    "expected_group",
    "known_group",
    "model",
    "status",
    "guess",
    "face_found",
]


def _pseudonym(used: set) -> str:
    while True:
        name = "S-" + secrets.token_hex(3)
        if name not in used:
            used.add(name)
            return name


def export_rows(assignment: Assignment):
    """One anonymised row per prediction, oldest test first (a generator over one query).

    No names, usernames or ids: each student gets a random pseudonym that is
    new for every export, each test a number. Notes are left out: they are
    free text and may name people.
    """
    labels = list(assignment.label_set.labels)
    rows = (
        Prediction.objects.filter(submission__assignment=assignment, submission__preview=False)
        .values(
            "submission_id",
            "status",
            "label",
            "face_found",
            "probabilities",
            student=F("submission__student_id"),
            submitted_at=F("submission__created_at"),
            expected=F("submission__expected_label"),
            known=F("submission__true_label"),
            model=F("model_version__key"),
        )
        .order_by("submission__created_at", "submission_id", "model_version__key")
    )
    students: dict[int, str] = {}
    used: set[str] = set()
    tests: dict[int, int] = {}
    for row in rows.iterator(chunk_size=2000):
        if row["student"] not in students:
            students[row["student"]] = _pseudonym(used)
        test = tests.setdefault(row["submission_id"], len(tests) + 1)
        probabilities = row["probabilities"] or {}
        yield {
            "test": test,
            "student": students[row["student"]],
            "submitted_at": row["submitted_at"].replace(second=0, microsecond=0).isoformat(),
            "expected_group": row["expected"],
            "known_group": row["known"],
            "model": row["model"],
            "status": row["status"],
            "guess": row["label"],
            # A gallery image is a face crop: nobody looked for a face in it.
            "face_found": None if row["known"] else row["face_found"],
            "probabilities": {g: probabilities[g] for g in labels if g in probabilities},
        }


ANSWER_FIELDS = ["student", "kind", "question_number", "question", "answer", "answered_at"]


def answer_rows(assignment: Assignment):
    """Students' predictions (before testing) and reflections (after), anonymised like the
    tests: a random pseudonym per student, new for every export; a teacher's preview left out.
    Answers are free text, so the teacher should read them before sharing the file."""
    rows = (
        LessonResponse.objects.filter(assignment=assignment, preview=False)
        .values("student_id", "kind", "question", "question_text", "answer", "updated_at")
        .order_by("kind", "question", "updated_at")
    )
    students: dict[int, str] = {}
    used: set[str] = set()
    for row in rows.iterator(chunk_size=2000):
        if row["student_id"] not in students:
            students[row["student_id"]] = _pseudonym(used)
        yield {
            "student": students[row["student_id"]],
            "kind": row["kind"],
            "question_number": row["question"] + 1,
            "question": row["question_text"],
            "answer": row["answer"],
            "answered_at": row["updated_at"].replace(second=0, microsecond=0).isoformat(),
        }
