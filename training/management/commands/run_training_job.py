from django.core.management.base import BaseCommand, CommandError

from training.jobs import run_job
from training.models import TrainingJob
from training.progress import tqdm_progress


class Command(BaseCommand):
    help = "Run (or resume) a training job in this process, with a progress bar; the same code the workers run."

    def add_arguments(self, parser):
        parser.add_argument("job_id", type=int)

    def handle(self, *args, **opts):
        if not TrainingJob.objects.filter(pk=opts["job_id"]).exists():
            raise CommandError(f"There is no training job {opts['job_id']}.")
        progress, close = tqdm_progress()
        try:
            job = run_job(opts["job_id"], progress=progress, echo=lambda line: self.stdout.write(line))
        finally:
            close()
        self.stdout.write(f"Job {job.pk}: {job.get_status_display()}. {job.message or job.error}")
        if job.status != TrainingJob.Status.DONE:
            raise CommandError(job.error or job.message or job.status)
