"""Model versions: every existing model starts its own lineage as version 1. Nothing else
changes: no key is renamed, no row merged, no file touched."""

from django.db import migrations, models


def lineage_is_key(apps, schema_editor):
    ModelVersion = apps.get_model("inference", "ModelVersion")
    ModelVersion.objects.update(lineage=models.F("key"))


class Migration(migrations.Migration):
    dependencies = [("inference", "0004_mlp_files_to_skops")]

    operations = [
        migrations.AddField(
            model_name="modelversion",
            name="lineage",
            field=models.SlugField(default="", max_length=80, db_index=True,
                                   help_text="The key its first version was given."),
            preserve_default=False,
        ),
        migrations.AddField(model_name="modelversion", name="version", field=models.PositiveIntegerField(default=1)),
        migrations.RunPython(lineage_is_key, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="modelversion",
            constraint=models.UniqueConstraint(fields=("lineage", "version"), name="one_model_per_version"),
        ),
    ]
