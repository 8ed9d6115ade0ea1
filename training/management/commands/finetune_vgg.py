from django.core.management.base import BaseCommand

from training.cli import mix_option, start_here_or_queue
from training.models import TrainingJob
from training.trainers.vgg_finetune import DEFAULT_FINETUNE_PARAMS


class Command(BaseCommand):
    help = (
        "Fine-tune VGG-Face's last layers (fc6, fc7, head; the rest frozen) in epochs of N random samples, "
        "with a checkpoint after every epoch. By default queues a job on the `gpu` queue; --here runs it in "
        "this process (CPU is fine for small configurations)."
    )

    def add_arguments(self, parser):
        d = DEFAULT_FINETUNE_PARAMS
        parser.add_argument("--base", default="", help="BaseWeights key (default: the seeded random demo base)")
        parser.add_argument("--dataset", default="synthetic", help="a Dataset key (e.g. fairface-6) or 'synthetic'")
        parser.add_argument(
            "--mix",
            default="",
            help='imported datasets: a mix as JSON, e.g. \'{"kind": "k_times", "majority": '
            '"White", "k": 10}\' (default: balanced, --per-group per group)',
        )
        parser.add_argument("--per-group", type=int, default=40)
        parser.add_argument("--test-per-group", type=int, default=10)
        parser.add_argument("--epochs", type=int, default=d["epochs"])
        parser.add_argument("--samples-per-epoch", type=int, default=d["samples_per_epoch"])
        parser.add_argument("--batch-size", type=int, default=d["batch_size"])
        parser.add_argument("--learning-rate", type=float, default=d["learning_rate"])
        parser.add_argument("--width", type=float, default=1.0, help="random base only: channel scale")
        parser.add_argument("--seed", type=int, default=d["seed"])
        parser.add_argument("--key", default="")
        parser.add_argument("--here", action="store_true", help="run in this process instead of the gpu queue")

    def handle(self, *args, **opts):
        keys = (
            "base",
            "dataset",
            "per_group",
            "test_per_group",
            "epochs",
            "samples_per_epoch",
            "batch_size",
            "learning_rate",
            "width",
            "seed",
            "key",
        )
        params = {k: opts[k] for k in keys}
        params["mix"] = mix_option(opts["mix"], opts["per_group"])
        job = start_here_or_queue(
            TrainingJob.Kind.VGG_FINETUNE, params, self.stdout, queue=not opts["here"], what="fine-tune job"
        )
        if job is None:
            return
        self.stdout.write(self.style.SUCCESS(f"Registered '{job.result.key}'. {job.message}"))
