"""Classes, join codes and assignments."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from inference.models import ModelVersion

from ..models import MAX_KEEP_PHOTOS_DAYS, Assignment, AuditLog, Classroom, Enrollment, User, new_join_code
from . import audit, rate_limits


class JoinError(ValueError):
    pass


def create_classroom(*, teacher: User, name: str) -> Classroom:
    if not teacher.is_teacher:
        raise PermissionError(gettext("Only teachers can create classes."))
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
        raise JoinError(gettext("Only student accounts join classes with a code."))
    try:
        rate_limits.check_join(student)  # join codes are short: no guessing them in a loop
    except rate_limits.RateLimited as exc:
        raise JoinError(str(exc))
    code = code.strip().upper().replace(" ", "")
    classroom = Classroom.objects.filter(join_code=code, join_enabled=True).first()
    if classroom is None:
        raise JoinError(gettext("That code does not match an open class. Check it with your teacher."))
    Enrollment.objects.get_or_create(classroom=classroom, student=student)
    return classroom


def _check_models(model_versions) -> None:
    if not model_versions:
        raise ValueError(gettext("Choose at least one model to compare."))
    if len({mv.label_set_id for mv in model_versions}) != 1:
        # Expected groups and accuracy need one shared list of groups.
        raise ValueError(gettext("The models you compare must use the same list of groups."))


def _check_dates_and_photos(opens_at, due_at, keep_photos_days, results_visibility) -> None:
    if due_at and opens_at and due_at <= opens_at:
        raise ValueError(gettext("The due date must be after the opening date."))
    if results_visibility == Assignment.ResultsVisibility.AFTER_DUE and not due_at:
        raise ValueError(gettext("Set a due date, or choose another time for students to see results."))
    if keep_photos_days is not None and not 1 <= keep_photos_days <= MAX_KEEP_PHOTOS_DAYS:
        raise ValueError(gettext("Photos can be kept for 1 to %(max)s days.") % {"max": MAX_KEEP_PHOTOS_DAYS})


def gallery_is_default(classroom: Classroom, label_set) -> bool:
    """Once the class has a test gallery for these groups it is the default photo source."""
    return classroom.gallery_images.filter(label_set=label_set).exists()


# What a lesson (or the teacher) may set beyond the basics; see Assignment for each field.
LESSON_FIELDS = (
    "lesson_key",
    "lesson_version",
    "ask_predictions",
    "prediction_questions",
    "reflection_questions",
    "model_roles",
    "tests_goal",
    "perception_activity",
    "explain_answers",
    "audits_enabled",
)


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
    **lesson,
) -> Assignment:
    """`allow_uploads`: the teacher's choice, honoured as given; None (not asked) means the
    default, which is off once the class has a test gallery for these groups."""
    _check_models(model_versions)
    opens_at = opens_at or timezone.now()
    _check_dates_and_photos(opens_at, due_at, keep_photos_days, results_visibility)
    unknown = set(lesson) - set(LESSON_FIELDS)
    if unknown:
        raise TypeError(f"Unknown experiment field(s): {', '.join(sorted(unknown))}")
    if allow_uploads is None:
        allow_uploads = not gallery_is_default(classroom, model_versions[0].label_set)
    assignment = Assignment.objects.create(
        classroom=classroom,
        title=title.strip(),
        instructions=instructions,
        label_set=model_versions[0].label_set,
        ask_expected=ask_expected or bool(lesson.get("perception_activity")),
        opens_at=opens_at,
        due_at=due_at,
        results_visibility=results_visibility,
        allow_uploads=allow_uploads,
        keep_photos_days=keep_photos_days or None,
        **lesson,
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


@transaction.atomic
def update_assignment(
    *, assignment: Assignment, model_versions: list[ModelVersion] | None = None, **fields
) -> Assignment:
    """Edit an experiment. Its models can change only while it has no tests (the results
    compare the models every test ran on); every text can always change."""
    editable = {
        "title",
        "instructions",
        "ask_expected",
        "opens_at",
        "due_at",
        "results_visibility",
        "allow_uploads",
        "keep_photos_days",
        *LESSON_FIELDS,
    }
    unknown = set(fields) - editable
    if unknown:
        raise TypeError(f"Unknown experiment field(s): {', '.join(sorted(unknown))}")
    if model_versions is not None:
        _check_models(model_versions)
        current = set(assignment.model_versions.values_list("pk", flat=True))
        if {m.pk for m in model_versions} != current:
            if assignment.submissions.exists():
                raise ValueError(
                    gettext("The models cannot change once students have tested photos. Create a new experiment.")
                )
            assignment.label_set = model_versions[0].label_set
            assignment.model_versions.set(model_versions)
    _check_dates_and_photos(
        fields.get("opens_at", assignment.opens_at),
        fields.get("due_at", assignment.due_at),
        fields.get("keep_photos_days", assignment.keep_photos_days),
        fields.get("results_visibility", assignment.results_visibility),
    )
    started_keeping = fields.get("keep_photos_days") and not assignment.keep_photos_days
    for name, value in fields.items():
        setattr(assignment, name, value.strip() if name == "title" else value)
    if assignment.perception_activity:
        assignment.ask_expected = True  # the activity is the expected-group choice
    assignment.save()
    if started_keeping:
        audit.record(
            actor=assignment.classroom.teacher,
            action=AuditLog.Action.PHOTOS_KEPT,
            classroom=assignment.classroom,
            experiment=assignment.title,
            days=assignment.keep_photos_days,
        )
    return assignment


def close_assignment(*, assignment: Assignment) -> None:
    """Stop new tests now, whatever the dates say; results and answers stay."""
    assignment.closed_at = timezone.now()
    assignment.save(update_fields=["closed_at"])


def reopen_assignment(*, assignment: Assignment) -> None:
    """Open again for tests; a due date already passed is removed (else it would stay closed)."""
    now = timezone.now()
    assignment.closed_at = None
    if assignment.due_at and assignment.due_at <= now:
        assignment.due_at = None
        if assignment.results_visibility == Assignment.ResultsVisibility.AFTER_DUE:
            assignment.results_visibility = Assignment.ResultsVisibility.IMMEDIATE
    if assignment.opens_at > now:
        assignment.opens_at = now
    assignment.save(update_fields=["closed_at", "due_at", "opens_at", "results_visibility"])


def delete_assignment(*, assignment: Assignment, teacher: User) -> int:
    """Delete an experiment with its tests, answers and every photo still stored; audit-logged.
    Returns how many tests were deleted."""
    from django.db.models import Q

    from .privacy import remove_files_after_commit

    with transaction.atomic():
        subs = assignment.submissions.all()
        n_tests = subs.count()
        photos = list(subs.filter(~Q(photo="")).values_list("photo", flat=True))
        audit.record(
            actor=teacher,
            action=AuditLog.Action.EXPERIMENT_DELETED,
            classroom=assignment.classroom,
            experiment=assignment.title,
            tests=n_tests,
        )
        from ..audits.services import delete_audits  # both import this module's neighbours
        from ..lab.services import delete_lab_models

        delete_lab_models(assignment.lab_models.all())
        delete_audits(assignment.collection_audits.all())
        assignment.delete()  # tests, answers and lesson responses cascade
        remove_files_after_commit(photos)  # a rolled-back delete must not lose photos
    return n_tests


def release_results(*, assignment: Assignment, released: bool = True) -> None:
    assignment.results_released = released
    assignment.save(update_fields=["results_released"])
