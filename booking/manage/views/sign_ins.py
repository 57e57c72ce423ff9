"""The sign-in report for this client's site: who signed in, who failed and who was locked
out, and every two-factor set-up and reset (accounts.sign_in_report)."""

from django.core.paginator import Paginator

from accounts.forms import SignInReportForm
from accounts.sign_in_report import sign_in_events

from ..access import page, render_page

PER_PAGE = 50


@page("client.view_audit")
def sign_in_report(request):
    form = SignInReportForm(request.GET or None)
    events = sign_in_events(organisation=request.tenant, filters=form.filters())
    if form.is_bound and not form.is_valid():
        events = events.none()
    query = request.GET.copy()
    query.pop("page", None)
    return render_page(request, "manage/sign_ins.html", {
        "form": form, "page_obj": Paginator(events, PER_PAGE).get_page(request.GET.get("page")),
        "query": query.urlencode()})
