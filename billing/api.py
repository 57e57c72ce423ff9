"""Platform API for integrators (provider staff, token auth): invoices with their lines and
credit notes, and a client's usage and running invoice for a month.

    GET /api/platform/v1/invoices/?client=essex&period=2026-10&status=finalised
    GET /api/platform/v1/invoices/WM-000123/
    GET /api/platform/v1/usage/?client=essex&period=2026-12
"""

import re
from datetime import date

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasAction
from tenants.models import ClientOrganisation

from .models import CreditNote, Invoice, InvoiceLine
from .services import invoices as invoice_services

PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def period_param(value: str | None, *, required: bool) -> date | None:
    if not value:
        if required:
            raise ValidationError({"period": ["Give the month as YYYY-MM, e.g. 2026-10."]})
        return None
    match = PERIOD.match(value)
    if match is None or not 2000 <= int(match[1]) <= 2999:
        raise ValidationError({"period": ["Give the month as YYYY-MM, e.g. 2026-10."]})
    return date(int(match[1]), int(match[2]), 1)


def client_param(slug: str | None, *, required: bool) -> ClientOrganisation | None:
    if not slug:
        if required:
            raise ValidationError({"client": ["Give the client's slug, e.g. essex."]})
        return None
    client = ClientOrganisation.objects.filter(slug=slug[:40], is_template=False).first()
    if client is None:
        raise ValidationError({"client": [f"There is no client {slug[:40]!r}."]})
    return client


class InvoiceLineSerializer(serializers.ModelSerializer):
    adjusts = serializers.SlugRelatedField(slug_field="number", read_only=True)

    class Meta:
        model = InvoiceLine
        fields = ["position", "kind", "description", "quantity", "unit_pence", "amount_pence",
                  "adjusts"]


class CreditNoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditNote
        fields = ["number", "reason", "subtotal_pence", "vat_pence", "total_pence", "created_at"]


class InvoiceSerializer(serializers.ModelSerializer):
    client = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    period = serializers.SerializerMethodField()
    plan = serializers.CharField(source="plan_version.plan.code", read_only=True)

    class Meta:
        model = Invoice
        fields = ["number", "client", "period", "status", "plan", "subtotal_pence",
                  "vat_rate_basis_points", "vat_pence", "total_pence", "finalised_at",
                  "stripe_status", "sent_at", "due_on", "paid_at"]

    def get_period(self, invoice) -> str:
        return f"{invoice.period:%Y-%m}"


class InvoiceDetailSerializer(InvoiceSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)
    credit_notes = CreditNoteSerializer(many=True, read_only=True)

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, "lines", "credit_notes"]


class InvoicePages(LimitOffsetPagination):
    default_limit = 100
    max_limit = 500


class InvoiceList(ListAPIView):
    permission_classes = [HasAction]
    required_action = "billing.view_all"
    serializer_class = InvoiceSerializer
    pagination_class = InvoicePages

    def get_queryset(self):
        query = Invoice.objects.select_related("client", "plan_version__plan").order_by(
            "-period", "number")
        params = self.request.query_params
        client = client_param(params.get("client"), required=False)
        period = period_param(params.get("period"), required=False)
        wanted = params.get("status")
        if client is not None:
            query = query.filter(client=client)
        if period is not None:
            query = query.filter(period=period)
        if wanted:
            if wanted not in Invoice.Status.values:
                raise ValidationError({"status": [
                    "Choose one of: " + ", ".join(Invoice.Status.values) + "."]})
            query = query.filter(status=wanted)
        return query

    @extend_schema(parameters=[
        OpenApiParameter("client", str, description="A client's slug, e.g. essex"),
        OpenApiParameter("period", str, description="A month, YYYY-MM"),
        OpenApiParameter("status", str, enum=Invoice.Status.values)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class InvoiceDetail(RetrieveAPIView):
    permission_classes = [HasAction]
    required_action = "billing.view_all"
    serializer_class = InvoiceDetailSerializer
    lookup_field = "number"
    queryset = Invoice.objects.select_related("client", "plan_version__plan").prefetch_related(
        "lines__adjusts", "credit_notes")


class UsageSerializer(serializers.Serializer):
    client = serializers.CharField()
    period = serializers.CharField()
    bookings_online = serializers.IntegerField()
    bookings_telephone = serializers.IntegerField()
    bookings_staff = serializers.IntegerField()
    cancellations_credited = serializers.IntegerField()
    calls = serializers.IntegerField()
    card_payments_pence = serializers.IntegerField(help_text="Taken by card in the month")
    plan = serializers.CharField(allow_null=True)
    subtotal_pence = serializers.IntegerField(allow_null=True)
    vat_pence = serializers.IntegerField(allow_null=True)
    total_pence = serializers.IntegerField(allow_null=True,
                                           help_text="What the month's invoice comes to now "
                                                     "(the running invoice while it is open)")


class UsageView(APIView):
    permission_classes = [HasAction]
    required_action = "billing.view_all"

    @extend_schema(responses=UsageSerializer, parameters=[
        OpenApiParameter("client", str, required=True, description="A client's slug"),
        OpenApiParameter("period", str, required=True, description="A month, YYYY-MM")])
    def get(self, request):
        client = client_param(request.query_params.get("client"), required=True)
        period = period_param(request.query_params.get("period"), required=True)
        preview = invoice_services.preview(client, period)
        priced = preview.priced
        return Response(UsageSerializer({
            "client": client.slug, "period": f"{period:%Y-%m}",
            "bookings_online": preview.usage.online, "bookings_telephone": preview.usage.telephone,
            "bookings_staff": preview.usage.staff,
            "cancellations_credited": preview.usage.cancelled_credits,
            "calls": preview.usage.calls, "card_payments_pence": preview.usage.card_pence,
            "plan": preview.plan.code if preview.plan else None,
            "subtotal_pence": priced.subtotal_pence if priced else None,
            "vat_pence": priced.vat_pence if priced else None,
            "total_pence": priced.total_pence if priced else None}).data)
