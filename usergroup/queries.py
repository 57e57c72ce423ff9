"""Reading the request list: filters, sorts, tallies and similar titles."""

from datetime import timedelta

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from .models import ChangeRequest

SORTS = ("votes", "organisations", "trending", "newest")
TRENDING_DAYS = 14
SIMILARITY_THRESHOLD = 0.2


def request_list(*, status="", area=None, organisation=None, sort="votes"):
    requests = (ChangeRequest.objects.select_related("area", "organisation")
                .annotate(vote_count=Count("votes", distinct=True),
                          organisation_count=Count("votes__organisation", distinct=True)))
    if status:
        requests = requests.filter(status=status)
    else:
        requests = requests.exclude(status=ChangeRequest.Status.DUPLICATE)
    if area is not None:
        requests = requests.filter(area=area)
    if organisation is not None:
        requests = requests.filter(organisation=organisation)
    if sort == "organisations":
        return requests.order_by("-organisation_count", "-vote_count", "-created_at")
    if sort == "trending":
        since = timezone.now() - timedelta(days=TRENDING_DAYS)
        return requests.annotate(recent=Count("votes", filter=Q(votes__created_at__gte=since),
                                              distinct=True)
                                 ).order_by("-recent", "-vote_count", "-created_at")
    if sort == "newest":
        return requests.order_by("-created_at")
    return requests.order_by("-vote_count", "-organisation_count", "-created_at")


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
