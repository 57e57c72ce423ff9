"""One-time keys that make a form's POST idempotent. The page carries a fresh key; the service
that acts records it with what it made, so the same key again (a double click, a retry, a
second tab) is given that instead of acting twice."""

import re
import secrets

FIELD = "request_key"
FORMAT = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_request_key() -> str:
    return secrets.token_urlsafe(16)


def posted_request_key(data) -> str | None:
    """The key a form posted, or None if it posted none that could be one of ours."""
    value = data.get(FIELD, "")
    return value if isinstance(value, str) and FORMAT.fullmatch(value) else None
