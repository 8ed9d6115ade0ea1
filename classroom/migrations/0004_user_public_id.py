# Three steps, as Django documents for a unique field on existing rows:
# add it nullable, give every row its own UUID, then make it unique.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("classroom", "0003_prediction_started_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="public_id",
            field=models.UUIDField(null=True, editable=False),
        ),
    ]
