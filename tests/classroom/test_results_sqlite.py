"""The demo runs on SQLite: the same results code, checked there against plain Python too.

The suite's database is PostgreSQL, so this runs the property check in a
subprocess with the demo's settings (SQLite under a temporary folder).
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

PROBE = r"""
import os
os.environ["DJANGO_SETTINGS_MODULE"] = "ethitech.settings"
import django
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
assert connection.vendor == "sqlite", connection.vendor

from classroom import results as res
from inference.models import LabelSet
from tests.classroom.test_results_property import GRANULARITY, _model, build_class, check, stored

groups = ["Group A", "Group B", "Group C", "Group D", "Group E"]
labels = LabelSet.objects.create(key="demo", name="Demo", labels=groups)
demo = (_model("demo-balanced", labels), _model("demo-unbalanced", labels, {"Group A": 10, "Group B": 1}))
for seed in (1, 2, 3, 4):
    classroom, (a1, a2, a3), students = build_class(seed, demo)
    teacher, student = classroom.teacher, students[0]
    models_of = {a: {m.pk for m in a.model_versions.all()} for a in (a1, a2, a3)}
    results = res.compute(res.assignment_scope(a1, teacher))
    assert results.granularity == GRANULARITY[seed % 6], results.granularity
    check(results, stored([a1]), models_of[a1])
    check(res.compute(res.assignment_scope(a1, student)), stored([a1]), models_of[a1], viewer=student)
    check(res.compute(res.classroom_scope(classroom, teacher)), stored([a1, a2, a3]),
          models_of[a1] | models_of[a2] | models_of[a3])
    check(res.compute(res.classroom_scope(classroom, student)), stored([a1, a2]), models_of[a1] | models_of[a2],
          viewer=student)
print("SQLITE RESULTS OK")
"""


def test_results_match_plain_python_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["ETHITECH_DATA_DIR"] = str(tmp_path)
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SQLITE RESULTS OK" in proc.stdout
