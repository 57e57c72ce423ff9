"""Links to our sites are built by one function, from the deployment's scheme and port."""

from accounts.invitations import set_password_url
from accounts.models import User
from tenants.site_urls import client_site_urls, site_url


def test_production_links_are_https_without_a_port(essex, south_wales):
    assert site_url() == "https://localhost"
    assert site_url(essex) == "https://essex.localhost"
    assert client_site_urls([essex, south_wales]) == {
        essex.pk: "https://essex.localhost", south_wales.pk: "https://south-wales.localhost"}


def test_the_scheme_and_port_are_the_deployments(essex, settings):
    settings.PUBLIC_SCHEME, settings.PUBLIC_PORT = "http", "8000"
    assert site_url(essex) == "http://essex.localhost:8000"
    user = User.objects.create_user(email="new@essex.test", password=None)
    assert set_password_url(user, essex).startswith("http://essex.localhost:8000/accounts/")


def test_a_client_without_a_primary_domain_is_served_by_its_slug(essex, settings):
    settings.PLATFORM_DOMAIN = "bookings.example.org"
    essex.domains.update(is_primary=False)
    assert site_url(essex) == "https://essex.bookings.example.org"


def test_the_client_switcher_does_not_copy_the_request(essex, south_wales, client):
    """An agent who reached the console on another port (a tunnel, a proxy) is still sent to
    each client's real address."""
    from accounts.models import Membership
    from accounts.roles import Role

    agent = User.objects.create_user(email="agent@calls.test", password=None)
    for organisation in (essex, south_wales):
        Membership.objects.create(user=agent, organisation=organisation,
                                  role=Role.CONTACT_CENTRE_AGENT)
    client.force_login(agent)
    page = client.get("/contact-centre/clients/",
                      HTTP_HOST="essex.localhost:8443").content.decode()
    assert 'href="https://south-wales.localhost/contact-centre/"' in page
    assert ":8443" not in page
