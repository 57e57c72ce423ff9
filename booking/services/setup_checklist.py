"""The set-up checklist of a newly onboarded client, each item ticked from the real state of
its schema and its organisation, never from a flag someone sets: shown in /manage/ and on the
client's page in the provider console.

The first five are what a booking needs (a merchant account that can take charges, a course
type with its fee, somewhere to hold it, a trainer and a date ahead); `taking_bookings` is
whether all of them are done. Branding, staff, e-mail wording and the accessibility statement are recommended."""

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import CorrespondenceTemplate, CourseSession, CourseType, Trainer, Venue


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    done: bool
    needed_for_bookings: bool
    # The /manage/ URL name where it is done (the console links to the client's site).
    url_name: str


def setup_checklist(organisation) -> list[ChecklistItem]:
    """Run in the client's schema."""
    now = timezone.now()
    active_types = CourseType.objects.filter(is_active=True)
    has_online = active_types.filter(delivery_modes__contains=["online"]).exists()
    staff = organisation.memberships.filter(is_active=True).count()
    return [
        ChecklistItem("merchant_account", _("Connect the merchant account (card payments)"),
                      bool(organisation.stripe_account_id and organisation.stripe_charges_enabled),
                      True, "manage:merchant_account"),
        ChecklistItem("course_types", _("Set the course types and their fees"),
                      active_types.exists(), True, "manage:course_types"),
        ChecklistItem("venues", _("Add the venues"),
                      has_online or Venue.objects.filter(is_active=True).exists(), True,
                      "manage:venues"),
        ChecklistItem("trainers", _("Add the trainers"),
                      Trainer.objects.filter(is_active=True).exists(), True, "manage:trainers"),
        ChecklistItem("dates", _("Schedule course dates"),
                      CourseSession.objects.filter(status=CourseSession.Status.SCHEDULED,
                                                   starts_at__gt=now).exists(), True,
                      "manage:sessions"),
        ChecklistItem("branding", _("Check the branding and contact details"),
                      bool(organisation.logo and organisation.contact_phone
                           and organisation.contact_email), False, "manage:branding"),
        ChecklistItem("staff", _("Invite the staff"), staff > 1, False, "manage:staff"),
        ChecklistItem("email_wording", _("Check the wording of the e-mails"),
                      CorrespondenceTemplate.objects.exists(), False, "manage:correspondence"),
        ChecklistItem("accessibility", _("Review the accessibility statement"),
                      organisation.accessibility_reviewed_on is not None, False,
                      "manage:accessibility"),
    ]


def taking_bookings(items: list[ChecklistItem]) -> bool:
    return all(item.done for item in items if item.needed_for_bookings)
