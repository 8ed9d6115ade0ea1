"""The class test gallery: publishing, private images, gallery-based tests with known true labels."""

import io
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from classroom import selectors
from classroom.models import GalleryImage, Prediction, Submission
from classroom.results import class_results
from classroom.services import gallery, predictions
from classroom.services.classes import create_assignment
from classroom.services.submissions import SubmissionError, submit_photo
from inference.services import ensure_label_set
from tests import factories
from tests.helpers import stored_uploads, synthetic_upload
from training.importers.synthetic import import_synthetic
from training.models import Dataset, DatasetImage


@pytest.fixture(autouse=True)
def _empty_gallery_folder():
    """Each test starts with no gallery files (rows of earlier tests were rolled back, files not)."""
    shutil.rmtree(Path(settings.MEDIA_ROOT) / gallery.GALLERY_DIR, ignore_errors=True)
    yield
    shutil.rmtree(Path(settings.MEDIA_ROOT) / gallery.GALLERY_DIR, ignore_errors=True)


pytestmark = pytest.mark.usefixtures("fresh_registry")  # models loaded by one test are not cached for the next


@pytest.fixture
def published(classroom, dataset):
    gallery.publish_gallery(classroom=classroom, teacher=classroom.teacher, dataset=dataset, per_group=2)
    return list(GalleryImage.objects.filter(classroom=classroom))


@pytest.fixture
def gallery_assignment(published, classroom, demo_models):
    """An experiment created once the class has a gallery: uploads are off by default."""
    return create_assignment(
        classroom=classroom, title="Gallery test", instructions="", model_versions=list(demo_models), ask_expected=True
    )


def gallery_files() -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / gallery.GALLERY_DIR
    return sorted(folder.glob("*")) if folder.exists() else []


def test_publish_copies_held_out_images_privately(client, classroom, dataset):
    client.force_login(classroom.teacher)
    before = set(gallery_files())
    response = client.post(reverse("gallery", args=[classroom.public_id]), {"dataset": dataset.key, "per_group": 3})
    assert response.status_code == 302
    images = list(GalleryImage.objects.filter(classroom=classroom))
    labels = dataset.label_set.labels
    assert sorted(i.label for i in images) == sorted(labels * 3)
    assert all(i.dataset_image.split == DatasetImage.Split.TEST for i in images)
    assert all(i.synthetic and i.source == dataset.name for i in images)
    new_files = set(gallery_files()) - before
    assert len(new_files) == len(images)
    for image in images:
        name = Path(image.photo).name
        assert image.photo.startswith("gallery/") and len(name) == len("0" * 32 + ".jpg")
        assert Path(image.dataset_image.path).stem not in name  # a random name, nothing from the dataset
        with default_storage.open(image.photo, "rb") as fh:
            raw = fh.read()
        pic = Image.open(io.BytesIO(raw))
        assert pic.format == "JPEG" and "exif" not in pic.info and b"Exif" not in raw[:200]
    assert not any(str(default_storage.location) in i.photo for i in images)
    page = client.get(reverse("gallery", args=[classroom.public_id]))
    assert page.status_code == 200 and "synthetic" in page.content.decode()


def test_publishing_again_adds_the_next_images_and_says_when_groups_run_short(classroom, dataset):
    teacher = classroom.teacher
    first = gallery.publish_gallery(classroom=classroom, teacher=teacher, dataset=dataset, per_group=4)
    assert first.total == 20 and not first.short
    second = gallery.publish_gallery(classroom=classroom, teacher=teacher, dataset=dataset, per_group=4)
    assert second.total == 10  # 6 held-out images per group: 2 left each
    assert second.short == dict.fromkeys(dataset.label_set.labels, 2)
    assert "fewer than 4" in second.message(4)
    used = GalleryImage.objects.filter(classroom=classroom).values_list("dataset_image", flat=True)
    assert len(set(used)) == len(used) == 30
    with pytest.raises(gallery.GalleryError, match="between 1 and"):
        gallery.publish_gallery(classroom=classroom, teacher=teacher, dataset=dataset, per_group=0)
    with pytest.raises(PermissionError):
        gallery.publish_gallery(classroom=classroom, teacher=factories.TeacherFactory(), dataset=dataset, per_group=1)


def test_missing_or_escaping_files_are_skipped(classroom, dataset):
    label = dataset.label_set.labels[0]
    dataset.images.filter(split="test").exclude(label=label).delete()
    dataset.images.filter(split="test", label=label).delete()
    DatasetImage.objects.create(dataset=dataset, path="../../../../etc/passwd", label=label, split="test")
    DatasetImage.objects.create(dataset=dataset, path="test/nowhere.png", label=label, split="test")
    report = gallery.publish_gallery(classroom=classroom, teacher=classroom.teacher, dataset=dataset, per_group=2)
    assert report.total == 0 and report.skipped == 2
    assert not GalleryImage.objects.exists()


def test_gallery_submission_flows_to_predictions_with_known_true_labels(
    client, student, gallery_assignment, django_capture_on_commit_callbacks
):
    image = selectors.gallery_for(gallery_assignment).first()
    client.force_login(student)
    page = client.get(reverse("assignment", args=[gallery_assignment.public_id])).content.decode()
    assert reverse("gallery_image", args=[image.public_id]) in page
    assert 'id="uploads-off"' in page and 'id="submit-form"' not in page
    picker = page.split('class="gallery-pick"')[1].split("</fieldset>")[0]
    assert image.label not in picker  # the group stays hidden until the models answer

    response = client.post(
        reverse("submit_gallery", args=[gallery_assignment.public_id]),
        {"gallery-gallery_image": str(image.public_id), "gallery-note": "from the gallery"},
    )
    assert response.status_code == 302
    sub = Submission.objects.get(assignment=gallery_assignment)
    assert sub.gallery_image == image and sub.true_label == image.label and sub.expected_label == ""
    assert len(stored_uploads()) == 1  # a copy under uploads/, like any photo
    assert sub.photo.startswith("uploads/") and sub.photo != image.photo

    with django_capture_on_commit_callbacks(execute=True):
        for p in sub.predictions.all():
            predictions.run_prediction(prediction_id=p.pk)
    preds = list(sub.predictions.all())
    assert len(preds) == 2 and all(p.status == "done" and p.label in image.label_set.labels for p in preds)
    sub.refresh_from_db()
    assert sub.photo == "" and stored_uploads() == []  # the copy went once the models answered
    assert default_storage.exists(image.photo)  # the gallery image stays

    # No self-report was needed: each model's accuracy counts the test against its true label.
    for model in class_results(gallery_assignment):
        assert model.with_expected == 1
        pred = next(p for p in preds if p.model_version_id == model.model.pk)
        assert model.correct == int(pred.label == image.label)
    detail = client.get(reverse("submission", args=[sub.public_id])).content.decode()
    assert 'id="true-label"' in detail and image.label in detail


def test_uploads_are_opt_in_once_a_gallery_exists(student, gallery_assignment, classroom, demo_models):
    assert gallery_assignment.allow_uploads is False
    with pytest.raises(SubmissionError, match="test gallery"):
        submit_photo(assignment=gallery_assignment, student=student, upload=synthetic_upload())
    assert stored_uploads() == []
    opted_in = create_assignment(
        classroom=classroom,
        title="Uploads too",
        instructions="",
        model_versions=list(demo_models),
        ask_expected=True,
        allow_uploads=True,
    )
    assert submit_photo(assignment=opted_in, student=student, upload=synthetic_upload())


def test_upload_refused_by_the_page_with_a_message(client, student, gallery_assignment):
    client.force_login(student)
    response = client.post(reverse("submit", args=[gallery_assignment.public_id]), {"photo": synthetic_upload()})
    assert response.status_code == 400
    assert "test gallery" in response.content.decode()
    assert stored_uploads() == []


def test_without_a_gallery_students_upload(student, classroom, demo_models, client):
    assignment = create_assignment(
        classroom=classroom,
        title="No gallery",
        instructions="",
        model_versions=list(demo_models),
        ask_expected=True,
        allow_uploads=False,
    )
    assert selectors.uploads_allowed(assignment)  # nothing else to test with
    assert submit_photo(assignment=assignment, student=student, upload=synthetic_upload())
    client.force_login(student)
    page = client.get(reverse("assignment", args=[assignment.public_id])).content.decode()
    assert 'id="submit-form"' in page and 'id="gallery-form"' not in page
    assert "Never upload photos of classmates" in page


def test_assignment_form_defaults_to_the_gallery(client, classroom, published, demo_models):
    client.force_login(classroom.teacher)
    page = client.get(reverse("create_assignment", args=[classroom.public_id]) + "?lesson=").content.decode()
    # The whole <input> tag, whatever its attributes' order (a substring check here could never fail).
    box = re.search(r'<input[^>]*name="allow_uploads"[^>]*>', page).group(0)
    assert " checked" not in box  # off by default with a gallery
    form = {
        "title": "T",
        "model_versions": [m.pk for m in demo_models],
        "results_visibility": "immediate",
        "tests_goal": 10,
        "lesson": "",
    }
    response = client.post(reverse("create_assignment", args=[classroom.public_id]), form)
    assert response.status_code == 302
    assignment = classroom.assignments.get(title="T")
    assert not assignment.allow_uploads and not selectors.uploads_allowed(assignment)
    page = client.get(reverse("assignment", args=[assignment.public_id])).content.decode()
    assert 'id="photo-source"' in page and "uploads are off" in page


def test_gallery_images_are_visible_to_their_class_only(client, classroom, student, published, demo_models):
    image = published[0]
    url = reverse("gallery_image", args=[image.public_id])
    client.force_login(student)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert "private" in response["Cache-Control"]
    client.force_login(classroom.teacher)
    assert client.get(url).status_code == 200

    other = factories.ClassroomFactory()
    outsider = factories.enrol(other, factories.StudentFactory(created_by=other.teacher))
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(other.teacher)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the login page

    # ... and an outsider cannot test it either: not in their experiment's gallery
    other_assignment = create_assignment(
        classroom=other, title="Other", instructions="", model_versions=list(demo_models), ask_expected=False
    )
    client.force_login(outsider)
    response = client.post(
        reverse("submit_gallery", args=[other_assignment.public_id]), {"gallery-gallery_image": str(image.public_id)}
    )
    assert response.status_code == 400 and not Submission.objects.exists()
    with pytest.raises(SubmissionError, match="not in this experiment's gallery"):
        submit_photo(assignment=other_assignment, student=outsider, gallery_image=image)


def test_gallery_of_other_groups_is_not_offered(student, classroom, published, demo_models):
    other_labels = ensure_label_set(key="other-groups", name="Other", labels=["X", "Y"], synthetic=False)
    foreign = Dataset.objects.create(key="other", name="Other", kind="utkface", label_set=other_labels, root="/none")
    GalleryImage.objects.create(
        classroom=classroom,
        label_set=foreign.label_set,
        label="X",
        source="Other",
        photo="gallery/x.jpg",
        width=1,
        height=1,
    )
    assignment = create_assignment(
        classroom=classroom, title="T", instructions="", model_versions=list(demo_models), ask_expected=True
    )
    assert set(selectors.gallery_for(assignment)) == set(published)
    stranger = GalleryImage.objects.get(label="X")
    with pytest.raises(SubmissionError, match="not in this experiment's gallery"):
        submit_photo(assignment=assignment, student=student, gallery_image=stranger)


def test_removing_the_gallery_keeps_results(
    client, classroom, student, gallery_assignment, django_capture_on_commit_callbacks
):
    image = selectors.gallery_for(gallery_assignment).first()
    sub = submit_photo(assignment=gallery_assignment, student=student, gallery_image=image)
    client.force_login(classroom.teacher)
    files = [i.photo for i in GalleryImage.objects.filter(classroom=classroom)]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("remove_gallery", args=[classroom.public_id]), {})
    assert response.status_code == 302
    assert not GalleryImage.objects.filter(classroom=classroom).exists()
    assert not any(default_storage.exists(f) for f in files)
    sub.refresh_from_db()
    assert sub.gallery_image is None and sub.true_label == image.label
    assert selectors.uploads_allowed(gallery_assignment)  # no gallery left: students upload again


def test_orphan_gallery_files_are_purged(classroom, published):
    from datetime import timedelta

    from django.utils import timezone

    classroom.delete()  # the rows go with the class; the files are left behind
    assert gallery.purge_orphan_files() == 0  # too recent: they might belong to a publish in progress
    assert gallery.purge_orphan_files(now=timezone.now() + timedelta(hours=2)) == len(published)
    assert not any(default_storage.exists(i.photo) for i in published)


def test_demo_class_gets_a_synthetic_gallery(demo_models, capsys):
    from django.core.management import call_command

    from classroom.models import Classroom

    call_command("seed_demo", students=3, submissions=5, train_per_group=5)
    classroom = Classroom.objects.get(teacher__username="teacher")
    images = GalleryImage.objects.filter(classroom=classroom)
    assert images.count() == 40 and all(i.synthetic for i in images)
    assert sorted(images.values_list("label", flat=True)) == sorted(demo_models[0].label_set.labels * 8)
    assignment = classroom.assignments.get()
    assert not assignment.allow_uploads and not selectors.uploads_allowed(assignment)
    subs = list(assignment.submissions.all())
    assert len(subs) == 5 and all(s.gallery_image and s.true_label == s.gallery_image.label for s in subs)
    call_command("seed_demo", students=3, submissions=5, train_per_group=5)  # again: nothing doubles
    assert GalleryImage.objects.filter(classroom=classroom).count() == 40
    assert Dataset.objects.get(key="synthetic-demo").images.filter(split="train").count() == 25


def test_seed_demo_runs_with_its_default_class_size(demo_models):
    """`make demo` calls seed_demo with its defaults (12 students, 10 tests): every student who
    tests has predicted first, as the lesson asks, so seeding never stops halfway."""
    from django.core.management import call_command

    from classroom.models import Classroom, LessonResponse

    call_command("seed_demo", train_per_group=5)
    assignment = Classroom.objects.get(teacher__username="teacher").assignments.get()
    testers = set(assignment.submissions.values_list("student_id", flat=True))
    predicted = set(
        LessonResponse.objects.filter(assignment=assignment, kind="prediction").values_list("student_id", flat=True)
    )
    assert assignment.submissions.count() == 10 and testers <= predicted


def test_seed_demo_makes_its_accounts_as_a_teacher_would(demo_models, capsys):
    """The teacher, the class and the students come from the account services (the roster's audit
    entry says so); every run prints new passwords that log in, and the old ones stop working."""
    from django.core.management import call_command

    from classroom.models import AuditLog, Classroom, User

    def logins():
        out = capsys.readouterr().out
        return dict(re.findall(r"^  (?:teacher|student)\s+(\S+)\s+(\S+)$", out, re.M))

    call_command("seed_demo", students=3, submissions=2, train_per_group=5)
    first = logins()
    classroom = Classroom.objects.get(teacher__username="teacher")
    assert classroom.teacher.is_teacher and classroom.teacher.display_name == "Demo teacher"
    created = AuditLog.objects.filter(classroom=classroom, action=AuditLog.Action.STUDENTS_CREATED)
    assert list(created.values_list("details__count", flat=True)) == [3]
    students = [e.student for e in classroom.enrollments.select_related("student").order_by("student__username")]
    assert [s.username for s in students] == ["student01", "student02", "student03"]
    assert all(s.is_student and s.created_by == classroom.teacher for s in students)
    call_command("seed_demo", students=3, submissions=2, train_per_group=5)
    second = logins()
    assert sorted(first) == sorted(second) == ["student01", "student02", "student03", "teacher"]
    for username in first:
        user = User.objects.get(username=username)
        assert first[username] != second[username]
        assert user.check_password(second[username]) and not user.check_password(first[username])
    assert classroom.enrollments.count() == 3


def test_gallery_tests_always_get_maps_and_the_results_page_averages_them_per_group(
    client, classroom, student, demo_models, django_capture_on_commit_callbacks, settings
):
    """Gallery tests get a map whatever the upload setting; the results page shows each model's mean
    map per group once a group has enough different images, and "not enough tests yet" before."""
    from classroom.results import assignment_scope
    from classroom.results.maps import mean_maps

    settings.MIN_TESTS_PER_GROUP = 2
    dataset = import_synthetic(train_per_group=2, test_per_group=3).dataset
    gallery.publish_gallery(classroom=classroom, teacher=classroom.teacher, dataset=dataset, per_group=2)
    a = create_assignment(
        classroom=classroom,
        title="Maps",
        instructions="",
        model_versions=list(demo_models),
        ask_expected=False,
        explain_answers=False,
    )
    images = list(GalleryImage.objects.filter(classroom=classroom, label="Group A")) + [
        GalleryImage.objects.filter(classroom=classroom, label="Group B").first()
    ]
    for image in images:
        sub = submit_photo(assignment=a, student=student, gallery_image=image)
        with django_capture_on_commit_callbacks(execute=True):
            for p in sub.predictions.all():
                predictions.run_prediction(prediction_id=p.pk)
    assert all(p.saliency for p in Prediction.objects.filter(submission__assignment=a))
    maps = mean_maps(assignment_scope(a), demo_models)
    by_group = {g.group: g for g in maps[demo_models[0].key]}
    assert by_group["Group A"].tests == 2 and by_group["Group A"].enough
    assert max(v for row in by_group["Group A"].grid for v in row) <= 1.0
    assert by_group["Group B"].tests == 1 and not by_group["Group B"].enough
    client.force_login(classroom.teacher)
    page = client.get(reverse("results", args=[a.public_id])).content.decode()
    assert page.count('data-grid-id="map-') == 2  # Group A for each of the two models
    assert "Group B: not enough tests yet (1 of 2)" in page


def test_the_api_submits_a_gallery_image_like_the_page(classroom, student, demo_models):
    from rest_framework.test import APIClient

    dataset = import_synthetic(train_per_group=2, test_per_group=2).dataset
    gallery.publish_gallery(classroom=classroom, teacher=classroom.teacher, dataset=dataset, per_group=1)
    a = create_assignment(
        classroom=classroom, title="API gallery", instructions="", model_versions=list(demo_models), ask_expected=False
    )
    image = GalleryImage.objects.filter(classroom=classroom).first()
    api = APIClient()
    api.force_authenticate(student)
    made = api.post("/api/submissions/", {"assignment": str(a.public_id), "gallery_image": str(image.public_id)})
    assert made.status_code == 201, made.content
    sub = Submission.objects.get(public_id=made.json()["id"])
    assert sub.gallery_image == image and sub.true_label == image.label
    both = api.post(
        "/api/submissions/",
        {"assignment": str(a.public_id), "gallery_image": str(image.public_id), "photo": synthetic_upload()},
        format="multipart",
    )
    assert both.status_code == 400 and "one of them" in str(both.json())
    other = factories.ClassroomFactory()
    gallery.publish_gallery(classroom=other, teacher=other.teacher, dataset=dataset, per_group=1)
    foreign = GalleryImage.objects.filter(classroom=other).first()
    refused = api.post("/api/submissions/", {"assignment": str(a.public_id), "gallery_image": str(foreign.public_id)})
    assert refused.status_code == 404
