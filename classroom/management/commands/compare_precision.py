from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from classroom.management.image_sources import ImageSources
from inference.precision import BFLOAT16, FLOAT32, INT8
from inference.services import latest_version


class Command(ImageSources, BaseCommand):
    help = (
        "Run a VGG-Face model in float32 and in a reduced precision (bfloat16 or int8) on the same images and "
        "print how often the top guess "
        "is the same (overall and per group) and the largest difference in a probability. Images: a folder "
        "(a subfolder's name is its images' group), a class's test gallery, a dataset's held-out split, or "
        "generated synthetic faces."
    )

    def add_arguments(self, parser):
        parser.add_argument("key", help="the model's key (see its card's address); a lineage's newest version")
        self.add_source_arguments(parser)
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
        images, described = self.source_images(opts)
        reduced = opts["reduced"] or (settings.VGG_PRECISION if settings.VGG_PRECISION != FLOAT32 else BFLOAT16)
        result = compare_precisions(model, images, reduced=reduced, batch=opts["batch"])
        if result.n == 0:
            raise CommandError("No images to compare on.")
        out = self.stdout.write
        out(f"{model.key}: float32 against {result.reduced} on {result.n} {described}")
        out(f"  top-1 agreement: {result.agree}/{result.n} = {result.rate:.1%}")
        if result.looked_again is not None:
            out(
                f"  looked at again in float32 (near-ties): {result.looked_again}/{result.n} = "
                f"{result.looked_again / result.n:.1%}"
            )
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
