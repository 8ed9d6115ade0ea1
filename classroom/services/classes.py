"""Classes, join codes and assignments."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from inference.models import ModelVersion

from ..models import MAX_KEEP_PHOTOS_DAYS, Assignment, AuditLog, Classroom, Enrollment, User, new_join_code
from . import audit


class JoinError(ValueError):
    pass


def create_classroom(*, teacher: User, name: str) -> Classroom:
    if not teacher.is_teacher:
        raise PermissionError("Only teachers can create classes.")
    return Classroom.objects.create(teacher=teacher, name=name.strip())


def rotate_join_code(*, classroom: Classroom) -> str:
    for _ in range(10):
        try:
            with transaction.atomic():
                classroom.join_code = new_join_code()
                classroom.save(update_fields=["join_code"])
                return classroom.join_code
        except IntegrityError:
            continue
    raise RuntimeError("Could not generate a unique join code.")


def set_join_enabled(*, classroom: Classroom, enabled: bool) -> None:
    classroom.join_enabled = enabled
    classroom.save(update_fields=["join_enabled"])


def join_classroom(*, student: User, code: str) -> Classroom:
    if not student.is_student:
        raise JoinError("Only student accounts join classes with a code.")
    code = code.strip().upper().replace(" ", "")
    classroom = Classroom.objects.filter(join_code=code, join_enabled=True).first()
    if classroom is None:
        raise JoinError("That code does not match an open class. Check it with your teacher.")
    Enrollment.objects.get_or_create(classroom=classroom, student=student)
    return classroom


@transaction.atomic
def create_assignment(
    *,
    classroom: Classroom,
    title: str,
    instructions: str,
    model_versions: list[ModelVersion],
    ask_expected: bool,
    opens_at=None,
    due_at=None,
    results_visibility: str = Assignment.ResultsVisibility.IMMEDIATE,
    allow_uploads: bool | None = None,
    keep_photos_days: int | None = None,
) -> Assignment:
    if not model_versions:
        raise ValueError("Choose at least one model to compare.")
    label_sets = {mv.label_set_id for mv in model_versions}
    if len(label_sets) != 1:
        # Expected groups and accuracy need one shared list of groups.
        raise ValueError("The models you compare must use the same list of groups.")
    opens_at = opens_at or timezone.now()
    if due_at and due_at <= opens_at:
        raise ValueError("The due date must be after the opening date.")
    if keep_photos_days is not None and not 1 <= keep_photos_days <= MAX_KEEP_PHOTOS_DAYS:
        raise ValueError(f"Photos can be kept for 1 to {MAX_KEEP_PHOTOS_DAYS} days.")
    if allow_uploads is None:
        # Once the class has a test gallery for these groups it is the default photo source:
        # uploads are opt-in. Without one, students upload (see selectors.uploads_allowed).
        label_set = model_versions[0].label_set
        allow_uploads = not classroom.gallery_images.filter(label_set=label_set).exists()
    assignment = Assignment.objects.create(
        classroom=classroom,
        title=title.strip(),
        instructions=instructions,
        label_set=model_versions[0].label_set,
        ask_expected=ask_expected,
        opens_at=opens_at,
        due_at=due_at,
        results_visibility=results_visibility,
        allow_uploads=allow_uploads,
        keep_photos_days=keep_photos_days or None,
    )
    assignment.model_versions.set(model_versions)
    if assignment.keep_photos_days:
        audit.record(
            actor=classroom.teacher,
            action=AuditLog.Action.PHOTOS_KEPT,
            classroom=classroom,
            experiment=assignment.title,
            days=assignment.keep_photos_days,
        )
    return assignment


def release_results(*, assignment: Assignment, released: bool = True) -> None:
    assignment.results_released = released
    assignment.save(update_fields=["results_released"])
