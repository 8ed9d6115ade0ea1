import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("classroom", "0005_user_public_id_fill"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
