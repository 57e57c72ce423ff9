"""Reading the request list: filters, sorts, tallies and similar titles."""

from datetime import timedelta

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, TrigramSimilarity
from django.db import connection
from django.db.models import Count, F, Q
from django.utils import timezone

from billing.volumes import booking_volumes

from .models import ChangeRequest, Vote

SORTS = ("votes", "organisations", "trending", "newest", "relevance")
TRENDING_DAYS = 14
SIMILARITY_THRESHOLD = 0.2
SEARCH_CONFIG = "english"


def search_vector():
    # The same expression as the ug_request_fulltext index, so PostgreSQL can use it.
    return SearchVector("title", "description", config=SEARCH_CONFIG)


def filtered_requests(*, status="", area=None, organisation=None, search=""):
    """The requests the filters leave, without tallies: what a page count needs (counting
    them costs no pass over the votes)."""
    requests = ChangeRequest.objects.all()
    search = " ".join((search or "").split())
    if search:
        # websearch syntax: words, "a phrase", -without; never a syntax error for the person.
        query = SearchQuery(search, search_type="websearch", config=SEARCH_CONFIG)
        requests = requests.annotate(document=search_vector()).filter(document=query)
    if status:
        requests = requests.filter(status=status)
    else:
        requests = requests.exclude(status=ChangeRequest.Status.DUPLICATE)
    if area is not None:
        requests = requests.filter(area=area)
    if organisation is not None:
        requests = requests.filter(organisation=organisation)
    return requests


def request_list(*, status="", area=None, organisation=None, sort="votes", search=""):
    search = " ".join((search or "").split())
    if search and sort == "relevance":
        # Ranked by the search alone, as before any filter.
        query = SearchQuery(search, search_type="websearch", config=SEARCH_CONFIG)
        return (ChangeRequest.objects.select_related("area", "organisation")
                .annotate(document=search_vector()).filter(document=query)
                .annotate(vote_count=F("votes_total"),
                          organisation_count=F("organisations_total"),
                          rank=SearchRank(search_vector(), query))
                .order_by("-rank", "-vote_count", "-created_at"))
    requests = (filtered_requests(status=status, area=area, organisation=organisation,
                                  search=search)
                .select_related("area", "organisation")
                # The stored tallies (services.refresh_tallies), read in the order of their
                # indexes: no pass over the votes.
                .annotate(vote_count=F("votes_total"),
                          organisation_count=F("organisations_total")))
    if sort == "organisations":
        return requests.order_by("-organisations_total", "-votes_total", "-created_at")
    if sort == "trending":
        since = timezone.now() - timedelta(days=TRENDING_DAYS)
        return requests.annotate(recent=Count("votes", filter=Q(votes__created_at__gte=since),
                                              distinct=True)
                                 ).order_by("-recent", "-vote_count", "-created_at")
    if sort == "newest":
        return requests.order_by("-created_at")
    return requests.order_by("-votes_total", "-organisations_total", "-created_at")


def similar(title: str, *, limit=5, exclude=None):
    title = " ".join((title or "").split())
    if len(title) < 3:
        return ChangeRequest.objects.none()
    requests = ChangeRequest.objects.exclude(status=ChangeRequest.Status.DUPLICATE)
    if exclude is not None:
        requests = requests.exclude(pk=exclude)
    if not _has_trigrams():
        words = [word for word in title.split() if len(word) >= 4] or [title]
        matching = Q()
        for word in words:
            matching |= Q(title__icontains=word)
        return requests.filter(matching).order_by("-created_at")[:limit]
    return (requests.annotate(similarity=TrigramSimilarity("title", title))
            .filter(similarity__gte=SIMILARITY_THRESHOLD).order_by("-similarity")[:limit])


def _has_trigrams() -> bool:
    """Whether pg_trgm is installed: production's PostgreSQL has it, the embedded development
    server does not."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


def impact_ranking(*, limit=100, now=None):
    """The provider's ranking of the requests still to decide, side by side: votes (members),
    organisations (each once), and impact: the voting organisations' booking volume over the
    last 12 months from the billing ledger, each organisation counted once per request."""
    requests = list(request_list(sort="votes").exclude(status__in=ChangeRequest.CLOSED)[:limit])
    voters = {}
    for request_id, organisation_id in (Vote.objects.filter(request__in=requests)
                                        .values_list("request_id", "organisation_id")
                                        .distinct()):
        voters.setdefault(request_id, set()).add(organisation_id)
    volumes = booking_volumes({org for orgs in voters.values() for org in orgs},
                              until=now)
    for change_request in requests:
        change_request.impact = sum(volumes[org] for org in voters.get(change_request.pk, ()))
    return requests
