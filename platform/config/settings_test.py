"""The test suite's settings (pytest's DJANGO_SETTINGS_MODULE, see pyproject.toml).

Production's settings with DEBUG off, loaded from stand-ins for what production must be given
(they reach nothing real), then changed only where plain-HTTP tests, speed and pytest-xdist's
workers need it. DATABASE_URL and REDIS_URL come from the real environment.
"""

import os
from unittest import mock
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured


def redis_url_for_worker(url: str, worker: str | None) -> str:
    """Each pytest-xdist worker (gw0, gw1, …) gets a Redis database of its own, counting on from
    the one in `url`: tests empty the cache (FLUSHDB) and count look-ups per address, and neither
    may reach another worker's tests, nor may its Celery queue."""
    if not worker:
        return url
    parts = urlsplit(url)
    database = parts.path.lstrip("/") or "0"
    if not database.isdigit():
        raise ImproperlyConfigured(f"REDIS_URL must end in a database number, not {parts.path!r}")
    return parts._replace(path=f"/{int(database) + int(worker.removeprefix('gw'))}").geturl()


# Only while the settings load: a command a test runs in a subprocess sees the real environment.
test_environment = {
    # Settings fail closed: with DEBUG off they refuse to start without the next four.
    "DEBUG": "0",
    "SECRET_KEY": "test-suite-only-never-a-real-secret",
    "TRUSTED_PROXY_HOPS": "0",
    "STRIPE_SECRET_KEY": "sk_test_embedded_localstripe",
    "STRIPE_WEBHOOK_SECRET": "whsec_embedded_localstripe",
    # localstripe's address; the tests that pay point it at their own (tests/conftest.py).
    "STRIPE_API_BASE": "http://127.0.0.1:8420",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_embedded_localstripe",
    "EMAIL_URL": "locmem://",
    # Django's test client and live_server speak plain HTTP.
    "SECURE_SSL_REDIRECT": "0",
    # Uploads are files under the test's MEDIA_ROOT, even in a shell that names a real bucket
    # (empty counts as unset); tests/storage points them at a local S3-compatible server.
    "AWS_STORAGE_BUCKET_NAME": "",
}
if os.environ.get("REDIS_URL"):
    test_environment["REDIS_URL"] = redis_url_for_worker(os.environ["REDIS_URL"],
                                                         os.environ.get("PYTEST_XDIST_WORKER"))

with mock.patch.dict(os.environ, test_environment):
    from .settings import *  # noqa: F403
    from .settings import STORAGES

# Tests change clients and domains behind the ORM's signals (queryset updates, rollbacks, a
# transactional test's flush), which a remembered host would not see: every request looks its
# host up. tests/test_routing_cache.py switches the cache on.
TENANT_ROUTING_CACHE_SECONDS = 0
# Likewise the set-up gate's answer (tests/booking/test_setup_gate_cache.py switches it on).
TAKING_BOOKINGS_CACHE_SECONDS = 0
# Secure cookies are for HTTPS, and the suite serves plain HTTP.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# The suite never runs collectstatic: static files come from their source directories.
STORAGES = {**STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
# Most tests make users with passwords, and some make API keys: PBKDF2's million rounds for each
# would dominate the suite.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Kept in integrations.text_messages.outbox, as e-mail is in django.core.mail.outbox.
SMS_BACKEND = "integrations.text_messages.LocmemBackend"
# Outgoing webhooks may go to a receiver on 127.0.0.1 over plain HTTP (outbox/webhooks.py).
WEBHOOKS_ALLOW_LOOPBACK = True
