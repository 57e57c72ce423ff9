"""Billing, in the public schema: price plans with dated versions, which plan each client is on,
the append-only usage ledger, invoices (draft → finalised, never edited after) and credit notes.
Money is GBP in whole pence."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import ClientOrganisation


class PricePlan(models.Model):
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class PricePlanVersion(models.Model):
    """The plan's prices from `valid_from`. `tiers` is a list of
    {"first": int, "last": int | None, "unit_pence": int, "flat_pence": int}, covering 1.. with no
    gap or overlap (checked by billing.services.plans)."""

    class Mode(models.TextChoices):
        GRADUATED = "graduated", _("Graduated")
        VOLUME = "volume", _("Volume")

    plan = models.ForeignKey(PricePlan, on_delete=models.PROTECT, related_name="versions")
    valid_from = models.DateField()
    mode = models.CharField(max_length=16, choices=Mode.choices)
    tiers = models.JSONField()
    telephone_surcharge_pence = models.PositiveIntegerField(default=0)
    call_fee_pence = models.PositiveIntegerField(default=0)
    card_rate_basis_points = models.PositiveIntegerField(default=0)
    monthly_minimum_pence = models.PositiveIntegerField(default=0)
    credit_cancellations = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "valid_from"]
        constraints = [models.UniqueConstraint(fields=["plan", "valid_from"],
                                               name="billing_one_version_per_plan_date")]

    def __str__(self):
        return f"{self.plan} from {self.valid_from:%Y-%m-%d}"


class VatRate(models.Model):
    valid_from = models.DateField(unique=True)
    rate_basis_points = models.PositiveIntegerField()

    class Meta:
        ordering = ["valid_from"]

    def __str__(self):
        return f"VAT {self.rate_basis_points / 100:g}% from {self.valid_from:%Y-%m-%d}"


class ClientPlan(models.Model):
    """The client is on `plan` from `valid_from` (until its next row)."""

    client = models.ForeignKey(ClientOrganisation, on_delete=models.CASCADE,
                               related_name="billing_plans")
    plan = models.ForeignKey(PricePlan, on_delete=models.PROTECT, related_name="clients")
    valid_from = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["client", "valid_from"]
        constraints = [models.UniqueConstraint(fields=["client", "valid_from"],
                                               name="billing_one_plan_per_client_date")]

    def __str__(self):
        return f"{self.client} on {self.plan} from {self.valid_from:%Y-%m-%d}"


class AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValidationError(_("This record cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("This record cannot be deleted."))


class UsageRecord(AppendOnly):
    """One billable client event. Written in the same transaction as the event itself."""

    class Kind(models.TextChoices):
        BOOKING_CONFIRMED = "booking_confirmed", _("Booking confirmed")
        BOOKING_CANCELLED_CREDIT = "booking_cancelled_credit", _("Cancellation credited")
        CALL_LOGGED = "call_logged", _("Call logged")
        CARD_PAYMENT = "card_payment", _("Card payment taken")

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online")
        TELEPHONE = "telephone", _("Telephone")
        STAFF = "staff", _("Staff")

    client = models.ForeignKey(ClientOrganisation, on_delete=models.PROTECT,
                               related_name="usage_records")
    source_event_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    # What a card payment took (its processing is passed through at the plan's rate); 0 else.
    amount_pence = models.PositiveIntegerField(default=0)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["client", "occurred_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["client", "source_event_id"],
                                    name="billing_one_usage_row_per_event"),
            models.CheckConstraint(
                condition=~models.Q(kind="booking_confirmed") | models.Q(
                    channel__in=["online", "telephone", "staff"]),
                name="billing_booking_usage_has_channel"),
            models.CheckConstraint(
                condition=models.Q(kind="card_payment", amount_pence__gt=0)
                | (~models.Q(kind="card_payment") & models.Q(amount_pence=0)),
                name="billing_amount_only_on_card_payments"),
        ]
        indexes = [models.Index(fields=["client", "occurred_at"])]

    def __str__(self):
        return f"{self.kind} {self.source_event_id}"


class MonthClose(models.Model):
    """A period (the first day of a Europe/London month) that month close has run for. A plan
    change dated in a closed month is refused."""

    period = models.DateField(unique=True)
    closed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.period:%Y-%m}"


class InvoiceSequence(models.Model):
    """The one counter invoice and credit-note numbers come from, locked to allocate."""

    name = models.CharField(max_length=16, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.name} {self.last}"


class StripeCustomer(models.Model):
    """The client's customer on the platform's own Stripe account, which invoices it."""

    client = models.OneToOneField(ClientOrganisation, on_delete=models.PROTECT,
                                  primary_key=True, related_name="stripe_customer")
    customer_id = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.client} {self.customer_id}"


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        FINALISED = "finalised", _("Finalised")

    class StripeStatus(models.TextChoices):
        NOT_SENT = "not_sent", _("Not sent")
        SENT = "sent", _("Sent")
        PAID = "paid", _("Paid")
        OVERDUE = "overdue", _("Overdue")

    # Delivery to Stripe and payment are not the invoice's content: they may change after
    # finalisation (and only they may, through save(update_fields=...)).
    STRIPE_FIELDS = frozenset({"stripe_invoice_id", "stripe_status", "sent_at", "due_on",
                               "paid_at", "send_error"})

    client = models.ForeignKey(ClientOrganisation, on_delete=models.PROTECT,
                               related_name="invoices")
    period = models.DateField()
    number = models.CharField(max_length=20, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    plan_version = models.ForeignKey(PricePlanVersion, on_delete=models.PROTECT)
    vat_rate_basis_points = models.PositiveIntegerField()
    subtotal_pence = models.IntegerField()
    vat_pence = models.IntegerField()
    total_pence = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    finalise_after = models.DateTimeField()
    finalised_at = models.DateTimeField(null=True, blank=True)
    stripe_invoice_id = models.CharField(max_length=64, blank=True)
    stripe_status = models.CharField(max_length=16, choices=StripeStatus.choices,
                                     default=StripeStatus.NOT_SENT)
    sent_at = models.DateTimeField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    send_error = models.TextField(blank=True)  # why the last attempt to send failed

    class Meta:
        ordering = ["-period", "number"]
        constraints = [models.UniqueConstraint(fields=["client", "period"],
                                               name="billing_one_invoice_per_client_period"),
                       models.UniqueConstraint(fields=["stripe_invoice_id"],
                                               condition=~models.Q(stripe_invoice_id=""),
                                               name="billing_one_invoice_per_stripe_invoice")]

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields and set(update_fields) <= self.STRIPE_FIELDS:
            super().save(*args, **kwargs)
            return
        if not self._state.adding and Invoice.objects.filter(
                pk=self.pk, status=self.Status.FINALISED).exists():
            raise ValidationError(_("A finalised invoice cannot be changed; issue a credit "
                                    "note."))
        super().save(*args, **kwargs)


class InvoiceLine(models.Model):
    class Kind(models.TextChoices):
        TIER = "tier", _("Bookings")
        TIER_FLAT = "tier_flat", _("Tier flat fee")
        SURCHARGE = "surcharge", _("Contact-centre surcharge")
        CALLS = "calls", _("Calls logged")
        CARD_FEES = "card_fees", _("Card processing")
        MINIMUM = "minimum", _("Monthly minimum top-up")
        ADJUSTMENT = "adjustment", _("Adjustment for an earlier month")

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    description = models.CharField(max_length=200)
    quantity = models.IntegerField()
    unit_pence = models.IntegerField()
    amount_pence = models.IntegerField()
    # An adjustment line corrects this earlier, finalised invoice (late events).
    adjusts = models.ForeignKey("Invoice", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="adjusted_by")

    class Meta:
        ordering = ["invoice", "position"]

    def __str__(self):
        return self.description


class CreditNote(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(max_length=20, unique=True)
    reason = models.CharField(max_length=500)
    subtotal_pence = models.PositiveIntegerField()
    vat_pence = models.PositiveIntegerField()
    total_pence = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=254)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.number
