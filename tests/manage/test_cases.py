"""Special-circumstances cases: raised by agents or administrators, assigned, decided; every
step audited and on the offer's timeline; the offer shows "special arrangement" while open."""

import pytest

from accounts.roles import Role
from audit.models import AuditEntry
from booking.models import Offer, OfferEvent, SpecialCircumstancesCase
from booking.services.events import log_event

from .conftest import get, make_offer, post


def test_an_agent_raises_a_case(world, staff, client):
    offer = make_offer("ESX-CASE01")
    client.force_login(staff[Role.CONTACT_CENTRE_AGENT])
    url = "/manage/offenders/ESX-CASE01/cases/new/"
    empty = post(client, url, {})
    assert b'href="#id_kind"' in empty.content and b'href="#id_notes"' in empty.content
    bad = post(client, url, {"kind": "bribery", "notes": "x"})
    assert b'href="#id_kind"' in bad.content
    response = post(client, url, {"kind": "interpreter", "notes": "Needs Polish"})
    assert response.status_code == 302
    case = SpecialCircumstancesCase.objects.get(offer=offer)
    assert case.status == "open" and case.raised_by == staff[Role.CONTACT_CENTRE_AGENT].email
    offer.refresh_from_db()
    assert offer.status == "special_arrangement"
    assert OfferEvent.objects.filter(offer=offer, kind="case.raised").exists()
    assert AuditEntry.objects.filter(action="case.raised", object_id=str(case.pk)).exists()
    # One open case per offer; the agent cannot decide it.
    again = post(client, url, {"kind": "medical", "notes": "More"})
    assert SpecialCircumstancesCase.objects.filter(offer=offer).count() == 1
    assert again.status_code == 200
    assert post(client, f"/manage/cases/{case.pk}/decide/",
                {"decision": "approve", "note": "ok"}).status_code == 403


def test_the_public_journey_cannot_book_while_a_case_is_open(world):
    offer = world["unbooked"]
    offer.refresh_from_db()
    assert offer.status == "special_arrangement"


def test_an_administrator_assigns_and_approves(world, staff, client):
    admin = staff[Role.CLIENT_ADMIN]
    client.force_login(admin)
    case = world["case"]
    not_admin = post(client, f"/manage/cases/{case.pk}/assign/",
                     {"assignee": staff[Role.BOOKING_OFFICER].pk})
    assert b'href="#id_assignee"' in not_admin.content
    assert post(client, f"/manage/cases/{case.pk}/assign/",
                {"assignee": admin.pk}).status_code == 302
    case.refresh_from_db()
    assert case.assigned_to == admin.email
    no_note = post(client, f"/manage/cases/{case.pk}/decide/", {"decision": "approve"})
    assert b'href="#id_note"' in no_note.content
    done = post(client, f"/manage/cases/{case.pk}/decide/",
                {"decision": "approve", "note": "Three instalments of £33"})
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.status == "approved" and case.decided_by == admin.email
    assert Offer.objects.get(pk=case.offer_id).status == "offered"
    kinds = list(OfferEvent.objects.filter(offer_id=case.offer_id, kind__startswith="case.")
                 .values_list("kind", flat=True))
    assert kinds == ["case.raised", "case.assigned", "case.approved"]
    assert {"case.assigned", "case.approved"} <= set(
        AuditEntry.objects.values_list("action", flat=True))
    page = get(client, f"/manage/cases/{case.pk}/").content.decode()
    assert "Three instalments" in page and "Case approved" in page
    # Decided is decided.
    again = post(client, f"/manage/cases/{case.pk}/decide/",
                 {"decision": "decline", "note": "changed my mind"})
    assert again.status_code == 200 and b"already been decided" in again.content


def test_declining_puts_the_offer_back(world, staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    case = world["case"]
    post(client, f"/manage/cases/{case.pk}/decide/", {"decision": "decline", "note": "No"})
    case.refresh_from_db()
    assert case.status == "declined"
    assert Offer.objects.get(pk=case.offer_id).status == "offered"


def test_a_case_on_a_booked_offer_leaves_the_booking_alone(world, staff, client):
    client.force_login(staff[Role.CLIENT_ADMIN])
    post(client, "/manage/offenders/ESX-500001/cases/new/",
         {"kind": "medical", "notes": "Hearing"})
    assert Offer.objects.get(reference="ESX-500001").status == "booked"
    assert SpecialCircumstancesCase.objects.get(offer__reference="ESX-500001").status == "open"


@pytest.mark.parametrize("status", ["open", "approved", "all", "nonsense"])
def test_case_list_filters(world, staff, client, status):
    client.force_login(staff[Role.AUDITOR])
    page = get(client, "/manage/cases/", data={"status": status})
    assert page.status_code == 200
    assert (b"ESX-500002" in page.content) == (status in ("open", "all", "nonsense"))


def test_contact_centre_referrals_wait_for_a_case(world, staff, client):
    """A referral on the offer's timeline that no case covers is listed until one is opened."""
    offer = make_offer("ESX-CASE02")
    log_event(offer, "special_circumstances.raised", channel="telephone",
              actor=staff[Role.CONTACT_CENTRE_AGENT],
              after={"category": "part_payment", "details": "Can pay £20 a month"})
    client.force_login(staff[Role.CLIENT_ADMIN])
    page = get(client, "/manage/cases/").content.decode()
    assert "Can pay £20 a month" in page and "/manage/offenders/ESX-CASE02/cases/new/" in page
    post(client, "/manage/offenders/ESX-CASE02/cases/new/",
         {"kind": "instalments", "notes": "From the call"})
    assert "ESX-CASE02/cases/new/" not in get(client, "/manage/cases/").content.decode()
