from django import forms
from django.utils.translation import gettext_lazy as _

from .models import TITLE_MAX, Area, ChangeRequest
from .queries import SORTS


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


class FilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All but duplicates"))]
                               + list(ChangeRequest.Status.choices))
    area = forms.ModelChoiceField(label=_("Area"), required=False, queryset=Area.objects.all(),
                                  empty_label=_("All areas"))
    organisation = forms.ModelChoiceField(label=_("Organisation"), required=False,
                                          queryset=None, empty_label=_("All organisations"))
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=[
        ("votes", _("Most votes")), ("organisations", _("Most organisations")),
        ("trending", _("Trending (votes in the last 14 days)")), ("newest", _("Newest"))])

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


class HideForm(forms.Form):
    reason = forms.CharField(label=_("Why hide it"), max_length=300,
                             error_messages={"required": _("Enter why the comment is hidden")})
