"""Fees and police cost-recovery remittance per referring police force: each fee component
(course, police cost recovery, VAT) and transfer fees, of the money actually taken, with refunds
netted in the Europe/London month they were made. Card payments are the basis: a transfer moves
a booking without paying its fee again (its own transfer fee is a payment of its kind), a fee
waived by staff took no money, and a payment that failed took none either."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from django.db import connection

from booking.models import Booking, CourseSession, Offer, Payment, Refund

from .periods import Period

LONDON = ZoneInfo("Europe/London")
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


# Each payment taken (+) and each refund made (−) in both periods, with its booking's force and
# fee snapshot. A booking fee's components are the snapshot's, in proportion to the money
# moved (a refund of part of a fee refunds each component in part); rounding leaves any odd
# penny on the course part, so the parts always add up to the money.
REMITTANCE_SQL = """
SELECT force, in_period, month, kind, refund, COUNT(*) AS count, SUM(amount) AS amount,
       SUM(police) AS police, SUM(vat) AS vat
FROM (
  SELECT force, kind, refund, amount, at >= %s AS in_period,
         DATE_TRUNC('month', at AT TIME ZONE %s) AS month,
         CASE WHEN kind = 'booking_fee' AND total > 0
              THEN ROUND(snapshot_police * amount / total) ELSE 0 END AS police,
         CASE WHEN kind = 'booking_fee' AND total > 0
              THEN ROUND(snapshot_vat * amount / total) ELSE 0 END AS vat
  FROM (
    SELECT o.police_force AS force, p.kind, FALSE AS refund, p.amount_pence AS amount,
           p.succeeded_at AS at, b.fee_snapshot
    FROM {payment} p JOIN {booking} b ON b.id = p.booking_id JOIN {offer} o ON o.id = b.offer_id
         {sessions}
    WHERE p.status = 'succeeded' AND p.succeeded_at >= %s AND p.succeeded_at < %s {filters}
    UNION ALL
    SELECT o.police_force, p.kind, TRUE, r.amount_pence, r.created_at, b.fee_snapshot
    FROM {refund} r JOIN {payment} p ON p.id = r.payment_id
         JOIN {booking} b ON b.id = p.booking_id JOIN {offer} o ON o.id = b.offer_id
         {sessions}
    WHERE r.created_at >= %s AND r.created_at < %s {filters}
  ) AS moved
  CROSS JOIN LATERAL (SELECT
    COALESCE((fee_snapshot->>'police_cost_recovery_pence')::numeric, 0) AS snapshot_police,
    COALESCE((fee_snapshot->>'vat_pence')::numeric, 0) AS snapshot_vat,
    COALESCE((fee_snapshot->>'total_pence')::numeric, 0) AS total) AS fees
) AS money
GROUP BY force, in_period, month, kind, refund
"""


def _rows(period: Period, *, course_type=None, venue=None, force=None):
    filters, params = [], []
    if course_type is not None:
        filters.append("AND o.course_type_id = %s")
        params.append(course_type.pk)
    if venue is not None:
        filters.append("AND s.venue_id = %s")
        params.append(venue.pk)
    if force is not None:
        filters.append("AND o.police_force = %s")
        params.append(force)
    # The course dates only for the venue filter: a join the whole period need not pay for.
    sessions = (f"JOIN {CourseSession._meta.db_table} s ON s.id = b.session_id"
                if venue is not None else "")
    sql = REMITTANCE_SQL.format(
        payment=Payment._meta.db_table, booking=Booking._meta.db_table,
        offer=Offer._meta.db_table, sessions=sessions, refund=Refund._meta.db_table,
        filters=" ".join(filters))
    start, end = period.previous().start, period.end
    with connection.cursor() as cursor:
        cursor.execute(sql, [period.start, str(LONDON), start, end, *params,
                             start, end, *params])
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
        month = row["month"].date()
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
