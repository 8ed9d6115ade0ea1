import time

from django.core.management.base import BaseCommand

from training.progress import tqdm_progress
from training.services.mlp import accuracy_table, demo_pair_if_intact, train_demo_mlp_pair
from training.services.vgg import demo_vgg_if_intact, train_demo_vgg


class Command(BaseCommand):
    help = (
        "Train the demo models on the SYNTHETIC demo set: EthiTech's MLP pair (one balanced, one with k times "
        "as many images of one group) and a VGG-Face model whose base is random (not pretrained) with a head "
        "trained on cached features. Registers them and prints per-group accuracy."
    )

    def add_arguments(self, parser):
        parser.add_argument("--total", type=int, default=3000, help="training images per model")
        parser.add_argument("--test-per-group", type=int, default=200)
        parser.add_argument("--majority", default="Group A")
        parser.add_argument("-k", type=int, default=10)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--no-vgg", action="store_true", help="skip the demo VGG-Face model (saves ~1.5 min)")
        parser.add_argument("--vgg-per-group", type=int, default=30, help="VGG head training images per group")
        parser.add_argument("--vgg-test-per-group", type=int, default=12)
        parser.add_argument(
            "--skip-existing", action="store_true", help="do nothing if both demo models exist and their files verify"
        )

    def handle(self, *args, **opts):
        existing = demo_pair_if_intact() if opts["skip_existing"] else None
        if existing:
            self.stdout.write("Demo MLPs already trained and verified (run without --skip-existing to retrain):")
            self.stdout.write(accuracy_table(existing))
        else:
            self._train_mlps(opts)
        if opts["no_vgg"]:
            return
        vgg = demo_vgg_if_intact() if opts["skip_existing"] else None
        if vgg:
            self.stdout.write(f"Demo VGG-Face model already trained and verified: {vgg.name}")
            self._prepare_int8(vgg)
            return
        self.stdout.write(
            "Training the demo VGG-Face model: random (seeded) base, NOT pretrained; head on synthetic features..."
        )
        progress, close = tqdm_progress()
        started = time.perf_counter()
        try:
            vgg = train_demo_vgg(
                per_group=opts["vgg_per_group"],
                test_per_group=opts["vgg_test_per_group"],
                seed=opts["seed"],
                progress=progress,
            )
        finally:
            close()
        self.stdout.write(f"Done in {time.perf_counter() - started:.0f} s. Held-out accuracy per group:")
        for group, m in vgg.metrics["per_group"].items():
            self.stdout.write(f"  {group:<10} {m['accuracy']:>6.1%} (n={m['n']})")
        self._prepare_int8(vgg)

    def _prepare_int8(self, vgg):
        """Where VGG-Face is served in int8, quantise the demo model now, not on its first photo."""
        from inference.precision import INT8, decision

        if decision().precision != INT8:
            return
        from inference.int8 import prepare_model

        self.stdout.write("Quantising the demo VGG-Face model to int8 (ETHITECH_VGG_PRECISION=int8)...")
        found = prepare_model(vgg)
        self.stdout.write(
            f"  its top guess agrees with float32's on {found.agree}/{found.n} = {found.rate:.1%} of generated faces "
            "(int8 serves it only at ETHITECH_VGG_INT8_MIN_AGREEMENT or above: see the workers' log)"
        )

    def _train_mlps(self, opts):
        self.stdout.write("Training the demo MLP pair on synthetic data (not real people)...")
        report = train_demo_mlp_pair(
            total=opts["total"],
            test_per_group=opts["test_per_group"],
            majority=opts["majority"],
            k=opts["k"],
            seed=opts["seed"],
        )
        self.stdout.write(f"Done in {report.seconds:.1f} s. Held-out accuracy per group (training images in brackets):")
        self.stdout.write(accuracy_table([report.balanced, report.unbalanced]))
