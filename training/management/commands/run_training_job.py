from django.core.management.base import BaseCommand, CommandError

from training.cli import run_here
from training.models import TrainingJob


class Command(BaseCommand):
    help = "Run (or resume) a training job in this process, with a progress bar; the same code the workers run."

    def add_arguments(self, parser):
        parser.add_argument("job_id", type=int)

    def handle(self, *args, **opts):
        if not TrainingJob.objects.filter(pk=opts["job_id"]).exists():
            raise CommandError(f"There is no training job {opts['job_id']}.")
        job = run_here(TrainingJob.objects.get(pk=opts["job_id"]), self.stdout)
        self.stdout.write(f"Job {job.pk}: {job.get_status_display()}. {job.message}")
