"""Settings from the environment: production unless DEBUG is set, safe development defaults with it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.environment import email_settings, env_bool
from config.settings_test import redis_url_for_worker

ROOT = Path(__file__).resolve().parents[1]


def run_manage(*args, **env):
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("SECRET_KEY", "DEBUG", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET",
                                "TRUSTED_PROXY_HOPS",
                                # set by the browser tests for Playwright's event loop
                                "DJANGO_ALLOW_ASYNC_UNSAFE")}
    # Production's settings, not the suite's (pytest-django exports config.settings_test).
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def test_production_without_secret_key_is_a_clear_error():
    result = run_manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_is_off_unless_set_so_a_forgotten_secret_stops_start_up():
    result = run_manage("check")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "For development, set DEBUG=1" in result.stderr


def test_development_is_asked_for_with_debug():
    result = run_manage("check", DEBUG="1")
    assert result.returncode == 0, result.stdout + result.stderr


def test_links_are_sent_as_http_or_https_only():
    result = run_manage("check", DEBUG="1", PUBLIC_SCHEME="ftp")
    assert result.returncode != 0
    assert "PUBLIC_SCHEME must be http or https, not 'ftp'" in result.stderr


def test_production_without_trusted_proxy_hops_is_a_clear_error():
    result = run_manage("check", DEBUG="0", SECRET_KEY="x" * 60)
    assert result.returncode != 0
    assert "TRUSTED_PROXY_HOPS is not set" in result.stderr


def test_trusted_proxy_hops_must_be_a_count():
    result = run_manage("check", DEBUG="1", TRUSTED_PROXY_HOPS="one")
    assert result.returncode != 0
    assert "TRUSTED_PROXY_HOPS must be a whole number" in result.stderr


def test_production_without_stripe_keys_is_a_clear_error():
    result = run_manage("check", DEBUG="0", SECRET_KEY="x" * 60, TRUSTED_PROXY_HOPS="1")
    assert result.returncode != 0
    assert "STRIPE_SECRET_KEY is not set" in result.stderr


def test_check_deploy_is_clean_in_production_mode_which_needs_no_debug_setting():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING",
        SECRET_KEY="prod-" + "k3y-0f-m4ny-d1ff3r3nt-ch4r4ct3rs-" * 2, TRUSTED_PROXY_HOPS="1",
        STRIPE_SECRET_KEY="sk_live_placeholder", STRIPE_WEBHOOK_SECRET="whsec_placeholder",
        ALLOWED_HOSTS="bookings.example.org,.bookings.example.org",
        PLATFORM_DOMAIN="bookings.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_notify_key_without_its_text_template_is_a_clear_error():
    result = run_manage("check", DEBUG="1", NOTIFY_API_KEY="waymark-" + "0" * 73)
    assert result.returncode != 0
    assert "NOTIFY_SMS_TEMPLATE_ID is not" in result.stderr


def test_email_url_forms():
    assert email_settings(None, "/tmp/m")["EMAIL_BACKEND"] == "config.mail.ConsoleAndFileBackend"
    smtp = email_settings("smtp://user%40x:p%40ss@mail.example.org:587?tls=1", "/tmp/m")
    assert (smtp["EMAIL_HOST"], smtp["EMAIL_PORT"], smtp["EMAIL_HOST_USER"],
            smtp["EMAIL_HOST_PASSWORD"], smtp["EMAIL_USE_TLS"]) == (
        "mail.example.org", 587, "user@x", "p@ss", True)
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        email_settings("pigeon://coop", "/tmp/m")


def test_booleans_are_strict(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        env_bool("DEBUG", default=True)


def test_forwarded_addresses_are_believed_only_from_our_proxies(rf, settings):
    from audit.services import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 10.0.0.9", REMOTE_ADDR="10.0.0.1")
    settings.TRUSTED_PROXY_HOPS = 0
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_HOPS = 1  # the load balancer appended the real caller, 10.0.0.9
    assert client_ip(request) == "10.0.0.9"


def test_each_test_worker_has_a_redis_database_of_its_own():
    assert redis_url_for_worker("redis://127.0.0.1:6379/8", None) == "redis://127.0.0.1:6379/8"
    assert redis_url_for_worker("redis://127.0.0.1:6379/8", "gw0") == "redis://127.0.0.1:6379/8"
    assert redis_url_for_worker("redis://:pw@redis:6379/8", "gw1") == "redis://:pw@redis:6379/9"
    assert redis_url_for_worker("redis://127.0.0.1:6379", "gw2") == "redis://127.0.0.1:6379/2"
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        redis_url_for_worker("redis://127.0.0.1:6379/cache", "gw1")


def test_development_calls_localstripe_and_links_on_the_ports_make_run_was_given():
    result = run_manage("shell", "-c",
                        "from django.conf import settings; "
                        "print(settings.STRIPE_API_BASE, settings.PUBLIC_PORT)",
                        DEBUG="1", LOCALSTRIPE_PORT="8424", PUBLIC_PORT="8123")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["http://127.0.0.1:8424", "8123"]


def test_make_run_gives_the_server_its_ports_for_localstripe_and_links(tmp_path):
    # The real Makefile in a scratch directory, with a stand-in Python that prints what the
    # server would be started with; seed and localstripe are taken as done (-o).
    (tmp_path / "Makefile").write_text((ROOT / "Makefile").read_text())
    (tmp_path / ".data").mkdir()
    python = tmp_path / "python"
    python.write_text('#!/bin/sh\necho "$@ LOCALSTRIPE_PORT=$LOCALSTRIPE_PORT PUBLIC_PORT=$PUBLIC_PORT'
                      ' AWS_S3_ENDPOINT_URL=$AWS_S3_ENDPOINT_URL'
                      ' AWS_STORAGE_BUCKET_NAME=$AWS_STORAGE_BUCKET_NAME"\n')
    python.chmod(0o755)
    result = subprocess.run(["make", "-o", "seed", "-o", "localstripe", "-o", "object-storage",
                             "run", f"PY={python}", "PORT=8123", "LOCALSTRIPE_PORT=8424",
                             "OBJECT_STORAGE_PORT=8434"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert ("manage.py runserver 0.0.0.0:8123 LOCALSTRIPE_PORT=8424 PUBLIC_PORT=8123"
            " AWS_S3_ENDPOINT_URL=http://127.0.0.1:8434 AWS_STORAGE_BUCKET_NAME=waymark-media"
            in result.stdout)
    plan = subprocess.run(["make", "-n", "localstripe", "LOCALSTRIPE_PORT=8424", "-o", "install"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert "config.localstripe_server --port 8424" in plan.stdout
    plan = subprocess.run(["make", "-n", "object-storage", "OBJECT_STORAGE_PORT=8434",
                           "-o", "install"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert "config.object_storage_server --host 127.0.0.1 --port 8434" in plan.stdout
    # A real bucket in the environment is used as it is: no local server, no endpoint.
    result = subprocess.run(["make", "-o", "seed", "-o", "localstripe", "-o", "install", "run",
                             f"PY={python}", "PORT=8123"], cwd=tmp_path,
                            env={**os.environ, "AWS_STORAGE_BUCKET_NAME": "real-bucket"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Object storage on" not in result.stdout
    assert ("AWS_S3_ENDPOINT_URL= AWS_STORAGE_BUCKET_NAME=real-bucket" in result.stdout)


def test_make_stop_stops_the_server_localstripe_and_the_embedded_postgres(tmp_path):
    (tmp_path / "Makefile").write_text((ROOT / "Makefile").read_text())
    (tmp_path / ".data").mkdir()
    sleeper = subprocess.Popen(["sleep", "60"])
    (tmp_path / ".data" / "localstripe.pid").write_text(str(sleeper.pid))
    result = subprocess.run(["make", "stop"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert sleeper.wait(timeout=10) != 0  # terminated, not finished
    assert f"Stopped localstripe ({sleeper.pid})." in result.stdout
    assert not (tmp_path / ".data" / "localstripe.pid").exists()
    plan = subprocess.run(["make", "-n", "stop"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert "config.embedded stop" in plan.stdout
