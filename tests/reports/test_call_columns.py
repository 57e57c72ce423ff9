"""What the calls report reads from each call without a join or a time-zone conversion: the UK
wall-clock date, time, hour and weekday the database keeps as the row is written, and the
course type copied from the offer (which follows an import's change, and a recount)."""

from datetime import date, time

from django.db import transaction

from booking import tallies
from booking.models import CallLog, Channel, Offer
from booking.services.events import log_event
from reports.calls import calls_report

from ..factories import CourseTypeFactory
from . import test_fill_and_calls
from .test_fill_and_calls import SUMMER, call, staff_booking, utc

summer_calls = test_fill_and_calls.summer_calls  # nine calls, hand-counted


def test_the_database_keeps_the_uk_wall_clock(summer_calls):
    # 23:30 UTC on Friday 31 July is 00:30 BST on Saturday 1 August; in winter UK time is UTC.
    summer = CallLog.objects.get(started_at=utc(2026, 7, 31, 23, 30))
    assert (summer.local_date, summer.local_time, summer.local_hour, summer.iso_weekday) == \
        (date(2026, 8, 1), time(0, 30), 0, 6)
    winter = call("enquiry", "information_given", utc(2026, 12, 1, 23, 30))
    winter = CallLog.objects.get(pk=winter.pk)
    assert (winter.local_date, winter.local_hour, winter.iso_weekday) == \
        (date(2026, 12, 1), 23, 2)


def test_the_course_type_follows_the_offer(summer_calls):
    booked = CallLog.objects.get(booking__isnull=False)
    assert booked.course_type == summer_calls.course
    other = CourseTypeFactory(code="WDU")
    offer = booked.offer
    with transaction.atomic():  # as import_offers records a changed offer
        Offer.objects.filter(pk=offer.pk).update(course_type=other)
        offer.refresh_from_db()
        log_event(offer, "offer.updated", channel=Channel.ADMIN, actor="import",
                  before={"course_type": summer_calls.course.code},
                  after={"course_type": other.code})
    booked.refresh_from_db()
    assert booked.course_type == other
    org = summer_calls.organisation
    assert calls_report(SUMMER, organisation=org, course_type=other).total.calls == 1
    assert calls_report(SUMMER, organisation=org,
                        course_type=summer_calls.course).total.calls == 0
    # A call written past create_call (a bulk load) is given its offer's by a recount.
    moved = staff_booking(summer_calls.course, booked.booking.session,
                          at=utc(2026, 7, 3, 10), channel=Channel.TELEPHONE)
    CallLog.objects.create(call_type="enquiry", outcome="information_given",
                           duration_minutes=1, offer=moved.offer, agent_label="bulk",
                           started_at=utc(2026, 7, 3, 10))
    assert tallies.check() == {"calls' course types": 1}
    assert calls_report(SUMMER, organisation=org,
                        course_type=summer_calls.course).total.calls == 1
