import uuid

from django.db import migrations


def fill(apps, schema_editor):
    User = apps.get_model("classroom", "User")
    users = list(User.objects.filter(public_id__isnull=True).only("pk"))
    for user in users:
        user.public_id = uuid.uuid4()
    User.objects.bulk_update(users, ["public_id"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("classroom", "0004_user_public_id"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
