from django.core.management.base import BaseCommand, CommandError

from classroom.services.object_storage import move_to_object_storage


class Command(BaseCommand):
    help = (
        "After setting ETHITECH_S3_*: move the photos kept on local disk (kept uploads, gallery copies, audits) "
        "to the bucket, deleting each local copy, and copy every model file there, for workers on other machines. "
        "Stop the web process and the workers first; safe to run again."
    )

    def handle(self, *args, **opts):
        try:
            report = move_to_object_storage()
        except ValueError as exc:
            raise CommandError(str(exc))
        self.stdout.write(
            f"Moved {report.photos} photo file(s) to the bucket (none is left on this disk) and copied "
            f"{report.models} model file(s) there."
        )
