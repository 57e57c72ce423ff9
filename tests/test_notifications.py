"""E-mails to the offender: content, calendar file, language, event log, and tenant isolation.

Data is created inside the client's schema in the ordinary test transaction. Times are relative
to now; bookings are made with an explicit `now=` in the past so sessions close at hand can
still be booked.
"""

from datetime import UTC, timedelta

import icalendar
import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_tenants.utils import schema_context

from booking import notifications
from booking.models import Booking, CourseType, DeliveryMode, OfferEvent, Payment
from booking.services.bookings import confirm_booking
from booking.services.changes import cancel_booking, transfer_booking

from .conftest import deliver_outbox
from .factories import (
    CourseSessionFactory,
    OfferFactory,
    days_from_today,
    local_at,
    make_booking,
)


def events(kind, **filters):
    return OfferEvent.objects.filter(kind=kind, **filters)


def calendar_parts(message):
    """The parsed VEVENTs of every .ics attachment, with each file's METHOD."""
    parts = []
    for attachment in message.attachments:
        filename, content, mimetype = attachment
        if filename.endswith(".ics"):
            calendar = icalendar.Calendar.from_ical(content)
            parts.append((filename, str(calendar.get("METHOD")), calendar.events[0], mimetype))
    return parts


def send(queue, *args):
    """Queue the message as a service would and send it, alone: what the test's set-up queued
    (a booking's own confirmation) goes first and is left out of mail.outbox."""
    deliver_outbox()
    mail.outbox.clear()
    queued = queue(*args)
    deliver_outbox()
    return queued


def html_of(message) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


# --- Confirmation -----------------------------------------------------------------------------


def test_confirmation_has_calendar_file_fee_lines_and_event(essex):
    with schema_context(essex.schema_name):
        starts = local_at(days_from_today(10), 9, 30)
        session = CourseSessionFactory(starts_at=starts)
        booking = make_booking(session, email="sam@example.test")
        assert booking.status == Booking.Status.CONFIRMED

        deliver_outbox()  # the booking queued its own confirmation

        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["sam@example.test"]
        assert message.extra_headers["Content-Language"] == "en-GB"
        assert "Essex Driver Awareness" in message.from_email
        assert message.reply_to == ["courses@essex.test"]
        assert booking.reference in message.subject
        # Fee breakdown from the snapshot: £50 course + £45 police cost recovery, no VAT.
        for text in (message.body, html_of(message)):
            assert "£50.00" in text and "£45.00" in text and "£0.00" in text
            assert "£95.00" in text
            assert "Police cost recovery" in text
            assert booking.reference in text
            assert "photocard driving licence" in text
            assert "Arrive 15 minutes before the start time" in text
            assert "CM1 1JE" in text
        assert 'lang="en-GB"' in html_of(message)
        assert "Dear Sam," in message.body

        [(filename, method, event, mimetype)] = calendar_parts(message)
        assert filename == f"{booking.reference}.ics"
        assert method == "PUBLISH" and mimetype.startswith("text/calendar")
        assert str(event["UID"]) == f"{booking.reference}@essex.localhost"
        assert event.start == starts and event.start.utcoffset() == timedelta(0)
        assert event.end == session.ends_at
        assert "DTSTART:" + starts.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") in (
            message.attachments[0][1].replace("\r\n ", ""))
        assert str(event["SUMMARY"]) == "National Speed Awareness Course"
        location = str(event["LOCATION"])
        assert session.venue.name in location and "CM1 1JE" in location
        description = str(event["DESCRIPTION"])
        assert booking.reference in description
        assert "photocard driving licence" in description
        assert "15 minutes" in description

        sent = events("message.sent", booking=booking).get()
        assert sent.after["template"] == "booking_confirmation"
        assert sent.after["to"] == "sam@example.test"
        assert sent.channel == "system" and sent.actor == "system"


def test_confirmation_with_the_real_tenant_and_a_free_online_booking(essex):
    """Through the online channel with the fees set to nothing: confirmed without payment."""
    connection.set_tenant(essex)
    CourseType.objects.filter(code="NSAC").update(provider_fee_pence=0,
                                                  police_cost_recovery_pence=0)
    starts = local_at(days_from_today(12), 18, 0)
    session = CourseSessionFactory(starts_at=starts, delivery_mode=DeliveryMode.ONLINE,
                                   joining_url="https://meet.example.test/nsac-1")
    booking = make_booking(session, channel="online")
    assert booking.status == Booking.Status.CONFIRMED

    deliver_outbox()  # the booking queued its own confirmation

    [message] = mail.outbox
    assert "There is no fee for this course." in message.body
    [(_name, _method, event, _type)] = calendar_parts(message)
    assert str(event["LOCATION"]) == "Online"
    assert "https://meet.example.test/nsac-1" in str(event["DESCRIPTION"])
    assert "Join 15 minutes before the start time" in str(event["DESCRIPTION"])


def test_no_email_address_is_skipped_and_logged(essex):
    with schema_context(essex.schema_name):
        # Booking confirms at once (an administrator's booking) and queues its confirmation.
        booking = make_booking(CourseSessionFactory(starts_at=local_at(days_from_today(9), 10)),
                               email="")
        assert deliver_outbox() == []
        skipped = events("message.skipped", booking=booking).get()
        assert skipped.after == {"template": "booking_confirmation", "reason": "no_email"}
        assert not events("message.sent").exists()


def test_a_booking_from_another_clients_schema_is_refused(essex, south_wales):
    with schema_context(essex.schema_name):
        booking = make_booking(CourseSessionFactory(starts_at=local_at(days_from_today(9), 10)))
    with schema_context(south_wales.schema_name):
        with pytest.raises(Booking.DoesNotExist):
            notifications.queue_booking_confirmation(booking)
        assert not OfferEvent.objects.filter(kind__startswith="message.").exists()
    assert mail.outbox == []


def test_public_schema_never_sends(essex):
    with schema_context(essex.schema_name):
        booking = make_booking(CourseSessionFactory(starts_at=local_at(days_from_today(9), 10)))
    with pytest.raises(RuntimeError):
        notifications.queue_booking_confirmation(booking)
    assert mail.outbox == []


# --- Welsh ------------------------------------------------------------------------------------


def test_welsh_offer_gets_the_whole_email_in_welsh(south_wales, monkeypatch):
    languages_seen = []
    real_gettext = notifications.messages._

    def recording_gettext(message):
        languages_seen.append(translation.get_language())
        return real_gettext(message)

    with schema_context(south_wales.schema_name):
        starts = local_at(days_from_today(10), 9, 30)
        session = CourseSessionFactory(starts_at=starts)
        monkeypatch.setattr(notifications.messages, "_", recording_gettext)
        monkeypatch.setattr(notifications.compose, "_", recording_gettext)
        booking = make_booking(session, email="cymraeg@example.test", language="cy")
        deliver_outbox()  # the booking queued its own confirmation

    [message] = mail.outbox
    assert message.extra_headers["Content-Language"] == "cy"
    assert 'lang="cy"' in html_of(message)
    # Every string composed in Python went through gettext with Welsh active.
    assert languages_seen and set(languages_seen) == {"cy"}
    with translation.override("cy"):
        expected = gettext("Booking confirmed: %(course)s on %(date)s (%(reference)s)") % {
            "course": "Cwrs Ymwybyddiaeth Cyflymder Cenedlaethol",
            "date": notifications.compose.formats.date_format(timezone.localtime(starts), "l j F Y"),
            "reference": booking.reference,
        }
    assert message.subject == expected
    # Names from the database come in Welsh: the course, the client's Welsh name.
    assert "Cwrs Ymwybyddiaeth Cyflymder Cenedlaethol" in message.body
    assert "Ymwybyddiaeth Gyrwyr De Cymru" in message.from_email
    assert "Ymwybyddiaeth Gyrwyr De Cymru" in html_of(message)
    [(_name, _method, event, _type)] = calendar_parts(message)
    assert str(event["SUMMARY"]) == "Cwrs Ymwybyddiaeth Cyflymder Cenedlaethol"
    assert str(event["UID"]) == f"{booking.reference}@south-wales.localhost"
    with schema_context(south_wales.schema_name):
        sent = events("message.sent", booking=booking).get()
    assert sent.after["language"] == "cy"


# --- Transfer, cancellation, reminder, joining, nudge -----------------------------------------


def test_transfer_confirmation_has_new_calendar_entry_and_cancels_the_old(essex):
    with schema_context(essex.schema_name):
        old_session = CourseSessionFactory(starts_at=local_at(days_from_today(20), 9, 30))
        new_starts = local_at(days_from_today(25), 13, 0)
        new_session = CourseSessionFactory(starts_at=new_starts)
        old = make_booking(old_session)
        deliver_outbox()
        mail.outbox.clear()
        new = transfer_booking(old.pk, new_session.pk, channel="online", actor="offender")
        deliver_outbox()  # the transfer queued its own confirmation

        [message] = mail.outbox
        assert new.reference in message.subject
        assert old.reference in message.body and new.reference in message.body
        parts = {filename: (method, event) for filename, method, event, _ in
                 calendar_parts(message)}
        method, event = parts[f"{new.reference}.ics"]
        assert method == "PUBLISH"
        assert str(event["UID"]) == f"{new.reference}@essex.localhost"
        assert event.start == new_starts
        assert int(event["SEQUENCE"]) == 1
        method, event = parts[f"{old.reference}-cancelled.ics"]
        assert method == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
        assert str(event["UID"]) == f"{old.reference}@essex.localhost"
        assert events("message.sent", booking=new).get().after["template"] == (
            "transfer_confirmation")


def paid_by_card(booking: Booking) -> Booking:
    """The booking's fee paid, as settle_payment records it (Stripe is not called here)."""
    Payment.objects.create(booking=booking, stripe_payment_intent_id=f"pi_{booking.reference}",
                           amount_pence=booking.fee_pence, channel="online",
                           status=Payment.Status.SUCCEEDED)
    return confirm_booking(booking.pk, channel="online", actor="stripe")


def test_cancellation_states_the_refund_and_removes_the_calendar_entry(essex):
    with schema_context(essex.schema_name):
        booking = paid_by_card(make_booking(
            CourseSessionFactory(starts_at=local_at(days_from_today(20), 9, 30)),
            channel="online"))
        deliver_outbox()
        mail.outbox.clear()
        cancel_booking(booking.pk, channel="online", actor="offender")
        deliver_outbox()  # the cancellation queued its own message, with the refund the policy gives

        [message] = mail.outbox
        assert booking.reference in message.subject
        assert "We will refund £95.00" in message.body
        assert "You can still book another date" in message.body
        [(_name, method, event, _type)] = calendar_parts(message)
        assert method == "CANCEL"
        assert str(event["UID"]) == f"{booking.reference}@essex.localhost"
        assert events("message.sent", booking=booking, after__template="cancellation").exists()


def test_cancelling_a_waived_booking_promises_no_refund_and_says_nothing_of_the_fee(essex):
    with schema_context(essex.schema_name):
        booking = make_booking(CourseSessionFactory(starts_at=local_at(days_from_today(5), 9, 30)))
        assert booking.fee_snapshot["waived"]
        deliver_outbox()
        mail.outbox.clear()
        cancel_booking(booking.pk, channel="admin", actor="boss@essex.test")
        [message] = deliver_outbox()
        assert "refund" not in message.body.lower()


def test_reminder_and_joining_instructions(essex):
    with schema_context(essex.schema_name):
        session = CourseSessionFactory(starts_at=local_at(days_from_today(2), 18),
                                       delivery_mode="online",
                                       joining_url="https://meet.example.test/abc")
        booking = make_booking(session)
        send(notifications.queue_reminder, booking, 2)
        [reminder] = mail.outbox
        send(notifications.queue_joining_instructions, booking)
        [joining] = mail.outbox
        assert "your course is in 2 days" in reminder.body
        assert "https://meet.example.test/abc" in joining.body
        assert 'href="https://meet.example.test/abc"' in html_of(joining)
        templates = sorted(e.after["template"] for e in events("message.sent", booking=booking))
        assert templates == ["booking_confirmation", "joining_instructions", "reminder_2"]

        classroom = make_booking(CourseSessionFactory(starts_at=local_at(days_from_today(2), 9)))
        with pytest.raises(ValueError):
            send(notifications.queue_joining_instructions, classroom)


def test_booking_period_nudge(essex):
    with schema_context(essex.schema_name):
        offer = OfferFactory(email="late@example.test", booking_period_in=5)
        send(notifications.queue_booking_period_nudge, offer)

        [message] = mail.outbox
        assert message.to == ["late@example.test"]
        assert offer.reference in message.body
        with translation.override("en-gb"):
            end = notifications.compose.formats.date_format(offer.booking_period_end, "l j F Y")
        assert end in message.subject and end in message.body
        sent = events("message.sent", offer=offer).get()
        assert sent.booking is None and sent.after["template"] == "booking_period_nudge"


def test_the_clients_own_wording_replaces_the_standard_message(essex):
    from booking.models import CorrespondenceTemplate

    with schema_context(essex.schema_name):
        CorrespondenceTemplate.objects.create(
            kind="booking_confirmation", language="en",
            subject="Booked: {course_name} on {course_date}",
            body="Dear {first_name},\nyour booking {booking_reference} is confirmed.\n{client_name}")
        session = CourseSessionFactory(starts_at=local_at(days_from_today(10), 9, 30))
        booking = make_booking(session, email="sam@example.test")
        deliver_outbox()  # the booking queued its own confirmation
        message = mail.outbox[-1]
        assert message.subject.startswith("Booked: National Speed Awareness Course on ")
        assert f"your booking {booking.reference} is confirmed" in message.body
        assert "Essex Driver Awareness" in message.body
        assert calendar_parts(message)  # the calendar file still comes with it
