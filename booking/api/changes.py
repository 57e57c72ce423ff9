"""Paging through what changed: rows in a stable order (`updated_at`, then id), from an
`updated_since` time, a page at a time with an opaque cursor.

The cursor is the (updated_at, id) of the last row of the page, so a page never repeats or
skips a row however rows change between calls: a row that changes again simply comes back
later, with its new time. An integrator keeps the newest `updated_at` it has seen and asks
from a little before it next time (a transaction that commits late can carry a slightly
earlier time); a row seen twice is harmless."""

import base64
import binascii
from datetime import datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500


class ChangesQuerySerializer(serializers.Serializer):
    updated_since = serializers.DateTimeField(
        required=False, help_text="Only rows changed at or after this time (ISO 8601, e.g. "
                                  "2026-01-31T09:00:00Z)")
    cursor = serializers.CharField(required=False, max_length=200,
                                   help_text="`next_cursor` of the previous page")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE,
                                         default=DEFAULT_PAGE_SIZE)

    def validate_cursor(self, value):
        try:
            moment, pk = base64.urlsafe_b64decode(value.encode() + b"==").decode().split("|")
            when = datetime.fromisoformat(moment)
            if timezone.is_naive(when) or not pk.isdigit():
                raise ValueError
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise serializers.ValidationError(
                _("This is not a cursor from a previous page: start again without it.")
            ) from None
        return when, int(pk)



def encode_cursor(row) -> str:
    raw = f"{row.updated_at.isoformat()}|{row.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def page_of(queryset, query_params) -> tuple[list, str | None]:
    """One page of `queryset` (which has `updated_at`) by the request's query, and the cursor
    of the next page (None when this is the last). Bad parameters raise a ValidationError."""
    given = ChangesQuerySerializer(data=query_params)
    given.is_valid(raise_exception=True)
    query = given.validated_data
    queryset = queryset.order_by("updated_at", "pk")
    if "updated_since" in query:
        queryset = queryset.filter(updated_at__gte=query["updated_since"])
    if "cursor" in query:
        when, pk = query["cursor"]
        queryset = queryset.filter(Q(updated_at__gt=when) | Q(updated_at=when, pk__gt=pk))
    size = query["page_size"]
    rows = list(queryset[:size + 1])
    if len(rows) > size:
        return rows[:size], encode_cursor(rows[size - 1])
    return rows, None


def next_url(request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    params = request.query_params.copy()
    params["cursor"] = cursor
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


def changes_page_serializer(name: str, item: type[serializers.Serializer]):
    return type(name, (serializers.Serializer,), {
        "results": item(many=True),
        "next_cursor": serializers.CharField(allow_null=True,
                                             help_text="Pass as `cursor` for the next page; "
                                                       "null on the last page"),
        "next": serializers.URLField(allow_null=True, help_text="The next page's address"),
    })

