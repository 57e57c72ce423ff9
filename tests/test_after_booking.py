"""Issue 14, item 8: after booking the person keeps a calendar file and a receipt (HTML and
PDF), changes their contact details and letter language; staff print a confirmation letter in
the person's language for someone with neither an e-mail address nor a phone."""


from django.core.cache import cache
from django_tenants.utils import schema_context

from booking.models import Booking, Offer, OfferEvent
from booking.services.bookings import book, place_hold
from booking.services.payments import pay_with_card_token, start_card_payment

from .conftest import enable_card_payments
from .journey_data import make_journey_data
from .test_payments import card_token

ESSEX = {"HTTP_HOST": "essex.localhost"}
WALES = {"HTTP_HOST": "south-wales.localhost"}
DOB = {"date_of_birth_0": "27", "date_of_birth_1": "3", "date_of_birth_2": "1985"}


def _paid_booking(organisation, stripe_api, reference):
    enable_card_payments(organisation)
    offer, sessions = make_journey_data(organisation, reference=reference)
    with schema_context(organisation.schema_name):
        place_hold(offer.pk, sessions[0].pk, channel="online", actor="offender")
        booking = book(offer.pk, channel="online", actor="offender")
        payment, _intent = start_card_payment(booking.pk, organisation=organisation,
                                              channel="online", actor="offender")
        pay_with_card_token(payment.pk, card_token(stripe_api), organisation=organisation,
                            actor="offender")
        booking.refresh_from_db()
    assert booking.status == "confirmed"
    return offer, booking


def test_confirmation_offers_the_calendar_file_and_a_receipt(essex, client, stripe_api):
    cache.clear()
    offer, booking = _paid_booking(essex, stripe_api, "ESX-200031")
    client.post("/book/find/", {"reference": offer.reference, **DOB}, **ESSEX)
    base = f"/book/confirmation/{booking.reference}/"
    page = client.get(base, **ESSEX).content.decode()
    for link in ("calendar.ics", "receipt/", "receipt.pdf"):
        assert f'href="{base}{link}"' in page
    calendar = client.get(base + "calendar.ics", **ESSEX)
    assert calendar["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in calendar.content and booking.reference.encode() in calendar.content
    receipt = client.get(base + "receipt/", **ESSEX).content.decode()
    # NSAC's national fee: £95.00 hand-counted as the course part plus police cost recovery.
    assert "Total paid" in receipt and "£95.00" in receipt and offer.full_name in receipt
    pdf = client.get(base + "receipt.pdf", **ESSEX)
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert f"receipt-{booking.reference}.pdf" in pdf["Content-Disposition"]
    # Another offer's session cannot fetch this booking's documents.
    client.post("/booking/sign-out/", **ESSEX)
    assert client.get(base + "receipt.pdf", **ESSEX).status_code == 302
    cache.clear()


def test_the_person_changes_contact_details_and_letter_language(south_wales, client):
    cache.clear()
    offer, sessions = make_journey_data(south_wales, reference="SWA-200032", fee_pence=0)
    with schema_context(south_wales.schema_name):
        place_hold(offer.pk, sessions[0].pk, channel="online", actor="offender")
        book(offer.pk, channel="online", actor="offender")
    client.post("/book/find/", {"reference": offer.reference, **DOB}, **WALES)
    manage = client.get("/booking/", **WALES).content.decode()
    assert 'href="/booking/contact-details/"' in manage
    neither = client.post("/booking/contact-details/", {"email": "", "phone": "",
                                                        "language": "en"}, **WALES)
    assert neither.status_code == 400
    assert "Enter an email address or a phone number" in neither.content.decode()
    saved = client.post("/booking/contact-details/",
                        {"email": "", "phone": "07700 900123", "language": "cy"}, **WALES)
    assert saved["Location"] == "/booking/"
    with schema_context(south_wales.schema_name):
        changed = Offer.objects.get(pk=offer.pk)
        assert (changed.email, changed.phone, changed.language) == ("", "07700 900123", "cy")
        event = OfferEvent.objects.filter(offer=offer, kind="offer.details_changed").last()
        assert {"phone", "language"} <= set(event.after)
        assert all(event.before[name] != event.after[name] for name in event.after)
    cache.clear()


def test_staff_print_a_confirmation_letter_in_the_persons_language(south_wales, client,
                                                                    south_wales_admin):
    cache.clear()
    offer, sessions = make_journey_data(south_wales, reference="SWA-200033", fee_pence=0,
                                        language="cy")
    with schema_context(south_wales.schema_name):
        place_hold(offer.pk, sessions[0].pk, channel="admin", actor="staff")
        booking = book(offer.pk, channel="admin", actor="staff")
        Offer.objects.filter(pk=offer.pk).update(email="", phone="")
    client.force_login(south_wales_admin)
    detail = client.get(f"/manage/offenders/{offer.reference}/", **WALES).content.decode()
    letter_url = f"/manage/offenders/{offer.reference}/letter.pdf"
    assert letter_url in detail and "post this letter" in detail
    letter = client.get(letter_url, **WALES)
    assert letter.status_code == 200 and letter.content.startswith(b"%PDF")
    assert b"/Lang (cy)" in letter.content
    with schema_context(south_wales.schema_name):
        assert Booking.objects.get(pk=booking.pk).status == "confirmed"
    client.logout()
    assert client.get(letter_url, **WALES).status_code in (302, 403)
    cache.clear()


def test_receipt_of_an_unpaid_booking_is_not_found(essex, client):
    cache.clear()
    enable_card_payments(essex)
    offer, sessions = make_journey_data(essex, reference="ESX-200034")
    with schema_context(essex.schema_name):
        place_hold(offer.pk, sessions[0].pk, channel="online", actor="offender")
        booking = book(offer.pk, channel="online", actor="offender")
    client.post("/book/find/", {"reference": offer.reference, **DOB}, **ESSEX)
    assert client.get(f"/book/confirmation/{booking.reference}/receipt.pdf",
                      **ESSEX).status_code == 404
    cache.clear()
