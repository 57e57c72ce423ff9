"""Pure pricing: a month's usage through a plan version's prices gives invoice lines and
totals. No database; every amount is whole pence."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

GRADUATED = "graduated"
VOLUME = "volume"


@dataclass(frozen=True)
class Prices:
    mode: str
    tiers: list  # [{"first", "last" (None = no end), "unit_pence", "flat_pence"}]
    telephone_surcharge_pence: int = 0
    call_fee_pence: int = 0
    monthly_minimum_pence: int = 0
    credit_cancellations: bool = True
    card_rate_basis_points: int = 0

    @classmethod
    def of(cls, version) -> "Prices":
        return cls(mode=version.mode, tiers=version.tiers,
                   telephone_surcharge_pence=version.telephone_surcharge_pence,
                   call_fee_pence=version.call_fee_pence,
                   monthly_minimum_pence=version.monthly_minimum_pence,
                   credit_cancellations=version.credit_cancellations,
                   card_rate_basis_points=version.card_rate_basis_points)


@dataclass(frozen=True)
class Usage:
    online: int = 0
    telephone: int = 0
    staff: int = 0
    cancelled_credits: int = 0
    calls: int = 0
    card_pence: int = 0  # card payments taken for the client in the month

    @property
    def confirmed(self) -> int:
        return self.online + self.telephone + self.staff


@dataclass(frozen=True)
class Line:
    kind: str
    description: str
    quantity: int
    unit_pence: int
    amount_pence: int
    adjusts_invoice_id: int | None = None


@dataclass
class Priced:
    lines: list = field(default_factory=list)
    subtotal_pence: int = 0
    vat_rate_basis_points: int = 0
    vat_pence: int = 0
    total_pence: int = 0


def _tier_label(tier) -> str:
    if tier["last"] is None:
        return _("bookings %(first)d and over") % {"first": tier["first"]}
    return _("bookings %(first)d to %(last)d") % {"first": tier["first"], "last": tier["last"]}


def tier_lines(mode: str, tiers: list, quantity: int) -> list[Line]:
    """Stripe's tiers. Graduated: each booking is priced by the tier it falls in, and each tier
    reached adds its flat amount. Volume: every booking is priced by the tier the month's total
    falls in, plus that tier's flat amount."""
    lines = []
    if quantity <= 0:
        return lines
    if mode == VOLUME:
        tier = next(t for t in tiers if t["last"] is None or quantity <= t["last"])
        label = _tier_label(tier)
        lines.append(Line("tier", _("Bookings, all at the rate for %(tier)s") % {"tier": label},
                          quantity, tier["unit_pence"], quantity * tier["unit_pence"]))
        if tier.get("flat_pence"):
            lines.append(Line("tier_flat", _("Flat fee for %(tier)s") % {"tier": label}, 1,
                              tier["flat_pence"], tier["flat_pence"]))
        return lines
    for tier in tiers:
        if quantity < tier["first"]:
            break
        top = quantity if tier["last"] is None else min(quantity, tier["last"])
        units = top - tier["first"] + 1
        label = _tier_label(tier)
        lines.append(Line("tier", _("Bookings, %(tier)s") % {"tier": label}, units,
                          tier["unit_pence"], units * tier["unit_pence"]))
        if tier.get("flat_pence"):
            lines.append(Line("tier_flat", _("Flat fee for %(tier)s") % {"tier": label}, 1,
                              tier["flat_pence"], tier["flat_pence"]))
    return lines


def card_fee_pence(taken_pence: int, rate_basis_points: int) -> int:
    """Card processing passed through at the plan's rate, rounded half up to the penny."""
    return (taken_pence * rate_basis_points + 5000) // 10000


def vat_on(subtotal_pence: int, rate_basis_points: int) -> int:
    """VAT rounded half up to the penny (on a negative amount, half away from zero)."""
    sign = -1 if subtotal_pence < 0 else 1
    return sign * ((abs(subtotal_pence) * rate_basis_points + 5000) // 10000)


def price(prices: Prices, usage: Usage, vat_rate_basis_points: int, *,
          minimum_pence: int | None = None, adjustments: tuple = ()) -> Priced:
    """The month's invoice: bookings (net of credited cancellations where the plan credits
    them) through the tiers, the contact-centre surcharge, calls, a top-up to the monthly
    minimum (`minimum_pence` overrides the plan's, e.g. pro-rated), card processing at the
    plan's rate, adjustments for earlier months, then VAT."""
    billable = usage.confirmed
    if prices.credit_cancellations:
        billable = max(0, billable - usage.cancelled_credits)
    lines = tier_lines(prices.mode, prices.tiers, billable)
    if usage.telephone and prices.telephone_surcharge_pence:
        lines.append(Line("surcharge", _("Contact-centre surcharge"), usage.telephone,
                          prices.telephone_surcharge_pence,
                          usage.telephone * prices.telephone_surcharge_pence))
    if usage.calls and prices.call_fee_pence:
        lines.append(Line("calls", _("Calls logged"), usage.calls, prices.call_fee_pence,
                          usage.calls * prices.call_fee_pence))
    subtotal = sum(line.amount_pence for line in lines)
    minimum = prices.monthly_minimum_pence if minimum_pence is None else minimum_pence
    if subtotal < minimum:
        top_up = minimum - subtotal
        lines.append(Line("minimum", _("Top-up to the monthly minimum"), 1, top_up, top_up))
        subtotal = minimum
    # Card processing is passed through, so it never counts towards the minimum.
    card_fee = card_fee_pence(usage.card_pence, prices.card_rate_basis_points)
    if card_fee:
        lines.append(Line("card_fees", _("Card processing: %(rate)s%% of £%(taken)s taken by "
                                         "card") % {
            "rate": f"{prices.card_rate_basis_points / 100:g}",
            "taken": f"{usage.card_pence / 100:,.2f}"}, 1, card_fee, card_fee))
        subtotal += card_fee
    for line in adjustments:  # corrections of earlier, finalised months (after the minimum)
        lines.append(line)
        subtotal += line.amount_pence
    vat = vat_on(subtotal, vat_rate_basis_points)
    return Priced(lines=lines, subtotal_pence=subtotal,
                  vat_rate_basis_points=vat_rate_basis_points, vat_pence=vat,
                  total_pence=subtotal + vat)
