"""The sign-in report: every sign-in attempt (succeeded, failed, locked out) and every change
to a second factor (set up, reset), for a client's administrators (their own site's) and for
the provider (all of them). Attempts are recorded from Django's and django-axes' signals, once
each, whichever door they came through (accounts.sign_in_signals); the second factor's steps
by accounts.services. Never the password or code tried."""

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from .models import SignInEvent, User


def record_sign_in(outcome: str, *, email: str, organisation, ip_address, user: User | None = None,
                   reason: str = "", by: User | None = None) -> SignInEvent:
    return SignInEvent.objects.create(
        outcome=outcome, reason=reason, email=(email or "").strip().lower()[:254],
        user=user, organisation=organisation, ip_address=ip_address, by=by)


@dataclass(frozen=True)
class SignInFilter:
    outcome: str = ""
    date_from: date | None = None
    date_to: date | None = None
    email: str = ""


def sign_in_events(*, organisation, everywhere: bool = False,
                   filters: SignInFilter | None = None) -> QuerySet[SignInEvent]:
    """The events on `organisation`'s site (None: the control plane's), or on every site when
    `everywhere` (the provider's view), newest first."""
    filters = filters or SignInFilter()
    events = SignInEvent.objects.select_related("organisation", "by")
    if not everywhere:
        events = events.filter(organisation=organisation)
    if filters.outcome:
        events = events.filter(outcome=filters.outcome)
    if filters.date_from:
        events = events.filter(occurred_at__date__gte=filters.date_from)
    if filters.date_to:
        events = events.filter(occurred_at__date__lte=filters.date_to)
    if filters.email:
        events = events.filter(email__icontains=filters.email.strip())
    return events.order_by("-occurred_at", "-id")
