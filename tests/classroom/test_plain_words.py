"""Plain words on teacher and student pages (issue 18, item 4): no ISO durations, no raw audit
values, no queue names or layer names where a teacher chooses what to train."""

from django.test import Client
from django.urls import reverse

from classroom.models import AuditLog
from classroom.services import privacy
from tests import factories


def test_the_lockout_page_says_how_many_minutes(db, settings):
    user = factories.StudentFactory(username="locked")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        response = client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    page = response.content.decode()
    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    assert 'id="locked-out"' in page and f"Please wait {minutes} minutes" in page and "PT" not in page


def test_the_class_log_says_what_happened_in_words(client, classroom, student):
    privacy.delete_student_data(classroom=classroom, student=student, actor=classroom.teacher)
    assert AuditLog.objects.filter(action=AuditLog.Action.STUDENT_DELETED).exists()
    client.force_login(classroom.teacher)
    page = client.get(reverse("classroom", args=[classroom.public_id])).content.decode()
    assert "account deleted: yes" in page and "account_deleted" not in page


def test_the_training_form_offers_only_what_a_teacher_trains_in_plain_words(client, teacher):
    from training.importers.synthetic import import_synthetic

    import_synthetic(train_per_group=2, test_per_group=2)  # the form needs a dataset to train on
    client.force_login(teacher)
    page = client.get(reverse("training_jobs")).content.decode()
    options = page.split('name="kind"')[1].split("</select>")[0]
    assert options.count("<option") == 3 and 'value="mlp"' in options and 'value="vgg_finetune"' in options
    assert "graphics card" in page and "fc6 and fc7" not in page and "gpu queue" not in page
