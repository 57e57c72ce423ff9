"""The retention schedule and the nightly job: exactly the offers whose period has ended are
erased (hand-built around each boundary), a re-run erases nothing more, a client's shorter
schedule applies, and nothing may lengthen the national periods."""

from datetime import UTC, date

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_tenants.utils import schema_context

from booking.models import ErasureRecord, OffenderRead, Offer, RetentionSchedule
from booking.services import retention
from booking.services.cases import raise_case
from booking.tasks import ERASE_DUE, PER_CLIENT_TASKS, run_for_every_client
from config.beat import CELERY_BEAT_SCHEDULE

from ..factories import OfferFactory

TODAY = date(2026, 12, 3)
S = Offer.Status


def offer(reference, status, offence: date, *, critical: date | None = None):
    critical = critical or offence + relativedelta(months=4)
    return OfferFactory(reference=reference, status=status, offence_date=offence,
                        critical_date=critical, booking_period_end=critical,
                        last_name=f"Person{reference[-2:]}")


@pytest.fixture
def boundary_offers(in_essex):
    """Offers either side of each boundary, by reference: D… are due on TODAY, K… kept."""
    attended = TODAY - relativedelta(months=42)  # 3 June 2023
    not_attended = TODAY - relativedelta(months=12)  # 3 December 2025
    made = {
        "D-01": offer("D-01", S.COMPLETED, attended),
        "K-02": offer("K-02", S.COMPLETED, attended + relativedelta(days=1)),
        "D-03": offer("D-03", S.DID_NOT_ATTEND, not_attended),
        "K-04": offer("K-04", S.DID_NOT_ATTEND, not_attended + relativedelta(days=1)),
        "D-05": offer("D-05", S.EXPIRED, not_attended - relativedelta(days=30)),
        "D-06": offer("D-06", S.WITHDRAWN, not_attended),
        "D-07": offer("D-07", S.REFUSED_ENTRY, not_attended),
        # Attended within 42 months but more than 12: the attended rule keeps it.
        "K-08": offer("K-08", S.COMPLETED, not_attended - relativedelta(months=6)),
        # Old, but still bookable (its critical date is to come): never erased.
        "K-09": offer("K-09", S.OFFERED, not_attended - relativedelta(months=1),
                      critical=TODAY + relativedelta(days=10)),
        "K-10": offer("K-10", S.CANCELLED, not_attended - relativedelta(months=1),
                      critical=TODAY),
        # Due, but an open special-circumstances case keeps it until decided.
        "K-11": offer("K-11", S.EXPIRED, not_attended - relativedelta(months=2)),
    }
    raise_case(made["K-11"].pk, kind="other", notes="Still talking", actor="tests")
    return made


def test_the_job_erases_exactly_what_is_due_and_is_idempotent(boundary_offers):
    due = retention.offers_due(TODAY)
    expected = {"D-01", "D-03", "D-05", "D-06", "D-07"}
    assert {o.reference for o in Offer.objects.filter(pk__in=due)} == expected
    assert due[boundary_offers["D-01"].pk] == ErasureRecord.Rule.ATTENDED
    assert due[boundary_offers["D-03"].pk] == ErasureRecord.Rule.NOT_ATTENDED
    run = retention.erase_due(today=TODAY)
    assert (run.erased, run.skipped) == (5, 0)
    erased = Offer.objects.filter(erased_at__isnull=False)
    assert {o.pk for o in erased} == {boundary_offers[r].pk for r in expected}
    assert all(o.last_name == "" and o.reference.startswith("ERASED-") for o in erased)
    kept = Offer.objects.filter(erased_at__isnull=True)
    assert sorted(o.reference for o in kept) == sorted(
        r for r in boundary_offers if r.startswith("K"))
    records = ErasureRecord.objects.all()
    assert len(records) == 5 and {r.actor for r in records} == {"system"}
    assert {r.rule for r in records} == {"attended", "not_attended"}
    # Again, and again the next day: nothing more.
    assert retention.erase_due(today=TODAY).erased == 0
    assert ErasureRecord.objects.count() == 5
    # A day later the two kept at the boundary are due, and the cancelled offer whose
    # critical date was today.
    assert retention.erase_due(today=TODAY + relativedelta(days=1)).erased == 3
    assert set(Offer.objects.filter(erased_at__isnull=True).values_list(
        "last_name", flat=True)) == {"Person08", "Person09", "Person11"}


def test_month_ends_count_as_postgresql_and_the_national_database_do(in_essex):
    leap = offer("L-01", S.COMPLETED, date(2023, 2, 28))  # + 42 months: 28 August 2026
    august = offer("A-02", S.DID_NOT_ATTEND, date(2025, 8, 31))  # + 12: 31 August 2026
    assert set(retention.offers_due(date(2026, 8, 27))) == set()
    assert set(retention.offers_due(date(2026, 8, 28))) == {leap.pk}
    assert set(retention.offers_due(date(2026, 8, 31))) == {leap.pk, august.pk}


def test_a_shorter_schedule_applies(boundary_offers, essex):
    retention.set_retention_schedule(attended_months=24, not_attended_months=6,
                                     access_log_months=3, acting_user="dpo@essex.test")
    recent = offer("K-20", S.COMPLETED, TODAY - relativedelta(months=23))
    shorter = offer("D-21", S.COMPLETED, TODAY - relativedelta(months=24))
    six = offer("D-22", S.DID_NOT_ATTEND, TODAY - relativedelta(months=6),
                critical=TODAY - relativedelta(days=1))
    due = retention.offers_due(TODAY)
    assert shorter.pk in due and six.pk in due and recent.pk not in due
    assert boundary_offers["K-08"].pk not in due  # attended, 18 months after the offence
    assert boundary_offers["K-04"].pk in due


def test_the_schedule_cannot_lengthen_the_national_periods(in_essex):
    for given, field in (({"attended_months": 43}, "attended_months"),
                         ({"not_attended_months": 13}, "not_attended_months"),
                         ({"access_log_months": 25}, "access_log_months"),
                         ({"attended_months": 0}, "attended_months"),
                         ({"attended_months": "many"}, "attended_months")):
        values = {"attended_months": 42, "not_attended_months": 12, "access_log_months": 24,
                  **given}
        with pytest.raises(ValidationError) as refused:
            retention.set_retention_schedule(**values, acting_user="tests")
        assert field in refused.value.message_dict
    assert not RetentionSchedule.objects.exists()
    # The database refuses it whatever writes it.
    for values in ({"attended_months": 43}, {"not_attended_months": 13},
                   {"access_log_months": 25}):
        with pytest.raises(IntegrityError), transaction.atomic():
            RetentionSchedule.objects.create(**values)
    RetentionSchedule.objects.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        RetentionSchedule.objects.create()  # one schedule per client
    assert retention.retention_schedule().attended_months == 42


def test_old_reads_are_purged_by_the_access_log_period(in_essex):
    from datetime import datetime

    person = OfferFactory()
    for when in (datetime(2024, 12, 2, 12, tzinfo=UTC),
                 datetime(2024, 12, 3, 12, tzinfo=UTC)):
        OffenderRead.objects.create(offer=person, viewer="x@essex.test", page="manage.offender",
                                    path="/", occurred_at=when)
    assert retention.erase_due(today=TODAY).reads_purged == 1  # 24 months: before 3 Dec 2024
    assert OffenderRead.objects.count() == 1
    retention.set_retention_schedule(attended_months=42, not_attended_months=12,
                                     access_log_months=1, acting_user="tests")
    assert retention.purge_reads(today=TODAY) == 1


def test_beat_runs_the_job_nightly_for_every_client(essex, south_wales):
    entry = CELERY_BEAT_SCHEDULE["erase-due-nightly"]
    assert entry["args"] == (ERASE_DUE,) and ERASE_DUE in PER_CLIENT_TASKS
    for client in (essex, south_wales):
        with schema_context(client.schema_name):
            offer("D-30", S.DID_NOT_ATTEND, date(2020, 1, 1))
    with schema_context(essex.schema_name):
        retention.set_retention_schedule(attended_months=42, not_attended_months=12,
                                         access_log_months=24, acting_user="tests")
    result = run_for_every_client(ERASE_DUE)
    assert set(result["dispatched"]) >= {essex.schema_name, south_wales.schema_name}
    for client in (essex, south_wales):
        with schema_context(client.schema_name):
            assert Offer.objects.get().erased_at is not None
            assert ErasureRecord.objects.count() == 1


def test_the_job_skips_an_offer_taken_up_again_meanwhile(in_essex, monkeypatch):
    target = offer("D-40", S.EXPIRED, date(2020, 1, 1))
    listed = retention.offers_due(TODAY)
    assert target.pk in listed
    raise_case(target.pk, kind="other", notes="Rang in", actor="tests")  # meanwhile
    monkeypatch.setattr(retention, "offers_due", lambda today, schedule: listed)
    run = retention.erase_due(today=TODAY)
    assert (run.erased, run.skipped) == (0, 1)
    assert Offer.objects.get(pk=target.pk).erased_at is None
