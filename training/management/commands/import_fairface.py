from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from training.importers.common import DatasetImportError
from training.importers.fairface import SEVEN, SIX, import_fairface


class Command(BaseCommand):
    help = (
        "Import FairFace: its image folder and the two label CSVs (file,age,gender,race,service_test). "
        "--merge-asian folds East and Southeast Asian into Asian (6 groups, as EmbRACE did). A broken CSV is "
        "refused with line numbers and nothing is stored. Re-running is safe."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument("--train-labels", type=Path, required=True)
        parser.add_argument("--val-labels", type=Path, required=True)
        parser.add_argument("--merge-asian", action="store_true")
        parser.add_argument("--key", default="")
        parser.add_argument("--no-image-check", action="store_true", help="skip decoding every image (faster)")

    def handle(self, *args, **opts):
        try:
            report = import_fairface(
                opts["directory"],
                train_labels=opts["train_labels"],
                val_labels=opts["val_labels"],
                merge_asian=opts["merge_asian"],
                key=opts["key"],
                check_images=not opts["no_image_check"],
            )
        except DatasetImportError as exc:
            raise CommandError(str(exc))
        self.stdout.write(self.style.SUCCESS(f"Imported {report.dataset.name}: {report.created} new images."))
        self.stdout.write("\n".join(report.lines(SIX if opts["merge_asian"] else SEVEN)))
