from django.db import migrations, models


def _scope_existing(apps, schema_editor):
    """Models a teacher trained become theirs; the rest (demo, imported) stay built-in."""
    ModelVersion = apps.get_model("inference", "ModelVersion")
    ModelVersion.objects.filter(created_by__isnull=False).update(scope="teacher")


class Migration(migrations.Migration):
    dependencies = [
        ("inference", "0002_vggface_base"),
    ]

    operations = [
        migrations.AddField(
            model_name="modelversion",
            name="scope",
            field=models.CharField(
                choices=[
                    ("builtin", "Built-in (installed by an operator, every teacher)"),
                    ("teacher", "A teacher's own (trained by them)"),
                    ("class", "A class's (trained in a student lab; only that class)"),
                ],
                db_index=True,
                default="builtin",
                max_length=10,
            ),
        ),
        migrations.RunPython(_scope_existing, migrations.RunPython.noop),
    ]
