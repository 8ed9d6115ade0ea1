import math

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from classroom import selectors
from inference.precision import BFLOAT16, FLOAT32, INT8
from inference.services import latest_version


class Command(BaseCommand):
    help = (
        "Run a VGG-Face model in float32 and in a reduced precision (bfloat16 or int8) on the same images and "
        "print how often the top guess "
        "is the same (overall and per group) and the largest difference in a probability. Images: a folder "
        "(a subfolder's name is its images' group), a class's test gallery, a dataset's held-out split, or "
        "generated synthetic faces."
    )

    def add_arguments(self, parser):
        parser.add_argument("key", help="the model's key (see its card's address); a lineage's newest version")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--images", metavar="DIR", help="a folder of photos (subfolders name groups)")
        source.add_argument("--gallery", metavar="CLASS", help="a class's test gallery (the class's id)")
        source.add_argument("--dataset", metavar="KEY", help="an imported dataset's held-out split")
        source.add_argument("--generated", type=int, metavar="N", help="N generated synthetic faces")
        parser.add_argument("--per-group", type=int, default=50, help="with --dataset: at most this many per group")
        parser.add_argument(
            "--reduced",
            choices=(BFLOAT16, INT8),
            default=None,
            help="the precision to compare with float32 (default: ETHITECH_VGG_PRECISION's, else bfloat16)",
        )
        parser.add_argument("--batch", type=int, default=8)
        parser.add_argument(
            "--min-agreement", type=float, default=None, help="fail when top-1 agreement is below this, e.g. 0.99"
        )

    def handle(self, *args, **opts):
        from inference.precision_check import compare_precisions

        model = latest_version(opts["key"])
        if model is None:
            raise CommandError(f"No model with the key {opts['key']!r}.")
        if model.family != "vgg":
            raise CommandError(f"{model.key} is not a VGG-Face model: only VGG-Face has a choice of precision.")
        images, described = self._images(opts)
        reduced = opts["reduced"] or (settings.VGG_PRECISION if settings.VGG_PRECISION != FLOAT32 else BFLOAT16)
        result = compare_precisions(model, images, reduced=reduced, batch=opts["batch"])
        if result.n == 0:
            raise CommandError("No images to compare on.")
        out = self.stdout.write
        out(f"{model.key}: float32 against {result.reduced} on {result.n} {described}")
        out(f"  top-1 agreement: {result.agree}/{result.n} = {result.rate:.1%}")
        out(
            f"  largest probability difference: {result.max_diff:.4f} (per image, mean of the largest: "
            f"{result.mean_diff:.4f}); float32's top probability, mean: {result.mean_top:.2f}"
        )
        out(
            f"  for scale, float32 against itself on the images with every pixel moved by up to one grey level: "
            f"{result.noise_rate:.1%} the same top guess"
        )
        out(f"  per group ({result.grouped_by}):")
        for group, (n, agree) in sorted(result.per_group.items()):
            out(f"    {group:<24} {agree}/{n} = {agree / n:.1%}")
        out(
            "  forward time per image, batch "
            + str(opts["batch"])
            + ": "
            + ", ".join(f"{p} {s * 1000 / result.n:.1f} ms" for p, s in result.seconds.items())
        )
        bar = opts["min_agreement"]
        if bar is not None and not result.rate >= bar:
            raise CommandError(f"Top-1 agreement {result.rate:.1%} is below {bar:.1%}.")

    def _images(self, opts):
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
