"""Real Celery worker processes for integration tests."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def _spawn_worker(app: str, queues: str, name: str, env: dict, log_path: Path) -> subprocess.Popen:
    """`celery -A app worker -Q queues` (one process), waited for until ready; its output goes to log_path."""
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                app,
                "worker",
                "-Q",
                queues,
                "-c",
                "1",
                "--loglevel",
                "INFO",
                "--without-mingle",
                "--without-gossip",
                "-n",
                f"{name}-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.time() + 90
    while "ready." not in log_path.read_text():
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"Celery worker {name} did not start:\n" + log_path.read_text()[-3000:])
        time.sleep(0.2)
    return proc


def start_worker(env: dict, queues: str, name: str) -> subprocess.Popen:
    """Start `celery worker -Q queues` and wait until it is ready; its log is DATA_DIR/worker-<name>.log."""
    return _spawn_worker("ethitech", queues, name, env, Path(settings.DATA_DIR) / f"worker-{name}.log")


def stop_worker(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def worker_logs(tail: int = 3000) -> str:
    return "\n".join(
        f"--- {p.name}\n{p.read_text()[-tail:]}" for p in sorted(Path(settings.DATA_DIR).glob("worker-*.log"))
    )


def start_fault_worker(env: dict, name: str, queue: str = "mlp") -> subprocess.Popen:
    """A worker of tests/integration/fault_app.py (slow model runs, journaled); log: ETHITECH_FAULT_DIR/<name>.log."""
    log_path = Path(env["ETHITECH_FAULT_DIR"]) / f"{name}.log"
    return _spawn_worker("tests.integration.fault_app", queue, name, env, log_path)


def wait_for(condition, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"Timed out after {timeout}s waiting for {what}")
