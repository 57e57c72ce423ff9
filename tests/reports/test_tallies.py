"""The report tallies booking keeps as it logs events (booking/tallies.py): what the services
wrote, folded, is exactly what a recount from the rows gives; a fold adds each change once, in
any order, and another fold waits its turn; and the demo's bulk history is counted too."""

import threading
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Sum
from django_tenants.utils import schema_context

from booking import tallies
from booking.models import BookingTally, Channel, FunnelEntry, FunnelTally, Offer, TallyChange
from booking.services.changes import cancel_booking
from booking.services.offers import expire_offers, record_outcome
from reports.funnel import median

from . import test_client_reports
from .test_client_reports import offer_on, paid_booking, session_of, utc

march_and_april = test_client_reports.march_and_april  # the same hand-counted fixture


def counted() -> tuple[dict, dict]:
    """Each tally as {key: sum}, whatever its rows."""
    bookings = {(row["month"], row["course_type"], row["venue"], row["channel"]):
                (row["n"], row["fees"])
                for row in BookingTally.objects.values("month", "course_type", "venue", "channel")
                .annotate(n=Sum("bookings"), fees=Sum("fees_pence")) if row["n"]}
    funnel = {(row["month"], row["course_type"], row["all_venues"], row["venue"], row["status"],
               row["days_to_book"]): row["n"]
              for row in FunnelTally.objects.values("month", "course_type", "all_venues", "venue",
                                                    "status", "days_to_book")
              .annotate(n=Sum("offers")) if row["n"]}
    return bookings, funnel


def test_what_the_services_counted_is_what_a_recount_gives(march_and_april):
    made, paid, _other = march_and_april
    record_outcome(made["march_online"].pk, "completed", actor="trainer",
                   now=utc(2026, 4, 20, 13))
    cancel_booking(made["april_phone"].pk, channel=Channel.TELEPHONE, actor="agent@essex.test",
                   now=utc(2026, 4, 4, 10))
    expired = offer_on(paid, arrived=utc(2026, 3, 12, 9))
    Offer.objects.filter(pk=expired.pk).update(critical_date=date(2026, 3, 30))
    expire_offers(today=date(2026, 4, 1))
    late = paid_booking(offer_on(paid, arrived=utc(2026, 4, 28, 9)),
                        session_of(paid, utc(2026, 6, 2, 9)), channel=Channel.ONLINE,
                        at=utc(2026, 5, 1, 9))
    assert TallyChange.objects.exists()  # changes wait for the fold
    assert tallies.fold()
    assert not TallyChange.objects.exists()
    incremental = counted()
    # Each key's new booking rows are summed into one row.
    assert BookingTally.objects.filter(folded=False).count() == 0
    keys = BookingTally.objects.values("month", "course_type", "venue", "channel").distinct()
    assert BookingTally.objects.count() == keys.count()
    tallies.rebuild()
    assert counted() == incremental
    bookings, funnel = incremental
    # Four bookings made in April (the moved one once), the May one, March's.
    assert sum(n for n, _fees in bookings.values()) == 5
    may = [key for key in bookings if key[0] == date(2026, 5, 1)]
    assert may and bookings[may[0]] == (1, late.fee_pence)
    # The completed offer and the expired one, each once, at all venues; the offer whose
    # booking was cancelled is open to book again, still counted as booked in the funnel.
    by_status = {}
    for (_month, _course, every, _venue, status, _days), n in funnel.items():
        if every:
            by_status[status] = by_status.get(status, 0) + n
    assert by_status[Offer.Status.COMPLETED] == 1
    assert by_status[Offer.Status.EXPIRED] == 1
    phone = FunnelEntry.objects.get(offer_id=made["april_phone"].offer_id)
    assert phone.status == Offer.objects.get(pk=phone.offer_id).status
    assert phone.days_to_book is not None


def test_a_second_fold_adds_nothing_and_a_moved_offer_leaves_its_old_place(march_and_april):
    made, _paid, _other = march_and_april
    tallies.fold()
    before = counted()
    assert tallies.fold()
    assert counted() == before
    record_outcome(made["april_online"].pk, "did_not_attend", actor="trainer",
                   now=utc(2026, 4, 20, 13))
    tallies.fold()
    entry = FunnelEntry.objects.get(offer_id=made["april_online"].offer_id)
    assert entry.status == Offer.Status.DID_NOT_ATTEND
    after = counted()
    # The offer moved from booked to did not attend: as many offers as before, one more did
    # not attend, and the same as a recount.
    every = {key: n for key, n in after[1].items() if key[2]}
    assert sum(every.values()) == sum(n for key, n in before[1].items() if key[2])
    assert sum(n for key, n in every.items() if key[4] == Offer.Status.DID_NOT_ATTEND) == 1
    tallies.rebuild()
    assert counted() == after


@pytest.mark.django_db(transaction=True)
def test_a_fold_that_finds_another_running_steps_aside(essex):
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock():
        with schema_context(essex.schema_name), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [tallies._lock_key()])
            holding.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=hold_the_lock)
    thread.start()
    try:
        assert holding.wait(10)
        with schema_context(essex.schema_name):
            assert tallies.fold() is False
    finally:
        release.set()
        thread.join()
    with schema_context(essex.schema_name):
        assert tallies.fold() is True


def test_the_median_interpolates_as_percentile_cont():
    assert median({}) is None
    assert median({3: 1}) == 3
    assert median({21: 2}) == 21
    assert median({2: 1, 4: 1}) == 3
    assert median({1: 2, 10: 1}) == 1
    assert median({1: 1, 2: 1, 9: 2}) == 5.5


def test_recount_command_names_an_unknown_schema(essex):
    with pytest.raises((SystemExit, CommandError)):
        call_command("rebuild_report_tallies", "no_such_client")
    call_command("rebuild_report_tallies", essex.schema_name)


def test_the_nightly_check_finds_a_difference_and_counts_again(march_and_april, caplog):
    from booking.tasks import check_report_tallies

    tallies.fold()
    assert tallies.check() == {}
    kept = counted()
    # A change that reached the rows past log_event (as a bulk load would).
    Offer.objects.filter(pk=march_and_april[0]["april_phone"].offer_id).update(
        status=Offer.Status.WITHDRAWN)
    BookingTally.objects.filter(pk=BookingTally.objects.first().pk).update(bookings=99)
    result = check_report_tallies()
    assert result["differences"] == {"bookings": 1, "funnel entries": 1}
    assert "report tallies differed" in caplog.text
    assert tallies.check() == {}
    assert counted()[0] == kept[0]
