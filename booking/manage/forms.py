"""Forms of the client administration. They check the shape of what was typed; the rules live
in booking.services and come back as field errors."""

from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import CLIENT_ROLES, Role
from booking.form_fields import EMAIL_TOO_LONG, FeeWaiverMixin, column_length
from booking.models import (
    Booking,
    Closure,
    CorrespondenceTemplate,
    CourseType,
    DeliveryMode,
    Language,
    SpecialCircumstancesCase,
    Trainer,
    TrainerAbsence,
    Venue,
)
from govuk_forms.fields import DateInputField, TimeInputField
from integrations.text_messages import uk_mobile
from tenants.models import ClientOrganisation
from tenants.opening_hours import DAY_NAMES, DAYS, weekly_hours

WEEKDAYS = list(enumerate(DAY_NAMES.values()))

# --- Widgets -----------------------------------------------------------------------------------


def number(width="4", mode="numeric"):
    return forms.TextInput(attrs={"width": width, "inputmode": mode, "spellcheck": "false"})


def required(message):
    return {"required": message}


ENTER_A_DATE = _("Enter a date")


def _date_field(label, *, required_message=ENTER_A_DATE, incomplete, invalid, help_text="",
                is_required=True):
    """A GOV.UK date input whose messages name it: `incomplete` has %(part)s, the missing part."""
    return DateInputField(label=label, required=is_required, help_text=help_text,
                          messages={"required": required_message, "incomplete": incomplete,
                                    "invalid": invalid})


def _pounds_field(label, help_text="", required_message=None):
    return forms.DecimalField(
        label=label, help_text=help_text, min_value=Decimal("0"), max_value=Decimal("9999.99"),
        decimal_places=2, widget=number("5", "decimal"),
        error_messages={"required": required_message
                        or _("Enter an amount in pounds, like 50.00"),
                        "invalid": _("Enter an amount in pounds, like 50.00"),
                        "min_value": _("The amount cannot be negative"),
                        "max_value": _("The amount must be £9,999.99 or less"),
                        "max_decimal_places": _("Enter pounds and pence, like 50.00")},
    )


def _count_field(label, *, min_value=0, max_value=10000, help_text="", required_message=None):
    return forms.IntegerField(
        label=label, help_text=help_text, min_value=min_value, max_value=max_value,
        widget=number(),
        error_messages={"required": required_message or _("Enter a whole number"),
                        "invalid": _("Enter a whole number, like 24"),
                        "min_value": _("Enter %(limit_value)s or more"),
                        "max_value": _("Enter %(limit_value)s or less")},
    )


def to_pence(pounds: Decimal) -> int:
    return int((pounds * 100).to_integral_value())


def to_pounds(pence: int) -> Decimal:
    return (Decimal(pence) / 100).quantize(Decimal("0.01"))


# --- Offenders ---------------------------------------------------------------------------------


class OffenderSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search offers"), max_length=100,
        help_text=_("Offer reference, booking reference, name, date of birth (27/03/1985), "
                    "postcode or email address"),
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
        error_messages=required(_("Enter something to search for")),
    )


class ChooseSessionForm(forms.Form):
    session = forms.IntegerField(min_value=1, max_value=2**63 - 1,
                                 error_messages={"required": _("Select a course date"),
                                                 "invalid": _("Select a course date"),
                                                 "min_value": _("Select a course date"),
                                                 "max_value": _("Select a course date")})


class StaffBookingForm(FeeWaiverMixin, ChooseSessionForm):
    """Booking, or moving a booking, on the person's behalf: the date, and for roles that may,
    the fee waived with its reason."""


class WithdrawOfferForm(forms.Form):
    reason = forms.CharField(
        label=_("Why have the police withdrawn the offer?"), max_length=500,
        widget=forms.Textarea,
        help_text=_("Any booking is cancelled and what was paid for it refunded in full. The "
                    "person is told by email."),
        error_messages=required(_("Enter why the offer is withdrawn")),
    )


class PaymentLinkTextForm(forms.Form):
    """A payment link by text: the person's mobile number."""

    mobile = forms.CharField(
        label=_("Mobile number"), max_length=32,
        help_text=_("For example, 07700 900 982"),
        error_messages=required(_("Enter the mobile number to text the link to")),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel", "width": "20"}),
    )

    def clean_mobile(self):
        return uk_mobile(self.cleaned_data["mobile"])


class CancelBookingForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the booking cancelled?"), max_length=500, widget=forms.Textarea,
        error_messages=required(_("Enter why the booking is cancelled")),
    )


class ExtendCriticalDateForm(forms.Form):
    critical_date = _date_field(
        _("New critical date"), required_message=_("Enter the new critical date"),
        incomplete=_("The new critical date must include a %(part)s"),
        invalid=_("The new critical date must be a real date"),
        help_text=_("The course must be completed by this date"))
    booking_period_end = _date_field(
        _("New end of the booking period (optional)"), is_required=False,
        incomplete=_("The new end of the booking period must include a %(part)s"),
        invalid=_("The new end of the booking period must be a real date"),
        help_text=_("Leave empty to keep the booking period as it is"))
    reason = forms.CharField(
        label=_("Reason for the extension"), max_length=1000, widget=forms.Textarea,
        help_text=_("For example, who at the police agreed it"),
        error_messages=required(_("Enter the reason for the extension")),
    )


# --- Registers ---------------------------------------------------------------------------------

OUTCOME_CHOICES = [
    ("", _("Not recorded")),
    ("completed", _("Attended and completed")),
    ("did_not_attend", _("Did not attend")),
    ("refused_late", _("Refused entry: arrived late")),
    ("refused_no_id", _("Refused entry: no valid ID")),
    ("not_completed", _("Left early or did not complete")),
]
# What each choice records: the booking outcome and the reason noted with it.
OUTCOMES = {
    "completed": (Booking.Status.COMPLETED, ""),
    "did_not_attend": (Booking.Status.DID_NOT_ATTEND, ""),
    "refused_late": (Booking.Status.REFUSED_ENTRY, "late"),
    "refused_no_id": (Booking.Status.REFUSED_ENTRY, "no_id"),
    "not_completed": (Booking.Status.NOT_COMPLETED, ""),
}
ID_CHOICES = [
    ("", _("Not checked")),
    ("photocard_licence", _("Photocard driving licence")),
    ("paper_licence_and_photo_id", _("Paper licence with photo ID")),
    ("passport", _("Passport")),
    ("other_photo_id", _("Other photo ID")),
    ("none", _("No ID shown")),
]


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=OUTCOME_CHOICES, required=False)
    id_seen = forms.ChoiceField(label=_("ID seen"), choices=ID_CHOICES, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("outcome") == "completed" and cleaned.get("id_seen") in ("", "none"):
            self.add_error("id_seen", _("Record the ID seen for someone who completed the "
                                        "course"))
        return cleaned


# --- Configuration -----------------------------------------------------------------------------


class CourseTypeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=column_length(CourseType, "code"),
                           help_text=_("For example NSAC"),
                           widget=forms.TextInput(attrs={"width": "10", "spellcheck": "false"}),
                           error_messages=required(_("Enter the course code")))
    name_en = forms.CharField(label=_("Name in English"),
                              max_length=column_length(CourseType, "name_en"),
                              error_messages=required(_("Enter the course name in English")))
    name_cy = forms.CharField(label=_("Name in Welsh (optional)"),
                              max_length=column_length(CourseType, "name_cy"), required=False)
    duration_minutes = _count_field(_("Length in minutes"), min_value=30, max_value=1440,
                                    required_message=_("Enter how long the course lasts"))
    delivery_modes = forms.MultipleChoiceField(
        label=_("How it is delivered"), choices=DeliveryMode.choices,
        widget=forms.CheckboxSelectMultiple, help_text=_("Select all that apply"),
        error_messages=required(_("Select at least one way the course is delivered")),
    )
    eligibility_family = forms.CharField(
        label=_("Eligibility family"), max_length=column_length(CourseType, "eligibility_family"),
        help_text=_("Courses of one family count together for the 3-year rule, like speed"),
        widget=forms.TextInput(attrs={"width": "20"}),
        error_messages=required(_("Enter the eligibility family")),
    )
    provider_fee = _pounds_field(_("Course fee (£)"), _("The provider's part of the fee"),
                                 _("Enter the course fee, like 50.00"))
    police_cost_recovery = _pounds_field(_("Police cost recovery (£)"),
                                         required_message=_("Enter the police cost recovery, "
                                                            "like 45.00"))
    vat_applies = forms.BooleanField(label=_("VAT is charged on the course fee"),
                                     required=False)
    free_transfer_notice_days = _count_field(
        _("Free transfers up to this many days before the course"), max_value=365,
        required_message=_("Enter how many days before the course transfers are free"))
    late_transfer_fee = _pounds_field(_("Transfer fee after that (£)"),
                                      required_message=_("Enter the transfer fee, like 15.00"))
    transfer_cutoff_hours = _count_field(
        _("No changes in the last this many hours"), max_value=24 * 60,
        required_message=_("Enter how many hours before the course changes close"))
    max_transfers = _count_field(_("Most transfers allowed"), max_value=20,
                                 required_message=_("Enter the most transfers allowed"))
    online_booking_lead_hours = _count_field(
        _("Bookings close this many hours before the course"), max_value=24 * 60,
        required_message=_("Enter how many hours before the course bookings close"))
    is_active = forms.BooleanField(label=_("Offered for booking"), required=False,
                                   initial=True)

    @classmethod
    def initial_from(cls, course_type: CourseType) -> dict:
        initial = {name: getattr(course_type, name) for name in (
            "code", "name_en", "name_cy", "duration_minutes", "delivery_modes",
            "eligibility_family", "vat_applies", "free_transfer_notice_days",
            "transfer_cutoff_hours", "max_transfers", "online_booking_lead_hours", "is_active")}
        initial.update(provider_fee=to_pounds(course_type.provider_fee_pence),
                       police_cost_recovery=to_pounds(course_type.police_cost_recovery_pence),
                       late_transfer_fee=to_pounds(course_type.late_transfer_fee_pence))
        return initial

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["code"] = data["code"].strip()
        data["provider_fee_pence"] = to_pence(data.pop("provider_fee"))
        data["police_cost_recovery_pence"] = to_pence(data.pop("police_cost_recovery"))
        data["late_transfer_fee_pence"] = to_pence(data.pop("late_transfer_fee"))
        return data


class VenueForm(forms.Form):
    name = forms.CharField(label=_("Venue name"), max_length=column_length(Venue, "name"),
                           error_messages=required(_("Enter the venue name")))
    name_cy = forms.CharField(label=_("Name in Welsh (optional)"),
                              max_length=column_length(Venue, "name_cy"), required=False)
    address = forms.CharField(label=_("Address"), widget=forms.Textarea,
                              error_messages=required(_("Enter the address")))
    town = forms.CharField(label=_("Town or city"), max_length=column_length(Venue, "town"),
                           widget=forms.TextInput(attrs={"width": "20"}),
                           error_messages=required(_("Enter the town or city")))
    postcode = forms.CharField(label=_("Postcode"), max_length=10,
                               widget=forms.TextInput(attrs={"width": "10"}),
                               error_messages={
                                   "required": _("Enter the postcode"),
                                   "max_length": _("Enter a real postcode, like CM1 1QH")})
    capacity = _count_field(_("Seats"), min_value=1, max_value=1000,
                            required_message=_("Enter the number of seats"))
    step_free = forms.BooleanField(label=_("Step-free access"), required=False)
    hearing_loop = forms.BooleanField(label=_("Hearing loop"), required=False)
    parking = forms.BooleanField(label=_("Parking"), required=False)
    directions_en = forms.CharField(label=_("Directions in English (optional)"),
                                    widget=forms.Textarea, required=False)
    directions_cy = forms.CharField(label=_("Directions in Welsh (optional)"),
                                    widget=forms.Textarea, required=False)
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    FIELDS = ("name", "name_cy", "address", "town", "postcode", "capacity", "step_free",
              "hearing_loop", "parking", "directions_en", "directions_cy", "is_active")

    @classmethod
    def initial_from(cls, venue: Venue) -> dict:
        return {name: getattr(venue, name) for name in cls.FIELDS}


class TrainerForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"),
                                max_length=column_length(Trainer, "full_name"),
                                error_messages=required(_("Enter the trainer's full name")))
    email = forms.EmailField(
        label=_("Email address"), max_length=column_length(Trainer, "email"),
        error_messages={"required": _("Enter the trainer's email address"),
                        "invalid": _("Enter an email address in the correct format, like "
                                     "name@example.com"),
                        "max_length": EMAIL_TOO_LONG})
    user_id = forms.TypedChoiceField(
        label=_("Staff account (optional)"), required=False, coerce=int, empty_value=None,
        help_text=_("Link the trainer's own sign-in so they can record outcomes"),
    )
    course_types = forms.TypedMultipleChoiceField(
        label=_("Qualified to teach"), coerce=int, required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    working_days = forms.MultipleChoiceField(
        label=_("Days they work"), widget=forms.CheckboxSelectMultiple,
        help_text=_("Course dates on other days cannot be given to them"),
        error_messages=required(_("Select the days of the week the trainer works")))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, logins=(), course_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user_id"].choices = [("", _("No staff account"))] + [
            (user.pk, user.email) for user in logins]
        self.fields["course_types"].choices = [(ct.pk, str(ct)) for ct in course_types]
        self.fields["working_days"].choices = list(DAY_NAMES.items())

    @classmethod
    def initial_from(cls, trainer: Trainer) -> dict:
        return {"full_name": trainer.full_name, "email": trainer.email,
                "user_id": trainer.user_id, "is_active": trainer.is_active,
                "working_days": trainer.working_days,
                "course_types": list(trainer.course_types.values_list("pk", flat=True))}


class TrainerAbsenceForm(forms.Form):
    first_day = _date_field(_("First day away"), required_message=_("Enter the first day away"),
                            incomplete=_("The first day away must include a %(part)s"),
                            invalid=_("The first day away must be a real date"))
    last_day = _date_field(_("Last day away"), required_message=_("Enter the last day away"),
                           incomplete=_("The last day away must include a %(part)s"),
                           invalid=_("The last day away must be a real date"))
    reason = forms.CharField(label=_("Reason (optional)"),
                             max_length=column_length(TrainerAbsence, "reason"), required=False,
                             help_text=_("For example, annual leave"))

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("first_day"), cleaned.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", _("The last day must be on or after the first day."))
        return cleaned


class ClosureForm(forms.Form):
    first_day = _date_field(_("First day closed"), required_message=_("Enter the first day closed"),
                            incomplete=_("The first day closed must include a %(part)s"),
                            invalid=_("The first day closed must be a real date"))
    last_day = _date_field(_("Last day closed"), required_message=_("Enter the last day closed"),
                           incomplete=_("The last day closed must include a %(part)s"),
                           invalid=_("The last day closed must be a real date"))
    reason = forms.CharField(label=_("Reason"), max_length=column_length(Closure, "reason"),
                             help_text=_("For example, staff training day"),
                             error_messages=required(_("Enter why you are closed")))

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("first_day"), cleaned.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", _("The last day must be on or after the first day."))
        return cleaned


MAX_DAYS_AHEAD = 731


class _SessionFields(forms.Form):
    course_type = forms.TypedChoiceField(label=_("Course"), coerce=int,
                                         error_messages=required(_("Choose the course")))
    delivery_mode = forms.ChoiceField(
        label=_("How it is delivered"), choices=DeliveryMode.choices, widget=forms.RadioSelect,
        error_messages=required(_("Select how the course is delivered")))
    venue = forms.TypedChoiceField(label=_("Venue"), coerce=int, required=False,
                                   empty_value=None,
                                   help_text=_("Leave as no venue for an online course"))
    start_time = TimeInputField(label=_("Start time"),
                                error_messages={"required": _("Enter the start time"),
                                                "invalid": _("Enter a time like 09:30")})
    capacity = _count_field(_("Seats"), min_value=1, max_value=1000,
                            required_message=_("Enter the number of seats"))
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices,
                                 widget=forms.RadioSelect, initial=Language.ENGLISH,
                                 error_messages=required(_("Select the language")))
    trainers = forms.TypedMultipleChoiceField(label=_("Trainers"), coerce=int, required=False,
                                              widget=forms.CheckboxSelectMultiple)
    joining_url = forms.URLField(label=_("Joining link for online courses (optional)"),
                                 required=False, max_length=200, assume_scheme="https",
                                 error_messages={"invalid": _("Enter a full web address, like "
                                                              "https://meet.example/abc")})

    def __init__(self, *args, course_types=(), venues=(), trainers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course_type"].choices = [("", _("Choose a course"))] + [
            (ct.pk, str(ct)) for ct in course_types]
        self.fields["venue"].choices = [("", _("No venue (online)"))] + [
            (v.pk, f"{v} ({v.capacity})") for v in venues]
        self.fields["trainers"].choices = [(t.pk, t.full_name) for t in trainers]

    def clean_start_date(self):
        value = self.cleaned_data["start_date"]
        if value > timezone.localdate() + timedelta(days=MAX_DAYS_AHEAD):
            raise forms.ValidationError(_("Course dates can be at most two years ahead"))
        return value

    def clean(self):
        cleaned = super().clean()
        mode = cleaned.get("delivery_mode")
        if mode and mode != DeliveryMode.ONLINE and not cleaned.get("venue"):
            self.add_error("venue", _("Choose the venue for a course in person"))
        if mode == DeliveryMode.ONLINE and cleaned.get("venue"):
            self.add_error("venue", _("An online course has no venue: choose no venue"))
        return cleaned


class SessionForm(_SessionFields):
    field_order = ["course_type", "delivery_mode", "venue", "start_date", "run_anyway",
                   "start_time", "capacity", "language", "trainers", "joining_url"]
    start_date = _date_field(_("Date"), required_message=_("Enter the date of the course"),
                             incomplete=_("The date of the course must include a %(part)s"),
                             invalid=_("The date of the course must be a real date"))
    # Shown only once the date has been refused as a bank holiday or closure (hide_run_anyway).
    run_anyway = forms.BooleanField(
        label=_("Run it anyway"), required=False,
        help_text=_("Schedule this date even though it is a bank holiday or a day you are "
                    "closed. The audit trail records that you chose to."))

    def hide_run_anyway(self):
        self.fields.pop("run_anyway", None)


class SeriesForm(_SessionFields):
    field_order = ["course_type", "delivery_mode", "venue", "start_date", "weekday",
                   "start_time", "count", "capacity", "language", "trainers", "joining_url"]
    start_date = _date_field(_("First week starting"),
                             required_message=_("Enter the date the series starts"),
                             incomplete=_("The date the series starts must include a %(part)s"),
                             invalid=_("The date the series starts must be a real date"),
                             help_text=_("The first date is the chosen weekday on or after "
                                         "this date"))
    weekday = forms.TypedChoiceField(label=_("Day of the week"), choices=WEEKDAYS, coerce=int,
                                     error_messages=required(_("Choose the day of the week")))
    count = _count_field(_("Number of weeks"), min_value=1, max_value=52,
                         help_text=_("One date a week, at most 52"),
                         required_message=_("Enter the number of weeks"))


class SessionEditForm(forms.Form):
    capacity = _count_field(_("Seats"), min_value=1, max_value=1000,
                            required_message=_("Enter the number of seats"))
    trainers = forms.TypedMultipleChoiceField(label=_("Trainers"), coerce=int, required=False,
                                              widget=forms.CheckboxSelectMultiple)
    joining_url = forms.URLField(label=_("Joining link for online courses (optional)"),
                                 required=False, max_length=200, assume_scheme="https",
                                 error_messages={"invalid": _("Enter a full web address, like "
                                                              "https://meet.example/abc")})

    def __init__(self, *args, trainers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trainers"].choices = [(t.pk, t.full_name) for t in trainers]


class CancelSessionForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this date cancelled?"), max_length=500, widget=forms.Textarea,
        help_text=_("Recorded on each booking's timeline and in the audit trail"),
        error_messages=required(_("Enter why the date is cancelled")),
    )


class LogoForm(forms.Form):
    logo = forms.FileField(
        label=_("Upload a logo"), required=False,
        help_text=_("A PNG, JPEG, GIF or WebP image, smaller than 512 KB. It is shown beside "
                    "the name at the top of every page."))
    remove = forms.BooleanField(label=_("Remove the logo"), required=False)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("logo") and not cleaned.get("remove"):
            self.add_error("logo", _("Choose an image file, or tick \"Remove the logo\""))
        return cleaned


class BrandingForm(forms.Form):
    display_name_en = forms.CharField(
        label=_("Name on the site in English"),
        max_length=column_length(ClientOrganisation, "display_name_en"),
        error_messages=required(_("Enter the name in English")))
    display_name_cy = forms.CharField(
        label=_("Name on the site in Welsh (optional)"), required=False,
        max_length=column_length(ClientOrganisation, "display_name_cy"))
    primary_colour = forms.CharField(
        label=_("Brand colour"), max_length=column_length(ClientOrganisation, "primary_colour"),
        help_text=_("A hex code like #1d70b8, dark enough for white text on it"),
        widget=forms.TextInput(attrs={"width": "10", "spellcheck": "false"}),
        error_messages=required(_("Enter the brand colour")),
    )
    contact_phone = forms.CharField(
        label=_("Contact phone number"), required=False,
        max_length=column_length(ClientOrganisation, "contact_phone"),
        widget=forms.TextInput(attrs={"width": "20", "inputmode": "tel"}))
    contact_email = forms.EmailField(
        label=_("Contact email address"), required=False,
        max_length=column_length(ClientOrganisation, "contact_email"),
        error_messages={"invalid": _("Enter an email address in the correct format, like "
                                     "name@example.com"),
                        "max_length": EMAIL_TOO_LONG})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for day in DAYS:
            for part, label in (("opens", _("%(day)s opens")), ("closes", _("%(day)s closes"))):
                self.fields[f"{day}_{part}"] = TimeInputField(
                    label=label % {"day": DAY_NAMES[day]}, required=False, help_text="",
                    error_messages={"invalid": _("Enter a time like 08:00")})

    def hours_rows(self):
        return [(DAY_NAMES[day], self[f"{day}_opens"], self[f"{day}_closes"])
                for day in DAYS]

    def clean(self):
        cleaned = super().clean()
        for day in DAYS:
            opens, closes = cleaned.get(f"{day}_opens"), cleaned.get(f"{day}_closes")
            if bool(opens) != bool(closes) and not self.errors.get(f"{day}_opens") \
                    and not self.errors.get(f"{day}_closes"):
                missing = f"{day}_closes" if opens else f"{day}_opens"
                self.add_error(missing, _("Enter both times, or neither for a day the lines "
                                          "are closed"))
        return cleaned

    @classmethod
    def initial_from(cls, organisation) -> dict:
        initial = {name: getattr(organisation, name) for name in (
            "display_name_en", "display_name_cy", "primary_colour", "contact_phone",
            "contact_email")}
        # The hours the lines keep now: the default ones for a client that has set none.
        for day, hours in weekly_hours(organisation).items():
            initial[f"{day}_opens"], initial[f"{day}_closes"] = (t.strftime("%H:%M") for t in hours)
        return initial

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in (
            "display_name_en", "display_name_cy", "primary_colour", "contact_phone",
            "contact_email")}
        hours = {}
        for day in DAYS:
            opens, closes = (self.cleaned_data.get(f"{day}_opens"),
                             self.cleaned_data.get(f"{day}_closes"))
            if opens and closes:
                hours[day] = [opens.strftime("%H:%M"), closes.strftime("%H:%M")]
        data["opening_hours"] = hours
        return data


# --- Special circumstances ---------------------------------------------------------------------


class RaiseCaseForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is the person asking for?"),
                             choices=SpecialCircumstancesCase.Kind.choices,
                             widget=forms.RadioSelect,
                             error_messages=required(_("Select the kind of special "
                                                       "circumstances")))
    notes = forms.CharField(label=_("Notes"), max_length=5000, widget=forms.Textarea,
                            help_text=_("What the person told you and what they need"),
                            error_messages=required(_("Enter notes about the person's "
                                                      "circumstances")))


class AssignCaseForm(forms.Form):
    assignee = forms.TypedChoiceField(label=_("Assign to"), coerce=int,
                                      error_messages=required(_("Choose an administrator")))

    def __init__(self, *args, assignees=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", _("Choose an administrator"))] + [
            (user.pk, user.email) for user in assignees]


class DecideCaseForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect,
                                 choices=[("approve", _("Approve")), ("decline", _("Decline"))],
                                 error_messages=required(_("Select approve or decline")))
    note = forms.CharField(label=_("Arrangement agreed, or why it is declined"),
                           max_length=5000, widget=forms.Textarea,
                           error_messages=required(_("Enter the arrangement or the reason")))


# --- Staff and audit ---------------------------------------------------------------------------

ROLE_CHOICES = [(role.value, role.label) for role in Role if role in CLIENT_ROLES]


class InviteStaffForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"), max_length=column_length(User, "email"),
        error_messages={"required": _("Enter the person's email address"),
                        "invalid": _("Enter an email address in the correct format, like "
                                     "name@example.com"),
                        "max_length": EMAIL_TOO_LONG})
    full_name = forms.CharField(label=_("Full name (optional)"),
                                max_length=column_length(User, "full_name"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, widget=forms.RadioSelect,
                             error_messages=required(_("Select a role")))


class ChangeRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("New role"), choices=ROLE_CHOICES,
                             widget=forms.RadioSelect,
                             error_messages=required(_("Select a role")))


class ConfirmForm(forms.Form):
    """A button with nothing to fill in; service errors appear in the summary."""


class AuditFilterForm(forms.Form):
    user = forms.CharField(label=_("Who (email contains)"), max_length=254, required=False,
                           widget=forms.TextInput(attrs={"width": "20", "spellcheck": "false"}))
    object_type = forms.ChoiceField(label=_("Kind of record"), required=False)
    object_id = forms.CharField(label=_("Record number"), max_length=64, required=False,
                                widget=forms.TextInput(attrs={"width": "10"}))
    date_from = _date_field(_("From"), is_required=False,
                            incomplete=_("The start date must include a %(part)s"),
                            invalid=_("The start date must be a real date"))
    date_to = _date_field(_("To"), is_required=False,
                          incomplete=_("The end date must include a %(part)s"),
                          invalid=_("The end date must be a real date"))

    def __init__(self, *args, object_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        # (stored type, its name in words) pairs
        self.fields["object_type"].choices = [("", _("Any"))] + [
            (kind, label.capitalize()) for kind, label in object_types]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if isinstance(start, date) and isinstance(end, date) and end < start:
            self.add_error("date_to", _("The end date must be on or after the start date"))
        return cleaned


class CorrespondenceForm(forms.Form):
    subject = forms.CharField(label=_("Subject line"),
                              max_length=column_length(CorrespondenceTemplate, "subject"),
                              error_messages=required(_("Enter the subject line")))
    body = forms.CharField(label=_("Message"), max_length=10000,
                           widget=forms.Textarea(attrs={"rows": 14}),
                           error_messages=required(_("Enter the message")))


class SessionFilterForm(forms.Form):
    """The course-dates list narrowed by venue (or online), course type and trainer."""

    ONLINE = "online"
    venue = forms.ChoiceField(label=_("Venue"), required=False)
    course_type = forms.ChoiceField(label=_("Course type"), required=False)
    trainer = forms.ChoiceField(label=_("Trainer"), required=False)

    def __init__(self, *args, venues=(), course_types=(), trainers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["venue"].choices = [("", _("Any")), (self.ONLINE, _("Online"))] + [
            (str(venue.pk), str(venue)) for venue in venues]
        self.fields["course_type"].choices = [("", _("Any"))] + [
            (str(course_type.pk), str(course_type)) for course_type in course_types]
        self.fields["trainer"].choices = [("", _("Any"))] + [
            (str(trainer.pk), trainer.full_name) for trainer in trainers]
