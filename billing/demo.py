"""The demo's two price plans and which demo client is on which (idempotent)."""

from datetime import date

from billing.models import ClientPlan, PricePlan
from billing.services import plans
from tenants.models import ClientOrganisation

FROM = date(2024, 1, 1)
PLANS = {
    "standard": dict(
        name="Standard (graduated)", mode="graduated",
        tiers=[{"first": 1, "last": 500, "unit_pence": 350, "flat_pence": 0},
               {"first": 501, "last": 2000, "unit_pence": 280, "flat_pence": 0},
               {"first": 2001, "last": None, "unit_pence": 220, "flat_pence": 0}],
        telephone_surcharge_pence=250, call_fee_pence=60, card_rate_basis_points=150,
        monthly_minimum_pence=50000),
    "high-volume": dict(
        name="High volume (volume)", mode="volume",
        tiers=[{"first": 1, "last": 1000, "unit_pence": 300, "flat_pence": 25000},
               {"first": 1001, "last": None, "unit_pence": 200, "flat_pence": 50000}],
        telephone_surcharge_pence=300, call_fee_pence=50, card_rate_basis_points=140,
        monthly_minimum_pence=150000),
}
CLIENT_PLANS = {"essex": "standard", "south-wales": "high-volume"}


def seed_billing(*, acting_user="demo") -> list[str]:
    done = []
    for code, spec in PLANS.items():
        spec = dict(spec)
        plan = PricePlan.objects.filter(code=code).first()
        if plan is None:
            plan = plans.create_plan(code=code, name=spec.pop("name"), acting_user=acting_user)
            plans.add_version(plan, valid_from=FROM, acting_user=acting_user, **{
                k: v for k, v in spec.items() if k != "name"})
            done.append(f"plan {code}")
    for slug, code in CLIENT_PLANS.items():
        client = ClientOrganisation.objects.filter(slug=slug).first()
        if client is None or ClientPlan.objects.filter(client=client).exists():
            continue
        plans.assign_plan(client, PricePlan.objects.get(code=code), valid_from=FROM,
                          acting_user=acting_user)
        done.append(f"{slug} on {code}")
    return done
