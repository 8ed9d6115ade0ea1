from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from training.cli import run_here
from training.composition import CompositionError, available, plan
from training.models import Dataset, TrainingJob
from training.services.jobs import start_job
from training.services.mlp import accuracy_table


class Command(BaseCommand):
    help = (
        "Reproduce EthiTech on an imported dataset: train a balanced MLP and one with k times as many images of "
        "one group, then print their per-group held-out accuracy side by side. "
        "Example: manage.py train_mlp_pair --dataset utkface --majority White -k 10"
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="Dataset key (e.g. utkface, fairface-6)")
        parser.add_argument("--majority", default="White")
        parser.add_argument("-k", type=int, default=10)
        parser.add_argument("--per-group", type=int, default=0, help="balanced model: images per group (0: max)")
        parser.add_argument("--per-minority", type=int, default=0, help="unbalanced model: per other group (0: max)")
        parser.add_argument("--size", type=int, default=48, help="input size in pixels (EthiTech: 48)")
        parser.add_argument("--mode", choices=["gray", "rgb"], default="gray")
        parser.add_argument("--test-per-group", type=int, default=0, help="held-out images per group (0: all)")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, **opts):
        dataset = Dataset.objects.filter(key=opts["dataset"]).first()
        if dataset is None:
            keys = ", ".join(Dataset.objects.values_list("key", flat=True)) or "none yet"
            raise CommandError(f"No dataset '{opts['dataset']}' (imported: {keys}). Run import_utkface first.")
        avail = available(dataset)
        mixes = {
            "balanced": {"kind": "balanced", "per_group": opts["per_group"] or None},
            "unbalanced": {
                "kind": "k_times",
                "majority": opts["majority"],
                "k": opts["k"],
                "per_minority": opts["per_minority"] or None,
            },
        }
        for name, mix in mixes.items():
            try:
                p = plan(mix, avail)
            except CompositionError as exc:
                raise CommandError(str(exc))
            if not p["achievable"]:
                raise CommandError(f"The {name} mix: {p['message']}")
            self.stdout.write(f"{name}: {p['message']}")
        models = []
        for name, mix in mixes.items():
            title = "balanced" if name == "balanced" else f"{opts['k']}x {opts['majority']}"
            params = {
                "dataset": dataset.key,
                "mix": mix,
                "seed": opts["seed"],
                "test_per_group": opts["test_per_group"] or None,
                "input": {"size": opts["size"], "mode": opts["mode"]},
                "key": f"{dataset.key}-mlp-{name}",
                "name": f"{dataset.name} MLP ({title})",
            }
            with transaction.atomic():
                job = start_job(kind=TrainingJob.Kind.MLP, params=params, enqueue=False)
            job = run_here(job, self.stdout)
            self.stdout.write(job.message)
            models.append(job.result)
        self.stdout.write("\nHeld-out accuracy per group (training images in brackets):")
        self.stdout.write(accuracy_table(models))
