"""The back-office reads a council's systems make: bookings, their attendance outcomes, course
dates and venues, each paged by change time (changes.py), and the client's reports with the
filters the report pages take. Read-only; every row is the current client's, since each
client's rows live in its own schema."""

import dataclasses
from datetime import date, datetime
from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasAction
from booking.models import Booking, CourseSession, Venue
from config.api_schema import documented_error
from reports.bookings import bookings_report
from reports.calls import calls_report
from reports.fill import fill_report
from reports.filters import ReportFilterForm
from reports.funnel import funnel_report

from .changes import ChangesQuerySerializer, changes_page_serializer, next_url, page_of
from .views import CLIENT_API_AUTHENTICATION

OUTCOMES = (Booking.Status.COMPLETED, Booking.Status.DID_NOT_ATTEND,
            Booking.Status.REFUSED_ENTRY, Booking.Status.NOT_COMPLETED)


class BookingSerializer(serializers.Serializer):
    reference = serializers.CharField()
    offer_reference = serializers.CharField(source="offer.reference")
    status = serializers.ChoiceField(choices=Booking.Status.choices)
    channel = serializers.CharField()
    course_date = serializers.IntegerField(source="session_id", help_text="Its course date's id")
    course_type = serializers.CharField(source="session.course_type.code")
    venue = serializers.IntegerField(source="session.venue_id", allow_null=True,
                                     help_text="The venue's id; null for a course online")
    starts_at = serializers.DateTimeField(source="session.starts_at")
    fee_pence = serializers.IntegerField()
    transferred_from = serializers.CharField(source="transferred_from.reference",
                                             allow_null=True, default=None,
                                             help_text="The booking this one moved from")
    created_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True,
                                         help_text="When it ended: an outcome or a cancellation")
    updated_at = serializers.DateTimeField()


class OutcomeSerializer(serializers.Serializer):
    booking = serializers.CharField(source="reference")
    offer_reference = serializers.CharField(source="offer.reference")
    outcome = serializers.ChoiceField(source="status", choices=[
        (value, label) for value, label in Booking.Status.choices if value in OUTCOMES])
    recorded_at = serializers.DateTimeField(source="ended_at", allow_null=True)
    course_date = serializers.IntegerField(source="session_id")
    course_type = serializers.CharField(source="session.course_type.code")
    starts_at = serializers.DateTimeField(source="session.starts_at")
    updated_at = serializers.DateTimeField()


class CourseDateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    course_type = serializers.CharField(source="course_type.code")
    venue = serializers.IntegerField(source="venue_id", allow_null=True)
    delivery_mode = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    capacity = serializers.IntegerField()
    seats_booked = serializers.IntegerField(help_text="Confirmed bookings (holds not counted)")
    language = serializers.CharField()
    status = serializers.ChoiceField(choices=CourseSession.Status.choices)
    updated_at = serializers.DateTimeField()


class VenueSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    name_cy = serializers.CharField(allow_blank=True)
    address = serializers.CharField()
    town = serializers.CharField()
    postcode = serializers.CharField()
    capacity = serializers.IntegerField()
    step_free = serializers.BooleanField()
    hearing_loop = serializers.BooleanField()
    parking = serializers.BooleanField()
    is_active = serializers.BooleanField()
    updated_at = serializers.DateTimeField()


class ChangesView(APIView):
    authentication_classes = CLIENT_API_AUTHENTICATION
    permission_classes = [HasAction]
    item_serializer: type[serializers.Serializer]

    def rows(self):
        raise NotImplementedError

    def get(self, request):
        rows, cursor = page_of(self.rows(), request.query_params)
        return Response({"results": self.item_serializer(rows, many=True).data,
                         "next_cursor": cursor, "next": next_url(request, cursor)})


def _documented(operation_id: str, summary: str, description: str, page):
    return extend_schema(
        operation_id=operation_id, summary=summary, description=description,
        parameters=[ChangesQuerySerializer],
        responses={200: page, 400: documented_error("A bad `updated_since`, `cursor` or "
                                                    "`page_size`")})


PAGING = ("Ordered by `updated_at`, then id; pass `next_cursor` back as `cursor` for the next "
          "page. Keep the newest `updated_at` you have seen and next time ask with "
          "`updated_since` a minute before it: a row may come twice, never not at all.")


class BookingChanges(ChangesView):
    required_action = "bookings.view"
    item_serializer = BookingSerializer

    def rows(self):
        return Booking.objects.select_related("offer", "session__course_type",
                                              "transferred_from")

    @_documented("bookings_list", "Bookings, by change time",
                 "Every booking of this client, a move's new booking included. "
                 f"{PAGING} Needs the `bookings.view` scope.",
                 changes_page_serializer("BookingPage", BookingSerializer))
    def get(self, request):
        return super().get(request)


class OutcomeChanges(ChangesView):
    required_action = "bookings.view"
    item_serializer = OutcomeSerializer

    def rows(self):
        return (Booking.objects.filter(status__in=OUTCOMES)
                .select_related("offer", "session__course_type"))

    @_documented("outcomes_list", "Attendance outcomes, by change time",
                 "Bookings whose course has an outcome recorded (completed, did not attend, "
                 f"refused entry, not completed). {PAGING} Needs the `bookings.view` scope.",
                 changes_page_serializer("OutcomePage", OutcomeSerializer))
    def get(self, request):
        return super().get(request)


class CourseDateChanges(ChangesView):
    required_action = "configuration.view"
    item_serializer = CourseDateSerializer

    def rows(self):
        return CourseSession.objects.select_related("course_type")

    @_documented("course_dates_list", "Course dates, by change time",
                 "Every course date, cancelled ones included; `seats_booked` changing is a "
                 f"change. {PAGING} Needs the `configuration.view` scope.",
                 changes_page_serializer("CourseDatePage", CourseDateSerializer))
    def get(self, request):
        return super().get(request)


class VenueChanges(ChangesView):
    required_action = "configuration.view"
    item_serializer = VenueSerializer

    def rows(self):
        return Venue.objects.all()

    @_documented("venues_list", "Venues, by change time",
                 f"Every venue, those no longer used included. {PAGING} Needs the "
                 "`configuration.view` scope.",
                 changes_page_serializer("VenuePage", VenueSerializer))
    def get(self, request):
        return super().get(request)


# --- reports ---------------------------------------------------------------------------------

def plain(value):
    """A report's dataclasses as JSON: dates in ISO 8601, keys as strings (a pair of keys
    joined by "/")."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain(getattr(value, field.name))
                for field in dataclasses.fields(value)}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {("/".join(map(str, key)) if isinstance(key, tuple) else str(key)): plain(item)
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


class ReportSerializer(serializers.Serializer):
    report = serializers.CharField()
    first_month = serializers.CharField(help_text="YYYY-MM")
    last_month = serializers.CharField(help_text="YYYY-MM")
    course_type = serializers.IntegerField(allow_null=True)
    venue = serializers.IntegerField(allow_null=True)
    data = serializers.DictField(help_text="The report as its page shows it, with the period "
                                           "before it under `previous`")


REPORT_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.STR, description="First month, YYYY-MM (default: "
                     "11 months ago)"),
    OpenApiParameter("end", OpenApiTypes.STR, description="Last month, YYYY-MM (default: this "
                     "month); at most 24 months"),
    OpenApiParameter("course_type", OpenApiTypes.INT, description="A course type's id"),
    OpenApiParameter("venue", OpenApiTypes.INT, description="A venue's id"),
]


class ReportView(APIView):
    """One client report, with the filters of its page at /manage/reports/."""

    authentication_classes = CLIENT_API_AUTHENTICATION
    permission_classes = [HasAction]
    required_action = "reports.view"
    name = ""

    def build(self, request, period, course_type, venue):
        raise NotImplementedError

    def get(self, request):
        # The page's own filter form: the same filters, checked the same way.
        form = ReportFilterForm(request.query_params)
        if not form.is_valid():
            return Response({"errors": form.errors}, status=status.HTTP_400_BAD_REQUEST)
        data = form.cleaned_data
        report = self.build(request, data["period"], data["course_type"], data["venue"])
        return Response(ReportSerializer({
            "report": self.name, "first_month": f"{data['period'].first:%Y-%m}",
            "last_month": f"{data['period'].last:%Y-%m}",
            "course_type": data["course_type"].pk if data["course_type"] else None,
            "venue": data["venue"].pk if data["venue"] else None,
            "data": plain(report)}).data)


def _report(name: str, summary: str, build):
    def get(self, request):  # a function of its own, for its own schema annotation
        return ReportView.get(self, request)

    view = type(f"{name.title()}Report", (ReportView,), {
        "name": name, "get": get,
        "build": lambda self, request, period, course_type, venue: build(
            request, period, course_type=course_type, venue=venue)})
    view.get = extend_schema(
        operation_id=f"reports_{name}", summary=summary,
        description="The figures of the report page of the same name, with its filters. Needs "
                    "the `reports.view` scope.",
        parameters=REPORT_PARAMETERS,
        responses={200: ReportSerializer,
                   400: documented_error("A bad filter, named")})(view.get)
    return view


REPORTS = {
    "bookings": _report("bookings", "Bookings by course type and channel",
                        lambda request, period, **filters: bookings_report(period, **filters)),
    "fill": _report("fill", "Venue and course-date fill",
                    # Every course date, as the page's downloads have them.
                    lambda request, period, **filters: fill_report(period, page=None,
                                                                   **filters)),
    "funnel": _report("funnel", "Offer funnel",
                      lambda request, period, **filters: funnel_report(period, **filters)),
    "calls": _report("calls", "Contact-centre calls",
                     lambda request, period, **filters: calls_report(
                         period, organisation=request.tenant, **filters)),
}
