"""Configuration: course types (fees, policies, lead times, delivery modes), venues, trainers
and their qualifications, and the client's branding."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.models import Closure, CourseType, Trainer, Venue, every_day
from booking.services.catalogue import (
    TRAINER_FIELDS,
    add_trainer_absence,
    remove_trainer_absence,
    save_course_type,
    save_trainer,
    save_venue,
    trainer_logins,
)
from booking.services.closures import add_closure, closed_days, remove_closure
from tenants.accessibility_statement import statement_context, update_accessibility_statement
from tenants.branding_changes import set_logo, update_branding

from ..access import add_service_errors, ip, page, posted, render_page
from ..accessibility_forms import AccessibilityStatementForm
from ..forms import (
    BrandingForm,
    ClosureForm,
    CourseTypeForm,
    LogoForm,
    TrainerAbsenceForm,
    TrainerForm,
    VenueForm,
)

VIEW, CONFIGURE = "configuration.view", "client.configure"


@page(VIEW)
def home(request):
    return render_page(request, "manage/configure/home.html", {
        "course_type_count": CourseType.objects.count(),
        "venue_count": Venue.objects.filter(is_active=True).count(),
        "trainer_count": Trainer.objects.filter(is_active=True).count(),
    })


# --- Course types -----------------------------------------------------------------------------


@page(VIEW)
def course_types(request):
    return render_page(request, "manage/configure/course_types.html",
                       {"course_types": CourseType.objects.all()})


def _course_type_form(request, course_type):
    initial = CourseTypeForm.initial_from(course_type) if course_type else {
        "is_active": True, "delivery_modes": ["classroom"], "duration_minutes": 165,
        "free_transfer_notice_days": 7, "late_transfer_fee": "15.00",
        "transfer_cutoff_hours": 24, "max_transfers": 2, "online_booking_lead_hours": 48,
        "police_cost_recovery": "45.00"}
    form = CourseTypeForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = save_course_type(
                course_type.pk if course_type else None, form.service_data(),
                actor=request.user, organisation=request.tenant, ip_address=ip(request))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(course)s saved.") % {"course": saved.code})
            return redirect("manage:course_types")
    return render_page(request, "manage/configure/course_type_form.html",
                       {"form": form, "course_type": course_type})


@page(VIEW, CONFIGURE)
def course_type_create(request):
    return _course_type_form(request, None)


@page(VIEW, CONFIGURE)
def course_type_edit(request, course_type_id):
    return _course_type_form(request, get_object_or_404(CourseType, pk=course_type_id))


# --- Venues -----------------------------------------------------------------------------------


@page(VIEW)
def venues(request):
    return render_page(request, "manage/configure/venues.html", {"venues": Venue.objects.all()})


def _venue_form(request, venue):
    initial = VenueForm.initial_from(venue) if venue else {"is_active": True}
    form = VenueForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = save_venue(
                venue.pk if venue else None, dict(form.cleaned_data), actor=request.user,
                organisation=request.tenant, ip_address=ip(request))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(venue)s saved.") % {"venue": saved.name})
            return redirect("manage:venues")
    return render_page(request, "manage/configure/venue_form.html",
                       {"form": form, "venue": venue})


@page(VIEW, CONFIGURE)
def venue_create(request):
    return _venue_form(request, None)


@page(VIEW, CONFIGURE)
def venue_edit(request, venue_id):
    return _venue_form(request, get_object_or_404(Venue, pk=venue_id))


# --- Trainers ---------------------------------------------------------------------------------


@page(VIEW)
def trainers(request):
    rows = (Trainer.objects.prefetch_related("course_types")
            .annotate(upcoming=Count("sessions", filter=Q(sessions__status="scheduled"))))
    return render_page(request, "manage/configure/trainers.html", {"trainers": rows})


def _trainer_form(request, trainer):
    initial = TrainerForm.initial_from(trainer) if trainer else {"is_active": True,
                                                                 "working_days": every_day()}
    action = request.POST.get("action") if request.method == "POST" else None
    is_trainer_post = request.method == "POST" and action is None
    form = TrainerForm(request.POST if is_trainer_post else None, initial=initial,
                       logins=trainer_logins(request.tenant),
                       course_types=CourseType.objects.all())
    absence_form = TrainerAbsenceForm(request.POST if action == "absence_add" else None)
    if trainer is not None and action in ("absence_add", "absence_remove"):
        if _change_time_away(request, trainer, action, absence_form):
            return redirect("manage:trainer", trainer_id=trainer.pk)
    elif is_trainer_post and form.is_valid():
        data = {name: form.cleaned_data[name] for name in TRAINER_FIELDS}
        try:
            saved = save_trainer(
                trainer.pk if trainer else None, data, form.cleaned_data["course_types"],
                actor=request.user, organisation=request.tenant, ip_address=ip(request))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(trainer)s saved.") % {"trainer": saved.full_name})
            return redirect("manage:trainers")
    return render_page(request, "manage/configure/trainer_form.html", {
        "form": form, "trainer": trainer, "absence_form": absence_form,
        "absences": trainer.absences.filter(last_day__gte=timezone.localdate()) if trainer else ()})


def _change_time_away(request, trainer, action, absence_form) -> bool:
    """Add or remove a period of time away; True once done, else the problem is on the form."""
    if action == "absence_remove":
        absence_id = request.POST.get("absence", "")
        if absence_id.isdigit():
            remove_trainer_absence(
                trainer.pk, int(absence_id), actor=request.user, organisation=request.tenant,
                ip_address=ip(request))
            messages.success(request, _("Time away removed."))
        return True
    if not absence_form.is_valid():
        return False
    try:
        add_trainer_absence(
            trainer.pk, absence_form.cleaned_data["first_day"],
            absence_form.cleaned_data["last_day"], absence_form.cleaned_data["reason"],
            actor=request.user, organisation=request.tenant, ip_address=ip(request))
    except ValidationError as error:
        add_service_errors(absence_form, error, default_field="first_day")
        return False
    messages.success(request, _("Time away added."))
    return True


@page(VIEW, CONFIGURE)
def trainer_create(request):
    return _trainer_form(request, None)


@page(VIEW, CONFIGURE)
def trainer_edit(request, trainer_id):
    return _trainer_form(request, get_object_or_404(Trainer, pk=trainer_id))


# --- Closures and bank holidays -----------------------------------------------------------

BANK_HOLIDAYS_SHOWN_DAYS = 366


@page(VIEW, CONFIGURE)
def closures(request):
    action = request.POST.get("action") if request.method == "POST" else None
    form = ClosureForm(request.POST if action == "add" else None)
    if action == "remove":
        closure_id = request.POST.get("closure", "")
        if closure_id.isdigit():
            remove_closure(int(closure_id), actor=request.user, organisation=request.tenant,
                           ip_address=ip(request))
            messages.success(request, _("Closure removed."))
        return redirect("manage:closures")
    if action == "add" and form.is_valid():
        try:
            add_closure(form.cleaned_data["first_day"], form.cleaned_data["last_day"],
                        form.cleaned_data["reason"], actor=request.user,
                        organisation=request.tenant, ip_address=ip(request))
        except ValidationError as error:
            add_service_errors(form, error, default_field="first_day")
        else:
            messages.success(request, _("Closure added."))
            return redirect("manage:closures")
    today = timezone.localdate()
    holidays = [day for day in closed_days(
        today, today + timedelta(days=BANK_HOLIDAYS_SHOWN_DAYS),
        nation=request.tenant.nation).values() if day.holiday]
    return render_page(request, "manage/configure/closures.html", {
        "form": form, "closures": Closure.objects.filter(last_day__gte=today),
        "nation": request.tenant.get_nation_display(),
        "bank_holidays": sorted(holidays, key=lambda day: day.day)})


# --- Branding ---------------------------------------------------------------------------------


@page(VIEW, CONFIGURE)
def branding(request):
    organisation = request.tenant
    is_logo = request.method == "POST" and request.POST.get("action") == "logo"
    form = BrandingForm(None if is_logo else posted(request),
                        initial=BrandingForm.initial_from(organisation))
    logo_form = LogoForm(request.POST if is_logo else None, request.FILES if is_logo else None)
    if is_logo and logo_form.is_valid():
        try:
            set_logo(organisation.pk, None if logo_form.cleaned_data["remove"]
                     else logo_form.cleaned_data["logo"],
                     actor=request.user, ip_address=ip(request))
        except ValidationError as error:
            add_service_errors(logo_form, error)
        else:
            messages.success(request, _("Logo saved.") if not logo_form.cleaned_data["remove"]
                             else _("Logo removed."))
            return redirect("manage:branding")
    elif request.method == "POST" and not is_logo and form.is_valid():
        try:
            update_branding(organisation.pk, form.service_data(),
                            actor=request.user, ip_address=ip(request))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Branding saved."))
            return redirect("manage:branding")
    return render_page(request, "manage/configure/branding.html",
                       {"form": form, "logo_form": logo_form})


# --- Accessibility statement ------------------------------------------------------------------


@page(VIEW, CONFIGURE)
def accessibility(request):
    """The client's accessibility statement: "Preview" redraws the page with the statement as
    the public would read it (in Welsh too on a bilingual site); "Save" publishes it. Those who
    may read the configuration (the auditor too) see it; only administrators change it."""
    organisation = request.tenant
    form = AccessibilityStatementForm(
        posted(request), initial=AccessibilityStatementForm.initial_from(organisation),
        bilingual=organisation.is_bilingual)
    draft = None
    if request.method == "POST" and form.is_valid():
        if request.POST.get("action") == "preview":
            draft = form.service_data()
        else:
            try:
                update_accessibility_statement(organisation.pk, **form.service_data(),
                                               actor=request.user, ip_address=ip(request))
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Accessibility statement saved."))
                return redirect("manage:accessibility")
    previews = [("en", _("In English"), organisation.display_name("en"))]
    if organisation.is_bilingual:
        previews.append(("cy", _("In Welsh"), organisation.display_name("cy")))
    return render_page(request, "manage/configure/accessibility.html", {
        "form": form, "previewing": draft is not None,
        "previews": [{"language": code, "heading": heading, "client_name": name,
                      **statement_context(organisation, welsh=code == "cy", draft=draft)}
                     for code, heading, name in previews],
    })
