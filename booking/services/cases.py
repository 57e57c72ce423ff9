"""Special-circumstances cases: raised by the client's staff or referred by a contact-centre
call, assigned to an administrator and decided (approved with the arrangement agreed, or
declined with the reason). An offer waiting to be booked shows "special arrangement pending"
while its case is open.

Every change is one durable transaction with a keyword-only `actor`, on the offer's timeline and
in the audit trail; problems are a ValidationError keyed by the form field (a call's problems, a
BookingRefused, as every contact-centre service's).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
from audit.services import record
from booking.models import Booking, CallLog, Channel, Offer, SpecialCircumstancesCase

from .calls import check_call, create_call
from .editing import field_errors
from .events import actor_label, log_event
from .rules import BookingRefused


def _case_after(case: SpecialCircumstancesCase) -> dict:
    return {"case": case.pk, "kind": case.kind, "status": case.status,
            "assigned_to": case.assigned_to, "decision_note": case.decision_note}


def raise_case(offer_id, *, kind: str, notes: str, actor, organisation=None, ip_address=None,
               now=None) -> SpecialCircumstancesCase:
    """Open a special-circumstances case. An offer waiting to be booked shows "special
    arrangement pending" until the case is decided."""
    now = now or timezone.now()
    notes = (notes or "").strip()
    if kind not in SpecialCircumstancesCase.Kind.values:
        raise field_errors(kind=_("Select the kind of special circumstances."))
    if not notes:
        raise field_errors(notes=_("Enter notes about the person's circumstances."))
    label, user_id = actor_label(actor)
    with transaction.atomic(durable=True):
        offer = Offer.objects.select_for_update().get(pk=offer_id)
        if SpecialCircumstancesCase.objects.filter(
                offer=offer, status=SpecialCircumstancesCase.Status.OPEN).exists():
            raise field_errors(kind=_("This offer already has an open case: add to that one."))
        case = SpecialCircumstancesCase.objects.create(
            offer=offer, kind=kind, notes=notes, raised_by=label, raised_by_user_id=user_id,
            offer_status_before=offer.status, created_at=now)
        before_status = offer.status
        if offer.status == Offer.Status.OFFERED:
            offer.status = Offer.Status.SPECIAL_ARRANGEMENT
            offer.save(update_fields=["status", "updated_at"])
        log_event(offer, "case.raised", channel=Channel.ADMIN, actor=actor, now=now,
                  before={"status": before_status},
                  after=dict(_case_after(case), notes=notes, offer_status=offer.status))
        record(actor=actor, action="case.raised", obj=case, organisation=organisation,
               after=dict(_case_after(case), notes=notes), ip_address=ip_address)
        return case


def case_assignees(organisation):
    """Who may take a case: active administrators at this client."""
    return (User.objects.filter(is_active=True, memberships__organisation=organisation,
                                memberships__role=Role.CLIENT_ADMIN,
                                memberships__is_active=True)
            .distinct().order_by("email"))


def _lock_open_case(case_id) -> SpecialCircumstancesCase:
    offer_id = SpecialCircumstancesCase.objects.values_list("offer_id", flat=True).get(pk=case_id)
    Offer.objects.select_for_update().filter(pk=offer_id).first()
    case = SpecialCircumstancesCase.objects.select_for_update(of=("self",)).select_related(
        "offer").get(pk=case_id)
    if case.status != SpecialCircumstancesCase.Status.OPEN:
        raise field_errors(note=_("This case has already been decided."))
    return case


def assign_case(case_id, assignee_user_id, *, actor, organisation, ip_address=None,
                now=None) -> SpecialCircumstancesCase:
    now = now or timezone.now()
    assignee = case_assignees(organisation).filter(pk=assignee_user_id).first()
    if assignee is None:
        raise field_errors(assignee=_("Choose an administrator of this client."))
    with transaction.atomic(durable=True):
        case = _lock_open_case(case_id)
        before = _case_after(case)
        case.assigned_to_user_id = assignee.pk
        case.assigned_to = assignee.email
        case.save(update_fields=["assigned_to_user_id", "assigned_to", "updated_at"])
        log_event(case.offer, "case.assigned", channel=Channel.ADMIN, actor=actor, now=now,
                  before=before, after=_case_after(case))
        record(actor=actor, action="case.assigned", obj=case, organisation=organisation,
               before=before, after=_case_after(case), ip_address=ip_address)
        return case


def decide_case(case_id, *, approve: bool, note: str, actor, organisation=None,
                ip_address=None, now=None) -> SpecialCircumstancesCase:
    """Approve with the arrangement agreed, or decline with the reason. The offer goes back to
    the status it had, so it can be booked (with the arrangement) again."""
    now = now or timezone.now()
    note = (note or "").strip()
    if not note:
        raise field_errors(note=_("Enter the arrangement agreed.") if approve
                           else _("Enter why the request is declined."))
    label, _user_id = actor_label(actor)
    with transaction.atomic(durable=True):
        case = _lock_open_case(case_id)
        before = _case_after(case)
        case.status = (SpecialCircumstancesCase.Status.APPROVED if approve
                       else SpecialCircumstancesCase.Status.DECLINED)
        case.decision_note = note
        case.decided_by = label
        case.decided_at = now
        case.save(update_fields=["status", "decision_note", "decided_by", "decided_at",
                                 "updated_at"])
        offer = case.offer
        offer_before = offer.status
        if offer.status == Offer.Status.SPECIAL_ARRANGEMENT:
            offer.status = case.offer_status_before or Offer.Status.OFFERED
            if offer.status == Offer.Status.OFFERED and offer.critical_date < timezone.localdate(
                    now):
                offer.status = Offer.Status.EXPIRED
            offer.save(update_fields=["status", "updated_at"])
        log_event(offer, "case.approved" if approve else "case.declined", channel=Channel.ADMIN,
                  actor=actor, now=now, before=dict(before, offer_status=offer_before),
                  after=dict(_case_after(case), offer_status=offer.status))
        record(actor=actor, action="case.approved" if approve else "case.declined", obj=case,
               organisation=organisation, before=before, after=_case_after(case),
               ip_address=ip_address)
        return case


def open_case(offer: Offer):
    """The offer's open special-circumstances case, if any."""
    return offer.cases.filter(status=SpecialCircumstancesCase.Status.OPEN).first()


def raise_special_circumstances(offer_id, *, actor, kind: str, details: str,
                                duration_minutes: int, organisation=None, ip_address=None,
                                started_at=None, now=None) -> tuple[CallLog, object | None]:
    """The agent does not decide. The call opens a special-circumstances case for the client's
    administrators (raise_case: the offer shows "special arrangement pending" until they
    decide) and is logged as special circumstances, referred.

    If the offer already has an open case, the call is referred to it instead: logged, with
    "special_circumstances.raised" on the offer's timeline, which the administrators' case list
    shows. Returns (call, the new case or None)."""
    now = now or timezone.now()
    details = (details or "").strip()
    if kind not in SpecialCircumstancesCase.Kind.values:
        raise BookingRefused(_("Select what the caller is asking for."), "unknown_kind")
    if not details:
        raise BookingRefused(_("Describe the caller's circumstances for the administrators."),
                             "details_missing")
    check_call(CallLog.Type.SPECIAL_CIRCUMSTANCES, CallLog.Outcome.REFERRED, duration_minutes,
               details)
    offer = Offer.objects.filter(pk=offer_id).first()
    if offer is None:
        raise BookingRefused(_("That offer does not exist."), "unknown_offer")
    case = None
    if open_case(offer) is None:
        try:
            case = raise_case(offer.pk, kind=kind, notes=details, actor=actor,
                              organisation=organisation, ip_address=ip_address, now=now)
        except ValidationError as error:
            if open_case(offer) is None:  # refused for another reason than a case opened meanwhile
                raise BookingRefused(error.messages[0], "case_refused") from None
    with transaction.atomic(durable=True):
        offer = Offer.objects.get(pk=offer.pk)
        booking = offer.bookings.filter(status__in=Booking.ACTIVE).first()
        call = create_call(actor=actor, call_type=CallLog.Type.SPECIAL_CIRCUMSTANCES,
                           outcome=CallLog.Outcome.REFERRED, duration_minutes=duration_minutes,
                           notes=details, offer=offer, booking=booking, started_at=started_at,
                           now=now)
        if case is None:
            log_event(offer, "special_circumstances.raised", channel=Channel.TELEPHONE,
                      actor=actor, booking=booking, now=now,
                      after={"call": call.pk, "category": kind, "details": details,
                             "offer_status": offer.status})
        return call, case
