"""Until a client's set-up checklist has every item a booking needs (a merchant account that can
take charges, a course type with its fee, a venue, a trainer and a date ahead), its public site
says it is not taking bookings online yet, with the phone line, instead of letting a person
reach a pay page that cannot work. Finding an offer still works, so that someone who booked
already can see, pay for or cancel that booking. The client's own staff still walk the journey
to preview it, under a banner that says what the public sees."""

from functools import wraps

from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from accounts.permissions import roles_of
from booking.services.setup_checklist import taking_bookings_now
from tenants.opening_hours import opening_week


def bookings_open_to(request) -> bool:
    """Whether this visitor may start a booking: anyone once the client takes bookings, its
    staff before then (flagged for the preview banner)."""
    if not hasattr(request, "_taking_bookings"):
        request._taking_bookings = taking_bookings_now(request.tenant)
    if request._taking_bookings:
        return True
    if roles_of(request.user, request.tenant):
        request.setup_preview = True
        return True
    return False


def not_taking_bookings_page(request):
    response = render(request, "site/not_taking_bookings.html", {
        "opening": opening_week(request.tenant),
        # The phone-lines banner would say online booking is open.
        "phone_lines_closed": None,
    })
    patch_vary_headers(response, ("Cookie",))
    return response


def while_taking_bookings(view):
    """A page on the way to a new booking: the "not taking bookings online yet" page instead,
    for the public, while the client cannot take bookings."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not bookings_open_to(request):
            return not_taking_bookings_page(request)
        response = view(request, *args, **kwargs)
        patch_vary_headers(response, ("Cookie",))
        return response

    return wrapped
