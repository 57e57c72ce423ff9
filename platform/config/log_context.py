"""Every log line as one JSON object carrying the client (schema and domain), the request id and
the signed-in user's id, so one request's lines can be found and followed across web hosts.

The request id comes from the load balancer's X-Request-ID when it sent a sane one (so a trace
spans both), otherwise a new one; it is returned in X-Request-ID either way, and a person who
reports a problem can quote it. The user id is read only once authentication has looked the
user up: logging never queries the database.
"""

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

_request = contextvars.ContextVar("waymark_request", default=None)
_request_id = contextvars.ContextVar("waymark_request_id", default="")
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
HEADER = "X-Request-ID"


def current_request_id() -> str:
    return _request_id.get()


class RequestContextMiddleware:
    """Outermost: everything logged while the request is handled carries its id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        offered = request.headers.get(HEADER, "")
        request_id = offered if SANE_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        request.request_id = request_id
        tokens = (_request.set(request), _request_id.set(request_id))
        try:
            response = self.get_response(request)
        finally:
            _request.reset(tokens[0])
            _request_id.reset(tokens[1])
        response[HEADER] = request_id
        return response


def _user_id(request) -> int | None:
    # Django caches the user here once the session has been read; before that (or for a
    # visitor who never touches it) there is none to report, and we never load it ourselves.
    user = getattr(request, "_cached_user", None) if request is not None else None
    return user.pk if user is not None and getattr(user, "is_authenticated", False) else None


class RequestContextFilter(logging.Filter):
    """Adds request_id and user_id to every record (after django_tenants' schema_name)."""

    def filter(self, record):
        record.request_id = _request_id.get()
        record.user_id = _user_id(_request.get())
        return True


RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context fields, any extra
    fields the call passed, and the traceback as text."""

    def format(self, record):
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "schema": getattr(record, "schema_name", None),
            "domain": getattr(record, "domain_url", None),
            "request_id": getattr(record, "request_id", "") or None,
            "user_id": getattr(record, "user_id", None),
        }
        for key, value in vars(record).items():
            if key not in RESERVED and key not in line and key not in (
                    "schema_name", "domain_url"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)
