from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from inference.vggface_weights import WeightsFileError
from inference.weights_import import import_vggface_weights


class Command(BaseCommand):
    help = (
        "Import the public VGG-Face weights (vgg_face_weights.h5, 2622 identities, Keras-2 HDF5) as a "
        "pretrained base for training race heads. The file is checked layer by layer and copied into the "
        "model store; nothing is downloaded."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--key", default="vggface-pretrained")
        parser.add_argument("--name", default="")

    def handle(self, *args, **opts):
        try:
            base = import_vggface_weights(path=opts["path"], key=opts["key"], name=opts["name"])
        except WeightsFileError as exc:
            raise CommandError(f"Nothing was imported. {exc}")
        self.stdout.write(self.style.SUCCESS(f"Imported base '{base.key}' (sha256 {base.sha256})."))
