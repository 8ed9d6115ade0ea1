"""Where an operator's command takes its images from: a folder, a class's test gallery, an imported
dataset's held-out split, or generated faces (compare_precision, prepare_int8)."""

import math

from django.core.management.base import CommandError

from classroom import selectors


class ImageSources:
    """A management command's mixin: the source options and the images they name."""

    def add_source_arguments(self, parser, *, required: bool = True):
        source = parser.add_mutually_exclusive_group(required=required)
        source.add_argument("--images", metavar="DIR", help="a folder of photos (subfolders name groups)")
        source.add_argument("--gallery", metavar="CLASS", help="a class's test gallery (the class's id)")
        source.add_argument("--dataset", metavar="KEY", help="an imported dataset's held-out split")
        source.add_argument("--generated", type=int, metavar="N", help="N generated synthetic faces")
        parser.add_argument("--per-group", type=int, default=50, help="with --dataset: at most this many per group")

    def has_source(self, opts) -> bool:
        return opts["generated"] is not None or any(opts[k] for k in ("images", "gallery", "dataset"))

    def source_images(self, opts):
        """(an iterable of (RGB image, group or None), what they are in words)."""
        from inference.preprocessing import load_rgb

        if opts["generated"] is not None:
            from training import synthetic
            from training.image_sets import synthetic_image_set

            n = opts["generated"]
            if n < 1:
                raise CommandError("--generated needs at least 1 image.")
            per = math.ceil(n / len(synthetic.GROUPS))
            # The held-out split's seed-1 drawings: not the images the demo models were trained on.
            images = synthetic_image_set(dict.fromkeys(synthetic.GROUPS, per), split="test", seed=1)
            keep = range(min(n, len(images)))
            return ((images.load(i), synthetic.GROUPS[images.labels[i]]) for i in keep), "generated images (synthetic)"
        if opts["dataset"]:
            from training.datasets import held_out_set
            from training.models import Dataset

            dataset = Dataset.objects.select_related("label_set").filter(key=opts["dataset"]).first()
            if dataset is None:
                raise CommandError(f"No dataset with the key {opts['dataset']!r}.")
            images = held_out_set(dataset, per_group=opts["per_group"])
            labels = dataset.label_set.labels
            about = f"held-out images of {dataset.name}"
            return ((images.load(i), labels[images.labels[i]]) for i in range(len(images))), about
        if opts["gallery"]:
            from django.core.files.storage import default_storage

            try:
                photos = selectors.gallery_photos(opts["gallery"])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc

            def gallery():
                for name, label in photos:
                    with default_storage.open(name, "rb") as fh:
                        yield load_rgb(fh), label

            return gallery(), "test-gallery images"
        from inference.precision_check import folder_images

        try:
            files, other = folder_images(opts["images"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if other:
            self.stdout.write(f"({other} file(s) that are not images were left out)")

        def folder():
            for path, group in files:
                try:
                    rgb = load_rgb(path)
                except OSError as exc:
                    self.stderr.write(f"Left out {path}: it could not be read as an image ({exc}).")
                    continue
                yield rgb, group

        return folder(), f"photos from {opts['images']}"
