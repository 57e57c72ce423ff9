"""Who viewed my record: every staff page that shows a person's record logs the read, through
one decorator, `shows_offenders`, on the view.

The decorator names which offers the page shows (from its URL keywords, with one of the
resolvers below) and the page's name. After the page has been shown (a 200: a page, a print
or an export) one OffenderRead per person is written. A page about one person whose record has
been erased answers 404, so an erased person is found by no staff page either.

A page whose people depend on what it was asked (a search, a list, a report naming people)
carries `lists_offenders` instead, and its view names the offers it put on the page with
`listed(request, offers)`: one OffenderRead per person shown, written in one insert after
the page has been shown. tests/privacy/test_list_reads.py asks for every staff URL and fails
for a page that names a seeded person without logging the read.

Put either inside the permission decorator (`page(...)` / `requires_action(...)`), so only reads
that were allowed are logged. tests/privacy/test_access_log.py walks every /manage/ and
/contact-centre/ URL and fails for a view that neither carries it nor is listed as showing no
one.
"""

from collections.abc import Callable, Iterable
from functools import wraps

from django.http import Http404
from django.utils import timezone

from booking.models import Booking, OffenderRead, Offer, SpecialCircumstancesCase

from .events import actor_label


class Shows:
    """Which offers a page shows, from its URL keywords. `one` pages are about one person."""

    def __init__(self, ids: Callable[[dict], list[int]], *, one: bool):
        self.ids = ids
        self.one = one


def offer_by_reference(keyword: str = "reference") -> Shows:
    return Shows(lambda kwargs: list(Offer.objects.filter(
        reference=kwargs.get(keyword)).values_list("pk", flat=True)), one=True)


def offer_of_booking(keyword: str = "reference") -> Shows:
    return Shows(lambda kwargs: list(Booking.objects.filter(
        reference=kwargs.get(keyword)).values_list("offer_id", flat=True)), one=True)


def offer_of_case(keyword: str = "case_id") -> Shows:
    return Shows(lambda kwargs: list(SpecialCircumstancesCase.objects.filter(
        pk=kwargs.get(keyword)).values_list("offer_id", flat=True)), one=True)


def offers_on_session(keyword: str = "session_id") -> Shows:
    """Everyone booked on the course date (a register, a course date's page)."""
    return Shows(lambda kwargs: list(Offer.objects.filter(
        bookings__session_id=kwargs.get(keyword), erased_at__isnull=True)
        .values_list("pk", flat=True).distinct()), one=False)


def record_reads(*, viewer, offer_ids, page: str, path: str = "", now=None) -> int:
    """Log that `viewer` was shown these people's records on `page`."""
    ids = sorted(set(offer_ids))
    if not ids:
        return 0
    label, user_id = actor_label(viewer)
    now = now or timezone.now()
    OffenderRead.objects.bulk_create([
        OffenderRead(offer_id=pk, viewer=label, viewer_user_id=user_id, page=page,
                     path=path[:300], occurred_at=now) for pk in ids])
    return len(ids)


def shows_offenders(page: str, shows: Shows):
    def decorator(view):
        @wraps(view)
        def logged(request, *args, **kwargs):
            ids = shows.ids(kwargs)
            if shows.one and ids and Offer.objects.filter(
                    pk__in=ids, erased_at__isnull=False).exists():
                raise Http404
            response = view(request, *args, **kwargs)
            if response.status_code == 200:
                record_reads(viewer=request.user, offer_ids=ids, page=page,
                             path=request.get_full_path())
            return response

        logged.offender_read_page = page
        return logged

    return decorator


# Where a listing view collects the offers it showed, on the request.
LISTED = "_waymark_offers_listed"


def listed(request, offers: Iterable) -> None:
    """Name offers (or their ids) this page shows; logged once the page has been shown."""
    ids = getattr(request, LISTED, None)
    if ids is None:
        ids = set()
        setattr(request, LISTED, ids)
    ids.update(offer if isinstance(offer, int) else offer.pk for offer in offers)


def lists_offenders(page: str):
    """For a page that lists people (search results, a list of cases): the view calls
    `listed(request, offers)` with whom it shows, and each is logged after a 200."""
    def decorator(view):
        @wraps(view)
        def logged(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if response.status_code == 200:
                record_reads(viewer=request.user, offer_ids=getattr(request, LISTED, ()),
                             page=page, path=request.get_full_path())
            return response

        logged.offender_read_page = page
        return logged

    return decorator
