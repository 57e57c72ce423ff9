"""The one-question satisfaction survey (GOV.UK's user satisfaction measure), offered on the
booking confirmation page and by the phase banner's feedback link. An answer after a booking
is kept against that booking, once; the person is not asked who they are."""

from django import forms
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from booking.models import Booking, SatisfactionResponse
from booking.models.measures import SURVEY_COMMENT_LENGTH
from booking.services.measures import already_answered, record_satisfaction
from booking.services.rules import BookingRefused

from .journey import _offer_or_restart


class SatisfactionForm(forms.Form):
    level = forms.ChoiceField(
        label=_("Overall, how did you feel about the service you received today?"),
        choices=SatisfactionResponse.Level.choices, widget=forms.RadioSelect,
        error_messages={"required": _("Select how you feel about the service."),
                        "invalid_choice": _("Select how you feel about the service.")})
    comment = forms.CharField(
        label=_("How could we improve this service? (optional)"), required=False,
        help_text=_("Do not include personal or financial information, like your offer "
                    "reference, date of birth or card number."),
        max_length=SURVEY_COMMENT_LENGTH, widget=forms.Textarea,
        error_messages={"max_length": _("Your comments must be %(limit_value)d characters or "
                                        "fewer.")})


def _answered_booking(request) -> Booking | None:
    """The booking the answer follows: one of the offer this visitor has proved in their
    journey, named by the confirmation page's link; none from anywhere else."""
    reference = request.GET.get("booking") or request.POST.get("booking")
    if not reference:
        return None
    _state, offer = _offer_or_restart(request)
    if offer is None:
        return None
    return Booking.objects.filter(offer=offer, reference=reference,
                                  confirmed_at__isnull=False).first()


def survey(request):
    booking = _answered_booking(request)
    if already_answered(booking):
        return render(request, "site/survey_thanks.html", {"already": True})
    form = SatisfactionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            record_satisfaction(level=form.cleaned_data["level"],
                                comment=form.cleaned_data["comment"],
                                language=getattr(request, "LANGUAGE_CODE", "en"), booking=booking)
        except BookingRefused as refused:
            if refused.code != "already_answered":
                form.add_error(None, refused.messages[0])
                return render(request, "site/survey.html", {"form": form, "booking": booking})
        return redirect("site:survey_thanks")
    return render(request, "site/survey.html", {"form": form, "booking": booking})


def survey_thanks(request):
    return render(request, "site/survey_thanks.html", {"already": False})
