import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    TrainingJob = apps.get_model("training", "TrainingJob")
    jobs = list(TrainingJob.objects.filter(public_id__isnull=True).only("pk"))
    for job in jobs:
        job.public_id = uuid.uuid4()
    TrainingJob.objects.bulk_update(jobs, ["public_id"], batch_size=500)


class Migration(migrations.Migration):
    # Existing rows each need their own UUID before the unique constraint:
    # add the column nullable, fill it, then make it unique (Django's documented pattern).
    atomic = False

    dependencies = [
        ("training", "0002_datasets"),
    ]

    operations = [
        migrations.AddField(
            model_name="trainingjob",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, atomic=True),
        migrations.AlterField(
            model_name="trainingjob",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
