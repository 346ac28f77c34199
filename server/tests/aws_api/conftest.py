"""A real `trailsight serve` with the demo history, and the real aws CLI and boto3 pointed at it.

The server binary comes from TRAILSIGHT_BIN (set by scripts/test.sh) or target/debug.
"""
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[3]
BIN = os.environ.get("TRAILSIGHT_BIN", str(ROOT / "target" / "debug" / "trailsight"))
KEY_ID, SECRET = "AKIATRAILSIGHTTEST01", "trailsight/test/secret/key/0123456789abcdef"
# The demo of this seed and end holds the Invictus attack at 2026-03-10 11:54-12:09 UTC.
DEMO = ["--seed", "7", "--end", "2026-03-10T18:00:00Z"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url, db):
        self.url, self.db = url, db

    def trailsight(self, *args, stdin=None):
        return subprocess.run([BIN, *args, "--db", f"sqlite://{self.db}"], input=stdin,
                              capture_output=True, check=True)


@pytest.fixture(scope="session")
def server():
    tmp = tempfile.mkdtemp(prefix="trailsight-aws-")
    db = os.path.join(tmp, "api.db")
    subprocess.run([BIN, "demo", "--db", f"sqlite://{db}", *DEMO], check=True, capture_output=True)
    port = free_port()
    env = dict(os.environ, TRAILSIGHT_AWS_ACCESS_KEY_ID=KEY_ID, TRAILSIGHT_AWS_SECRET_ACCESS_KEY=SECRET,
               RUST_LOG="warn")
    proc = subprocess.Popen([BIN, "serve", "--db", f"sqlite://{db}", "--addr", f"127.0.0.1:{port}",
                             "--detect-every", "0"], env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError("trailsight serve did not start")
    yield Server(url, db)
    proc.terminate()
    proc.wait(timeout=10)


def make_client(server, key_id=KEY_ID, secret=SECRET, region="us-east-1", **config):
    return boto3.client("cloudtrail", endpoint_url=server.url, region_name=region,
                        aws_access_key_id=key_id, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}, **config))


@pytest.fixture(scope="session")
def client(server):
    return make_client(server)


class AwsCli:
    """Runs the real `aws` command against the server; returns parsed JSON output."""

    def __init__(self, server):
        self.server = server
        self.exe = str(Path(os.environ.get("VIRTUAL_ENV", "")) / "bin" / "aws") if os.environ.get("VIRTUAL_ENV") else "aws"

    def run(self, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET,
                   AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_MAX_ATTEMPTS="1")
        return subprocess.run([self.exe, "cloudtrail", *args, "--endpoint-url", self.server.url,
                               "--output", "json"], env=env, capture_output=True, text=True)

    def json(self, *args):
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}


@pytest.fixture(scope="session")
def aws(server):
    return AwsCli(server)
