from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from govuk_forms.fields import DateInputField, TimeInputField

from .models import TITLE_MAX, Area, ChangeRequest, NotificationPreference
from .queries import SORTS

LONDON = ZoneInfo("Europe/London")
UK_TIME = _("UK time, for example 09:30 or 14:00")


class _MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class _MultipleFileField(forms.FileField):
    """Up to three images from one file input; each is checked by its content when saved."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", _MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        return [super(_MultipleFileField, self).clean(item, initial) for item in files]


class RequestForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX,
                            help_text=_("Say what you need in a sentence: up to 120 characters."),
                            error_messages={"required": _("Enter a title"),
                                            "max_length": _("Title must be 120 characters or fewer")})
    area = forms.ModelChoiceField(label=_("Area"), queryset=Area.objects.all(),
                                  empty_label=_("Select an area"),
                                  error_messages={"required": _("Select an area")})
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea,
                                  help_text=_("What you need and why. You can use Markdown."))
    screenshots = _MultipleFileField(
        label=_("Screenshots (optional)"), required=False,
        help_text=_("Up to 3 PNG, JPEG or WebP images, 5 MB or smaller each. Choose them last: "
                    "checking for similar requests clears the choice."),
        error_messages={"empty": _("The selected file is empty")})


class FilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200,
                        help_text=_("Words in the title or description"))
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All but duplicates"))]
                               + list(ChangeRequest.Status.choices))
    area = forms.ModelChoiceField(label=_("Area"), required=False, queryset=Area.objects.all(),
                                  empty_label=_("All areas"))
    organisation = forms.ModelChoiceField(label=_("Organisation"), required=False,
                                          queryset=None, empty_label=_("All organisations"))
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=[
        ("votes", _("Most votes")), ("organisations", _("Most organisations")),
        ("trending", _("Trending (votes in the last 14 days)")), ("newest", _("Newest")),
        ("relevance", _("Best match for the search"))])

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations

    def sort_value(self):
        sort = self.cleaned_data.get("sort") if self.is_valid() else ""
        return sort if sort in SORTS else "votes"


class StatusForm(forms.Form):
    to_status = forms.ChoiceField(label=_("New status"), choices=[
        (value, label) for value, label in ChangeRequest.Status.choices
        if value != ChangeRequest.Status.DUPLICATE],
        error_messages={"required": _("Select a status")})
    response = forms.CharField(label=_("Public response"), widget=forms.Textarea,
                               help_text=_("Shown on the request and sent to everyone following it."),
                               error_messages={"required": _("Enter a public response")})


class MergeForm(forms.Form):
    target = forms.IntegerField(label=_("Number of the request to merge into"),
                                error_messages={"required": _("Enter the request's number")})
    response = forms.CharField(label=_("Public response"), required=False, widget=forms.Textarea)


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Add a comment"), widget=forms.Textarea, max_length=10_000,
                           help_text=_("You can use Markdown."),
                           error_messages={"required": _("Enter a comment")})
    official = forms.BooleanField(label=_("Official response"), required=False)


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Reply"), widget=forms.Textarea, max_length=10_000,
                           error_messages={"required": _("Enter a reply")})


class EditCommentForm(forms.Form):
    body = forms.CharField(label=_("Edit your comment"), widget=forms.Textarea,
                           max_length=10_000, error_messages={"required": _("Enter a comment")})


class VoteOnBehalfForm(forms.Form):
    member = forms.EmailField(label=_("Member’s e-mail address"),
                              help_text=_("The member who asked for this, for example in a "
                                          "meeting. They are told."),
                              error_messages={"required": _("Enter the member’s e-mail address"),
                                              "invalid": _("Enter an e-mail address, like "
                                                           "name@example.gov.uk")})


class PreferenceForm(forms.Form):
    delivery = forms.ChoiceField(label=_("How do you want to hear about the requests you "
                                         "follow?"), widget=forms.RadioSelect,
                                 choices=NotificationPreference.Delivery.choices,
                                 error_messages={"required": _("Select how you want to hear "
                                                               "from the user group")})


class ReleaseForm(forms.Form):
    version = forms.CharField(label=_("Version"), max_length=40,
                              error_messages={"required": _("Enter the version"),
                                              "max_length": _("Version must be 40 characters "
                                                              "or fewer")})
    released_on = DateInputField(
        label=_("Release date"),
        messages={"required": _("Enter the release date"),
                  "incomplete": _("The release date must include a %(part)s"),
                  "invalid": _("The release date must be a real date")})
    notes = forms.CharField(label=_("Release notes"), required=False, widget=forms.Textarea,
                            help_text=_("You can use Markdown."))
    request_numbers = forms.CharField(
        label=_("Change requests it delivers"),
        help_text=_("Request numbers separated by commas, like 12, 15, 31"),
        error_messages={"required": _("Enter the numbers of the requests this release "
                                      "delivers")})

    def clean_request_numbers(self):
        return _request_numbers(self.cleaned_data["request_numbers"])

    @classmethod
    def initial_for(cls, release):
        return {"version": release.version, "released_on": release.released_on,
                "notes": release.notes,
                "request_numbers": ", ".join(str(pk) for pk in
                                             release.requests.order_by("pk")
                                             .values_list("pk", flat=True))}


def _request_numbers(text):
    numbers = []
    for part in (text or "").replace(",", " ").split():
        part = part.lstrip("#")
        if not part.isdigit():
            raise forms.ValidationError(
                _("Enter request numbers separated by commas, like 12, 15, 31"))
        numbers.append(int(part))
    return numbers


class ScreenshotForm(forms.Form):
    image = forms.FileField(label=_("Add a screenshot"),
                            help_text=_("A PNG, JPEG or WebP image, 5 MB or smaller. Up to 3 a "
                                        "request."),
                            error_messages={"required": _("Select an image"),
                                            "empty": _("The selected file is empty")})
    description = forms.CharField(label=_("What it shows"), required=False, max_length=200,
                                  help_text=_("Read out to people who cannot see the image"))


class HideForm(forms.Form):
    reason = forms.CharField(label=_("Why hide it"), max_length=300,
                             error_messages={"required": _("Enter why the comment is hidden")})


def _uk_time(day, time, field, form):
    """The moment `time` on `day` names in the UK, or an error on `field` for a time the clocks
    skip when they go forward."""
    value = datetime.combine(day, time, tzinfo=LONDON)
    if value.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) != value.replace(tzinfo=None):
        form.add_error(field, _("That time does not exist in the UK: the clocks go forward"))
        return None
    return value


class MeetingForm(forms.Form):
    """A meeting's details: the day and times are UK times (Europe/London)."""

    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX,
                            error_messages={"required": _("Enter a title"),
                                            "max_length": _("Title must be 120 characters or fewer")})
    date = DateInputField(label=_("Date"),
                          messages={"required": _("Enter a date"),
                                    "incomplete": _("The date of the meeting must include a %(part)s"),
                                    "invalid": _("The date of the meeting must be a real date")})
    starts_at = TimeInputField(label=_("Start time"), help_text=UK_TIME,
                               error_messages={"required": _("Enter the start time"),
                                               "invalid": _("Enter a time like 09:30")})
    ends_at = TimeInputField(label=_("End time"), help_text=UK_TIME,
                             error_messages={"required": _("Enter the end time"),
                                             "invalid": _("Enter a time like 09:30")})
    place = forms.CharField(label=_("Place"), required=False, max_length=200,
                            help_text=_("The address, or leave empty for an online meeting"),
                            error_messages={"max_length": _("Place must be 200 characters or "
                                                            "fewer")})
    online_link = forms.URLField(label=_("Online link"), required=False, max_length=200,
                                 assume_scheme="https",
                                 error_messages={"invalid": _("Enter a full web address, like "
                                                              "https://meet.example/abc")})
    agenda_requests = forms.CharField(
        label=_("Change requests to discuss"), required=False,
        help_text=_("Request numbers in agenda order, separated by commas, like 12, 15, 31"))
    agenda_other = forms.CharField(label=_("Other agenda items"), required=False,
                                   widget=forms.Textarea, help_text=_("One item a line"))
    status = forms.ChoiceField(label=_("Who can see it"), widget=forms.RadioSelect,
                               choices=[("draft", _("Draft: provider staff only")),
                                        ("published", _("Published: members see it"))],
                               initial="draft", error_messages={"required": _("Select who can "
                                                                              "see it")})

    def clean_agenda_requests(self):
        text = self.cleaned_data["agenda_requests"]
        numbers = []
        for part in text.replace(",", " ").split():
            part = part.lstrip("#")
            if not part.isdigit():
                raise forms.ValidationError(
                    _("Enter request numbers separated by commas, like 12, 15, 31"))
            numbers.append(int(part))
        return numbers

    def clean_agenda_other(self):
        return [line for line in self.cleaned_data["agenda_other"].splitlines() if line.strip()]

    def clean(self):
        data = super().clean()
        day, starts, ends = data.get("date"), data.get("starts_at"), data.get("ends_at")
        if day is not None and starts is not None and ends is not None:
            data["starts_at"] = _uk_time(day, starts, "starts_at", self)
            data["ends_at"] = _uk_time(day, ends, "ends_at", self)
            if data["starts_at"] and data["ends_at"] and data["ends_at"] <= data["starts_at"]:
                self.add_error("ends_at", _("The end time must be after the start time"))
        if not data.get("place") and not data.get("online_link") \
                and "online_link" not in self.errors:
            self.add_error("place", _("Enter a place or an online link"))
        return data

    @classmethod
    def initial_for(cls, meeting):
        local_start = meeting.starts_at.astimezone(LONDON)
        return {"title": meeting.title, "date": local_start.date(),
                "starts_at": local_start.time(),
                "ends_at": meeting.ends_at.astimezone(LONDON).time(),
                "place": meeting.place, "online_link": meeting.online_link,
                "agenda_requests": ", ".join(str(item.change_request_id)
                                             for item in meeting.agenda_items.all()
                                             if item.change_request_id),
                "agenda_other": "\n".join(item.title for item in meeting.agenda_items.all()
                                          if not item.change_request_id),
                "status": meeting.status}


class MinutesForm(forms.Form):
    """The minutes, the organisations that attended, and per agenda item a decision
    (decision_<item id>) and, for a change request, the status decided (status_<item id>)."""

    minutes = forms.CharField(label=_("Minutes of the meeting"), widget=forms.Textarea,
                              help_text=_("You can use Markdown."),
                              error_messages={"required": _("Enter the minutes")})
    attended = forms.ModelMultipleChoiceField(
        label=_("Organisations that attended"), required=False, queryset=None,
        widget=forms.CheckboxSelectMultiple)
    publish = forms.BooleanField(label=_("Publish the minutes to members now"), required=False)

    def __init__(self, *args, items=(), organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        from tenants.models import ClientOrganisation

        self.fields["attended"].queryset = organisations if organisations is not None else \
            ClientOrganisation.objects.filter(is_template=False).order_by("name")
        self.items = list(items)
        choices = [("", _("No change"))] + [
            (value, label) for value, label in ChangeRequest.Status.choices
            if value != ChangeRequest.Status.DUPLICATE]
        for item in self.items:
            self.fields[f"decision_{item.pk}"] = forms.CharField(
                label=_("Decision on “%(subject)s”") % {"subject": item.subject},
                required=False, widget=forms.Textarea, initial=item.decision)
            if item.change_request_id:
                self.fields[f"status_{item.pk}"] = forms.ChoiceField(
                    label=_("New status of “%(subject)s”") % {"subject": item.subject},
                    required=False, choices=choices,
                    help_text=_("Now %(status)s. The decision is shown on the request as the "
                                "public response.") % {
                        "status": item.change_request.get_status_display().lower()})

    def decisions(self) -> dict:
        return {item.pk: self.cleaned_data.get(f"decision_{item.pk}", "") for item in self.items}

    def status_changes(self) -> dict:
        return {item.pk: self.cleaned_data.get(f"status_{item.pk}", "") for item in self.items
                if item.change_request_id}

    def item_fields(self):
        """Per item: its decision field and its status field (None for a free item)."""
        return [(self[f"decision_{item.pk}"],
                 self[f"status_{item.pk}"] if item.change_request_id else None)
                for item in self.items]

    def decision_fields(self):
        return [self[f"decision_{item.pk}"] for item in self.items]
