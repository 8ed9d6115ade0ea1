import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from PIL import Image

from classroom import selectors
from classroom.credentials import generate_password
from classroom.models import Classroom, Enrollment, User
from classroom.services import classes, gallery, privacy, submissions
from inference.models import ModelVersion
from training import synthetic

DEMO_CLASS = "Demo class (synthetic data)"
INSTRUCTIONS = """\
**Does the mix of training data change who a model gets wrong?**

Both models learned from the same number of *synthetic* images. One saw every
group equally often; the other saw ten times as many images of Group A.

1. Test photos on both models (this demo uses generated drawings, not people).
2. Say which group you expect, if you know it.
3. Write down what you notice, then compare the class results.
"""


class Command(BaseCommand):
    help = "Create a demo teacher, a class of 12 students, an experiment and a few submissions; print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--students", type=int, default=12)
        parser.add_argument("--submissions", type=int, default=10)
        parser.add_argument(
            "--train-per-group", type=int, default=100, help="Training images per group of the synthetic dataset."
        )

    @transaction.atomic
    def handle(self, *args, **opts):
        models = list(ModelVersion.objects.filter(key__in=["demo-mlp-balanced", "demo-mlp-unbalanced"]))
        if len(models) != 2:
            raise CommandError("The demo models are missing. Run `manage.py train_demo_models` first.")
        # The demo VGG-Face model is optional (train_demo_models --no-vgg skips it).
        vgg = list(ModelVersion.objects.filter(key="demo-vgg-balanced"))

        teacher, _ = User.objects.get_or_create(
            username="teacher", defaults={"role": User.Role.TEACHER, "display_name": "Demo teacher"}
        )
        logins = [("teacher", self._reset(teacher), "teacher")]
        classroom, created = Classroom.objects.get_or_create(name=DEMO_CLASS, teacher=teacher)
        if not classroom.consent_confirmed:
            privacy.confirm_consent(classroom=classroom, teacher=teacher, policy="Synthetic demo: no real photos")
        # The synthetic set on disk, as an imported dataset: held-out images for the class's test
        # gallery (the default photo source, so nobody uploads photos of people) and a small
        # training split for the teacher's training page.
        from training.importers.synthetic import import_synthetic

        dataset = import_synthetic(train_per_group=opts["train_per_group"], test_per_group=20).dataset
        if not classroom.gallery_images.exists():
            gallery.publish_gallery(classroom=classroom, teacher=teacher, dataset=dataset, per_group=4)
        students = []
        for i in range(1, opts["students"] + 1):
            student, _ = User.objects.get_or_create(
                username=f"student{i:02d}",
                defaults={"role": User.Role.STUDENT, "display_name": f"Demo student {i}", "created_by": teacher},
            )
            Enrollment.objects.get_or_create(classroom=classroom, student=student)
            students.append(student)
            logins.append((student.username, self._reset(student), "student"))

        assignment = classroom.assignments.first()
        if assignment is None:
            assignment = classes.create_assignment(
                classroom=classroom,
                title="Balanced vs unbalanced training data (synthetic demo)",
                instructions=INSTRUCTIONS,
                model_versions=sorted(models, key=lambda m: m.key) + vgg,
                ask_expected=True,
            )
        if not assignment.submissions.exists():
            images = list(selectors.gallery_for(assignment))
            for n in range(opts["submissions"]):
                group = n % len(synthetic.GROUPS)
                if images:  # the class gallery: true labels known
                    image = images[n % len(images)]
                    photo = {"gallery_image": image}
                    expected = image.label
                else:  # an experiment created before the gallery existed
                    buf = io.BytesIO()
                    Image.fromarray(synthetic.generate_image(group, n, split="gallery")).save(buf, format="PNG")
                    photo = {"upload": SimpleUploadedFile(f"demo-{n}.png", buf.getvalue(), content_type="image/png")}
                    expected = synthetic.GROUPS[group]
                submissions.submit_photo(
                    assignment=assignment,
                    student=students[n % len(students)],
                    expected_label=expected,
                    note="Seeded demo test (synthetic image).",
                    **photo,
                )

        self.stdout.write(self.style.SUCCESS(f"Demo class: {classroom.name} (join code {classroom.join_code})"))
        self.stdout.write("Logins (passwords are new each time seed_demo runs):")
        for username, password, role in logins:
            self.stdout.write(f"  {role:<8} {username:<12} {password}")

    def _reset(self, user: User) -> str:
        password = generate_password()
        user.set_password(password)
        user.save(update_fields=["password"])
        return password
