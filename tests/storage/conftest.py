"""Uploads in object storage: a real S3-compatible server (config.object_storage_server, moto)
on a free loopback port for the session, a fresh bucket for each test, and the app's settings
pointed at it as AWS_STORAGE_BUCKET_NAME and AWS_S3_ENDPOINT_URL would point them."""

import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from config.object_storage_server import create_bucket
from integrations.object_storage import S3_BACKEND, storage_options

# The /manage/ tests' staff and world, so the logo is uploaded as there.
from ..manage.conftest import staff, world  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-2"
# moto takes any credentials; placeholders, not secrets.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "waymark-test", "AWS_SECRET_ACCESS_KEY": "waymark-test"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def object_storage_server():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "config.object_storage_server", "--host", "127.0.0.1",
         "--port", str(port), "--bucket", "waymark-media"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": f"{ROOT}/platform:{ROOT}"},
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    endpoint = f"http://127.0.0.1:{port}"
    # The module says where it listens once its bucket exists.
    line = process.stdout.readline()
    assert line.startswith(f"Object storage (moto, in memory) on {endpoint}"), line
    yield endpoint
    process.terminate()
    process.wait(timeout=10)


def point_storage_at(settings, endpoint: str, bucket: str) -> None:
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": S3_BACKEND,
        "OPTIONS": storage_options(bucket=bucket, endpoint_url=endpoint, region=REGION)}}


@pytest.fixture
def s3(object_storage_server, settings, monkeypatch, tmp_path):
    """The app's uploads in a bucket of this test's own; MEDIA_ROOT an empty directory that
    must stay empty. Returns the bucket as boto3 sees it, to look inside."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    bucket = f"waymark-test-{secrets.token_hex(6)}"
    create_bucket(object_storage_server, bucket, REGION)
    point_storage_at(settings, object_storage_server, bucket)
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    resource = boto3.resource("s3", endpoint_url=object_storage_server, region_name=REGION)
    yield resource.Bucket(bucket)


@pytest.fixture
def storage_down(s3, settings):
    """From now on the app's object storage is a loopback port nobody listens on."""
    def switch_off():
        point_storage_at(settings, f"http://127.0.0.1:{free_port()}", s3.name)
    return switch_off

