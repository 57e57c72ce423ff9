"""Keeping the report tallies (booking/models/tallies.py) as bookings and offers change.

- A booking first confirmed appends its BookingTally row in the confirming transaction
  (`on_event`, called by log_event).
- Any event that may move an offer in the funnel or change a course date's fill (a booking
  confirmed, cancelled or moved, an outcome, the offer expiring or withdrawn…) appends a
  TallyChange for the offer and the date. `fold` — run by a job every minute and before a
  report is drawn — recounts each changed offer from its committed rows, moves it in
  FunnelTally (taking away what its FunnelEntry last added), recounts each changed date's
  SessionFill, and sums BookingTally's new rows into one per key. Recounting from the rows, not from the event,
  makes the count right whatever order the events committed in.
- A payment succeeding and a refund made (`payment.succeeded`, `payment.refunded`) append
  their RemittanceTally rows in that transaction, read from the payment's and refund's own rows
  (the fee snapshot, the offer's force); `fold` sums them like BookingTally's. An offer whose
  referring force or course type an import changed (`offer.updated`) moves its money: its rows
  counted again under the old force and course type are taken away, and added under the new.
- `rebuild` counts everything again from the rows: for data loaded in bulk, past log_event
  (the demo's history, the benchmarks)."""

import zlib
from collections import Counter
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone
from psycopg2.extras import execute_values

from .models import (
    BookingTally,
    CallLog,
    CourseType,
    FunnelEntry,
    FunnelTally,
    RemittanceTally,
    SessionFill,
    TallyChange,
)

LONDON = ZoneInfo("Europe/London")
# Events that never move an offer in the funnel: everything else appends a FunnelChange, so a
# new kind of event is counted unless it is named here.
NOT_FUNNEL_EVENTS = frozenset({
    "hold.placed", "hold.released", "payment.started", "payment.declined", "payment.succeeded",
    "payment.link_sent", "payment.refunded", "message.skipped", "call.logged",
    "case.raised", "case.assigned", "case.approved", "special_circumstances.raised",
    "offer.details_changed", "booking.transfer_requested", "booking.transfer_cancelled",
})
CHUNK = 5000


def on_event(event) -> None:
    """Called by log_event for every OfferEvent, inside its transaction."""
    booking = event.booking
    after = event.after or {}
    if event.kind == "payment.succeeded" and after.get("payment_intent"):
        _add_money(payments="AND payment.stripe_payment_intent_id = %(intent)s",
                   params={"intent": after["payment_intent"]})
    elif event.kind == "payment.refunded" and after.get("refund"):
        _add_money(refunds="AND refund.stripe_refund_id = %(refund)s",
                   params={"refund": after["refund"]})
    elif event.kind == "offer.updated" and {"police_force", "course_type"} & set(event.before or {}):
        _offer_keys_changed(event.offer, event.before)
    statements, params = [], []
    if (event.kind == "booking.confirmed" and booking is not None
            and booking.transferred_from_id is None and booking.confirmed_at is not None):
        statements.append(ADD_BOOKING_SQL)
        params += [timezone.localtime(booking.confirmed_at, LONDON).date().replace(day=1),
                   event.offer.course_type_id, booking.session.venue_id, booking.channel,
                   booking.fee_pence]
    if event.kind not in NOT_FUNNEL_EVENTS:
        changes = ["(%s, %s)"]
        params += [event.offer_id, booking.session_id if booking else None]
        if booking is not None and booking.transferred_from_id is not None:
            # The date it moved from loses it.
            changes.append("(%s, (SELECT session_id FROM booking_booking WHERE id = %s))")
            params += [event.offer_id, booking.transferred_from_id]
        statements.append(ADD_CHANGES_SQL + ", ".join(changes))
    if statements:
        # One statement for all of them (a data-modifying CTE before the last): each is a row
        # appended in the event's transaction, on the hot path of every booking.
        sql = statements[-1] if len(statements) == 1 else (
            "WITH booked AS (" + statements[0] + ") " + statements[1])
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


ADD_BOOKING_SQL = (
    "INSERT INTO booking_bookingtally (month, course_type_id, venue_id, channel, bookings, "
    "fees_pence, folded) VALUES (%s, %s, %s, %s, 1, %s, FALSE)")
ADD_CHANGES_SQL = "INSERT INTO booking_tallychange (offer_id, session_id) VALUES "


# Each payment taken and each refund made (`payments` and `refunds` narrow them), with its
# booking's referring force, course type and venue, and its share of the booking's fee
# snapshot: a booking fee's police cost recovery and VAT in proportion to the money moved (a
# refund of part of a fee refunds each in part), rounded per payment or refund; a transfer fee
# has none. `force` and `course_type` are the offer's own unless an old value is given.
MONEY_SQL = """
SELECT DATE_TRUNC('month', moved.at AT TIME ZONE 'Europe/London')::date AS month,
       {force} AS police_force, {course_type} AS course_type_id, session.venue_id, moved.kind,
       moved.refund, COUNT(*) AS count, SUM(moved.amount) AS amount_pence,
       SUM(CASE WHEN moved.kind = 'booking_fee' AND fees.total > 0
                THEN ROUND(fees.police * moved.amount / fees.total) ELSE 0 END) AS police_pence,
       SUM(CASE WHEN moved.kind = 'booking_fee' AND fees.total > 0
                THEN ROUND(fees.vat * moved.amount / fees.total) ELSE 0 END) AS vat_pence
FROM (
    SELECT payment.booking_id, payment.kind, FALSE AS refund, payment.amount_pence AS amount,
           payment.succeeded_at AS at
    FROM booking_payment AS payment
    WHERE payment.status = 'succeeded' AND payment.succeeded_at IS NOT NULL {payments}
    UNION ALL
    SELECT payment.booking_id, payment.kind, TRUE, refund.amount_pence, refund.created_at
    FROM booking_refund AS refund JOIN booking_payment AS payment ON payment.id = refund.payment_id
    WHERE TRUE {refunds}
) AS moved
JOIN booking_booking AS booking ON booking.id = moved.booking_id
JOIN booking_offer AS offer ON offer.id = booking.offer_id
JOIN booking_coursesession AS session ON session.id = booking.session_id
CROSS JOIN LATERAL (SELECT
    COALESCE((booking.fee_snapshot->>'police_cost_recovery_pence')::numeric, 0) AS police,
    COALESCE((booking.fee_snapshot->>'vat_pence')::numeric, 0) AS vat,
    COALESCE((booking.fee_snapshot->>'total_pence')::numeric, 0) AS total) AS fees
{where}
GROUP BY 1, 2, 3, 4, 5, 6
"""
# The money at both of RemittanceTally's levels: all venues, and each venue.
REMITTANCE_LEVELS_SQL = """
WITH money AS ({money})
SELECT month, police_force, course_type_id, TRUE AS all_venues, NULL::bigint AS venue_id, kind,
       refund, SUM(count) AS count, SUM(amount_pence) AS amount_pence,
       SUM(police_pence) AS police_pence, SUM(vat_pence) AS vat_pence
FROM money GROUP BY month, police_force, course_type_id, kind, refund
UNION ALL
SELECT month, police_force, course_type_id, FALSE, venue_id, kind, refund, count, amount_pence,
       police_pence, vat_pence
FROM money WHERE venue_id IS NOT NULL
"""
ADD_REMITTANCE_SQL = """
INSERT INTO booking_remittancetally (month, police_force, course_type_id, all_venues, venue_id,
    kind, refund, count, amount_pence, police_pence, vat_pence, folded)
SELECT month, police_force, course_type_id, all_venues, venue_id, kind, refund,
       {sign} * count, {sign} * amount_pence, {sign} * police_pence, {sign} * vat_pence, {folded}
FROM ({levels}) AS counted
"""
REMITTANCE_KEY = "month, police_force, course_type_id, all_venues, venue_id, kind, refund"
# RemittanceTally's rows of every key that has new ones, summed into one row per key, as
# BookingTally's are.
FOLD_REMITTANCE_SQL = """
WITH keys AS (
    SELECT DISTINCT """ + REMITTANCE_KEY + """ FROM booking_remittancetally WHERE NOT folded),
gone AS (
    DELETE FROM booking_remittancetally AS tally USING keys
    WHERE tally.month = keys.month AND tally.police_force = keys.police_force
      AND tally.course_type_id = keys.course_type_id AND tally.all_venues = keys.all_venues
      AND tally.venue_id IS NOT DISTINCT FROM keys.venue_id AND tally.kind = keys.kind
      AND tally.refund = keys.refund
    RETURNING tally.*)
INSERT INTO booking_remittancetally (""" + REMITTANCE_KEY + """, count, amount_pence,
    police_pence, vat_pence, folded)
SELECT """ + REMITTANCE_KEY + """, SUM(count), SUM(amount_pence), SUM(police_pence),
       SUM(vat_pence), TRUE
FROM gone GROUP BY """ + REMITTANCE_KEY + """
"""


# An offer's bookings moved in BookingTally from its old course type to its new one.
MOVE_BOOKINGS_SQL = """
INSERT INTO booking_bookingtally
    (month, course_type_id, venue_id, channel, bookings, fees_pence, folded)
SELECT DATE_TRUNC('month', booking.confirmed_at AT TIME ZONE 'Europe/London')::date,
       moved.course_type_id, session.venue_id, booking.channel, moved.sign * COUNT(*),
       moved.sign * SUM(booking.fee_pence), FALSE
FROM booking_booking AS booking
JOIN booking_coursesession AS session ON session.id = booking.session_id
CROSS JOIN (VALUES (-1, %(old)s), (1, %(new)s)) AS moved (sign, course_type_id)
WHERE booking.offer_id = %(offer)s AND booking.transferred_from_id IS NULL
  AND booking.confirmed_at IS NOT NULL
GROUP BY 1, 2, 3, 4, moved.sign
"""


def _money_sql(*, payments="", refunds="", where="", force="offer.police_force",
               course_type="offer.course_type_id") -> str:
    return REMITTANCE_LEVELS_SQL.format(money=MONEY_SQL.format(
        force=force, course_type=course_type, payments=payments, refunds=refunds, where=where))


def _add_money(*, payments="AND FALSE", refunds="AND FALSE", where="", params=None, sign=1,
               **columns) -> None:
    """Append the tally rows of the money the filters pick (`sign` -1 takes it away)."""
    sql = ADD_REMITTANCE_SQL.format(
        sign=int(sign), folded="FALSE",
        levels=_money_sql(payments=payments, refunds=refunds, where=where, **columns))
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})


def _offer_keys_changed(offer, before: dict) -> None:
    """An import changed the offer's referring force or course type: its money moves from the
    old keys to the new; with its course type, its bookings move in BookingTally and its calls
    follow (the calls report's filter)."""
    old_course = offer.course_type_id
    if "course_type" in before:
        old_course = (CourseType.objects.filter(code=before["course_type"])
                      .values_list("pk", flat=True).first())
        CallLog.objects.filter(offer_id=offer.pk).update(course_type_id=offer.course_type_id)
        if old_course is None:
            return  # a course type gone since: the nightly check counts the offer again
        with connection.cursor() as cursor:
            cursor.execute(MOVE_BOOKINGS_SQL, {"offer": offer.pk, "old": old_course,
                                               "new": offer.course_type_id})
    everything = {"payments": "", "refunds": "", "where": "WHERE offer.id = %(offer)s"}
    _add_money(**everything, sign=-1, force="%(force)s", course_type="%(course_type)s",
               params={"offer": offer.pk, "course_type": old_course,
                       "force": before.get("police_force", offer.police_force)})
    _add_money(**everything, params={"offer": offer.pk})


# Each offer's place: the month it arrived, its course type and status, and its first booking
# (the earliest confirmed: a transfer is the same booking moved): that booking's venue and the
# whole days from the offer to it.
PLACES_SQL = """
SELECT offer.id AS offer_id,
       DATE_TRUNC('month', offer.created_at AT TIME ZONE 'Europe/London')::date AS month,
       offer.course_type_id, first_booking.venue_id, offer.status,
       CASE WHEN first_booking.confirmed_at IS NOT NULL THEN GREATEST(0, FLOOR(
           EXTRACT(EPOCH FROM first_booking.confirmed_at - offer.created_at) / 86400))::int END
           AS days_to_book
FROM booking_offer AS offer
LEFT JOIN LATERAL (
    SELECT booking.confirmed_at, session.venue_id
    FROM booking_booking AS booking
    JOIN booking_coursesession AS session ON session.id = booking.session_id
    WHERE booking.offer_id = offer.id AND booking.confirmed_at IS NOT NULL
    ORDER BY booking.confirmed_at, booking.id LIMIT 1) AS first_booking ON TRUE
{where}
"""

ADD_TO_FUNNEL_SQL = """
INSERT INTO booking_funneltally
    (month, course_type_id, all_venues, venue_id, status, days_to_book, offers)
VALUES %s
ON CONFLICT (month, course_type_id, all_venues, venue_id, status, days_to_book)
DO UPDATE SET offers = booking_funneltally.offers + EXCLUDED.offers
"""

# BookingTally's rows of every key that has new ones, summed into one row per key. Rows that
# commit while this runs are not in its snapshot: they stay, unfolded, for the next time.
FOLD_BOOKINGS_SQL = """
WITH keys AS (
    SELECT DISTINCT month, course_type_id, venue_id, channel
    FROM booking_bookingtally WHERE NOT folded),
gone AS (
    DELETE FROM booking_bookingtally AS tally USING keys
    WHERE tally.month = keys.month AND tally.course_type_id = keys.course_type_id
      AND tally.venue_id IS NOT DISTINCT FROM keys.venue_id AND tally.channel = keys.channel
    RETURNING tally.month, tally.course_type_id, tally.venue_id, tally.channel,
              tally.bookings, tally.fees_pence)
INSERT INTO booking_bookingtally
    (month, course_type_id, venue_id, channel, bookings, fees_pence, folded)
SELECT month, course_type_id, venue_id, channel, SUM(bookings), SUM(fees_pence), TRUE
FROM gone GROUP BY month, course_type_id, venue_id, channel
"""


# Each course date's bookings counted (`where` picks the dates), and the count replacing what
# was counted before.
FILL_COUNT_SQL = """
SELECT session.id AS session_id,
       COUNT(booking.id) FILTER (WHERE booking.status IN
           ('confirmed', 'completed', 'did_not_attend', 'refused_entry', 'not_completed'))
           AS booked,
       COUNT(booking.id) FILTER (WHERE booking.status = 'completed') AS attended,
       COUNT(booking.id) FILTER (WHERE booking.status = 'did_not_attend') AS did_not_attend
FROM booking_coursesession AS session
JOIN booking_booking AS booking ON booking.session_id = session.id
{where}
GROUP BY session.id
"""
FILL_SQL = """
INSERT INTO booking_sessionfill (session_id, booked, attended, did_not_attend)
SELECT * FROM (""" + FILL_COUNT_SQL + """) AS counted
ON CONFLICT (session_id) DO UPDATE SET booked = EXCLUDED.booked,
    attended = EXCLUDED.attended, did_not_attend = EXCLUDED.did_not_attend
"""


def _levels(place) -> list[tuple]:
    """The FunnelTally keys an offer's place counts in: all venues, and its first booking's
    venue when it has one."""
    month, course_type, venue, status, days = place
    keys = [(month, course_type, True, None, status, days)]
    if venue is not None:
        keys.append((month, course_type, False, venue, status, days))
    return keys


def _places(offer_ids=None) -> dict:
    where, params = ("WHERE offer.id = ANY(%s)", [list(offer_ids)]) if offer_ids is not None \
        else ("", [])
    with connection.cursor() as cursor:
        cursor.execute(PLACES_SQL.format(where=where), params)
        return {row[0]: tuple(row[1:]) for row in cursor.fetchall()}


def _move(offer_ids: list[int]) -> int:
    """Recount the offers, moving each that changed place; how many moved."""
    moved, deltas = [], Counter()
    places = _places(offer_ids)
    counted = {entry[0]: tuple(entry[1:]) for entry in FunnelEntry.objects.filter(
        offer_id__in=offer_ids).values_list("offer_id", "month", "course_type_id", "venue_id",
                                            "status", "days_to_book")}
    for offer_id, place in places.items():
        before = counted.get(offer_id)
        if before == place:
            continue
        for key in _levels(before) if before else ():
            deltas[key] -= 1
        for key in _levels(place):
            deltas[key] += 1
        moved.append(FunnelEntry(offer_id=offer_id, month=place[0], course_type_id=place[1],
                                 venue_id=place[2], status=place[3], days_to_book=place[4]))
    if moved:
        FunnelEntry.objects.bulk_create(
            moved, update_conflicts=True, unique_fields=["offer"],
            update_fields=["month", "course_type", "venue", "status", "days_to_book"])
    rows = [(*key, count) for key, count in deltas.items() if count]
    if rows:
        with connection.cursor() as cursor:
            execute_values(cursor, ADD_TO_FUNNEL_SQL, rows)
    return len(moved)


def _lock_key() -> int:
    """One fold at a time per client schema (advisory locks are per database)."""
    return zlib.crc32(f"report-tallies:{connection.schema_name}".encode())


def fold(*, wait: bool = False) -> bool:
    """Count the changes since the last fold. With wait=False, returns False at once when
    another fold of this schema is running (its count is as good)."""
    with transaction.atomic(durable=not connection.in_atomic_block):
        with connection.cursor() as cursor:
            if wait:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key()])
            else:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_lock_key()])
                if not cursor.fetchone()[0]:
                    return False
            cursor.execute("DELETE FROM booking_tallychange RETURNING offer_id, session_id")
            changes = cursor.fetchall()
            offer_ids = sorted({offer_id for offer_id, _session in changes})
            for start in range(0, len(offer_ids), CHUNK):
                _move(offer_ids[start:start + CHUNK])
            session_ids = sorted({session for _offer, session in changes if session})
            for start in range(0, len(session_ids), CHUNK):
                cursor.execute(FILL_SQL.format(where="WHERE session.id = ANY(%s)"),
                               [session_ids[start:start + CHUNK]])
            cursor.execute(FOLD_BOOKINGS_SQL)
            cursor.execute(FOLD_REMITTANCE_SQL)
    return True


BOOKINGS_COUNT_SQL = """
SELECT DATE_TRUNC('month', booking.confirmed_at AT TIME ZONE 'Europe/London')::date AS month,
       offer.course_type_id, session.venue_id, booking.channel, COUNT(*) AS bookings,
       SUM(booking.fee_pence) AS fees_pence
FROM booking_booking AS booking
JOIN booking_offer AS offer ON offer.id = booking.offer_id
JOIN booking_coursesession AS session ON session.id = booking.session_id
WHERE booking.transferred_from_id IS NULL AND booking.confirmed_at IS NOT NULL
GROUP BY 1, 2, 3, 4
"""
REBUILD_BOOKINGS_SQL = """
INSERT INTO booking_bookingtally
    (month, course_type_id, venue_id, channel, bookings, fees_pence, folded)
SELECT *, TRUE FROM (""" + BOOKINGS_COUNT_SQL + """) AS counted
"""


REBUILD_FUNNEL_SQL = """
INSERT INTO booking_funnelentry (offer_id, month, course_type_id, venue_id, status, days_to_book)
SELECT * FROM ({places}) AS place;
INSERT INTO booking_funneltally
    (month, course_type_id, all_venues, venue_id, status, days_to_book, offers)
SELECT month, course_type_id, TRUE, NULL, status, days_to_book, COUNT(*)
FROM booking_funnelentry GROUP BY month, course_type_id, status, days_to_book
UNION ALL
SELECT month, course_type_id, FALSE, venue_id, status, days_to_book, COUNT(*)
FROM booking_funnelentry WHERE venue_id IS NOT NULL
GROUP BY month, course_type_id, venue_id, status, days_to_book;
"""


# The course type of each call's offer, copied onto calls logged in bulk (create_call copies
# it for the rest).
CALL_COURSE_TYPES_SQL = """
UPDATE booking_calllog AS call SET course_type_id = offer.course_type_id
FROM booking_offer AS offer
WHERE offer.id = call.offer_id AND call.course_type_id IS DISTINCT FROM offer.course_type_id
"""


def rebuild() -> None:
    """Count everything again from the rows (after a bulk load), in SQL."""
    with transaction.atomic(durable=not connection.in_atomic_block):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key()])
            for model in (BookingTally, FunnelTally, FunnelEntry, SessionFill, TallyChange,
                          RemittanceTally):
                cursor.execute(f"DELETE FROM {model._meta.db_table}")
            cursor.execute(REBUILD_BOOKINGS_SQL)
            cursor.execute(ADD_REMITTANCE_SQL.format(sign=1, folded="TRUE", levels=_money_sql()))
            cursor.execute(CALL_COURSE_TYPES_SQL)
            cursor.execute(FILL_SQL.format(where=""))
            cursor.execute(REBUILD_FUNNEL_SQL.format(places=PLACES_SQL.format(where="")))


# What differs between the tallies and a count from the rows, per tally: each is a full scan
# of the client's bookings and offers, run at night (`check`).
DIFFERENCES_SQL = {
    "bookings": """
        SELECT COUNT(*) FROM (
            SELECT month, course_type_id, venue_id, channel, SUM(bookings) AS bookings,
                   SUM(fees_pence) AS fees_pence
            FROM booking_bookingtally GROUP BY 1, 2, 3, 4 HAVING SUM(bookings) <> 0) AS kept
        FULL JOIN ({recount}) AS counted
            ON counted.month = kept.month AND counted.course_type_id = kept.course_type_id
           AND counted.venue_id IS NOT DISTINCT FROM kept.venue_id
           AND counted.channel = kept.channel
        WHERE (kept.bookings, kept.fees_pence) IS DISTINCT FROM
              (counted.bookings, counted.fees_pence)""",
    "funnel entries": """
        SELECT COUNT(*) FROM booking_funnelentry AS kept
        FULL JOIN ({places}) AS counted ON counted.offer_id = kept.offer_id
        WHERE (kept.offer_id, kept.month, kept.course_type_id, kept.venue_id, kept.status,
               kept.days_to_book) IS DISTINCT FROM
              (counted.offer_id, counted.month, counted.course_type_id, counted.venue_id,
               counted.status, counted.days_to_book)""",
    "funnel": """
        SELECT COUNT(*) FROM (
            SELECT month, course_type_id, all_venues, venue_id, status, days_to_book,
                   SUM(offers) AS offers
            FROM booking_funneltally GROUP BY 1, 2, 3, 4, 5, 6 HAVING SUM(offers) <> 0) AS kept
        FULL JOIN (
            SELECT month, course_type_id, TRUE AS all_venues, NULL::bigint AS venue_id, status,
                   days_to_book, COUNT(*) AS offers
            FROM booking_funnelentry GROUP BY month, course_type_id, status, days_to_book
            UNION ALL
            SELECT month, course_type_id, FALSE, venue_id, status, days_to_book, COUNT(*)
            FROM booking_funnelentry WHERE venue_id IS NOT NULL
            GROUP BY month, course_type_id, venue_id, status, days_to_book) AS counted
          ON counted.month = kept.month AND counted.course_type_id = kept.course_type_id
         AND counted.all_venues = kept.all_venues
         AND counted.venue_id IS NOT DISTINCT FROM kept.venue_id
         AND counted.status = kept.status
         AND counted.days_to_book IS NOT DISTINCT FROM kept.days_to_book
        WHERE kept.offers IS DISTINCT FROM counted.offers""",
    "course-date fill": """
        SELECT COUNT(*) FROM booking_sessionfill AS kept
        FULL JOIN ({fill}) AS counted ON counted.session_id = kept.session_id
        WHERE (kept.booked, kept.attended, kept.did_not_attend) IS DISTINCT FROM
              (counted.booked, counted.attended, counted.did_not_attend)""",
    "calls' course types": """
        SELECT COUNT(*) FROM booking_calllog AS call
        LEFT JOIN booking_offer AS offer ON offer.id = call.offer_id
        WHERE call.course_type_id IS DISTINCT FROM offer.course_type_id""",
    "remittance": """
        SELECT COUNT(*) FROM (
            SELECT """ + REMITTANCE_KEY + """, SUM(count) AS count,
                   SUM(amount_pence) AS amount_pence, SUM(police_pence) AS police_pence,
                   SUM(vat_pence) AS vat_pence
            FROM booking_remittancetally GROUP BY """ + REMITTANCE_KEY + """
            HAVING SUM(count) <> 0) AS kept
        FULL JOIN ({money}) AS counted
            ON counted.month = kept.month AND counted.police_force = kept.police_force
           AND counted.course_type_id = kept.course_type_id
           AND counted.all_venues = kept.all_venues
           AND counted.venue_id IS NOT DISTINCT FROM kept.venue_id
           AND counted.kind = kept.kind AND counted.refund = kept.refund
        WHERE (kept.count, kept.amount_pence, kept.police_pence, kept.vat_pence)
              IS DISTINCT FROM (counted.count, counted.amount_pence, counted.police_pence,
                                counted.vat_pence)""",
}


def check(*, repair: bool = True) -> dict:
    """Fold, then count every tally again and compare: {tally: keys that differ}, only the
    ones that do. A difference means a change reached the rows past log_event (a bug or a
    bulk load); with `repair`, everything is counted again."""
    fold(wait=True)
    differences = {}
    with transaction.atomic(durable=not connection.in_atomic_block):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key()])
            for name, sql in DIFFERENCES_SQL.items():
                cursor.execute(sql.format(recount=BOOKINGS_COUNT_SQL,
                                          places=PLACES_SQL.format(where=""),
                                          fill=FILL_COUNT_SQL.format(where=""),
                                          money=_money_sql()))
                count = cursor.fetchone()[0]
                if count:
                    differences[name] = count
    if differences and repair:
        rebuild()
    return differences
