"""Private PostgreSQL and Redis servers for tests that stop and start them.

tests/integration/test_restarts.py restarts the database and the broker in the
middle of a burst. It never touches the machine's shared servers (other test runs
use them): each server here is a new one, on a free port of 127.0.0.1, with its
files in a temporary folder. A missing server binary fails the test, never skips
it: install `redis-server` and the PostgreSQL server (Debian: `postgresql`).
"""

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise RuntimeError(f"Timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


class PrivateRedis:
    """redis-server on its own port. `persistent`: an append-only file, as docker-compose.yml runs
    it (a restart keeps the queues); otherwise nothing is kept on disk (a restart empties them)."""

    def __init__(self, folder: Path, *, persistent: bool):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: these tests start their own (apt install redis-server)")
        self.binary, self.folder, self.persistent = binary, folder, persistent
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        folder.mkdir(parents=True, exist_ok=True)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def ping(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder), "--save", ""]
        args += ["--appendonly", "yes" if self.persistent else "no"]
        with open(self.folder / "redis.log", "a") as log:
            self.proc = subprocess.Popen([self.binary, *args], stdout=log, stderr=subprocess.STDOUT)
        _wait(lambda: self.ping() or self.proc.poll() is not None, 20, "redis-server to start")
        if self.proc.poll() is not None:
            raise RuntimeError("redis-server did not start:\n" + (self.folder / "redis.log").read_text()[-2000:])

    def stop(self) -> None:
        """As `docker compose restart` does: SIGTERM, which writes the append-only file and exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)
        self.proc = None


def _postgres_bindir() -> Path:
    for candidate in [os.environ.get("PG_BINDIR", "")] + sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if candidate and (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    pytest.fail(
        "The PostgreSQL server programs (initdb, pg_ctl) are not installed; the restart tests start a private "
        "cluster (apt install postgresql, or set PG_BINDIR)."
    )


class PrivatePostgres:
    """A PostgreSQL cluster of its own (trust authentication, on 127.0.0.1 only). PostgreSQL refuses
    to run as root, so when the tests run as root the cluster runs as the `postgres` user."""

    def __init__(self):
        self.bindir = _postgres_bindir()
        self.port = free_port()
        # Not under pytest's tmp_path: the `postgres` user must be able to reach the folder.
        self.folder = Path(tempfile.mkdtemp(prefix="ethitech-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.owner = None
        if os.geteuid() == 0:
            try:
                self.owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("Running as root, and there is no `postgres` user to run the private PostgreSQL as.")
            os.chown(self.folder, self.owner.pw_uid, self.owner.pw_gid)

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.owner is not None:
            command = ["runuser", "-u", self.owner.pw_name, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed:\n{done.stdout}\n{done.stderr}\n{tail}")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        """A fast shutdown, as `systemctl restart postgresql` does: open connections are ended."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def remove(self) -> None:
        if self.running():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except RuntimeError:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)
