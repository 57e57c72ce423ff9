"""Object storage from the environment (the AWS_* names the deployment and the failover drill
set), and /readyz reporting it without taking the host out of service for it."""

import importlib.util
import os
from unittest import mock

import config.settings
from config.settings_test import test_environment

AWS_VARIABLES = ("AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL", "AWS_S3_REGION_NAME")


def settings_with(**environment) -> dict:
    """config.settings as it loads under `environment` (and the suite's stand-in secrets)."""
    with mock.patch.dict(os.environ, test_environment):
        for name in AWS_VARIABLES:
            os.environ.pop(name, None)
        os.environ.update(environment)
        # A fresh copy of the module, never the loaded config.settings the suite runs on.
        spec = importlib.util.spec_from_file_location("config.settings_probe",
                                                      config.settings.__file__)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return vars(module)


def test_without_a_bucket_uploads_are_files_as_before():
    storage = settings_with()["STORAGES"]["default"]
    assert storage == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_a_bucket_in_the_environment_puts_uploads_in_s3():
    storage = settings_with(AWS_STORAGE_BUCKET_NAME="waymark-media-prod")["STORAGES"]["default"]
    options = storage["OPTIONS"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert options["bucket_name"] == "waymark-media-prod"
    assert options["region_name"] == "eu-west-2" and options["endpoint_url"] is None
    assert options["default_acl"] is None and options["file_overwrite"] is False
    assert options["client_config"].s3 == {"addressing_style": "auto"}


def test_an_s3_compatible_server_is_reached_path_style():
    options = settings_with(AWS_STORAGE_BUCKET_NAME="media",
                            AWS_S3_ENDPOINT_URL="http://10.0.0.5:9000",
                            AWS_S3_REGION_NAME="eu-west-1")["STORAGES"]["default"]["OPTIONS"]
    assert options["endpoint_url"] == "http://10.0.0.5:9000"
    assert options["region_name"] == "eu-west-1"
    assert options["client_config"].s3 == {"addressing_style": "path"}


def test_readiness_reports_object_storage_and_does_not_fail_on_it(essex, client, s3,
                                                                    storage_down):
    ready = client.get("/readyz", HTTP_HOST="essex.localhost")
    assert ready.status_code == 200
    check = ready.json()["checks"]["object_storage"]
    assert check["ok"] is True and check["required"] is False

    storage_down()
    ready = client.get("/readyz", HTTP_HOST="essex.localhost")
    body = ready.json()
    assert ready.status_code == 200 and body["status"] == "ok"
    assert body["checks"]["object_storage"] == {
        "ok": False, "error": "EndpointConnectionError", "required": False}


def test_readiness_without_s3_has_no_storage_check(essex, client):
    assert "object_storage" not in client.get("/readyz", HTTP_HOST="essex.localhost"
                                              ).json()["checks"]
