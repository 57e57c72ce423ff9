"""The rules a booking must keep, and the one error type that names the rule broken."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from booking.models import Booking, CourseSession, Offer

BOOKABLE_OFFER_STATUSES = (Offer.Status.OFFERED,)


class BookingRefused(ValidationError):
    """A rule said no. `code` names the rule; the message says it in plain words."""

    def __init__(self, message, code):
        super().__init__(message, code=code)


def local_date(moment: datetime):
    return timezone.localtime(moment).date()


def check_offer_can_book(offer: Offer, now: datetime) -> None:
    today = local_date(now)
    if offer.status == Offer.Status.EXPIRED or offer.critical_date < today:
        raise BookingRefused(_("This offer has expired: the date to complete the course has "
                               "passed, so it has been returned to the police."), "offer_expired")
    if offer.status == Offer.Status.WITHDRAWN:
        raise BookingRefused(_("This offer has been withdrawn by the police."), "offer_withdrawn")
    if offer.status not in BOOKABLE_OFFER_STATUSES:
        raise BookingRefused(_("This offer already has a booking or an outcome."),
                             "offer_not_bookable")
    if offer.booking_period_end < today:
        raise BookingRefused(_("The time to book this course ended on %(date)s.")
                             % {"date": formats.date_format(offer.booking_period_end, "j F Y")},
                             "booking_period_ended")


def check_session_fits_offer(session: CourseSession, offer: Offer, now: datetime) -> None:
    """Only sessions of the offer's course, still scheduled, after the lead time and ending on or
    before the critical date."""
    if session.course_type_id != offer.course_type_id:
        raise BookingRefused(_("That date is for a different course."), "wrong_course_type")
    if session.status != CourseSession.Status.SCHEDULED:
        raise BookingRefused(_("That course date has been cancelled."), "session_cancelled")
    if session.starts_at <= now:
        raise BookingRefused(_("That course date is in the past."), "session_in_past")
    lead = timedelta(hours=session.course_type.online_booking_lead_hours)
    if session.starts_at < now + lead:
        raise BookingRefused(_("That course date starts too soon to book: dates must be at least "
                               "%(hours)d hours away.") % {"hours": lead.total_seconds() // 3600},
                             "inside_lead_time")
    if local_date(session.ends_at) > offer.critical_date:
        raise BookingRefused(_("That course date is after the date you must complete the course "
                               "by (%(date)s).")
                             % {"date": formats.date_format(offer.critical_date, "j F Y")},
                             "after_critical_date")


def seats_free(session: CourseSession, now: datetime, *, ignoring_offer_id=None) -> int:
    """Capacity − confirmed bookings − live holds (an offer's own hold can be ignored)."""
    holds = session.holds.filter(expires_at__gt=now)
    if ignoring_offer_id is not None:
        holds = holds.exclude(offer_id=ignoring_offer_id)
    return session.capacity - session.seats_booked - holds.count()


def check_has_seat(session: CourseSession, now: datetime, *, offer_id=None) -> None:
    if seats_free(session, now, ignoring_offer_id=offer_id) <= 0:
        raise BookingRefused(_("Sorry, that course date has just filled up. Choose another date."),
                             "session_full")


def fee_breakdown(course_type) -> dict:
    vat = round(course_type.provider_fee_pence * 0.2) if course_type.vat_applies else 0
    return {
        "course_pence": course_type.provider_fee_pence,
        "police_cost_recovery_pence": course_type.police_cost_recovery_pence,
        "vat_pence": vat,
        "total_pence": (course_type.provider_fee_pence + course_type.police_cost_recovery_pence
                        + vat),
    }


def policy_snapshot(course_type) -> dict:
    return {
        "free_transfer_notice_days": course_type.free_transfer_notice_days,
        "late_transfer_fee_pence": course_type.late_transfer_fee_pence,
        "transfer_cutoff_hours": course_type.transfer_cutoff_hours,
        "max_transfers": course_type.max_transfers,
    }


def transfer_fee(booking: Booking, now: datetime) -> int:
    """Free with enough notice (or when the client cancelled the date); a fee after that."""
    policy = booking.policy_snapshot
    if booking.session.status == CourseSession.Status.CANCELLED:
        return 0
    notice = booking.session.starts_at - now
    if notice >= timedelta(days=policy["free_transfer_notice_days"]):
        return 0
    return policy["late_transfer_fee_pence"]


def check_can_change(booking: Booking, now: datetime) -> None:
    """Transfers and cancellations close `transfer_cutoff_hours` before the course."""
    if booking.status != Booking.Status.CONFIRMED:
        raise BookingRefused(_("Only a confirmed booking can be changed."), "booking_not_confirmed")
    if booking.session.status == CourseSession.Status.CANCELLED:
        return
    cutoff = booking.session.starts_at - timedelta(hours=booking.policy_snapshot[
        "transfer_cutoff_hours"])
    if now >= cutoff:
        raise BookingRefused(_("This booking can no longer be changed online: changes close "
                               "%(hours)d hours before the course. Call us instead.")
                             % {"hours": booking.policy_snapshot["transfer_cutoff_hours"]},
                             "change_cutoff_passed")
