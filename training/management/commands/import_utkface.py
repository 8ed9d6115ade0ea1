from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from training.importers.common import DatasetImportError
from training.importers.utkface import LABELS, import_utkface


class Command(BaseCommand):
    help = (
        "Import UTKFace from a folder of age_gender_race_datetime.jpg files (race 0 White, 1 Black, 2 Asian, "
        "3 Indian, 4 Others). Malformed names and unreadable images are skipped and counted. Re-running is safe."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument("--key", default="utkface")
        parser.add_argument("--no-image-check", action="store_true", help="skip decoding every image (faster)")

    def handle(self, *args, **opts):
        try:
            report = import_utkface(opts["directory"], key=opts["key"], check_images=not opts["no_image_check"])
        except DatasetImportError as exc:
            raise CommandError(str(exc))
        self.stdout.write(self.style.SUCCESS(f"Imported {report.dataset.name}: {report.created} new images."))
        self.stdout.write("\n".join(report.lines(LABELS)))
