from django.core.management.base import BaseCommand, CommandError

from classroom.management.image_sources import ImageSources


class Command(ImageSources, BaseCommand):
    help = (
        "Quantise VGG-Face's layers to int8 (ETHITECH_VGG_PRECISION=int8) ahead of the first photo, for every "
        "VGG-Face model, or the ones named. Calibration images: generated faces, unless a folder, a class's "
        "test gallery or a dataset's held-out split is given (then they are used from now on, also by the "
        "workers; --generated N goes back to generated faces)."
    )

    def add_arguments(self, parser):
        parser.add_argument("keys", nargs="*", help="models' keys (default: every VGG-Face model)")
        self.add_source_arguments(parser, required=False)
        parser.add_argument("--count", type=int, default=32, help="calibration images to use from the source")

    def handle(self, *args, **opts):
        from inference import int8
        from inference.models import ModelVersion
        from inference.services import latest_version

        if self.has_source(opts):
            about = self._calibrate(opts)
            self.stdout.write(f"Calibration images: {about}")
        else:
            self.stdout.write(f"Calibration images: {self._current()}")
        if opts["keys"]:
            models = [latest_version(key) for key in opts["keys"]]
            if None in models:
                raise CommandError(f"No model with the key {opts['keys'][models.index(None)]!r}.")
        else:
            models = list(ModelVersion.objects.filter(family=ModelVersion.Family.VGG).select_related("base"))
        failed = 0
        for model in models:
            if model.family != ModelVersion.Family.VGG:
                raise CommandError(f"{model.key} is not a VGG-Face model.")
            try:
                found = int8.prepare_model(model)
            except Exception as exc:  # noqa: BLE001 - reported per model; the others are still prepared
                failed += 1
                self.stderr.write(f"{model.key}: {exc}")
            else:
                self.stdout.write(f"{model.key}: int8 ready; {self._verdict(found)}")
        if failed:
            raise CommandError(f"{failed} model(s) could not be prepared for int8.")

    def _verdict(self, found) -> str:
        from django.conf import settings

        from inference.precision import int8_fallback

        bar = settings.VGG_INT8_MIN_AGREEMENT
        said = found.describe()
        if bar <= 0:
            return f"{said} (unchecked: ETHITECH_VGG_INT8_MIN_AGREEMENT=0), served in int8"
        if found.passes(bar):
            return f"{said}, at least {bar:.0%}: served in int8"
        return f"{said}, below {bar:.0%}: served in {int8_fallback()} instead"

    def _current(self) -> str:
        from inference import int8

        chosen = int8.calibration_choice()
        return "generated faces" if chosen == int8.GENERATED else f"the images saved in {chosen}"

    def _calibrate(self, opts) -> str:
        import numpy as np

        from inference import int8
        from inference.preprocessing import VGG_SPEC, prepare

        if opts["count"] < 1:
            raise CommandError("--count needs at least 1 image.")
        if opts["generated"] is not None:
            int8.use_calibration(None)
            return "generated faces"
        images, described = self.source_images(opts)
        prepared = []
        for rgb, _ in images:
            prepared.append(prepare(rgb, VGG_SPEC)[0])
            if len(prepared) == opts["count"]:
                break
        if not prepared:
            raise CommandError("No images to calibrate on.")
        int8.use_calibration(np.stack(prepared), described)
        return f"{len(prepared)} {described}"
