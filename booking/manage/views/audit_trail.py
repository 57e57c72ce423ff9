"""The client's audit trail (audit.models.AuditEntry in this client's schema), filtered by
who, which record and when."""

from django.core.paginator import Paginator

from audit.models import AuditEntry
from booking.audit_trail import entry_in_words, record_kind

from ..access import page, render_page
from ..forms import AuditFilterForm

PER_PAGE = 50


@page("client.view_audit")
def audit_trail(request):
    object_types = list(AuditEntry.objects.order_by("object_type").values_list(
        "object_type", flat=True).distinct())
    form = AuditFilterForm(request.GET or None,
                           object_types=[(kind, record_kind(kind)) for kind in object_types if kind])
    entries = AuditEntry.objects.all()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["user"]:
            entries = entries.filter(actor_label__icontains=data["user"].strip())
        if data["object_type"]:
            entries = entries.filter(object_type=data["object_type"])
        if data["object_id"]:
            entries = entries.filter(object_id=data["object_id"].strip())
        if data["date_from"]:
            entries = entries.filter(occurred_at__date__gte=data["date_from"])
        if data["date_to"]:
            entries = entries.filter(occurred_at__date__lte=data["date_to"])
    elif form.is_bound:
        entries = entries.none()
    paginator = Paginator(entries.order_by("-occurred_at", "-id"), PER_PAGE)
    page_obj = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render_page(request, "manage/audit.html", {
        "form": form, "page_obj": page_obj, "query": query.urlencode(),
        "entries": [entry_in_words(entry) for entry in page_obj]})
