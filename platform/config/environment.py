"""Reading settings from the environment, with errors that name the variable."""

import os
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    value = env_str(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    value = env_str(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def as_count(name: str, value: str) -> int:
    """A setting that counts something (0 or more)."""
    if not value.strip().isdigit():
        raise ImproperlyConfigured(f"{name} must be a whole number, 0 or more, not {value!r}")
    return int(value)


def require_in_production(name: str, debug: bool, development_default: str) -> str:
    """Production refuses to start without a real value; development gets a safe default."""
    value = env_str(name)
    if value is not None:
        return value
    if debug:
        return development_default
    raise ImproperlyConfigured(
        f"{name} is not set. It is required when DEBUG is off, as it is unless set; see "
        "docs/deployment.md. For development, set DEBUG=1 (the Makefile does)."
    )


def email_settings(url: str | None, mail_dir: str) -> dict:
    """EMAIL_URL: smtp://user:pass@host:port (smtps:// or ?tls=1 for TLS), console://, file://.

    Unset: every message is printed to the console and written under `.data/mail/`.
    """
    if not url:
        return {"EMAIL_BACKEND": "config.mail.ConsoleAndFileBackend", "EMAIL_FILE_PATH": mail_dir}
    parsed = urlparse(url)
    if parsed.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parsed.scheme == "file":
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": parsed.path or mail_dir,
        }
    if parsed.scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if parsed.scheme in ("smtp", "smtps"):
        query = parse_qs(parsed.query)
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parsed.hostname or "localhost",
            "EMAIL_PORT": parsed.port or (465 if parsed.scheme == "smtps" else 25),
            "EMAIL_HOST_USER": unquote(parsed.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
            "EMAIL_USE_SSL": parsed.scheme == "smtps",
            "EMAIL_USE_TLS": query.get("tls", ["0"])[0] in ("1", "true"),
        }
    raise ImproperlyConfigured(
        f"EMAIL_URL scheme {parsed.scheme!r} is not supported: use smtp, smtps, console or file."
    )
