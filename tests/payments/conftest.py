"""What the payment tests share: a client of their own for tests whose data must be committed
(threads, each with its own connection, see only committed rows; event rows cannot be deleted,
so the session's clients are not used), a localstripe of their own that can be stopped and
started again, and a few threads released at the same moment."""

import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from django.db import connection, connections

from tenants.services import NewClient, onboard_client

from ..conftest import enable_card_payments

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def own_client(transactional_db, stripe_api):
    """A fresh client taking card payments (and MOTO), its schema dropped afterwards; the public
    rows go with the end-of-test flush."""
    slug = f"pay-{secrets.token_hex(4)}"
    organisation = onboard_client(
        NewClient(name=f"Payments {slug}", slug=slug, kind="county_council",
                  admin_email=f"admin@{slug}.test", contact_phone="0300 123 4567"),
        acting_user="tests")
    enable_card_payments(organisation, allow_moto=True)
    yield organisation
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{organisation.schema_name}" CASCADE')


def host_of(organisation) -> dict:
    return {"HTTP_HOST": f"{organisation.slug}.localhost"}


def at_once(*calls, timeout=60):
    """Run each call in its own thread (its own database connection), all released together;
    returns each call's result, or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except Exception as error:  # noqa: BLE001 — handed to the test's assertions
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    return results


class LocalStripe:
    """localstripe in a subprocess on a fixed port, its data kept in a file, so it can be
    stopped (the payment service is down) and started again knowing what it knew."""

    def __init__(self, store: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.store = store
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "config.localstripe_server", "--port", str(self.port),
             "--store", str(self.store)],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": f"{ROOT}/platform:{ROOT}"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                requests.get(self.base + "/js.stripe.com/v3/", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("localstripe did not start")

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def restartable_stripe(tmp_path, settings):
    """The app pointed at a localstripe of this test's own, which the test can stop and start."""
    server = LocalStripe(tmp_path / "localstripe.pickle")
    server.start()
    settings.STRIPE_API_BASE = server.base
    settings.STRIPE_SECRET_KEY = "sk_test_waymark"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_waymark"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_waymark"
    yield server
    server.stop()
