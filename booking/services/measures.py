"""The GOV.UK service measures' own records: a day's count of booking journeys started, and
answers to the one-question satisfaction survey."""

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import Booking, JourneyStartDay, SatisfactionResponse
from booking.models.measures import SURVEY_COMMENT_LENGTH

from .rules import BookingRefused


def count_journey_start(*, now=None) -> None:
    """One more person started booking today (Europe/London): a single upsert, so two people
    starting at once both count and nothing is read first."""
    day = timezone.localdate(now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {JourneyStartDay._meta.db_table} (day, started) VALUES (%s, 1) "
            "ON CONFLICT (day) DO UPDATE SET started = "
            f"{JourneyStartDay._meta.db_table}.started + 1", [day])


def check_answer(level: str, comment: str) -> str:
    if level not in SatisfactionResponse.Level.values:
        raise BookingRefused(_("Select how you feel about the service."), "unknown_level")
    comment = (comment or "").strip()
    if len(comment) > SURVEY_COMMENT_LENGTH:
        raise BookingRefused(_("Your comments must be %(max)d characters or fewer.")
                             % {"max": SURVEY_COMMENT_LENGTH}, "comment_too_long")
    return comment


def already_answered(booking: Booking | None) -> bool:
    return booking is not None and SatisfactionResponse.objects.filter(booking=booking).exists()


def record_satisfaction(*, level: str, comment: str, language: str, booking: Booking | None,
                        now=None) -> SatisfactionResponse:
    """Keeps one answer; a booking answers once (the database refuses a second, however the
    two arrive). Nothing about the person is kept but the booking it followed."""
    comment = check_answer(level, comment)
    try:
        with transaction.atomic(durable=True):
            return SatisfactionResponse.objects.create(
                booking=booking, level=level, comment=comment,
                language="cy" if (language or "").startswith("cy") else "en",
                created_at=now or timezone.now())
    except IntegrityError:
        raise BookingRefused(_("You have already told us how you felt about this booking."),
                             "already_answered") from None
