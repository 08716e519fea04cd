"""Starts a real `docclass serve` for the client tests: a fresh state folder, an S3 root folder,
the shipped spam-ham model in a fresh registry, and SigV4 keys the clients sign with."""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import boto3
import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("DOCCLASS_BIN", REPO / "target" / "release" / "docclass"))
KEY, SECRET, REGION = "AKIDDOCCLASSTEST", "docclass-test-secret", "us-west-2"


class Server:
    def __init__(self, root: Path, s3_endpoint=None, extra_args=()):
        self.root = root
        self.extra_args = list(extra_args)
        self.s3 = root / "s3"
        self.models = root / "models"
        self.proc = None
        self.endpoint = None
        # With an S3 endpoint, the service reads and writes real S3 there (no --s3-root).
        self.s3_endpoint = s3_endpoint

    def start(self):
        assert BIN.exists(), f"{BIN} is missing: build it with cargo build --release first"
        where = ["--s3-root", str(self.s3)] if self.s3_endpoint is None else []
        env = dict(os.environ)
        if self.s3_endpoint:
            env.update(AWS_ENDPOINT_URL=self.s3_endpoint, AWS_ACCESS_KEY_ID=S3_KEY,
                       AWS_SECRET_ACCESS_KEY=S3_SECRET, AWS_REGION="us-east-1",
                       AWS_EC2_METADATA_DISABLED="true", DOCCLASS_SPOOL_DIR=str(self.root / "spool"))
        self.proc = subprocess.Popen(
            [str(BIN), "serve", "--port", "0", *where, "--model-registry", str(self.models),
             "--state-dir", str(self.root / "state"), "--access-key-id", KEY, "--secret-access-key", SECRET,
             *self.extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.root, env=env)
        line = self.proc.stdout.readline()
        assert "listening on" in line, f"server did not start: {line!r} {self.proc.stderr.read()}"
        self.endpoint = line.strip().rsplit(" ", 1)[1]
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def local(self, s3_uri: str) -> Path:
        assert s3_uri.startswith("s3://")
        return self.s3 / s3_uri[len("s3://"):]

    def client(self, secret=SECRET, key=KEY, config=None, region=REGION):
        return boto3.client("comprehend", endpoint_url=self.endpoint, region_name=region,
                            aws_access_key_id=key, aws_secret_access_key=secret, config=config)

    def cli(self, *args, secret=SECRET):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION=REGION,
                   AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        aws = Path(os.environ.get("AWS_CLI", shutil.which("aws") or "aws"))
        return subprocess.run([str(aws), "--endpoint-url", self.endpoint, "comprehend", *args],
                              capture_output=True, text=True, env=env, timeout=120)


S3_KEY, S3_SECRET = "s3-test-key", "s3-test-secret"


def s3s_fs():
    found = os.environ.get("S3S_FS") or shutil.which("s3s-fs")
    if found:
        return found
    home_bin = Path.home() / ".cargo" / "bin" / "s3s-fs"
    assert home_bin.exists(), "s3s-fs is missing: cargo install s3s-fs@0.14.1 --locked --features binary"
    return str(home_bin)


@pytest.fixture
def s3(tmp_path):
    """A real S3-compatible server (s3s-fs, signature-checking) on a free loopback port, and a
    boto3 S3 client for it."""
    root = tmp_path / "s3-server"
    root.mkdir()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    proc = subprocess.Popen([s3s_fs(), "--host", "127.0.0.1", "--port", str(port), "--access-key", S3_KEY,
                             "--secret-key", S3_SECRET, str(root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    end = time.time() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            break
        except OSError:
            assert time.time() < end, "s3s-fs did not start"
            time.sleep(0.05)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET)
    client.endpoint = endpoint
    yield client
    proc.kill()
    proc.wait()


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path)
    (s.s3).mkdir()
    shutil.copytree(REPO / "models" / "spam-ham", s.models / "spam-ham")
    s.start()
    yield s
    s.stop()


def wait_for(get, done, timeout=60.0):
    """Polls get() until done(value) or the timeout, returning the last value."""
    end = time.time() + timeout
    value = get()
    while not done(value) and time.time() < end:
        time.sleep(0.2)
        value = get()
    return value
