"""The pure pricing function, against totals worked by hand."""

from billing.pricing import Prices, Usage, card_fee_pence, price, tier_lines, vat_on

TIERS = [
    {"first": 1, "last": 100, "unit_pence": 200, "flat_pence": 1000},
    {"first": 101, "last": 500, "unit_pence": 150, "flat_pence": 0},
    {"first": 501, "last": None, "unit_pence": 100, "flat_pence": 5000},
]


def total(lines):
    return sum(line.amount_pence for line in lines)


def test_graduated_prices_each_booking_in_its_own_tier():
    # 100 × 200 + 1000 flat = 21,000; 400 × 150 = 60,000; 100 × 100 + 5000 flat = 15,000
    lines = tier_lines("graduated", TIERS, 600)
    assert [(line.quantity, line.amount_pence) for line in lines] == [
        (100, 20000), (1, 1000), (400, 60000), (100, 10000), (1, 5000)]
    assert total(lines) == 96000
    # 120: 100 × 200 + 1000 + 20 × 150 = 24,000
    assert total(tier_lines("graduated", TIERS, 120)) == 24000


def test_volume_prices_every_booking_at_the_tier_the_total_reaches():
    # 600 → all at 100p + the third tier's 5000 flat = 65,000
    assert total(tier_lines("volume", TIERS, 600)) == 65000
    # 100 → all at 200p + 1000 flat = 21,000; 101 → all at 150p, no flat = 15,150
    assert total(tier_lines("volume", TIERS, 100)) == 21000
    assert total(tier_lines("volume", TIERS, 101)) == 15150


def test_no_bookings_no_tier_lines():
    assert tier_lines("graduated", TIERS, 0) == []
    assert tier_lines("volume", TIERS, 0) == []


SMALL = [{"first": 1, "last": 2, "unit_pence": 500, "flat_pence": 0},
         {"first": 3, "last": None, "unit_pence": 300, "flat_pence": 0}]
USAGE = Usage(online=3, telephone=1, staff=1, cancelled_credits=1, calls=2)


def test_whole_invoice_graduated():
    prices = Prices(mode="graduated", tiers=SMALL, telephone_surcharge_pence=150,
                    call_fee_pence=40)
    # 5 confirmed − 1 credited = 4: 2 × 500 + 2 × 300 = 1600; surcharge 1 × 150; calls 2 × 40
    # subtotal 1830, VAT 20 % 366, total 2196
    priced = price(prices, USAGE, 2000)
    assert (priced.subtotal_pence, priced.vat_pence, priced.total_pence) == (1830, 366, 2196)
    assert [line.kind for line in priced.lines] == ["tier", "tier", "surcharge", "calls"]


def test_whole_invoice_volume():
    prices = Prices(mode="volume", tiers=SMALL, telephone_surcharge_pence=150, call_fee_pence=40)
    # 4 × 300 = 1200 + 150 + 80 = 1430; VAT 286; 1716
    priced = price(prices, USAGE, 2000)
    assert (priced.subtotal_pence, priced.vat_pence, priced.total_pence) == (1430, 286, 1716)


def test_minimum_top_up_and_cancellations_not_credited():
    prices = Prices(mode="volume", tiers=SMALL, monthly_minimum_pence=5000,
                    credit_cancellations=False)
    # 5 bookings (no credit) × 300 = 1500; top-up 3500 to 5000; VAT 1000
    priced = price(prices, USAGE, 2000)
    assert priced.lines[-1].kind == "minimum" and priced.lines[-1].amount_pence == 3500
    assert (priced.subtotal_pence, priced.total_pence) == (5000, 6000)


def test_vat_rounds_half_up():
    assert vat_on(1, 2000) == 0
    assert vat_on(3, 2000) == 1  # 0.6 → 1
    assert vat_on(1250, 1750) == 219  # 218.75
    assert vat_on(-3, 2000) == -1


def test_card_processing_is_passed_through_outside_the_minimum():
    from dataclasses import replace

    prices = Prices(mode="volume", tiers=SMALL, monthly_minimum_pence=5000,
                    card_rate_basis_points=150)
    # £333.33 taken by card at 1.5 % = 499.995p → 500p, after the top-up (which it never
    # fills): 4 × 300 = 1200, top-up 3800 to 5000, card 500: 5500, VAT 1100.
    priced = price(prices, replace(USAGE, card_pence=33333), 2000)
    assert [line.kind for line in priced.lines] == ["tier", "minimum", "card_fees"]
    assert priced.lines[-1].amount_pence == 500
    assert "1.5% of £333.33" in priced.lines[-1].description
    assert (priced.subtotal_pence, priced.vat_pence) == (5500, 1100)
    assert card_fee_pence(33333, 150) == 500 and card_fee_pence(33, 150) == 0
    # No rate, or nothing taken by card: no line.
    assert "card_fees" not in [line.kind for line in price(
        replace(prices, card_rate_basis_points=0), replace(USAGE, card_pence=33333), 2000).lines]
