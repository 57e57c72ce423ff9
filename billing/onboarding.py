"""Billing's part in onboarding: the price plan a new client is on from its first day.

Tenants cannot import billing (billing builds on tenants), so onboarding asks through its
signals: `new_client_checked` before anything is written (every problem reported at once, by
field), `client_onboarded` inside its transaction (the plan commits with the client or not at
all)."""

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import PricePlan
from billing.services import plans
from billing.services.periods import LONDON


def onboarding_day() -> date:
    return timezone.now().astimezone(LONDON).date()


def plan_problem(code: str, day: date) -> str | None:
    """Why a new client cannot be put on the plan `code` from `day`, or None."""
    if not PricePlan.objects.exists():
        return _("There are no price plans yet: add one under Billing, or leave the plan "
                 "empty and choose it later.")
    plan = PricePlan.objects.filter(code=code).first()
    if plan is None:
        codes = ", ".join(PricePlan.objects.order_by("code").values_list("code", flat=True))
        return _("There is no price plan “%(code)s”. Choose one of: %(codes)s.") % {
            "code": code, "codes": codes}
    if not plan.versions.filter(valid_from__lte=day).exists():
        return _("The plan “%(code)s” has no prices yet on %(day)s.") % {
            "code": code, "day": day.strftime("%d/%m/%Y")}
    try:
        plans.check_not_closed(day, field="plan")
    except ValidationError as error:
        return " ".join(error.message_dict["plan"])
    return None


def check_new_client_plan(sender, new, **kwargs) -> dict:
    code = (new.plan or "").strip()
    if not code:
        return {}
    problem = plan_problem(code, onboarding_day())
    return {"plan": [problem]} if problem else {}


def put_new_client_on_plan(sender, organisation, new, acting_user, **kwargs) -> None:
    code = (new.plan or "").strip()
    if not code:
        return
    plan = PricePlan.objects.filter(code=code).first()
    if plan is None:  # deleted since the check: refuse, and the whole onboarding rolls back
        raise ValidationError({"plan": [plan_problem(code, onboarding_day())]})
    plans.assign_plan_within(organisation, plan, valid_from=onboarding_day(),
                             acting_user=acting_user)


def plan_choices() -> list[tuple[str, str]]:
    """For the console's onboarding form."""
    return [(plan.code, f"{plan.name} ({plan.code})") for plan in PricePlan.objects.all()]
