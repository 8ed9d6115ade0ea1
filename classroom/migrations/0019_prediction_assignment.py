"""Prediction.assignment: a copy of its submission's assignment, for class results.

Added empty, then filled in batches of ids, each its own short transaction: a large table
(a million predictions) is never locked as a whole, and an interrupted run carries on
where it stopped. 0020 fills what was created meanwhile and makes it required."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

BATCH = 50_000


def fill_missing(Prediction, Submission, ids=None) -> int:
    rows = Prediction.objects.filter(assignment__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__range=ids)
    return rows.update(assignment_id=Subquery(Submission.objects.filter(pk=OuterRef("submission_id")).values("assignment_id")[:1]))


def fill(apps, schema_editor):
    Prediction, Submission = apps.get_model("classroom", "Prediction"), apps.get_model("classroom", "Submission")
    last = Prediction.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for start in range(0, last + 1, BATCH):
        fill_missing(Prediction, Submission, (start, start + BATCH - 1))


class Migration(migrations.Migration):
    atomic = False  # one transaction per batch

    dependencies = [
        ("classroom", "0018_prediction_unsent"),
    ]

    operations = [
        migrations.AddField(
            model_name="prediction",
            name="assignment",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="classroom.assignment",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
