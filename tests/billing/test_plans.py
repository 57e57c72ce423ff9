"""Price plan validation: every refusal names its field."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from billing.models import MonthClose, PricePlan
from billing.services import plans

from .conftest import SMALL

pytestmark = pytest.mark.django_db


def refused(field, **kwargs):
    plan = PricePlan.objects.get_or_create(code="p", defaults={"name": "P"})[0]
    arguments = {"valid_from": date(2026, 1, 1), "mode": "graduated", "tiers": SMALL,
                 "acting_user": "tests", **kwargs}
    with pytest.raises(ValidationError) as caught:
        plans.add_version(plan, **arguments)
    assert field in caught.value.message_dict, caught.value.message_dict
    return " ".join(caught.value.message_dict[field])


def test_a_gap_between_tiers_is_refused():
    tiers = [dict(SMALL[0]), dict(SMALL[1], first=4)]
    assert "gap before tier 2" in refused("tiers", tiers=tiers)


def test_overlapping_tiers_are_refused():
    tiers = [dict(SMALL[0]), dict(SMALL[1], first=2)]
    assert "overlaps" in refused("tiers", tiers=tiers)


def test_tiers_must_start_at_one_and_end_open():
    assert "gap before tier 1" in refused("tiers", tiers=[dict(SMALL[1], first=2)])
    assert "last tier must have no end" in refused("tiers", tiers=[dict(SMALL[0])])


def test_negative_prices_are_refused():
    assert "negative" in refused("tiers", tiers=[dict(SMALL[0], unit_pence=-1), SMALL[1]])
    refused("telephone_surcharge_pence", telephone_surcharge_pence=-5)
    refused("monthly_minimum_pence", monthly_minimum_pence=-1)
    refused("mode", mode="per-seat")


def test_a_change_in_a_closed_month_is_refused(essex, graduated_plan):
    MonthClose.objects.create(period=date(2026, 10, 1))
    with pytest.raises(ValidationError) as caught:
        plans.assign_plan(essex, graduated_plan, valid_from=date(2026, 10, 15),
                          acting_user="tests")
    assert "valid_from" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        plans.add_version(graduated_plan, valid_from=date(2026, 9, 1), mode="volume",
                          tiers=SMALL, acting_user="tests")
    assert "valid_from" in caught.value.message_dict
    plans.assign_plan(essex, graduated_plan, valid_from=date(2026, 11, 1), acting_user="tests")


def test_dated_versions_keep_history(essex, graduated_plan, volume_plan):
    plans.assign_plan(essex, graduated_plan, valid_from=date(2026, 1, 1), acting_user="tests")
    plans.assign_plan(essex, volume_plan, valid_from=date(2026, 6, 1), acting_user="tests")
    plans.add_version(volume_plan, valid_from=date(2026, 9, 1), mode="volume",
                      tiers=[dict(SMALL[0], last=None, unit_pence=250)], acting_user="tests")
    assert plans.plan_on(essex, date(2026, 5, 31))[0].plan == graduated_plan
    assert plans.plan_on(essex, date(2026, 6, 1))[1].tiers == SMALL
    assert plans.plan_on(essex, date(2026, 9, 2))[1].tiers[0]["unit_pence"] == 250
    assert plans.plan_on(essex, date(2025, 12, 31)) == (None, None)


def test_demo_plans_seed_once(essex, south_wales):
    from billing.demo import seed_billing
    from billing.models import ClientPlan

    assert seed_billing() == ["plan standard", "plan high-volume", "essex on standard",
                              "south-wales on high-volume"]
    assert seed_billing() == []
    assert ClientPlan.objects.count() == 2
