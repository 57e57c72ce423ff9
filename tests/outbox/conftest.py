"""A real SMTP server on a loopback port (aiosmtpd): one that accepts, or one that refuses."""

import socket

import pytest
from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, refuse: bool):
        self.refuse = refuse
        self.received = []
        self.refused = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            self.refused += 1
            return "554 5.7.1 Relay access denied"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.content.decode("utf8", errors="replace"))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _smtp(settings, refuse: bool):
    recorder = Recorder(refuse)
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    return controller, recorder


@pytest.fixture
def smtp_server(settings):
    controller, recorder = _smtp(settings, refuse=False)
    yield recorder
    controller.stop()


@pytest.fixture
def refusing_smtp_server(settings):
    controller, recorder = _smtp(settings, refuse=True)
    yield recorder
    controller.stop()
