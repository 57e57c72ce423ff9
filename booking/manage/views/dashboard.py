"""The landing page: this week's course dates with their fill, offers close to their critical
date and still unbooked, open special-circumstances cases, and bookings whose payment never
came."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from accounts.permissions import roles_of
from accounts.roles import Role
from booking.models import Booking, CourseSession, Offer, SpecialCircumstancesCase
from booking.services.access_log import listed, lists_offenders
from booking.services.bookings import HOLD_MINUTES
from booking.services.setup_checklist import setup_checklist, taking_bookings

from ..access import allowed_actions, page, render_page, sees_only_own_sessions

NEAR_CRITICAL_DAYS = 14
LISTED = 25


def only_own_dates(request) -> bool:
    """A trainer sees their own dates; every other role sees the whole week, so the figures on
    the dashboard are the same for everyone who can see it (an agent is no trainer)."""
    return (sees_only_own_sessions(request)
            and Role.TRAINER in roles_of(request.user, request.tenant))


def week_sessions(request, now):
    today = timezone.localdate(now)
    start = timezone.make_aware(datetime.combine(today, time.min))
    sessions = (CourseSession.objects.select_related("course_type", "venue")
                .prefetch_related("trainers")
                .filter(starts_at__gte=start, starts_at__lt=start + timedelta(days=7))
                .order_by("starts_at", "pk"))
    if only_own_dates(request):
        sessions = sessions.filter(trainers__user_id=request.user.pk).distinct()
    rows = list(sessions)
    todays = [s for s in rows if timezone.localdate(s.starts_at) == today]
    later = [s for s in rows if timezone.localdate(s.starts_at) != today]
    return todays, later


@page("client.view")
@lists_offenders("manage.dashboard")
def dashboard(request):
    now = timezone.now()
    today = timezone.localdate(now)
    can = allowed_actions(request)
    todays, later = week_sessions(request, now)
    context = {"todays": todays, "later": later, "now": now,
               "near_days": NEAR_CRITICAL_DAYS}
    if "client.configure" in can:
        # Until every item a booking needs is done, the set-up checklist leads the page.
        checklist = setup_checklist(request.tenant)
        if not all(item.done for item in checklist):
            context["checklist"] = checklist
            context["taking_bookings"] = taking_bookings(checklist)
    if "offers.view" in can:
        near = (Offer.objects.select_related("course_type")
                .filter(status__in=(Offer.Status.OFFERED, Offer.Status.SPECIAL_ARRANGEMENT),
                        critical_date__gte=today,
                        critical_date__lte=today + timedelta(days=NEAR_CRITICAL_DAYS))
                .order_by("critical_date", "reference"))
        unpaid = (Booking.objects.select_related("offer", "session__course_type")
                  .filter(status=Booking.Status.PENDING_PAYMENT,
                          created_at__lt=now - timedelta(minutes=HOLD_MINUTES))
                  .exclude(offer__hold__expires_at__gt=now)
                  .order_by("created_at"))
        context.update(near=list(near[:LISTED]), near_count=near.count(),
                       unpaid=list(unpaid[:LISTED]), unpaid_count=unpaid.count())
        listed(request, context["near"])
        listed(request, [booking.offer_id for booking in context["unpaid"]])
    if "cases.view" in can:
        cases = (SpecialCircumstancesCase.objects.select_related("offer")
                 .filter(status=SpecialCircumstancesCase.Status.OPEN)
                 .order_by("created_at"))
        context.update(cases=list(cases[:LISTED]), cases_count=cases.count())
        listed(request, [case.offer_id for case in context["cases"]])
    return render_page(request, "manage/dashboard.html", context)
