"""Set up a class on the private database of tests/integration/test_restarts.py.

Run in a subprocess (`python -m tests.integration.restart_setup`) with DATABASE_URL
pointing at the private PostgreSQL: the test process's own database connection is
pytest-django's, on the shared server. Trains the tiny demo MLP pair, creates a
teacher, a class (consent confirmed), a student and an experiment with both
models, and prints what the test needs as one JSON line.
"""

import json

import django

django.setup()

from classroom.services.classes import create_assignment  # noqa: E402
from tests import factories  # noqa: E402
from training.services.mlp import train_demo_mlp_pair  # noqa: E402

STUDENT_PASSWORD = "pw-student-123"  # tests.factories.StudentFactory's


def main() -> None:
    pair = train_demo_mlp_pair(total=280, test_per_group=20, k=10)
    classroom = factories.ClassroomFactory()
    student = factories.enrol(classroom, factories.StudentFactory(created_by=classroom.teacher))
    assignment = create_assignment(
        classroom=classroom,
        title="Restarts",
        instructions="",
        model_versions=[pair.balanced, pair.unbalanced],
        ask_expected=False,
        allow_uploads=True,
    )
    print(
        "SETUP "
        + json.dumps(
            {
                "student": student.username,
                "password": STUDENT_PASSWORD,
                "assignment": str(assignment.public_id),
                "models": [pair.balanced.key, pair.unbalanced.key],
            }
        )
    )


if __name__ == "__main__":
    main()
