"""The set-up checklist of a newly onboarded client, each item ticked from the real state of
its schema and its organisation, never from a flag someone sets: shown in /manage/ and on the
client's page in the provider console.

The first five are what a booking needs (a merchant account that can take charges, a course
type with its fee, somewhere to hold it, a trainer and a date ahead); `taking_bookings` is
whether all of them are done. Branding, staff, e-mail wording and the accessibility statement are recommended.

`taking_bookings_now` is the public site's gate, asked on every page of the journey: the answer
is remembered in the shared cache (issue 13: the checklist was 6 statements on every page).
Correctness before speed, as tenants.routing_cache does it: the answer is kept under the
client's set-up "generation", a token that any save or delete of what the answer depends on
(a course type, a venue, a trainer, a date, the organisation's merchant account) replaces once
it has committed, so a checklist newly done opens the journey at the next request and one newly
undone closes it, in every process. An answer computed from the rows before such a change is
stored under the old token and never read again. "A date ahead" also stops being true with time
alone, so a yes is kept no longer than until the last scheduled date starts. A change made behind
the ORM's signals (a queryset update, raw SQL) is seen within TAKING_BOOKINGS_CACHE_SECONDS;
0 switches the cache off. While the cache cannot be reached, the checklist is asked every time."""

import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tenants.utils import schema_context

from booking.models import CorrespondenceTemplate, CourseSession, CourseType, Trainer, Venue

log = logging.getLogger(__name__)

# Cache keys carry the schema they are made in (django_tenants.cache.make_key), so both are per
# client; the request path is in the client's schema already.
GENERATION_KEY = "booking:setup-generation"
ANSWER_KEY = "booking:taking-bookings:{generation}"


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


def _lifetime() -> int:
    return int(getattr(settings, "TAKING_BOOKINGS_CACHE_SECONDS", 60))


def _answer(organisation, now) -> tuple[bool, float]:
    """Whether the client takes bookings, and for how many seconds that answer may be kept."""
    answer = taking_bookings(setup_checklist(organisation))
    if not answer:
        return False, _lifetime()
    last_start = (CourseSession.objects.filter(status=CourseSession.Status.SCHEDULED,
                                               starts_at__gt=now)
                  .aggregate(last=Max("starts_at"))["last"])
    if last_start is None:  # the last date started in between: ask again next time
        return True, 0
    return True, min(_lifetime(), (last_start - now).total_seconds())


def taking_bookings_now(organisation) -> bool:
    """`taking_bookings(setup_checklist(organisation))`, remembered for this client's set-up
    generation. Run in the client's schema."""
    if _lifetime() <= 0:
        return taking_bookings(setup_checklist(organisation))
    cache = caches["default"]
    try:
        generation = cache.get(GENERATION_KEY)
        if generation is None:
            cache.add(GENERATION_KEY, uuid.uuid4().hex, None)
            generation = cache.get(GENERATION_KEY)
        key = ANSWER_KEY.format(generation=generation)
        remembered = cache.get(key)
    except Exception as error:  # noqa: BLE001 - any cache failure: ask the checklist instead
        log.warning("Set-up gate not cached: the cache failed (%s)", type(error).__name__)
        return taking_bookings(setup_checklist(organisation))
    if remembered is not None:
        return remembered
    answer, seconds = _answer(organisation, timezone.now())
    if seconds >= 1:
        try:
            cache.set(key, answer, int(seconds))
        except Exception as error:  # noqa: BLE001
            log.warning("Set-up gate not cached: the cache failed (%s)", type(error).__name__)
    return answer


def forget_taking_bookings(schema_name: str) -> None:
    """Every process asks the checklist again at its next request on this client's site."""
    def forget():
        caches["default"].set(GENERATION_KEY, uuid.uuid4().hex, None)

    try:
        if connection.schema_name == schema_name:
            forget()
        else:
            with schema_context(schema_name):
                forget()
    except Exception as error:  # noqa: BLE001
        # The answer already kept stands until TAKING_BOOKINGS_CACHE_SECONDS pass.
        log.error("Set-up gate of %s not invalidated: %s", schema_name, type(error).__name__)


def _changed(sender, instance, **kwargs) -> None:
    # The client's schema is the one the change is made in, except for the organisation itself
    # (a public-schema row, saved from any schema).
    schema_name = (instance.schema_name if sender._meta.label == "tenants.ClientOrganisation"
                   else connection.schema_name)
    # After commit: before it, another request could still read the old rows and keep the
    # answer under the new token. For the organisation, after tenants.routing_cache has
    # forgotten its copy (its receiver, connected first, queues its own callback first), so that
    # a request that sees the new token also sees the new merchant account.
    transaction.on_commit(lambda: forget_taking_bookings(schema_name),
                          using=kwargs.get("using") or connection.alias)


def connect_signals() -> None:
    """What `taking_bookings` reads: any save or delete of these forgets the remembered answer."""
    from tenants.models import ClientOrganisation

    for model in (ClientOrganisation, CourseType, Venue, Trainer, CourseSession):
        post_save.connect(_changed, sender=model, dispatch_uid=f"setup-gate-save-{model}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"setup-gate-del-{model}")
