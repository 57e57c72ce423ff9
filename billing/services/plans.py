"""Price plans: dated versions, which plan a client is on, checked field by field."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from audit.services import record as audit
from billing.models import ClientPlan, MonthClose, PricePlan, PricePlanVersion, VatRate
from tenants.models import ClientOrganisation

from .periods import month_start

MONEY_FIELDS = ("telephone_surcharge_pence", "call_fee_pence", "card_rate_basis_points",
                "monthly_minimum_pence")


def check_tiers(tiers) -> list:
    """Tiers cover 1, 2, … with no gap or overlap; the last has no end. Returns them
    normalised; raises ValidationError on "tiers" naming the tier."""
    if not isinstance(tiers, list) or not tiers:
        raise ValidationError({"tiers": _("Enter at least one tier.")})
    clean = []
    expected_first = 1
    for number, tier in enumerate(tiers, start=1):
        try:
            first = int(tier["first"])
            last = None if tier.get("last") in (None, "") else int(tier["last"])
            unit = int(tier.get("unit_pence", 0))
            flat = int(tier.get("flat_pence", 0) or 0)
        except (KeyError, TypeError, ValueError):
            raise ValidationError({"tiers": _("Tier %(n)d needs whole numbers for its first "
                                              "and last booking and its prices.") % {"n": number}}) from None
        if unit < 0 or flat < 0:
            raise ValidationError({"tiers": _("Tier %(n)d has a negative price.") % {"n": number}})
        if first < expected_first:
            raise ValidationError({"tiers": _("Tier %(n)d overlaps the tier before it: it should "
                                              "start at %(first)d.")
                                   % {"n": number, "first": expected_first}})
        if first > expected_first:
            raise ValidationError({"tiers": _("There is a gap before tier %(n)d: it should start "
                                              "at %(first)d.")
                                   % {"n": number, "first": expected_first}})
        if last is not None and last < first:
            raise ValidationError({"tiers": _("Tier %(n)d ends before it starts.") % {"n": number}})
        if last is None and number != len(tiers):
            raise ValidationError({"tiers": _("Only the last tier can have no end (tier %(n)d "
                                              "has none).") % {"n": number}})
        clean.append({"first": first, "last": last, "unit_pence": unit, "flat_pence": flat})
        expected_first = (last or 0) + 1
    if clean[-1]["last"] is not None:
        raise ValidationError({"tiers": _("The last tier must have no end, so every booking "
                                          "has a price.")})
    return clean


def closed_through() -> date | None:
    last = MonthClose.objects.order_by("-period").first()
    return last.period if last else None


def check_not_closed(valid_from: date, field: str = "valid_from") -> None:
    closed = closed_through()
    if closed is not None and month_start(valid_from) <= closed:
        raise ValidationError({field: _("%(month)s has been closed; a change must start in a "
                                        "later month.") % {"month": closed.strftime("%B %Y")}})


def create_plan(*, code: str, name: str, acting_user) -> PricePlan:
    with transaction.atomic(durable=True):
        if PricePlan.objects.filter(code=code).exists():
            raise ValidationError({"code": _("A plan with this code already exists.")})
        plan = PricePlan.objects.create(code=code, name=name)
        audit(action="billing.plan_created", actor=acting_user, obj=plan, after={"code": code})
        return plan


def add_version(plan: PricePlan, *, valid_from: date, mode: str, tiers, acting_user,
                telephone_surcharge_pence: int = 0, call_fee_pence: int = 0,
                card_rate_basis_points: int = 0, monthly_minimum_pence: int = 0,
                credit_cancellations: bool = True) -> PricePlanVersion:
    """New prices for `plan` from `valid_from` (the history stays)."""
    if mode not in PricePlanVersion.Mode.values:
        raise ValidationError({"mode": _("Choose graduated or volume.")})
    tiers = check_tiers(tiers)
    amounts = {"telephone_surcharge_pence": telephone_surcharge_pence,
               "call_fee_pence": call_fee_pence, "card_rate_basis_points": card_rate_basis_points,
               "monthly_minimum_pence": monthly_minimum_pence}
    for name, value in amounts.items():
        if not isinstance(value, int) or value < 0:
            raise ValidationError({name: _("Enter an amount of 0 or more.")})
    if card_rate_basis_points > 10000:
        raise ValidationError({"card_rate_basis_points": _("The card rate cannot be over 100%.")})
    with transaction.atomic(durable=True):
        check_not_closed(valid_from)
        if plan.versions.filter(valid_from=valid_from).exists():
            raise ValidationError({"valid_from": _("This plan already has prices from that "
                                                   "date.")})
        version = PricePlanVersion.objects.create(
            plan=plan, valid_from=valid_from, mode=mode, tiers=tiers,
            credit_cancellations=credit_cancellations, **amounts)
        audit(action="billing.plan_version_added", actor=acting_user, obj=plan,
              after={"valid_from": valid_from.isoformat(), "mode": mode})
        return version


def assign_plan(client: ClientOrganisation, plan: PricePlan, *, valid_from: date,
                acting_user) -> ClientPlan:
    """The client is on `plan` from `valid_from`."""
    with transaction.atomic(durable=True):
        return assign_plan_within(client, plan, valid_from=valid_from, acting_user=acting_user)


def assign_plan_within(client: ClientOrganisation, plan: PricePlan, *, valid_from: date,
                       acting_user) -> ClientPlan:
    """assign_plan, as one step of a larger action's transaction (onboarding), so the plan
    commits with the client or not at all."""
    if not connection.in_atomic_block:
        raise RuntimeError("assign_plan_within must run inside the caller's transaction")
    check_not_closed(valid_from)
    if not plan.versions.filter(valid_from__lte=valid_from).exists():
        raise ValidationError({"plan": _("That plan has no prices on that date.")})
    row, _created = ClientPlan.objects.update_or_create(
        client=client, valid_from=valid_from, defaults={"plan": plan})
    audit(action="billing.plan_assigned", actor=acting_user, obj=row, organisation=client,
          after={"plan": plan.code, "valid_from": valid_from.isoformat()})
    return row


def set_vat_rate(*, valid_from: date, rate_basis_points: int, acting_user) -> VatRate:
    if not isinstance(rate_basis_points, int) or not 0 <= rate_basis_points <= 10000:
        raise ValidationError({"rate_basis_points": _("Enter a rate from 0% to 100%.")})
    with transaction.atomic(durable=True):
        check_not_closed(valid_from)
        rate, _created = VatRate.objects.update_or_create(
            valid_from=valid_from, defaults={"rate_basis_points": rate_basis_points})
        return rate


def plan_on(client, day: date):
    """(ClientPlan, PricePlanVersion) in effect for the client on `day`, or (None, None)."""
    assigned = (ClientPlan.objects.select_related("plan").filter(client=client,
                                                                 valid_from__lte=day)
                .order_by("-valid_from").first())
    if assigned is None:
        return None, None
    version = (assigned.plan.versions.filter(valid_from__lte=day).order_by("-valid_from")
               .first())
    return assigned, version


DEFAULT_VAT_BASIS_POINTS = 2000  # 20 %, the UK standard rate since 4 January 2011


def vat_on_day(day: date) -> int:
    rate = VatRate.objects.filter(valid_from__lte=day).order_by("-valid_from").first()
    return rate.rate_basis_points if rate else DEFAULT_VAT_BASIS_POINTS
