from django.core.management.base import BaseCommand

from training.cli import start_here_or_queue
from training.models import TrainingJob


class Command(BaseCommand):
    help = (
        "Evaluate a model (trained here or imported) on a dataset's held-out images and store the numbers its "
        "card shows. Runs here with a progress bar, or with --queue as a job on the `training` queue."
    )

    def add_arguments(self, parser):
        parser.add_argument("key", help="the model's key (see its card's address)")
        parser.add_argument("--dataset", required=True, help="a Dataset key with the model's groups, e.g. fairface-6")
        parser.add_argument("--per-group", type=int, default=0, help="at most this many images per group (0: all)")
        parser.add_argument("--queue", action="store_true", help="queue a job instead of running here")

    def handle(self, *args, **opts):
        params = {"model": opts["key"], "dataset": opts["dataset"], "test_per_group": opts["per_group"] or None}
        job = start_here_or_queue(
            TrainingJob.Kind.EVALUATE, params, self.stdout, queue=opts["queue"], what="evaluation job"
        )
        if job is None:
            return
        self.stdout.write(self.style.SUCCESS(job.message))
        for group, m in job.result.metrics["per_group"].items():
            acc = "n/a" if m["accuracy"] is None else f"{m['accuracy']:.0%}"
            self.stdout.write(f"  {group:<20} {acc} (n={m['n']}, face found {m['face_found']:.0%})")
