"""Prediction.assignment required, and the class results' indexes that use it.

In one transaction: fill what was created since 0019 (the web may still be taking tests during
an upgrade; on PostgreSQL new rows wait for the lock until this commits), make it NOT NULL,
then build the indexes."""

import importlib

import django.db.models.deletion
from django.db import migrations, models

fill_missing = importlib.import_module("classroom.migrations.0019_prediction_assignment").fill_missing


def catch_up(apps, schema_editor):
    Prediction, Submission = apps.get_model("classroom", "Prediction"), apps.get_model("classroom", "Submission")
    if schema_editor.connection.vendor == "postgresql":
        # Reads go on; a new prediction waits until the column is required (seconds).
        schema_editor.execute(f"LOCK TABLE {Prediction._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
    fill_missing(Prediction, Submission)


class Migration(migrations.Migration):
    dependencies = [
        ("classroom", "0019_prediction_assignment"),
    ]

    operations = [
        migrations.RunPython(catch_up, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="prediction",
            name="assignment",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="classroom.assignment",
            ),
        ),
        migrations.RemoveIndex(model_name="prediction", name="prediction_results_idx"),
        migrations.AddIndex(
            model_name="prediction",
            index=models.Index(
                fields=["assignment", "submission", "model_version"],
                include=("status", "face_found", "label", "finished_at"),
                name="prediction_results_idx",
            ),
        ),
        migrations.RemoveIndex(model_name="submission", name="submission_results_idx"),
        migrations.AddIndex(
            model_name="submission",
            index=models.Index(
                fields=["assignment", "created_at"],
                include=("id", "expected_label", "true_label", "student", "gallery_image", "preview"),
                name="submission_results_idx",
            ),
        ),
    ]
