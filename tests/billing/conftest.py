"""Billing fixtures: two plans (graduated and volume) and the essex client on the first."""

from datetime import date

import pytest

from billing.services import plans

SMALL = [{"first": 1, "last": 2, "unit_pence": 500, "flat_pence": 0},
         {"first": 3, "last": None, "unit_pence": 300, "flat_pence": 0}]
FROM = date(2026, 1, 1)


def make_plan(code, mode, **prices):
    plan = plans.create_plan(code=code, name=code.title(), acting_user="tests")
    plans.add_version(plan, valid_from=FROM, mode=mode, tiers=SMALL, acting_user="tests",
                      **{"telephone_surcharge_pence": 150, "call_fee_pence": 40, **prices})
    return plan


@pytest.fixture
def graduated_plan(db):
    return make_plan("standard", "graduated")


@pytest.fixture
def volume_plan(db):
    return make_plan("volume", "volume")


@pytest.fixture
def essex_on_graduated(essex, graduated_plan):
    plans.assign_plan(essex, graduated_plan, valid_from=FROM, acting_user="tests")
    return essex
