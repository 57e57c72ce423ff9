"""Every page of the console, walked as four people: nobody signed in (sign-in page), another
client's agent (403), a trainer of this client (403) and this client's agent (200)."""

import pytest
from django.urls import URLPattern

from booking.contact_centre import urls as console_urls

from .conftest import ESSEX

PREFIX = "/contact-centre/"


def _pattern_path(pattern: URLPattern, offer_ref: str, booking_ref: str) -> str:
    route = str(pattern.pattern)
    if route.startswith("bookings/"):
        route = route.replace("<str:reference>", booking_ref)
    else:
        route = route.replace("<str:reference>", offer_ref)
    assert "<" not in route, f"add a value for {route} to this test"
    return PREFIX + route


NAMES = [pattern.name for pattern in console_urls.urlpatterns]


def test_the_walk_covers_every_console_url():
    assert console_urls.app_name == "contact_centre"
    assert len(NAMES) == len(set(NAMES)) >= 10
    for pattern in console_urls.urlpatterns:
        view = pattern.callback
        assert getattr(view, "required_action", None), f"{pattern.name} has no requires_action"


@pytest.fixture
def paths(caller, confirmed_booking):
    offer, _sessions = caller
    return {pattern.name: _pattern_path(pattern, offer.reference, confirmed_booking.reference)
            for pattern in console_urls.urlpatterns}


@pytest.mark.parametrize("name", NAMES)
def test_anonymous_goes_to_sign_in(name, paths, client):
    response = client.get(paths[name], **ESSEX)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/?next=/contact-centre/")


@pytest.mark.parametrize("name", NAMES)
def test_another_clients_agent_is_refused(name, paths, south_wales_agent, client):
    client.force_login(south_wales_agent)
    assert client.get(paths[name], **ESSEX).status_code == 403
    assert client.post(paths[name], {}, **ESSEX).status_code == 403


@pytest.mark.parametrize("name", NAMES)
def test_a_trainer_is_refused(name, paths, trainer, client):
    client.force_login(trainer)
    assert client.get(paths[name], **ESSEX).status_code == 403
    assert client.post(paths[name], {}, **ESSEX).status_code == 403


@pytest.mark.parametrize("name", NAMES)
def test_an_agent_gets_the_page(name, paths, agent, client):
    client.force_login(agent)
    response = client.get(paths[name], **ESSEX)
    assert response.status_code == 200, response.content.decode()[:2000]
    assert b"Contact centre" in response.content


@pytest.mark.parametrize("name", NAMES)
def test_an_empty_post_never_fails(name, paths, agent, client):
    """Posting nothing gives a page with a message or a redirect, never a server error."""
    client.force_login(agent)
    response = client.post(paths[name], {}, **ESSEX)
    assert response.status_code in (200, 302, 400, 405), response.status_code


@pytest.mark.parametrize("page", ["", "card/", "return/"])
def test_taking_payment_is_for_this_clients_agents_only(page, confirmed_booking, agent, trainer,
                                                       south_wales_agent, client):
    """The payments module's agent pages (card by phone, pay-by-link) under the console."""
    url = f"{PREFIX}payments/{confirmed_booking.reference}/{page}"
    assert client.post(url, {}, **ESSEX).status_code == 302  # to sign in
    for refused in (south_wales_agent, trainer):
        client.force_login(refused)
        assert client.post(url, {}, **ESSEX).status_code == 403
        client.logout()
    client.force_login(agent)
    if page != "card/":
        assert client.get(url, **ESSEX).status_code in (200, 302)


def test_the_agent_has_nothing_on_the_other_clients_site(caller, agent, south_wales, client):
    client.force_login(agent)
    assert client.get(PREFIX, HTTP_HOST="south-wales.localhost").status_code == 403
    offer, _ = caller
    assert client.get(f"{PREFIX}offers/{offer.reference}/",
                      HTTP_HOST="south-wales.localhost").status_code == 403


def test_an_offer_of_another_client_is_not_found(caller, south_wales_agent, client):
    """Even with the reference, a south-wales agent on their own site finds no essex offer."""
    offer, _ = caller
    client.force_login(south_wales_agent)
    response = client.get(f"{PREFIX}offers/{offer.reference}/", HTTP_HOST="south-wales.localhost")
    assert response.status_code == 404
    search = client.post(PREFIX, {"by": "reference", "reference": offer.reference},
                         HTTP_HOST="south-wales.localhost")
    assert search.status_code == 404 and "No offer or booking has that reference" in \
        search.content.decode()
