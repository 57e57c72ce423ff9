"""Agents, other staff and a caller's data for the contact-centre tests."""

from datetime import date

import pytest
from django_tenants.utils import schema_context

from accounts.roles import Role
from booking.models import Booking

from ..conftest import make_user
from ..factories import OfferFactory, book_offer
from ..journey_data import make_journey_data

ESSEX = {"HTTP_HOST": "essex.localhost"}
SOUTH_WALES = {"HTTP_HOST": "south-wales.localhost"}
DOB = {"date_of_birth_0": "27", "date_of_birth_1": "3", "date_of_birth_2": "1985"}


@pytest.fixture
def agent(essex):
    return make_user("agent@callcentre.test", organisation=essex,
                     role=Role.CONTACT_CENTRE_AGENT)


@pytest.fixture
def south_wales_agent(south_wales):
    return make_user("agent@wales-calls.test", organisation=south_wales,
                     role=Role.CONTACT_CENTRE_AGENT)


@pytest.fixture
def trainer(essex):
    return make_user("trainer@essex.test", organisation=essex, role=Role.TRAINER)


@pytest.fixture
def caller(essex):
    """(offer with no booking, [sessions]) at essex: Sam Driver, born 27 March 1985."""
    return make_journey_data(essex)


@pytest.fixture
def confirmed_booking(essex, caller):
    """A confirmed booking (made by an administrator) on a second offer at essex."""
    _offer, sessions = caller
    with schema_context(essex.schema_name):
        other = OfferFactory(reference="ESX-200002", course_type=sessions[0].course_type,
                             critical_in=60, booking_period_in=30, first_name="Alex",
                             last_name="Motorist", date_of_birth=date(1990, 6, 1),
                             phone="+44 7700 900123")
        booking = book_offer(other, sessions[1], channel="admin", actor="boss@essex.test")
        return Booking.objects.select_related("offer").get(pk=booking.pk)
