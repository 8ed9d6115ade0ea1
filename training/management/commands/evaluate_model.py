from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from training.cli import run_here
from training.composition import CompositionError
from training.jobs import start_job
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
        with transaction.atomic():
            try:
                job = start_job(kind=TrainingJob.Kind.EVALUATE, params=params, enqueue=opts["queue"])
            except CompositionError as exc:
                raise CommandError(str(exc))
        if opts["queue"]:
            self.stdout.write(f"Queued evaluation job {job.pk} on the `training` queue.")
            return
        job = run_here(job, self.stdout)
        self.stdout.write(self.style.SUCCESS(job.message))
        for group, m in job.result.metrics["per_group"].items():
            acc = "n/a" if m["accuracy"] is None else f"{m['accuracy']:.0%}"
            self.stdout.write(f"  {group:<20} {acc} (n={m['n']}, face found {m['face_found']:.0%})")
