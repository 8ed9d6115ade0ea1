"""Project-level guarantees: compose file, migrations, and a web process free of TensorFlow."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def test_docker_compose_defines_the_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("postgres", "redis", "web", "worker-mlp", "worker-vgg", "beat"):
        assert name in services, name
    assert "gunicorn" in services["web"]["command"]
    assert "-Q mlp" in services["worker-mlp"]["command"]
    assert "-Q vgg" in services["worker-vgg"]["command"]
    for name, svc in services.items():
        assert "image" in svc or "build" in svc, name
    # Containers are control groups: the CPU share ranks them (nice only ranks processes in one).
    shares = {name: services[name].get("cpu_shares", 1024) for name in ("web", "worker-mlp", "worker-vgg")}
    assert shares["worker-vgg"] < min(shares["web"], shares["worker-mlp"]), shares
    assert services["worker-training"]["cpu_shares"] < shares["worker-vgg"]


def test_remote_workers_share_only_the_database_broker_and_object_storage():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert services["seaweedfs"]["profiles"] == ["object-storage"]
    assert "AWS_SECRET_ACCESS_KEY" in services["seaweedfs"]["environment"]  # never an open server
    for name in ("worker-remote", "worker-remote-gpu"):
        worker = services[name]
        assert worker["profiles"] == ["remote-worker"], name
        assert "celery -A ethitech worker" in worker["command"], name
        # On another machine: no service of this file to wait for, no share of the main machine's
        # data volume, and the database, broker and bucket from its own .env.
        assert "depends_on" not in worker, name
        assert [v.split(":")[0] for v in worker["volumes"]] == ["workerdata"], name
        assert worker["env_file"] == ".env" and set(worker["environment"]) == {"ETHITECH_DATA_DIR"}, name
    requirements = (ROOT / "requirements.txt").read_text().splitlines()
    cpu = next(line for line in requirements if line.startswith("tensorflow-cpu=="))
    gpu = services["worker-remote-gpu"]["build"]["args"]["TENSORFLOW"]
    assert gpu == "tensorflow[and-cuda]==" + cpu.split("==")[1]  # the same TensorFlow, with CUDA


def test_env_example_documents_every_setting_variable():
    settings_src = (ROOT / "ethitech" / "settings.py").read_text()
    import re

    used = set(re.findall(r'(?:_str|env(?:\.\w+)?)\("([A-Z_]+)"', settings_src))
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert used <= documented, used - documented


def test_no_missing_migrations(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


WEB_PROBE = r"""
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "ethitech.settings"
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.test import Client
from django.urls import get_resolver, URLPattern, URLResolver
import ethitech.wsgi  # what gunicorn loads

def walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern))
        else:
            yield prefix + str(p.pattern)

from classroom.models import User
teacher = User.objects.create_user("t", password="x", role="teacher")
student = User.objects.create_user("s", password="x", role="student")
fills = {"<uuid:public_id>": "00000000-0000-4000-8000-000000000000",
         "<uuid:student_id>": "00000000-0000-4000-8000-000000000001", "<slug:key>": "demo"}
count = 0
for user in (None, teacher, student):
    c = Client()
    if user:
        c.force_login(user)
    for route in walk(get_resolver().url_patterns):
        if "<" in route.replace("<uuid:public_id>", "").replace("<uuid:student_id>", "").replace("<slug:key>", ""):
            continue
        url = "/" + route
        for k, v in fills.items():
            url = url.replace(k, v)
        c.get(url)
        count += 1
import training.services.jobs  # the training page starts and cancels jobs from the web process
# OpenCV is loaded where the web finds faces at upload (test_the_web_server_loads_the_face_search...).
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "sklearn", "h5py"))
print("URLS", count, "HEAVY", heavy)
sys.exit(1 if heavy else 0)
"""


def test_web_process_imports_no_tensorflow(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env["ETHITECH_DATA_DIR"] = str(tmp_path)
    proc = subprocess.run([sys.executable, "-c", WEB_PROBE], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "URLS" in proc.stdout


WSGI_PROBE = """
import sys
import ethitech.wsgi as web
if web.face_search_warm_up is not None:
    web.face_search_warm_up.join(60)
from inference import preprocessing
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"tensorflow", "keras", "sklearn", "h5py"})
print("CASCADE", preprocessing._cascade.cache_info().currsize if "cv2" in sys.modules else 0, "HEAVY", heavy)
"""


@pytest.mark.parametrize("find_faces, loaded", [("true", 1), ("false", 0)])
def test_the_web_server_loads_the_face_search_at_start_only_when_it_finds_faces(tmp_path, find_faces, loaded):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(ETHITECH_DATA_DIR=str(tmp_path), ETHITECH_FIND_FACES_AT_UPLOAD=find_faces)
    proc = subprocess.run([sys.executable, "-c", WSGI_PROBE], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"CASCADE {loaded} HEAVY []" in proc.stdout, proc.stdout


# ethitech -> classroom -> training -> inference: what each app may not use.
FORBIDDEN = {"inference": {"training", "classroom", "ethitech"}, "training": {"classroom", "ethitech"}}


def forbidden_imports(root: Path) -> list[str]:
    """`file:line imports name` for every use of a forbidden app under root's inference/ and training/:
    every import statement (also inside functions) and every string that is an app, module or model name."""
    import ast
    import re

    problems = []
    for app, banned in FORBIDDEN.items():
        files = sorted((root / app).rglob("*.py"))
        assert files, f"no source found under {root / app}"
        dotted = re.compile(rf"({'|'.join(sorted(banned))})(\.\w+)*")
        for path in files:
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Constant) and isinstance(node.value, str) and dotted.fullmatch(node.value):
                    # Reached by name: import_module("classroom.x"), a model as "classroom.Assignment",
                    # apps.get_model("classroom", ...), a migration's ("classroom", "0001_...").
                    names = [node.value]
                problems += [
                    f"{path.relative_to(root)}:{node.lineno} imports {name}"
                    for name in names
                    if name.split(".")[0] in banned
                ]
    return sorted(set(problems))


def test_dependencies_run_one_way():
    """`inference` imports neither `training` nor `classroom`, and `training` does not import `classroom`."""
    problems = forbidden_imports(ROOT)
    assert not problems, "Dependencies must run ethitech -> classroom -> training -> inference:\n" + "\n".join(problems)


def test_the_dependency_check_finds_every_kind_of_import(tmp_path):
    """The check above can fail: each forbidden import here is reported with its file and line."""
    (tmp_path / "inference").mkdir()
    (tmp_path / "training" / "sub").mkdir(parents=True)
    (tmp_path / "inference" / "ok.py").write_text("import numpy\nfrom . import models\nfrom inference import stats\n")
    (tmp_path / "inference" / "bad.py").write_text(
        "import os\n"
        "import training.services.jobs\n"
        "def f():\n"
        "    from classroom.models import Assignment\n"
        "    return importlib.import_module('training.services.lab')\n"
        "FK = 'classroom.Assignment'\n"
    )
    (tmp_path / "training" / "sub" / "bad.py").write_text(
        "class X:\n"
        "    def g(self, apps):\n"
        "        import classroom\n"
        "        return apps.get_model('classroom', 'Submission')\n"
        "dependencies = [('classroom', '0001_initial'), ('inference', '0001_initial')]\n"
        "from inference.models import ModelVersion\n"
    )
    assert forbidden_imports(tmp_path) == sorted(
        [
            "inference/bad.py:2 imports training.services.jobs",
            "inference/bad.py:4 imports classroom.models",
            "inference/bad.py:5 imports training.services.lab",
            "inference/bad.py:6 imports classroom.Assignment",
            "training/sub/bad.py:3 imports classroom",
            "training/sub/bad.py:4 imports classroom",
            "training/sub/bad.py:5 imports classroom",
        ]
    )


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py")))
def test_every_benchmark_imports(name):
    """The benchmarks are not run by `make test`, but a renamed helper must not break them unseen."""
    import importlib

    importlib.import_module(f"bench.{name}")
