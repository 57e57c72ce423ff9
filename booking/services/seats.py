"""The steps the booking services (bookings, changes) take inside their transactions: the row
locks, the offer's one hold, a new booking row, a seat taken or given back.

Locks are always taken in the same order — the offer, then sessions by primary key — so two
services never wait on each other in a cycle. Seats are counted under the session's row lock;
the `session_never_overbooked` constraint is the database's last word.
"""

import functools
import secrets

from django.db import IntegrityError, connection
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import Booking, CourseSession, Hold, Offer
from booking.notifications.compose import READ_IN_SCHEMA

from .events import actor_label
from .rules import BookingRefused

HOLD_MINUTES = 15
# Crockford-style alphabet: no I, L, O, U, so references read out over the phone are unambiguous.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

# Set to False only by the race test's control run, to prove the test can catch an overbooking.
LOCK_SESSIONS = True


def lock_offer(offer_id) -> Offer:
    # of=("self",): lock the offer row only, not the joined course type (which every booking of
    # that course would otherwise queue on).
    return (Offer.objects.select_for_update(of=("self",)).select_related("course_type")
            .get(pk=offer_id))


def lock_offer_of(booking_id) -> Offer:
    """lock_offer for a booking's offer, found in the same statement (a booking's offer never
    changes, so reading it before the lock is safe)."""
    try:
        return (Offer.objects.select_for_update(of=("self",)).select_related("course_type")
                .get(pk=Booking.objects.filter(pk=booking_id).values("offer_id")[:1]))
    except Offer.DoesNotExist:
        raise Booking.DoesNotExist(f"No booking {booking_id}") from None


def lock_sessions(*session_ids) -> dict[int, CourseSession]:
    query = CourseSession.objects.select_related("course_type").filter(
        pk__in=session_ids).order_by("pk")
    if LOCK_SESSIONS:
        query = query.select_for_update(of=("self",))
    return {session.pk: session for session in query}


def upsert_hold(offer, session, expires_at) -> Hold:
    """One statement: the offer's hold (one per offer, by constraint) now points here."""
    hold = Hold(offer=offer, session=session, expires_at=expires_at, created_at=timezone.now())
    Hold.objects.bulk_create([hold], update_conflicts=True, unique_fields=["offer"],
                             update_fields=["session", "expires_at", "created_at"])
    return hold


def _new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def retrying_reference_clash(service):
    """Run the service (one durable transaction) again when its new booking drew a reference
    another booking already has. The unique constraint is the check: rather than a SELECT before
    every INSERT for a clash of 1 in 32^8 per booking (likely somewhere, over a client's
    lifetime of bookings, but never twice running), the rare clash rolls the transaction back
    and it runs once more, with a fresh reference."""

    @functools.wraps(service)
    def run(*args, **kwargs):
        for attempt in range(REFERENCE_ATTEMPTS):
            try:
                return service(*args, **kwargs)
            except IntegrityError as error:
                if "Key (reference)=" not in str(error) or attempt == REFERENCE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    return run


REFERENCE_ATTEMPTS = 3


def read_here(booking: Booking) -> Booking:
    """Mark a booking whose row and offer's row this transaction has read (or written) in the
    current schema, so that its messages need not read them again to know they are this
    client's (booking.notifications.compose.has_no_email)."""
    setattr(booking, READ_IN_SCHEMA, connection.schema_name)
    return booking


def new_booking(offer, session, *, channel, actor, fees, policy, status, now,
                transferred_from=None, transfer_count=0) -> Booking:
    """Call only from a service wrapped in `retrying_reference_clash`."""
    label, _user_id = actor_label(actor)
    return read_here(Booking.objects.create(
        reference=_new_reference(), offer=offer, session=session, channel=channel,
        status=status, fee_pence=fees["total_pence"], fee_snapshot=fees,
        policy_snapshot=policy, made_by=label, transfer_count=transfer_count,
        transferred_from=transferred_from,
        confirmed_at=now if status == Booking.Status.CONFIRMED else None,
    ))


def delete_holds(holds) -> int:
    """Delete the holds of a queryset in one DELETE. QuerySet.delete() first SELECTs them, as
    django-tenants' post_delete receiver (for any model) makes Django collect rows before
    deleting; a Hold has no signal of its own, nothing refers to it and nothing cascades from
    it, so there is nothing to collect."""
    return holds._raw_delete(holds.db)


def take_seat(session: CourseSession, offer: Offer, hold: Hold | None) -> None:
    if hold is not None:
        delete_holds(Hold.objects.filter(offer=offer))
    try:
        CourseSession.objects.filter(pk=session.pk).update(seats_booked=F("seats_booked") + 1)
    except IntegrityError as error:
        # The database's last word: the check constraint refused an overbooking. The whole
        # transaction rolls back as this leaves the service's atomic block.
        if "session_never_overbooked" not in str(error):
            raise
        raise BookingRefused(_("Sorry, that course date has just filled up. Choose another "
                               "date."), "session_full") from error


def give_back_seat(session: CourseSession) -> None:
    CourseSession.objects.filter(pk=session.pk).update(seats_booked=F("seats_booked") - 1)
