"""What the GOV.UK service measures need that no other record holds: how many people started
the booking journey each day (a bare counter, so nobody is tracked) and the one-question
satisfaction survey offered on the confirmation page."""

import functools
import operator

from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .bookings import Booking
from .catalogue import Language

SURVEY_COMMENT_LENGTH = 1200


class JourneyStartDay(models.Model):
    """People who found their offer and started booking on one Europe/London day: a count and
    nothing else (no session, address or offer), so completion is measured without tracking."""

    day = models.DateField(unique=True)
    started = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day"]

    def __str__(self):
        return f"{self.day}: {self.started}"


class SatisfactionResponse(models.Model):
    """One answer to "Overall, how did you feel about the service you received today?" on
    GOV.UK's five-point scale. Linked to the booking it followed (so each booking answers
    once) and to nothing about the person; an answer from the feedback link outside a booking
    has no booking."""

    class Level(models.TextChoices):
        # Best first, as GOV.UK's feedback pages list them.
        VERY_SATISFIED = "very_satisfied", _("Very satisfied")
        SATISFIED = "satisfied", _("Satisfied")
        NEUTRAL = "neutral", _("Neither satisfied nor dissatisfied")
        DISSATISFIED = "dissatisfied", _("Dissatisfied")
        VERY_DISSATISFIED = "very_dissatisfied", _("Very dissatisfied")

    SATISFIED_LEVELS = (Level.VERY_SATISFIED, Level.SATISFIED)

    booking = models.OneToOneField(Booking, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="satisfaction")
    level = models.CharField(max_length=20, choices=Level.choices)
    comment = models.TextField(blank=True, validators=[MaxLengthValidator(SURVEY_COMMENT_LENGTH)])
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], name="satisfaction_answered",
                                include=["level"])]
        constraints = [
            # OR-ed equalities, not level__in: PostgreSQL prints an IN over varchar in a form
            # that reads back differently, so the onboarding clone's copy would not match.
            models.CheckConstraint(condition=functools.reduce(operator.or_, (
                models.Q(level=level) for level in (
                    "very_satisfied", "satisfied", "neutral", "dissatisfied",
                    "very_dissatisfied"))),
                name="satisfaction_level_known"),
        ]

    def __str__(self):
        return f"{self.get_level_display()} {self.created_at:%Y-%m-%d}"
