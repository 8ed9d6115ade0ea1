from django.core.management.base import BaseCommand

from training.cli import mix_option, start_here_or_queue
from training.models import TrainingJob


class Command(BaseCommand):
    help = (
        "Train a VGG-Face race head on cached frozen features (CPU). Features are extracted once into a "
        "resumable cache. Runs here with a progress bar, or with --queue as a job on the `training` queue."
    )

    def add_arguments(self, parser):
        parser.add_argument("--base", default="", help="BaseWeights key (default: the seeded random demo base)")
        parser.add_argument("--dataset", default="synthetic", help="a Dataset key (e.g. fairface-6) or 'synthetic'")
        parser.add_argument(
            "--mix",
            default="",
            help='imported datasets: a mix as JSON, e.g. \'{"kind": "k_times", "majority": '
            '"White", "k": 10}\' (default: balanced, --per-group per group)',
        )
        parser.add_argument("--per-group", type=int, default=40, help="training images per group")
        parser.add_argument("--test-per-group", type=int, default=10)
        parser.add_argument("--cut", choices=["fc6", "fc7"], default="fc7")
        parser.add_argument("--epochs", type=int, default=0, help="0: automatic (20 for small sets, fewer for large)")
        parser.add_argument("--width", type=float, default=1.0, help="random base only: channel scale")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--key", default="")
        parser.add_argument("--name", default="")
        parser.add_argument("--queue", action="store_true", help="queue a job instead of running here")

    def handle(self, *args, **opts):
        params = {
            k: opts[k]
            for k in ("base", "dataset", "per_group", "test_per_group", "cut", "epochs", "width", "seed", "key", "name")
        }
        params["mix"] = mix_option(opts["mix"], opts["per_group"])
        job = start_here_or_queue(
            TrainingJob.Kind.VGG_HEAD, params, self.stdout, queue=opts["queue"], what="training job"
        )
        if job is None:
            return
        self.stdout.write(self.style.SUCCESS(f"Registered '{job.result.key}'. {job.message}"))
        for group, m in job.result.metrics["per_group"].items():
            self.stdout.write(f"  {group:<20} {m['accuracy']:.0%} (n={m['n']})")
