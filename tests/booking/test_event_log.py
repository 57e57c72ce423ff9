"""The offer's event log (append-only, every change with its actor) and client isolation."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from booking.models import Offer, OfferEvent
from booking.services import bookings, changes, offers
from booking.services.bookings import ContactDetails, FeeWaiver
from tests.conftest import make_user

from .conftest import local_day, make_offer, make_session, reload


def new_events(since_pk):
    return list(OfferEvent.objects.filter(pk__gt=since_pk).order_by("pk"))


def last_pk():
    return OfferEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_every_successful_service_call_appends_an_event_with_actor_and_channel(in_essex, now):
    agent = make_user("agent@waymark.test")
    first = make_session(starts_in=timedelta(days=10), now=now)
    second = make_session(starts_in=timedelta(days=20), now=now)
    offer = make_offer(now=now)
    offer_pk = offer.pk

    def step(call, *, channel, actor_label, kinds, actor_user_id=None):
        before = last_pk()
        result = call()
        written = new_events(before)
        assert [event.kind for event in written] == kinds
        for event in written:
            assert event.offer_id == offer_pk
            assert event.channel == channel and event.actor == actor_label
            assert event.actor_user_id == actor_user_id
            assert event.occurred_at is not None
        return result

    step(lambda: bookings.place_hold(offer_pk, first.pk, channel="online", actor="online",
                                     now=now),
         channel="online", actor_label="online", kinds=["hold.placed"])
    step(lambda: bookings.release_hold(offer_pk, channel="online", actor="online", now=now),
         channel="online", actor_label="online", kinds=["hold.released"])
    step(lambda: bookings.place_hold(offer_pk, first.pk, channel="telephone", actor=agent,
                                     now=now),
         channel="telephone", actor_label=agent.email, actor_user_id=agent.pk,
         kinds=["hold.placed"])
    booking = step(lambda: bookings.book(offer_pk, channel="telephone", actor=agent, now=now,
                                         details=ContactDetails(email="sam@example.test")),
                   channel="telephone", actor_label=agent.email, actor_user_id=agent.pk,
                   kinds=["offer.details_changed", "booking.created"])
    step(lambda: bookings.confirm_booking(booking.pk, channel="online", actor="stripe",
                                          payment={"id": "pi_1"}, now=now),
         channel="online", actor_label="stripe", kinds=["booking.confirmed"])
    moved = step(lambda: changes.transfer_booking(booking.pk, second.pk, channel="admin",
                                                   actor=agent, now=now),
                 channel="admin", actor_label=agent.email, actor_user_id=agent.pk,
                 kinds=["booking.transferred"])
    step(lambda: changes.cancel_booking(moved.pk, channel="online", actor="online", now=now),
         channel="online", actor_label="online", kinds=["booking.cancelled"])
    rebooked = step(lambda: bookings.book(offer_pk, session_id=first.pk, channel="admin",
                                          actor=agent, waiver=FeeWaiver("Goodwill"), now=now),
                    channel="admin", actor_label=agent.email, actor_user_id=agent.pk,
                    kinds=["booking.confirmed"])
    after_course = first.starts_at + timedelta(hours=4)
    step(lambda: offers.record_outcome(rebooked.pk, "completed", actor=agent,
                                       now=after_course),
         channel="admin", actor_label=agent.email, actor_user_id=agent.pk,
         kinds=["booking.outcome_recorded"])

    expiring = make_offer(critical_in=-timedelta(days=1), now=now)
    before = last_pk()
    offers.expire_offers(actor="nightly", today=local_day(now))
    [event] = new_events(before)
    assert (event.offer_id, event.kind, event.channel, event.actor) == (
        expiring.pk, "offer.expired", "system", "nightly")

    timeline = list(reload(offer).events.values_list("kind", flat=True))
    assert timeline == ["hold.placed", "hold.released", "hold.placed", "offer.details_changed",
                        "booking.created", "booking.confirmed", "booking.transferred",
                        "booking.cancelled", "booking.confirmed", "booking.outcome_recorded"]


@pytest.fixture
def logged(in_essex, now):
    offer = make_offer(now=now)
    bookings.place_hold(offer.pk, make_session(now=now).pk, channel="online", actor="online",
                        now=now)
    return OfferEvent.objects.get(offer=offer)


@pytest.mark.parametrize("change", [
    lambda event: OfferEvent.objects.filter(pk=event.pk).update(actor="someone else"),
    lambda event: OfferEvent.objects.filter(pk=event.pk).delete(),
    lambda event: (setattr(event, "kind", "hold.forged"), event.save()),
    lambda event: event.delete(),
    lambda event: Offer.objects.filter(pk=event.offer_id).delete(),
], ids=["queryset-update", "queryset-delete", "save", "delete", "cascade-from-offer"])
def test_events_cannot_be_changed_or_deleted(logged, change):
    with pytest.raises(IntegrityError), transaction.atomic():
        change(logged)
    assert OfferEvent.objects.get(pk=logged.pk).actor == "online"


def test_events_cannot_be_changed_even_with_raw_sql(logged):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("UPDATE booking_offerevent SET actor = 'x' WHERE id = %s", [logged.pk])
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("DELETE FROM booking_offerevent WHERE id = %s", [logged.pk])
    assert OfferEvent.objects.filter(pk=logged.pk).exists()


def test_an_offer_in_essex_is_not_found_from_south_wales(essex, south_wales):
    now = timezone.now()
    connection.set_tenant(essex)
    offer = make_offer(reference="SHARED123", now=now)
    session = make_session(now=now)
    assert offers.find_offer("SHARED123", offer.date_of_birth) == offer

    connection.set_tenant(south_wales)
    assert offers.find_offer("SHARED123", offer.date_of_birth) is None
    assert offers.find_offer("SHARED123", offer.date_of_birth, offer.postcode) is None
    assert not Offer.objects.filter(reference="SHARED123").exists()
    with pytest.raises(Offer.DoesNotExist):
        bookings.place_hold(offer.pk, session.pk, channel="online", actor="online", now=now)
    # The same reference may exist in both clients, each its own.
    welsh = make_offer(reference="SHARED123", postcode="CF10 1AA", now=now)
    assert offers.find_offer("SHARED123", welsh.date_of_birth, "CF10 1AA") == welsh

    connection.set_tenant(essex)
    assert offers.find_offer("SHARED123", offer.date_of_birth, "CF10 1AA") is None
    assert Offer.objects.get(reference="SHARED123") == offer
