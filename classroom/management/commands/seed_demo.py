import io
import random

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from PIL import Image

from classroom import selectors
from classroom.credentials import generate_password
from classroom.lab import services as lab_services
from classroom.lessons import catalogue
from classroom.lessons import services as lesson_services
from classroom.models import User
from classroom.services import accounts, classes, gallery, privacy, submissions
from inference.models import ModelVersion
from inference.services import latest_version
from training import synthetic

DEMO_CLASS = "Demo class (synthetic data)"
LESSON = "who-is-in-the-training-data"
# Each gallery image counts once per model and a group needs settings.MIN_TESTS_PER_GROUP
# different images for a percentage: 8 per group lets a class get there.
GALLERY_PER_GROUP = 8
SEEDED_PREDICTIONS = [
    "I think the model that saw lots of Group A will get the other groups wrong more often.",
    "Both models will be about the same.",
    "The balanced one, because it saw every group equally.",
]
SEEDED_REFLECTIONS = [
    "The 10x model kept guessing Group A, even for Group C images. It saw far fewer Group C pictures.",
    "I was surprised the balanced model was not perfect either, but it was wrong about every group a bit.",
    "More data of the rare groups would help, or using the same number of each.",
    "Our class only did a few tests per group, so some numbers said not enough tests yet.",
]


class Command(BaseCommand):
    help = "Create a demo teacher, a class of 12 students, an experiment and a few submissions; print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--students", type=int, default=12)
        parser.add_argument("--submissions", type=int, default=10)
        parser.add_argument(
            "--train-per-group",
            type=int,
            default=220,
            help="Training images per group of the synthetic dataset (the lab's '10x one group' needs 210).",
        )

    @transaction.atomic
    def handle(self, *args, **opts):
        # The newest version of each (retraining the demo adds versions, never changes one).
        models = [m for m in map(latest_version, ("demo-mlp-balanced", "demo-mlp-unbalanced")) if m]
        if len(models) != 2:
            raise CommandError("The demo models are missing. Run `manage.py train_demo_models` first.")
        # The demo VGG-Face model is optional (train_demo_models --no-vgg skips it).
        vgg = [m for m in [latest_version("demo-vgg-balanced")] if m]

        # Accounts and the class as a teacher makes them (the account services), not raw rows.
        teacher = User.objects.filter(username="teacher").first()
        if teacher is None:
            password = generate_password()
            teacher = accounts.signup_teacher(
                username="teacher", email="", password=password, display_name="Demo teacher"
            )
        else:
            password = accounts.new_password(user=teacher)
        logins = [("teacher", password, "teacher")]
        classroom = teacher.taught_classes.filter(name=DEMO_CLASS).first() or classes.create_classroom(
            teacher=teacher, name=DEMO_CLASS
        )
        if not classroom.consent_confirmed:
            privacy.confirm_consent(classroom=classroom, teacher=teacher, policy="Synthetic demo: no real photos")
        # The synthetic set on disk, as an imported dataset: held-out images for the class's test
        # gallery (the default photo source, so nobody uploads photos of people) and a small
        # training split for the teacher's training page.
        from training.importers.synthetic import import_synthetic

        dataset = import_synthetic(train_per_group=opts["train_per_group"], test_per_group=20).dataset
        if not classroom.gallery_images.exists():
            gallery.publish_gallery(classroom=classroom, teacher=teacher, dataset=dataset, per_group=GALLERY_PER_GROUP)
        students = self._students(classroom, opts["students"], logins)

        assignment = classroom.assignments.first()
        if assignment is None:
            assignment = self._from_lesson(classroom, models, vgg)
            # The student lab, on: each student can train a model on a mix they choose.
            lab_services.configure_lab(
                assignment=assignment, enabled=True, dataset=dataset, mixes=["balanced", "k_times", "counts"]
            )
        if not assignment.submissions.exists():
            # Eight students predict and then test; the others have not started (the lesson page shows it).
            testers = students[: min(len(students), 8)]
            self._predict(assignment, testers)
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
                    student=testers[n % len(testers)],
                    expected_label=expected,
                    note="Seeded demo test (synthetic image).",
                    **photo,
                )

            self._reflect(assignment, students[: min(len(students), 5)])
            # Two lab models, queued: the demo's training worker trains them in seconds.
            groups = list(assignment.label_set.labels)
            for student, name, choice in [
                (testers[0], "Same for all", {"kind": "balanced"}),
                (testers[-1], f"Mostly {groups[0]}", {"kind": "k_times", "majority": groups[0], "k": 10}),
            ]:
                try:
                    lab_services.start_lab_model(assignment=assignment, student=student, name=name, **choice)
                except lab_services.LabError as exc:  # a small --train-per-group
                    self.stdout.write(f"Lab model '{name}' not seeded: {exc}")

        self.stdout.write(self.style.SUCCESS(f"Demo class: {classroom.name} (join code {classroom.join_code})"))
        self.stdout.write(f'Experiment: {assignment.title} (from the lesson "{LESSON}")')
        self.stdout.write("Logins (passwords are new each time seed_demo runs):")
        for username, password, role in logins:
            self.stdout.write(f"  {role:<8} {username:<12} {password}")

    def _from_lesson(self, classroom, models, vgg):
        """The demo experiment, made as a teacher would from the first lesson."""
        lesson = catalogue.get_lesson(LESSON)
        if lesson is None:
            raise CommandError(f"The lesson template '{LESSON}' is missing or broken: run `manage.py check`.")
        defaults = lesson_services.experiment_defaults(lesson, classroom.teacher)
        initial = defaults["initial"]
        chosen = [m for m in ModelVersion.objects.filter(pk__in=initial["model_versions"])] or models
        # Every photo goes through three models: the two MLPs and, when installed, VGG-Face.
        chosen += [m for m in vgg if m not in chosen and m.label_set_id == chosen[0].label_set_id]
        return classes.create_assignment(
            classroom=classroom,
            title=initial["title"],
            instructions=initial["instructions"],
            model_versions=chosen,
            ask_expected=True,
            allow_uploads=initial["allow_uploads"],
            lesson_key=lesson.slug,
            lesson_version=lesson.version,
            ask_predictions=initial["ask_predictions"],
            prediction_questions=defaults["prediction_questions"],
            reflection_questions=defaults["reflection_questions"],
            model_roles={**defaults["model_roles"], **({"transfer": vgg[0].key} if vgg and vgg[0] in chosen else {})},
            tests_goal=initial["tests_goal"],
        )

    def _predict(self, assignment, students):
        """Seeded predictions: most expect the 10x model to do worse on the groups it rarely saw."""
        rng = random.Random(7)
        for student in students:
            answers = {}
            for i, q in enumerate(assignment.prediction_questions):
                choices = [v for v, _ in lesson_services.question_choices(assignment, q) or []]
                if choices:
                    answers[i] = rng.choice(choices)
                else:
                    answers[i] = rng.choice(SEEDED_PREDICTIONS)
            lesson_services.save_predictions(assignment=assignment, student=student, answers=answers)

    def _reflect(self, assignment, students):
        for n, student in enumerate(students):
            answers = {
                i: SEEDED_REFLECTIONS[(n + i) % len(SEEDED_REFLECTIONS)]
                for i in range(len(assignment.reflection_questions))
            }
            lesson_services.save_reflections(
                assignment=assignment, student=student, answers=answers, require_answer=False
            )

    def _students(self, classroom, count, logins) -> list[User]:
        """student01, student02, ...: the missing ones added as a roster, the others given new passwords."""
        usernames = [f"student{i:02d}" for i in range(1, count + 1)]
        existing = {u.username: u for u in User.objects.filter(username__in=usernames)}
        rows = [
            accounts.RosterRow(display_name=f"Demo student {i}", username=name)
            for i, name in enumerate(usernames, start=1)
            if name not in existing
        ]
        created = accounts.add_students(classroom=classroom, rows=rows) if rows else []
        passwords = {c.username: c.password for c in created}
        for name, student in existing.items():
            try:
                passwords[name] = accounts.reset_student_password(classroom=classroom, student=student).password
            except PermissionError as exc:
                raise CommandError(f"The account {name} exists but is not a demo student: {exc}") from exc
        students = {u.username: u for u in User.objects.filter(username__in=usernames)}
        logins.extend((name, passwords[name], "student") for name in usernames)
        return [students[name] for name in usernames]
