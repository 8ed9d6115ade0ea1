from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from inference.vggface_weights import WeightsFileError
from inference.weights_import import import_race_model

# The order in which users of race_model_single_batch.h5 apply its 6 classes.
RACE_MODEL_LABELS = "asian,indian,black,white,middle eastern,latino hispanic"


class Command(BaseCommand):
    help = (
        "Import a complete VGG-Face race model weights file (Keras-2 HDF5, e.g. race_model_single_batch.h5) "
        "and register it as a model version. Labels are given in the file's class order."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--labels",
            default=RACE_MODEL_LABELS,
            help=f"comma-separated, in the file's class order (default: {RACE_MODEL_LABELS})",
        )
        parser.add_argument("--key", default="")
        parser.add_argument("--name", default="")

    def handle(self, *args, **opts):
        labels = opts["labels"].split(",")
        try:
            mv = import_race_model(path=opts["path"], labels=labels, key=opts["key"], name=opts["name"])
        except WeightsFileError as exc:
            raise CommandError(f"Nothing was imported. {exc}")
        self.stdout.write(
            self.style.SUCCESS(f"Imported model '{mv.key}' with labels {mv.label_set.labels} (sha256 {mv.sha256}).")
        )
