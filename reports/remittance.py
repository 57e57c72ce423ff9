"""Fees and police cost-recovery remittance per referring police force: each fee component
(course, police cost recovery, VAT) and transfer fees, of the money actually taken, with refunds
netted in the Europe/London month they were made, summed from booking's remittance tally (kept
as payments succeed and refunds are made: booking/tallies.py). Card payments are the basis: a transfer moves
a booking without paying its fee again (its own transfer fee is a payment of its kind), a fee
waived by staff took no money, and a payment that failed took none either."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db import connection

from booking.models import Offer, Payment, RemittanceTally

from .periods import Period

COMPONENTS = ("course", "police", "vat", "transfer")


@dataclass
class Amounts:
    """Pence of each fee component."""

    course: int = 0
    police: int = 0
    vat: int = 0
    transfer: int = 0

    @property
    def total(self) -> int:
        return self.course + self.police + self.vat + self.transfer

    def add(self, other: "Amounts") -> None:
        for name in COMPONENTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def minus(self, other: "Amounts") -> "Amounts":
        return Amounts(**{name: getattr(self, name) - getattr(other, name)
                          for name in COMPONENTS})


@dataclass
class RemittanceLine:
    """One force's month (or a whole period): what was taken, what was refunded, the net."""

    month: date | None
    payments: int = 0  # booking fees taken
    transfer_payments: int = 0
    refunds: int = 0
    paid: Amounts = field(default_factory=Amounts)
    refunded: Amounts = field(default_factory=Amounts)

    @property
    def net(self) -> Amounts:
        return self.paid.minus(self.refunded)

    def add(self, other: "RemittanceLine") -> None:
        self.payments += other.payments
        self.transfer_payments += other.transfer_payments
        self.refunds += other.refunds
        self.paid.add(other.paid)
        self.refunded.add(other.refunded)


@dataclass
class ForceStatement:
    force: str  # as the referral feed names it; "" for the client's own
    months: list[RemittanceLine]
    total: RemittanceLine
    previous: RemittanceLine


@dataclass
class RemittanceReport:
    period: Period
    forces: list[ForceStatement]
    total: RemittanceLine
    previous: RemittanceLine


# The money of both periods from booking's RemittanceTally (booking/tallies.py): each payment
# taken and each refund made, already split into the fee snapshot's components (a booking
# fee's police cost recovery and VAT in proportion to the money moved, rounded per payment or
# refund; any odd penny stays on the course part, so the parts always add up to the money).
# All venues' rows unless a venue is asked for.
REMITTANCE_SQL = """
SELECT police_force AS force, month >= %(first)s AS in_period, month, kind, refund,
       SUM(count) AS count, SUM(amount_pence) AS amount, SUM(police_pence) AS police,
       SUM(vat_pence) AS vat
FROM {tally}
WHERE month >= %(since)s AND month <= %(last)s AND {level} {filters}
GROUP BY police_force, month, kind, refund
HAVING SUM(count) <> 0
"""


def _rows(period: Period, *, course_type=None, venue=None, force=None):
    before = period.previous()
    params = {"first": period.first, "since": before.first, "last": period.last}
    filters = []
    if course_type is not None:
        filters.append("AND course_type_id = %(course_type)s")
        params["course_type"] = course_type.pk
    if force is not None:
        filters.append("AND police_force = %(force)s")
        params["force"] = force
    if venue is not None:
        level = "NOT all_venues AND venue_id = %(venue)s"
        params["venue"] = venue.pk
    else:
        level = "all_venues"
    sql = REMITTANCE_SQL.format(tally=RemittanceTally._meta.db_table, level=level,
                                filters=" ".join(filters))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _line(month, row) -> RemittanceLine:
    amount, police, vat = int(row["amount"]), int(row["police"]), int(row["vat"])
    if row["kind"] == Payment.Kind.TRANSFER_FEE:
        amounts = Amounts(transfer=amount)
    else:
        amounts = Amounts(course=amount - police - vat, police=police, vat=vat)
    line = RemittanceLine(month)
    if row["refund"]:
        line.refunds, line.refunded = row["count"], amounts
    elif row["kind"] == Payment.Kind.TRANSFER_FEE:
        line.transfer_payments, line.paid = row["count"], amounts
    else:
        line.payments, line.paid = row["count"], amounts
    return line


def remittance_report(period: Period, *, course_type=None, venue=None, force=None
                      ) -> RemittanceReport:
    """Every force with money in either period, by name (the client's own, "", first)."""
    months: dict[str, dict[date, RemittanceLine]] = defaultdict(dict)
    before: dict[str, RemittanceLine] = defaultdict(lambda: RemittanceLine(None))
    for row in _rows(period, course_type=course_type, venue=venue, force=force):
        month = row["month"]
        line = _line(month, row)
        if row["in_period"]:
            months[row["force"]].setdefault(month, RemittanceLine(month)).add(line)
        else:
            before[row["force"]].add(line)
    statements = []
    total, previous = RemittanceLine(None), RemittanceLine(None)
    for name in sorted(set(months) | set(before)):
        lines = [months[name].get(month) or RemittanceLine(month) for month in period.months]
        whole = RemittanceLine(None)
        for line in lines:
            whole.add(line)
        statements.append(ForceStatement(name, lines, whole, before[name]))
        total.add(whole)
        previous.add(before[name])
    return RemittanceReport(period, statements, total, previous)


def forces_named() -> list[str]:
    """The referring forces the client's offers name, for the filter."""
    return list(Offer.objects.exclude(police_force="").order_by("police_force")
                .values_list("police_force", flat=True).distinct())
