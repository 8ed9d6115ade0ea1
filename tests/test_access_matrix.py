"""Every route, requested by every kind of visitor, answers as it should.

The routes come from the URL configuration itself (get_resolver()), so a new
route fails `test_every_route_has_an_access_rule` until it is added to ROUTES
below with who may use it. Each route is then requested with GET and POST as:

    anonymous, a student of another class, a teacher of another class,
    a classmate (a student of the class who does not own the submission),
    the student who owns the submission, and the class's teacher.

Pages send anonymous visitors to the login page; the API answers 403. Anything
outside a user's scope is a 404 (a wrong role too), never a 200 or a 500.
"""

from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import URLResolver, get_resolver, reverse

from classroom.services.submissions import submit_photo
from tests import factories
from tests.helpers import synthetic_upload

pytestmark = pytest.mark.django_db

ACTORS = ["anonymous", "outsider_student", "outsider_teacher", "classmate", "student", "teacher"]
OK, LOGIN, ROLE, SCOPE = "ok", "login", "role", "scope"
ANY = ("GET", "POST")

# Who may use a route: actor -> OK, LOGIN (anonymous: log in first), ROLE (wrong
# role: 404 before anything else), SCOPE (right role, not their class/submission:
# 404, after the method check).
PUBLIC = dict.fromkeys(ACTORS, OK)
LOGGED_IN = {**PUBLIC, "anonymous": LOGIN}
MEMBER = {**LOGGED_IN, "outsider_student": SCOPE, "outsider_teacher": SCOPE}
OWNER = {**MEMBER, "classmate": SCOPE}
CLASS_TEACHER = {**MEMBER, "outsider_student": ROLE, "classmate": ROLE, "student": ROLE}
ANY_TEACHER = {**LOGGED_IN, "outsider_student": ROLE, "classmate": ROLE, "student": ROLE}
CLASS_STUDENT = {**MEMBER, "teacher": ROLE, "outsider_teacher": ROLE}


@dataclass(frozen=True)
class Route:
    access: dict
    methods: tuple = ("GET",)  # methods the view accepts; ANY: no restriction
    obj: str = ""  # which object fills the URL: classroom, assignment, submission, student, model
    api: bool = False
    overrides: dict = field(default_factory=dict)  # (actor, method) -> status, where a rule has a reason


ROUTES = {
    # accounts
    "login": Route(PUBLIC, ANY),
    "set_language": Route(PUBLIC, ("POST",)),
    "javascript-catalog": Route(PUBLIC),
    "password_change": Route(LOGGED_IN, ANY),
    "password_change_done": Route(LOGGED_IN),
    "password_reset": Route(PUBLIC, ANY),
    "password_reset_done": Route(PUBLIC),
    "password_reset_confirm": Route(PUBLIC, ANY, obj="reset"),
    "password_reset_complete": Route(PUBLIC),
    "logout": Route(PUBLIC, ("POST",)),
    "signup": Route(PUBLIC, ANY),
    "home": Route(LOGGED_IN, ANY),
    "join": Route(LOGGED_IN, ANY),
    "privacy": Route(PUBLIC),
    "model_card": Route(LOGGED_IN, ANY, obj="model"),
    # teachers only (an operator, or the model's own teacher, with a dataset of its groups: else 404)
    "evaluate_model": Route({**ANY_TEACHER, "outsider_teacher": SCOPE}, ("POST",), obj="own_model"),
    # classes (teacher)
    "create_classroom": Route(ANY_TEACHER, ("POST",)),
    "classroom": Route(MEMBER, ANY, obj="classroom"),
    "add_students": Route(CLASS_TEACHER, ("POST",), obj="classroom"),
    "upload_roster": Route(CLASS_TEACHER, ("POST",), obj="classroom"),
    "reset_password": Route(CLASS_TEACHER, ("POST",), obj="student"),
    "revoke_tokens": Route(CLASS_TEACHER, ("POST",), obj="student"),
    "export_student": Route(CLASS_TEACHER, ("POST",), obj="student"),
    "delete_student": Route(CLASS_TEACHER, ANY, obj="student"),
    "confirm_consent": Route(CLASS_TEACHER, ("POST",), obj="classroom"),
    "delete_classroom": Route(CLASS_TEACHER, ANY, obj="classroom"),
    "credentials": Route(CLASS_TEACHER, ANY, obj="classroom"),
    "join_code": Route(CLASS_TEACHER, ("POST",), obj="classroom"),
    "create_assignment": Route(CLASS_TEACHER, ANY, obj="classroom"),
    # experiments, tests, results
    "assignment": Route(MEMBER, ANY, obj="assignment"),
    "submit": Route(CLASS_STUDENT, ("POST",), obj="assignment"),
    # lessons
    "lessons": Route(ANY_TEACHER, ANY),
    "lesson": Route(ANY_TEACHER, ANY, obj="lesson"),
    "edit_assignment": Route(CLASS_TEACHER, ANY, obj="assignment"),
    "close_assignment": Route(CLASS_TEACHER, ("POST",), obj="assignment"),
    "reopen_assignment": Route(CLASS_TEACHER, ("POST",), obj="assignment"),
    "delete_assignment": Route(CLASS_TEACHER, ANY, obj="assignment"),
    "preview_assignment": Route(CLASS_TEACHER, ANY, obj="assignment"),
    "lesson_page": Route(CLASS_TEACHER, ANY, obj="assignment"),
    # the student lab (off in the matrix's experiment: students get a 404 until it is switched on)
    "lab": Route({**MEMBER, "student": SCOPE, "classmate": SCOPE}, ANY, obj="assignment"),
    "lab_settings": Route(CLASS_TEACHER, ANY, obj="assignment"),
    "lab_composition": Route(MEMBER, obj="assignment"),
    "lab_model_status": Route({**OWNER, "classmate": SCOPE}, obj="lab_model"),
    # audits of a collection (students' audits off in the matrix's experiment: a 404 until switched on)
    "audits": Route({**MEMBER, "student": SCOPE, "classmate": SCOPE}, ANY, obj="assignment"),
    "audit_settings": Route(CLASS_TEACHER, ("POST",), obj="assignment"),
    "audit": Route(OWNER, obj="audit"),
    "audit_status": Route(OWNER, obj="audit"),
    "cancel_audit": Route(OWNER, ("POST",), obj="audit"),
    # the student (its owner) deletes it first; the teacher then finds nothing
    "delete_audit": Route(OWNER, ("POST",), obj="audit", overrides={("teacher", "POST"): 404}),
    "api-audit-list": Route(LOGGED_IN, ANY, api=True),
    "api-audit-detail": Route(OWNER, obj="audit", api=True),
    "api-audit-cancel": Route(OWNER, ("POST",), obj="audit", api=True),
    "discussion_sheet": Route(CLASS_TEACHER, ANY, obj="assignment"),
    "answers_csv": Route(CLASS_TEACHER, obj="assignment"),
    "save_predictions": Route(CLASS_STUDENT, ("POST",), obj="assignment"),
    "save_reflections": Route(CLASS_STUDENT, ("POST",), obj="assignment"),
    "update_note": Route({**OWNER, "teacher": ROLE, "outsider_teacher": ROLE}, ("POST",), obj="submission"),
    "submission_photo": Route(OWNER, ANY, obj="submission"),
    "release_results": Route(CLASS_TEACHER, ("POST",), obj="assignment"),
    "results": Route(MEMBER, obj="assignment"),
    "results_json": Route(MEMBER, obj="assignment"),
    "projector": Route(CLASS_TEACHER, obj="assignment"),
    "export_csv": Route(CLASS_TEACHER, obj="assignment"),
    "classroom_results": Route(MEMBER, obj="classroom"),
    "submission": Route(OWNER, ANY, obj="submission"),
    "submission_status": Route(OWNER, ANY, obj="submission"),
    # REST API
    "api-token": Route(PUBLIC, ("POST",), api=True),
    "api-schema": Route(PUBLIC, api=True),
    "api-docs": Route(PUBLIC, ANY),
    "api-classroom-list": Route(LOGGED_IN, api=True),
    "api-classroom-detail": Route(MEMBER, obj="classroom", api=True),
    "api-classroom-results": Route(MEMBER, obj="classroom", api=True),
    "api-assignment-list": Route(
        LOGGED_IN,
        ANY,
        api=True,
        overrides={(a, "POST"): 403 for a in ("outsider_student", "classmate", "student")},  # only teachers create
    ),
    "api-assignment-detail": Route(MEMBER, obj="assignment", api=True),
    "api-assignment-close": Route(CLASS_TEACHER, ("POST",), obj="assignment", api=True),
    "api-assignment-reopen": Route(CLASS_TEACHER, ("POST",), obj="assignment", api=True),
    "api-assignment-predictions": Route(CLASS_STUDENT, ANY, obj="assignment", api=True),
    "api-assignment-reflections": Route(CLASS_STUDENT, ANY, obj="assignment", api=True),
    "api-assignment-progress": Route(CLASS_TEACHER, obj="assignment", api=True),
    "api-lesson-list": Route(ANY_TEACHER, api=True),
    "api-assignment-lab-models": Route(CLASS_STUDENT, ANY, obj="assignment", api=True),
    "api-assignment-lab-chart": Route(MEMBER, obj="assignment", api=True),
    "api-model-list": Route(LOGGED_IN, api=True),
    "api-model-detail": Route(LOGGED_IN, obj="model", api=True),
    "api-lesson-detail": Route(ANY_TEACHER, obj="lesson", api=True),
    "api-assignment-results": Route(MEMBER, obj="assignment", api=True),
    "api-assignment-export": Route(CLASS_TEACHER, obj="assignment", api=True),
    "api-submission-list": Route(
        LOGGED_IN,
        ANY,
        api=True,
        overrides={("teacher", "POST"): 403, ("outsider_teacher", "POST"): 403},  # only students submit
    ),
    "api-submission-detail": Route(OWNER, obj="submission", api=True),
    "api-prediction-list": Route(LOGGED_IN, api=True),
    # class test gallery
    "gallery": Route(CLASS_TEACHER, ANY, obj="classroom"),
    "remove_gallery": Route(CLASS_TEACHER, ("POST",), obj="classroom"),
    "gallery_image": Route(MEMBER, obj="gallery_image"),
    "submit_gallery": Route(CLASS_STUDENT, ("POST",), obj="assignment"),
    # training jobs (a teacher's own)
    "training_jobs": Route(ANY_TEACHER, ANY),
    # operators only: the matrix's class teacher is one (staff), the other teacher is not
    "models_and_data": Route({**ANY_TEACHER, "outsider_teacher": SCOPE}, ANY),
    "training_composition": Route(ANY_TEACHER),
    "training_job": Route(CLASS_TEACHER, obj="training_job"),
    "training_job_status": Route(CLASS_TEACHER, obj="training_job"),
    "cancel_training_job": Route(CLASS_TEACHER, ("POST",), obj="training_job"),
}


def walk(patterns, prefix="", namespace=None):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern), p.namespace or namespace)
        else:
            yield prefix + str(p.pattern), p.name, namespace


def project_routes():
    return [(route, name) for route, name, ns in walk(get_resolver().url_patterns) if ns != "admin"]


def test_every_route_has_an_access_rule():
    unknown = sorted(f"{name or '(unnamed)'}: /{route}" for route, name in project_routes() if name not in ROUTES)
    assert not unknown, (
        "Routes without an access rule (add each to ROUTES in tests/test_access_matrix.py, "
        f"saying who may use it): {unknown}"
    )


@pytest.fixture
def world(demo_models):
    from classroom.services.classes import create_assignment

    teacher = factories.TeacherFactory(is_staff=True)  # also an operator (Models and data)
    classroom = factories.ClassroomFactory(teacher=teacher)
    student = factories.enrol(classroom, factories.StudentFactory(created_by=teacher))
    classmate = factories.enrol(classroom, factories.StudentFactory(created_by=teacher))
    outsider_class = factories.ClassroomFactory()
    outsider_student = factories.enrol(outsider_class, factories.StudentFactory(created_by=outsider_class.teacher))
    assignment = create_assignment(
        classroom=classroom, title="Matrix", instructions="", model_versions=list(demo_models), ask_expected=True
    )
    submission = submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    return {
        "assignment": assignment,
        "classroom": classroom,
        "users": {
            "anonymous": None,
            "outsider_student": outsider_student,
            "outsider_teacher": outsider_class.teacher,
            "classmate": classmate,
            "student": student,
            "teacher": teacher,
        },
        "kwargs": {
            "": {},
            "classroom": {"public_id": classroom.public_id},
            "assignment": {"public_id": assignment.public_id},
            "submission": {"public_id": submission.public_id},
            "student": {"public_id": classroom.public_id, "student_id": student.public_id},
            "model": {"key": demo_models[0].key},
            "lesson": {"slug": "who-is-in-the-training-data"},
            "reset": {"uidb64": "MQ", "token": "not-a-token"},
            "gallery_image": lambda: {"public_id": _gallery_image(classroom, assignment).public_id},
            "training_job": lambda: {"public_id": _training_job(teacher).public_id},
            "lab_model": lambda: {"public_id": _lab_row(assignment, student).public_id},
            "audit": lambda: {"public_id": _audit(assignment, student).public_id},
            "own_model": lambda: {"key": _own_model(teacher, demo_models[0]).key},
        },
    }


def _gallery_image(classroom, assignment):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from classroom.models import GalleryImage
    from tests.hostile_files import encode, solid

    photo = default_storage.save("gallery/matrix.jpg", ContentFile(encode(solid(), "JPEG")))
    return GalleryImage.objects.create(
        classroom=classroom,
        label_set=assignment.label_set,
        label=assignment.label_set.labels[0],
        source="test",
        synthetic=True,
        photo=photo,
        width=120,
        height=100,
        published_by=classroom.teacher,
    )


def _own_model(teacher, like):
    """A model the class's teacher trained, and a dataset of its groups to evaluate it on."""
    from inference.services import register_model_version
    from training.importers.synthetic import import_synthetic

    import_synthetic(train_per_group=1, test_per_group=1)
    fields = {
        f.name: getattr(like, f.name)
        for f in like._meta.concrete_fields
        if f.name not in ("id", "key", "lineage", "version", "created_at", "created_by", "scope")
    }
    return register_model_version(key="teachers-own", **fields, created_by=teacher)


def _audit(assignment, student):
    from classroom.models import CollectionAudit

    audit = CollectionAudit.objects.create(
        assignment=assignment, created_by=student, title="Matrix", source=CollectionAudit.Source.UPLOAD
    )
    audit.runs.create(model_version=assignment.model_versions.first())
    return audit


def _training_job(teacher):
    from training.models import TrainingJob

    return TrainingJob.objects.create(kind=TrainingJob.Kind.MLP, created_by=teacher)


def url_kwargs(world, route: Route) -> dict:
    kwargs = world["kwargs"][route.obj]
    return kwargs() if callable(kwargs) else kwargs


def expected_status(route: Route, actor: str, method: str) -> int | tuple:
    if (actor, method) in route.overrides:
        return route.overrides[(actor, method)]
    verdict = route.access[actor]
    if verdict == LOGIN:
        return (401, 403) if route.api else 302
    if verdict == ROLE and not route.api:  # page decorators check the role first; API views inside the handler
        return 404
    if method not in route.methods:
        return 405
    if verdict in (ROLE, SCOPE):
        return 404
    return (200,) if method == "GET" else (200, 201, 302, 400)


def routes_here():
    present = {name for _, name in project_routes()}
    return [name for name in ROUTES if name in present]


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("name", routes_here())
def test_route_answers_each_visitor_as_it_should(world, name, method):
    route = ROUTES[name]
    url = reverse(name, kwargs=url_kwargs(world, route))
    problems = []
    for actor in ACTORS:  # the teacher last: their allowed POSTs may change things
        cache.clear()  # API throttles count in the cache; this test is not about them
        client = Client()
        if world["users"][actor]:
            client.force_login(world["users"][actor])
        response = client.get(url) if method == "GET" else client.post(url, {})
        want = expected_status(route, actor, method)
        ok = response.status_code in want if isinstance(want, tuple) else response.status_code == want
        if ok and want == 302 and route.access[actor] == LOGIN:
            ok = response["Location"].startswith(reverse("login"))
        if not ok:
            problems.append(f"{actor}: {method} {url} -> {response.status_code}, expected {want}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", [n for n in routes_here() if "POST" in ROUTES[n].methods])
def test_every_post_needs_a_csrf_token(world, name):
    """With CSRF checks on (as in a browser), a logged-in POST without the token is refused."""
    route = ROUTES[name]
    actor = next(a for a in reversed(ACTORS) if route.access[a] == OK and world["users"][a])
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["users"][actor])
    response = client.post(reverse(name, kwargs=url_kwargs(world, route)), {})
    assert response.status_code == 403, (name, actor, response.status_code)


def test_admin_is_off_unless_an_operator_switches_it_on(world):
    for actor in ACTORS:
        client = Client()
        if world["users"][actor]:
            client.force_login(world["users"][actor])
        assert client.get("/admin/").status_code == 404, actor


@pytest.mark.urls("tests.urls_with_admin")
def test_when_on_the_admin_is_closed_to_teachers_and_students_and_behind_the_lockout(world, settings):
    world["users"]["teacher"].is_staff = False  # an ordinary teacher here; operators (staff) may use the admin
    world["users"]["teacher"].save()
    for actor in ACTORS:
        client = Client()
        if world["users"][actor]:
            client.force_login(world["users"][actor])
        response = client.get(reverse("admin:index"))
        assert response.status_code == 302 and reverse("admin:login") in response["Location"], actor
    teacher = world["users"]["teacher"]
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("admin:login"), {"username": teacher.username, "password": "wrong"})
    locked = client.post(reverse("admin:login"), {"username": teacher.username, "password": "pw-teacher-123"})
    assert locked.status_code == 429, locked.status_code


def test_student_urls_use_unguessable_ids(world):
    student = world["users"]["student"]
    url = reverse("reset_password", kwargs=world["kwargs"]["student"])
    assert str(student.public_id) in url and f"/{student.pk}/" not in url


# --- Models by scope: cards and lists ------------------------------------------------------------


def _model_of_scope(base, key: str, scope: str, created_by=None):
    from inference.models import ModelVersion

    return ModelVersion.objects.create(
        key=key,
        name=f"Model {key}",
        family="mlp",
        label_set=base.label_set,
        artifact_path="x",
        sha256="0" * 64,
        composition=base.composition,
        synthetic=True,
        scope=scope,
        created_by=created_by,
    )


def _lab_row(assignment, student, name="Mine", result=None):
    """A student's lab model: queued, or done with `result` as its model."""
    from classroom.models import LabModel
    from training.models import TrainingJob

    status = "done" if result else "queued"
    job = TrainingJob.objects.create(kind="lab_mlp", status=status, result=result, created_by=student)
    return LabModel.objects.create(
        assignment=assignment, job=job, trained_by=student, name=name, mix={"kind": "balanced"}, counts={}
    )


def _lab_model(assignment, student, base, key):
    model = _model_of_scope(base, key, "class", created_by=student)
    _lab_row(assignment, student, name=key, result=model)
    return model


# Who sees which model's card (and finds it in lists): True = visible.
SCOPE_MATRIX = {
    #                   builtin own    others lab    other_lab
    "outsider_student": (True, False, False, False, True),
    "outsider_teacher": (True, False, True, False, True),
    "classmate": (True, False, False, True, False),
    "student": (True, False, False, True, False),
    "teacher": (True, True, False, True, False),
}


def test_model_cards_and_lists_follow_each_models_scope(world, demo_models):
    from classroom.services.classes import create_assignment

    users = world["users"]
    outsider_class = users["outsider_student"].enrollments.get().classroom
    other_assignment = create_assignment(
        classroom=outsider_class, title="Other", instructions="", model_versions=list(demo_models), ask_expected=True
    )
    assignment = world["assignment"]
    base = demo_models[0]
    models = [
        base,
        _model_of_scope(base, "teacher-own", "teacher", created_by=users["teacher"]),
        _model_of_scope(base, "named-after-a-person", "teacher", created_by=users["outsider_teacher"]),
        _lab_model(assignment, users["student"], base, "lab-here"),
        _lab_model(other_assignment, users["outsider_student"], base, "lab-elsewhere"),
    ]
    problems = []
    for actor, visible in SCOPE_MATRIX.items():
        client = Client()
        client.force_login(users[actor])
        listed = {m["key"] for m in client.get("/api/models/").json()["results"]}
        for model, want in zip(models, visible, strict=True):
            card = client.get(reverse("model_card", args=[model.key])).status_code
            api = client.get(f"/api/models/{model.key}/").status_code
            if (card, api, model.key in listed) != ((200, 200, True) if want else (404, 404, False)):
                problems.append(f"{actor} / {model.key}: card {card}, api {api}, listed {model.key in listed}")
    anonymous = Client().get(reverse("model_card", args=[models[3].key]))
    assert anonymous.status_code == 302
    # The experiment form offers a teacher built-in models and their own, never another's or a lab's.
    client = Client()
    client.force_login(users["teacher"])
    form = client.get(reverse("create_assignment", args=[world["classroom"].public_id]) + "?lesson=")
    offered = {m.key for m in form.context["form"].fields["model_versions"].queryset}
    assert offered == {m.key for m in demo_models} | {"teacher-own"}, offered
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", routes_here())
def test_every_signed_in_answer_is_no_store(world, name):
    """Shared classroom computers and proxies keep nothing a signed-in user was shown (but for the
    few views that keep a private browser cache on purpose, each with its reason)."""
    from classroom.middleware import DELIBERATELY_CACHED

    route = ROUTES[name]
    url = reverse(name, kwargs=url_kwargs(world, route))
    if name in DELIBERATELY_CACHED:
        response = Client()
        response.force_login(world["users"]["student"])
        header = response.get(url).get("Cache-Control", "")
        assert header.startswith("private") and "public" not in header, header
        return
    problems = []
    for actor in ("student", "teacher"):
        cache.clear()
        client = Client()
        client.force_login(world["users"][actor])
        response = client.get(url)
        if "no-store" not in response.get("Cache-Control", ""):
            problems.append(
                f"{actor}: GET {url} -> {response.status_code}, Cache-Control {response.get('Cache-Control')!r}"
            )
    assert not problems, "\n".join(problems)


@override_settings(DATA_UPLOAD_MAX_NUMBER_FILES=5)
def test_api_errors_are_json_even_before_the_view(world):
    from tests.helpers import synthetic_upload

    client = Client()
    client.force_login(world["users"]["student"])
    files = {f"photo{i}": synthetic_upload() for i in range(8)}  # over DATA_UPLOAD_MAX_NUMBER_FILES
    response = client.post("/api/submissions/", {"assignment": str(world["assignment"].public_id), **files})
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert "files" in response.json()["detail"].lower()
    missing = client.get("/api/no-such-thing/")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not Found"}
