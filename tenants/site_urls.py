"""Where people reach our sites: the control plane's address and each client's, as the links we
send (e-mails, texts, the contact centre's client switcher) must spell them. The scheme and port
are the deployment's (PUBLIC_SCHEME, PUBLIC_PORT), never the request's: a link made by a task
has no request, and one made behind the load balancer would otherwise say http."""

from django.conf import settings

from .models import ClientOrganisation, Domain


def client_domains(organisations) -> dict[int, str]:
    """Each client's primary domain by its id, in one query. A client without one is served
    under the platform domain by its slug, as onboarding names it."""
    organisations = list(organisations)
    domains = dict(Domain.objects.filter(tenant__in=organisations, is_primary=True)
                   .values_list("tenant_id", "domain"))
    return {organisation.pk: domains.get(organisation.pk)
            or f"{organisation.slug}.{settings.PLATFORM_DOMAIN}"
            for organisation in organisations}


def origin(host: str) -> str:
    """https://host (with PUBLIC_PORT when set): the site at a domain."""
    port = settings.PUBLIC_PORT
    return f"{settings.PUBLIC_SCHEME}://{host}{':' + port if port else ''}"


def client_site_urls(organisations) -> dict[int, str]:
    """Each client's site (scheme, domain and port; no trailing slash) by its id."""
    return {pk: origin(domain) for pk, domain in client_domains(organisations).items()}


def site_url(organisation: ClientOrganisation | None = None) -> str:
    """The client's site, or the control plane's when `organisation` is None."""
    if organisation is None:
        return origin(settings.PLATFORM_DOMAIN)
    return client_site_urls([organisation])[organisation.pk]
