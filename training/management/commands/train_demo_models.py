from django.core.management.base import BaseCommand

from training.services import accuracy_table, demo_pair_if_intact, train_demo_mlp_pair


class Command(BaseCommand):
    help = (
        "Train the EthiTech MLP pair on the SYNTHETIC demo set: one on a balanced mix, one with "
        "k times as many images of one group; register both and print per-group accuracy."
    )

    def add_arguments(self, parser):
        parser.add_argument("--total", type=int, default=3000, help="training images per model")
        parser.add_argument("--test-per-group", type=int, default=200)
        parser.add_argument("--majority", default="Group A")
        parser.add_argument("-k", type=int, default=10)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--skip-existing", action="store_true", help="do nothing if both demo models exist and their files verify"
        )

    def handle(self, *args, **opts):
        if opts["skip_existing"]:
            existing = demo_pair_if_intact()
            if existing:
                self.stdout.write("Demo models already trained and verified (use without --skip-existing to retrain):")
                self.stdout.write(accuracy_table(existing))
                return
        self.stdout.write("Training the demo MLP pair on synthetic data (not real people)...")
        report = train_demo_mlp_pair(
            total=opts["total"], test_per_group=opts["test_per_group"], majority=opts["majority"],
            k=opts["k"], seed=opts["seed"],
        )  # fmt: skip
        self.stdout.write(f"Done in {report.seconds:.1f} s. Held-out accuracy per group (training images in brackets):")
        self.stdout.write(accuracy_table([report.balanced, report.unbalanced]))
