"""The forms provider staff report and update incidents with (rules: tenants.incidents)."""

from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import ClientOrganisation, Incident, IncidentUpdate

TIME_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H.%M", "%Y-%m-%d %H:%M")


def parse_time(value: str) -> datetime | None:
    for pattern in TIME_FORMATS:
        try:
            return timezone.make_aware(datetime.strptime(value.strip(), pattern))
        except ValueError:
            continue
    return None


def _time_field(label, *, required: bool):
    return forms.CharField(label=label, required=required, max_length=20,
                           help_text=_("Day/month/year and 24-hour time, UK time, for example "
                                       "27/3/2026 14:05"),
                           widget=forms.TextInput(attrs={"width": "10", "autocomplete": "off"}))


class IncidentForm(forms.Form):
    title = forms.CharField(label=_("Title (English)"), max_length=Incident._meta.get_field(
        "title").max_length, required=False)
    title_cy = forms.CharField(label=_("Title (Welsh)"), required=False,
                               max_length=Incident._meta.get_field("title_cy").max_length,
                               help_text=_("Shown on Welsh pages. Leave empty to use the English."))
    affects = forms.ChoiceField(label=_("Who is affected"), widget=forms.RadioSelect,
                                initial="all", choices=[("all", _("Every client")),
                                                        ("chosen", _("Only the clients chosen"))])
    clients = forms.MultipleChoiceField(label=_("Clients affected"), required=False,
                                        widget=forms.CheckboxSelectMultiple, choices=[])
    started_at = _time_field(_("Started"), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=IncidentUpdate.Status.choices,
                               widget=forms.RadioSelect, initial="investigating")
    text = forms.CharField(label=_("What people are told (English)"), required=False,
                           widget=forms.Textarea,
                           help_text=_("Public: never name a person or give personal details."))
    text_cy = forms.CharField(label=_("What people are told (Welsh)"), required=False,
                              widget=forms.Textarea)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clients"].choices = [
            (str(pk), name) for pk, name in ClientOrganisation.objects.filter(is_template=False)
            .exclude(status=ClientOrganisation.Status.OFFBOARDED).values_list("pk", "name")]
        if not self.is_bound:
            self.initial["started_at"] = timezone.localtime().strftime("%d/%m/%Y %H:%M")

    def clean_started_at(self):
        moment = parse_time(self.cleaned_data["started_at"] or "")
        if moment is None:
            raise forms.ValidationError(_("Enter the start as day/month/year and time, for "
                                          "example 27/3/2026 14:05"))
        return moment


class IncidentUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=IncidentUpdate.Status.choices,
                               widget=forms.RadioSelect)
    text = forms.CharField(label=_("What people are told (English)"), required=False,
                           widget=forms.Textarea,
                           help_text=_("Public: never name a person or give personal details."))
    text_cy = forms.CharField(label=_("What people are told (Welsh)"), required=False,
                              widget=forms.Textarea)
    ended_at = _time_field(_("Ended (when resolved)"), required=False)

    def clean_ended_at(self):
        value = self.cleaned_data["ended_at"] or ""
        if not value.strip():
            return None
        moment = parse_time(value)
        if moment is None:
            raise forms.ValidationError(_("Enter the end as day/month/year and time, for "
                                          "example 27/3/2026 14:05"))
        return moment
