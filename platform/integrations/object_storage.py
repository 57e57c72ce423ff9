"""Uploaded files (client logos) in object storage: S3, or an S3-compatible server, through
django-storages when AWS_STORAGE_BUCKET_NAME is set (config.settings), so no web host keeps an
upload on its own disk. Here: the client settings, what counts as "storage is unavailable", and
the readiness probe."""

import threading

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

S3_BACKEND = "storages.backends.s3.S3Storage"

# What a storage call raises when the store cannot be reached or refuses (S3: botocore's errors;
# files on disk: OSError). FileNotFoundError is one too, for a file that is simply not there:
# callers that mean "missing" catch it first.
STORAGE_ERRORS = (BotoCoreError, ClientError, OSError)


def client_config(endpoint_url: str | None) -> Config:
    """Short timeouts and one retry: a staff member uploading waits seconds, not botocore's
    default minute, when the store is away. An S3-compatible server on its own address takes
    path-style requests (http://host:port/bucket/key), not a bucket subdomain."""
    return Config(connect_timeout=3, read_timeout=10,
                  retries={"max_attempts": 2, "mode": "standard"},
                  signature_version="s3v4",
                  s3={"addressing_style": "path" if endpoint_url else "auto"})


def storage_options(*, bucket: str, endpoint_url: str | None, region: str) -> dict:
    """S3Storage's OPTIONS: private objects (the client site's own view serves the logo, so
    nothing needs a public ACL or a signed URL), and a new name rather than an overwrite."""
    return {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url,
        "region_name": region,
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": False,
        "client_config": client_config(endpoint_url),
    }


_probe_clients: dict = {}
_probe_lock = threading.Lock()


def _probe_client(storage):
    """One S3 client per storage and process for the readiness probe (making a client costs
    more than the probe), with tighter timeouts than uploads and no retry: /readyz must
    answer within a load balancer's few seconds."""
    key = (storage.bucket_name, storage.endpoint_url, storage.region_name)
    with _probe_lock:
        if key not in _probe_clients:
            config = storage.client_config.merge(
                Config(connect_timeout=1, read_timeout=2,
                       retries={"max_attempts": 1, "mode": "standard"}))
            _probe_clients[key] = storage._create_session().client(
                "s3", region_name=storage.region_name, endpoint_url=storage.endpoint_url,
                use_ssl=storage.use_ssl, verify=storage.verify, config=config)
        return _probe_clients[key]


def head_bucket(storage) -> None:
    """Raises unless the bucket answers: one HEAD request, no object read or written."""
    _probe_client(storage).head_bucket(Bucket=storage.bucket_name)
