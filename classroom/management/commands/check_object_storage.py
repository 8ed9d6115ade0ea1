from django.core.management.base import BaseCommand, CommandError

from classroom.services.object_storage import check_object_storage


class Command(BaseCommand):
    help = (
        "Check the object storage set with ETHITECH_S3_BUCKET: a file written, read, listed and deleted "
        "for photos and for model files, no reading without a key, and no old versions kept after a delete."
    )

    def handle(self, *args, **opts):
        report = check_object_storage()
        if not report.configured:
            self.stdout.write("No object storage is set (ETHITECH_S3_BUCKET is empty): photos stay on local disk.")
            return
        for line in report.passed:
            self.stdout.write(f"OK: {line}")
        for line in report.notes:
            self.stdout.write(f"Note: {line}")
        if report.problems:
            raise CommandError("\n".join(report.problems))
        self.stdout.write("The object storage is ready for photos.")
