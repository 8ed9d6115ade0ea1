"""Start the whole stack (gunicorn, one Celery worker per queue) against a
dedicated PostgreSQL database and Redis db, and talk to it over HTTP like a browser."""

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench_env(name: str, port: int) -> dict:
    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ethitech")
    # BENCH_DATABASE names another database, so two benchmarks on one server never share one.
    db_name = os.environ.get("BENCH_DATABASE", f"ethitech_{name}")
    db = urllib.parse.urlparse(base_db)._replace(path=f"/{db_name}").geturl()
    data_dir = Path(os.environ.get("BENCH_DATA_DIR", ROOT / "var" / f"bench-{name}"))
    return {
        **os.environ,
        "DATABASE_URL": db,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5"),
        "ETHITECH_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "ethitech.settings",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "BENCH_PORT": str(port),
    }


def celery_worker_argv(queues: str, processes: int | str, name: str) -> list[str]:
    """The command line of a Celery worker on `queues`, as the Makefile and docker-compose.yml run it."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "ethitech",
        "worker",
        "-Q",
        queues,
        "-c",
        str(processes),
        "--loglevel",
        "INFO",
        "-n",
        name,
    ]


def create_database(env: dict) -> None:
    import psycopg

    u = urllib.parse.urlparse(env["DATABASE_URL"])
    admin = u._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{u.path[1:]}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{u.path[1:]}"')


def manage(env: dict, *args: str) -> str:
    out = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out.stdout


class Stack:
    """gunicorn + workers; stopped on exit."""

    def __init__(self, env: dict, workers: dict[str, str], nice: dict[str, int] | None = None):
        """`nice`: a worker's CPU priority (nice value) by name, for scheduling experiments."""
        self.env = env
        self.procs: dict[str, subprocess.Popen] = {}
        logs = Path(env["ETHITECH_DATA_DIR"]) / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        for name, queues in workers.items():
            # As in the Makefile and docker-compose.yml: one process per queue (VGG-Face niced there).
            # MLP tasks are short and partly wait on the database: two processes keep up with a burst.
            procs = "2" if queues == "mlp" else "1"
            prefix = ["nice", "-n", str(nice[name])] if (nice or {}).get(name) else []
            self._start(name, [*prefix, *celery_worker_argv(queues, procs, f"{name}@%h")], logs)
        self._start(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "ethitech.wsgi",
                "--bind",
                f"127.0.0.1:{env['BENCH_PORT']}",
                "--workers",
                "2",
            ],
            logs,
        )
        self.url = f"http://127.0.0.1:{env['BENCH_PORT']}"
        self._wait_ready(logs)

    def _start(self, name, cmd, logs):
        log = open(logs / f"{name}.log", "w")
        self.procs[name] = subprocess.Popen(
            # Its own process group (stopped as one), not its own session: with the kernel's
            # autogroups (sched_autogroup_enabled) each session is scheduled as one group, so a
            # worker's nice value would weigh only against its own session's processes.
            cmd,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,  # in the terminal's session now: never stopped for reading it
            stdout=log,
            stderr=subprocess.STDOUT,
            process_group=0,
        )

    def _wait_ready(self, logs, timeout=120):
        deadline = time.time() + timeout
        for name in self.procs:
            marker = "Booting worker" if name == "web" else "ready."
            while marker not in (logs / f"{name}.log").read_text():
                if time.time() > deadline or self.procs[name].poll() is not None:
                    raise RuntimeError(f"{name} did not start:\n{(logs / f'{name}.log').read_text()[-2000:]}")
                time.sleep(0.2)
        time.sleep(0.5)

    def child_pids(self, name: str) -> list[int]:
        root = self.procs[name].pid
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == root:
                pids.append(int(stat.parent.name))
        return pids

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by each part of the stack (its processes and their children),
        by PostgreSQL's processes, and by this benchmark process itself."""
        tick = os.sysconf("SC_CLK_TCK")
        procs = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                head, rest = stat.read_text().rsplit(")", 1)
            except OSError:
                continue
            fields = rest.split()  # after the name: state, ppid, ... utime (12th), stime (13th)
            cpu = (int(fields[11]) + int(fields[12])) / tick
            procs[int(stat.parent.name)] = (head.split("(", 1)[1], int(fields[1]), cpu)
        used = {name: 0.0 for name in self.procs} | {"postgres": 0.0}
        for pid, (comm, ppid, cpu) in procs.items():
            owner = next((n for n, p in self.procs.items() if pid == p.pid or ppid == p.pid), None)
            if owner is None and comm.startswith("postgres"):
                owner = "postgres"
            if owner:
                used[owner] += cpu
        own = os.times()
        used["benchmark client"] = own.user + own.system
        return used

    def peak_rss_mb(self, name: str) -> float:
        """Peak resident memory (VmHWM) of the worker's pool process(es)."""
        peaks = []
        for pid in [self.procs[name].pid, *self.child_pids(name)]:
            status = Path(f"/proc/{pid}/status").read_text()
            peaks.append(int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024)
        return max(peaks)

    def memory_mb(self, name: str) -> dict[str, float]:
        """The worker's largest process: peak resident memory (VmHWM), and what is resident now,
        private (RssAnon) and file-backed (RssFile: shared library pages, shared between processes)."""
        best = {}
        for pid in [self.procs[name].pid, *self.child_pids(name)]:
            status = Path(f"/proc/{pid}/status").read_text()
            got = {k: int(v) / 1024 for k, v in re.findall(r"(VmHWM|RssAnon|RssFile):\s+(\d+)", status)}
            if got.get("VmHWM", 0) > best.get("VmHWM", 0):
                best = got
        return best

    def stop(self):
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


class Browser:
    """Just enough of a browser: cookies, CSRF tokens, multipart uploads."""

    def __init__(self, base_url: str):
        self.base = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def get(self, path: str) -> tuple[int, str, str]:
        with self.opener.open(self.base + path, timeout=60) as r:
            return r.status, r.geturl(), r.read().decode()

    def post(self, path: str, fields: dict, files: dict | None = None) -> tuple[int, str, str]:
        headers = {"Referer": self.base + path, "X-CSRFToken": self.csrf()}
        fields = {"csrfmiddlewaretoken": self.csrf(), **fields}
        if files:
            boundary = uuid.uuid4().hex
            body = b""
            for k, values in fields.items():
                for v in values if isinstance(values, list) else [values]:  # a list: a field sent several times
                    body += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, (filename, data, ctype) in files.items():
                body += (
                    (
                        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{filename}"\r\n'
                        f"Content-Type: {ctype}\r\n\r\n"
                    ).encode()
                    + data
                    + b"\r\n"
                )
            body += f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        else:
            body = urllib.parse.urlencode(fields, doseq=True).encode()
        req = urllib.request.Request(self.base + path, data=body, headers=headers, method="POST")
        with self.opener.open(req, timeout=120) as r:
            return r.status, r.geturl(), r.read().decode()

    def login(self, username: str, password: str) -> None:
        self.get("/login/")
        status, url, _ = self.post("/login/", {"username": username, "password": password})
        if url.rstrip("/").endswith("/login"):
            raise RuntimeError(f"login failed for {username}")


def percentile(values, p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)
