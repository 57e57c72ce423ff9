from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryMode(models.TextChoices):
    CLASSROOM = "classroom", _("Classroom")
    ONLINE = "online", _("Online")
    PRACTICAL = "practical", _("Practical")


class CourseType(models.Model):
    """A kind of course a client offers (NSAC, NMAC, …), with its fee and policies."""

    code = models.CharField(
        max_length=12,
        unique=True,
        validators=[RegexValidator(r"^[A-Za-z0-9]{2,12}$", _("Use 2–12 letters or digits."))],
    )
    name_en = models.CharField(max_length=200)
    name_cy = models.CharField(max_length=200, blank=True)
    duration_minutes = models.PositiveIntegerField(validators=[MinValueValidator(30)])
    delivery_modes = models.JSONField(default=list)
    # The 3-year rule (one course per family in three years) is applied per family.
    eligibility_family = models.CharField(max_length=32)
    provider_fee_pence = models.PositiveIntegerField()
    police_cost_recovery_pence = models.PositiveIntegerField()
    vat_applies = models.BooleanField(default=False)
    # Transfer policy: free up to `free_transfer_notice_days` before the course, then a fee;
    # no transfer inside `transfer_cutoff_hours`; at most `max_transfers`.
    free_transfer_notice_days = models.PositiveIntegerField(default=7)
    late_transfer_fee_pence = models.PositiveIntegerField(default=1500)
    transfer_cutoff_hours = models.PositiveIntegerField(default=24)
    max_transfers = models.PositiveIntegerField(default=2)
    online_booking_lead_hours = models.PositiveIntegerField(default=48)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(delivery_modes__isnull=False), name="course_type_has_modes"
            ),
        ]

    def __str__(self):
        return f"{self.code} — {self.name_en}"

    def name(self, language: str) -> str:
        return self.name_cy if language.startswith("cy") and self.name_cy else self.name_en

    @property
    def fee_pence(self) -> int:
        return self.provider_fee_pence + self.police_cost_recovery_pence


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    WELSH = "cy", _("Welsh")


class Venue(models.Model):
    name = models.CharField(max_length=200)
    address = models.TextField()
    town = models.CharField(max_length=100)
    postcode = models.CharField(max_length=8)
    # Placed from the postcode-sector centroids (booking/postcodes.py) when saved by a service.
    latitude = models.FloatField()
    longitude = models.FloatField()
    capacity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    step_free = models.BooleanField(default=False)
    hearing_loop = models.BooleanField(default=False)
    parking = models.BooleanField(default=False)
    directions_en = models.TextField(blank=True)
    directions_cy = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["town", "name"]

    def __str__(self):
        return f"{self.name}, {self.town}"


WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def every_day() -> list[str]:
    return list(WEEKDAY_CODES)


class Trainer(models.Model):
    full_name = models.CharField(max_length=200)
    email = models.EmailField()
    # The trainer's staff login (public schema), if they record outcomes themselves.
    user_id = models.BigIntegerField(null=True, blank=True)
    course_types = models.ManyToManyField(CourseType, related_name="trainers", blank=True)
    is_active = models.BooleanField(default=True)
    # Days of the week the trainer takes courses ("mon" … "sun"); time away is TrainerAbsence.
    working_days = models.JSONField(default=every_day)

    class Meta:
        ordering = ["full_name"]

    def __str__(self):
        return self.full_name


class TrainerAbsence(models.Model):
    """Days a trainer cannot teach (leave, training, illness): no course date is given them."""

    trainer = models.ForeignKey(Trainer, on_delete=models.CASCADE, related_name="absences")
    first_day = models.DateField()
    last_day = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["first_day"]
        constraints = [models.CheckConstraint(condition=models.Q(last_day__gte=models.F("first_day")),
                                              name="absence_ends_after_it_starts")]

    def __str__(self):
        return f"{self.trainer} away {self.first_day}–{self.last_day}"


class CourseSession(models.Model):
    """One date of one course: at a venue, or online (no venue)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")
        COMPLETED = "completed", _("Completed")

    course_type = models.ForeignKey(CourseType, on_delete=models.PROTECT, related_name="sessions")
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="sessions")
    delivery_mode = models.CharField(max_length=16, choices=DeliveryMode.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    # Confirmed bookings, kept under the session's row lock; live holds are counted at query
    # time. The check constraint turns any logic slip into an error instead of an oversold course.
    seats_booked = models.PositiveIntegerField(default=0)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    trainers = models.ManyToManyField(Trainer, related_name="sessions", blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    joining_url = models.URLField(blank=True)

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["course_type", "status", "starts_at"], name="session_search"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(seats_booked__lte=models.F("capacity")),
                                   name="session_never_overbooked"),
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                   name="session_ends_after_start"),
            models.CheckConstraint(
                condition=(models.Q(delivery_mode="online", venue__isnull=True)
                           | (~models.Q(delivery_mode="online") & models.Q(venue__isnull=False))),
                name="session_venue_matches_mode",
            ),
        ]

    def __str__(self):
        where = self.venue.town if self.venue_id else _("Online")
        return f"{self.course_type.code} {self.starts_at:%d %b %Y %H:%M} {where}"

    @property
    def is_online(self) -> bool:
        return self.delivery_mode == DeliveryMode.ONLINE


class Offer(models.Model):
    """A police referral: this person may book this course until the critical date."""

    class Status(models.TextChoices):
        OFFERED = "offered", _("Offered")
        BOOKED = "booked", _("Booked")
        COMPLETED = "completed", _("Attended and completed")
        DID_NOT_ATTEND = "did_not_attend", _("Did not attend")
        REFUSED_ENTRY = "refused_entry", _("Refused entry")
        NOT_COMPLETED = "not_completed", _("Left early or not completed")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired (returned to police)")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        SPECIAL_ARRANGEMENT = "special_arrangement", _("Special arrangement pending")

    class Source(models.TextChoices):
        CSV = "csv", _("CSV import")
        API = "api", _("API")
        MANUAL = "manual", _("Manual")

    reference = models.CharField(max_length=32, unique=True)
    course_type = models.ForeignKey(CourseType, on_delete=models.PROTECT, related_name="offers")
    offence_date = models.DateField()
    booking_period_end = models.DateField()
    critical_date = models.DateField()
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    licence_number = models.CharField(max_length=16, blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    # Access requirements: a list of codes (interpreter, step_free, hearing_loop, other).
    access_requirements = models.JSONField(default=list, blank=True)
    access_notes = models.TextField(blank=True)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MANUAL)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.OFFERED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["critical_date", "reference"]
        indexes = [
            models.Index(fields=["status", "critical_date"], name="offer_status_critical"),
            models.Index(fields=["last_name", "date_of_birth"], name="offer_name_dob"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(critical_date__gt=models.F("offence_date")),
                                   name="offer_critical_after_offence"),
        ]

    def __str__(self):
        return self.reference

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Hold(models.Model):
    """A seat kept for one offer while details and payment are taken. Expired holds simply stop
    counting; nothing has to run for their seat to come free."""

    offer = models.OneToOneField(Offer, on_delete=models.CASCADE, related_name="hold")
    session = models.ForeignKey(CourseSession, on_delete=models.CASCADE, related_name="holds")
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["session", "expires_at"], name="hold_live_by_session")]

    def __str__(self):
        return f"Hold {self.offer} on {self.session_id} until {self.expires_at:%H:%M}"


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")
    TELEPHONE = "telephone", _("Telephone")
    ADMIN = "admin", _("Administrator")
    API = "api", _("API")
    SYSTEM = "system", _("System")


class Booking(models.Model):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("Pending payment")
        CONFIRMED = "confirmed", _("Confirmed")
        TRANSFERRED = "transferred", _("Transferred")
        CANCELLED = "cancelled", _("Cancelled")
        COMPLETED = "completed", _("Attended and completed")
        DID_NOT_ATTEND = "did_not_attend", _("Did not attend")
        REFUSED_ENTRY = "refused_entry", _("Refused entry")
        NOT_COMPLETED = "not_completed", _("Left early or not completed")

    ACTIVE = (Status.PENDING_PAYMENT, Status.CONFIRMED)

    reference = models.CharField(max_length=12, unique=True)
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="bookings")
    session = models.ForeignKey(CourseSession, on_delete=models.PROTECT, related_name="bookings")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    fee_pence = models.PositiveIntegerField()
    # What the person agreed to: the fee components and the policy at the time of booking.
    fee_snapshot = models.JSONField()
    policy_snapshot = models.JSONField()
    transfer_count = models.PositiveIntegerField(default=0)
    transferred_from = models.OneToOneField("self", null=True, blank=True,
                                            on_delete=models.PROTECT, related_name="transferred_to")
    made_by = models.CharField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["offer"], condition=models.Q(status__in=["pending_payment", "confirmed"]),
                name="one_active_booking_per_offer",
            ),
        ]

    def __str__(self):
        return self.reference


class OfferEvent(models.Model):
    """The offer's timeline: one immutable row for every change of the offer or its bookings."""

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="events")
    booking = models.ForeignKey(Booking, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="events")
    kind = models.CharField(max_length=48)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    actor = models.CharField(max_length=254)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    occurred_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["kind", "occurred_at"], name="event_kind_time")]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.offer_id} {self.kind}"


class ApiKey(models.Model):
    """A client's key for its integrations (e.g. the police referral feed). Only a hash is
    stored; the key is shown once when created."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    hashed_key = models.CharField(max_length=128)
    # Actions from accounts/roles.py this key may perform, e.g. ["offers.import", "offers.view"].
    scopes = models.JSONField(default=list)
    created_by = models.CharField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class Payment(models.Model):
    """One PaymentIntent on the client's own Stripe account, for a booking fee or a transfer
    fee. Money movements are recorded with their Stripe ids; refunds are rows of their own."""

    class Kind(models.TextChoices):
        BOOKING_FEE = "booking_fee", _("Booking fee")
        TRANSFER_FEE = "transfer_fee", _("Transfer fee")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the card")
        SUCCEEDED = "succeeded", _("Paid")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.BOOKING_FEE)
    stripe_payment_intent_id = models.CharField(max_length=64, unique=True)
    amount_pence = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="gbp")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    moto = models.BooleanField(default=False)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.stripe_payment_intent_id} {self.amount_pence}p {self.status}"

    @property
    def refunded_pence(self) -> int:
        return sum(refund.amount_pence for refund in self.refunds.all())


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    stripe_refund_id = models.CharField(max_length=64, unique=True)
    amount_pence = models.PositiveIntegerField()
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.stripe_refund_id} {self.amount_pence}p"


# --- Contact centre: the call log (booking/contact_centre, booking/services/calls.py) -----------


class CallLog(models.Model):
    """One telephone call handled by a contact-centre agent: what it was about, how it ended,
    how long it took. A call about an offer also appends "call.logged" to the offer's timeline.
    Rows are never changed once written."""

    class Type(models.TextChoices):
        NEW_BOOKING = "new_booking", _("New booking")
        TRANSFER = "transfer", _("Transfer")
        CANCELLATION = "cancellation", _("Cancellation")
        PAYMENT = "payment", _("Payment")
        ENQUIRY = "enquiry", _("Enquiry")
        COMPLAINT = "complaint", _("Complaint")
        SPECIAL_CIRCUMSTANCES = "special_circumstances", _("Special circumstances")
        OTHER = "other", _("Other")

    class Outcome(models.TextChoices):
        BOOKED = "booked", _("Booked")
        TRANSFERRED = "transferred", _("Transferred to another date")
        CANCELLED = "cancelled", _("Cancelled")
        PAYMENT_TAKEN = "payment_taken", _("Payment taken")
        INFORMATION_GIVEN = "information_given", _("Question answered")
        REFERRED = "referred", _("Referred to the client's administrators")
        CALL_BACK = "call_back", _("Call back needed")
        NOT_RESOLVED = "not_resolved", _("Not resolved")
        CALL_DROPPED = "call_dropped", _("Call dropped")

    MAX_MINUTES = 600

    call_type = models.CharField(max_length=24, choices=Type.choices)
    outcome = models.CharField(max_length=24, choices=Outcome.choices)
    duration_minutes = models.PositiveIntegerField()
    notes = models.TextField(blank=True)
    offer = models.ForeignKey(Offer, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="calls")
    booking = models.ForeignKey(Booking, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="calls")
    # The agent is a user of the public schema: kept by id and label, like OfferEvent's actor.
    agent_user_id = models.BigIntegerField(null=True, blank=True)
    agent_label = models.CharField(max_length=254)
    started_at = models.DateTimeField()
    logged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["call_type", "started_at"], name="call_type_time"),
            models.Index(fields=["agent_user_id", "started_at"], name="call_agent_time"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(duration_minutes__lte=600),
                                   name="call_duration_at_most_10_hours"),
        ]

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.call_type} {self.outcome}"


# --- Client administration (/manage/) ---------------------------------------------------------


class SpecialCircumstancesCase(models.Model):
    """A request for something the rules do not give by themselves (part payment, instalments,
    an interpreter, …), raised by an agent or administrator and decided by an administrator.
    While it is open an offer that was waiting to be booked shows "special arrangement
    pending"; the decision puts back the status it had."""

    class Kind(models.TextChoices):
        PART_PAYMENT = "part_payment", _("Part payment")
        INSTALMENTS = "instalments", _("Payment by instalments")
        MEDICAL = "medical", _("Medical")
        COMPASSIONATE = "compassionate", _("Compassionate")
        INTERPRETER = "interpreter", _("Interpreter")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="cases")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    notes = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    # The offer's status when the case was raised, put back when it is decided.
    offer_status_before = models.CharField(max_length=24, blank=True)
    raised_by = models.CharField(max_length=254)
    raised_by_user_id = models.BigIntegerField(null=True, blank=True)
    # Staff users live in the public schema: kept by id, with a label that stays readable.
    assigned_to_user_id = models.BigIntegerField(null=True, blank=True)
    assigned_to = models.CharField(max_length=254, blank=True)
    decision_note = models.TextField(blank=True)
    decided_by = models.CharField(max_length=254, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="case_status_created")]
        constraints = [
            models.UniqueConstraint(fields=["offer"], condition=models.Q(status="open"),
                                    name="one_open_case_per_offer"),
            models.CheckConstraint(
                condition=(models.Q(status="open", decided_at__isnull=True)
                           | (~models.Q(status="open") & models.Q(decided_at__isnull=False))),
                name="case_decided_when_closed",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.offer.reference}"


class CorrespondenceTemplate(models.Model):
    """A client's own wording for one message in one language. Without one, the standard
    wording (booking/templates/email/) is used. Placeholders are {name} from
    booking.services.admin.PLACEHOLDERS; the body is plain text."""

    class Kind(models.TextChoices):
        # The values are the message names booking.notifications records on the timeline.
        BOOKING_CONFIRMATION = "booking_confirmation", _("Booking confirmation")
        REMINDER = "reminder", _("Reminder")
        JOINING_INSTRUCTIONS = "joining_instructions", _("Joining instructions")
        TRANSFER_CONFIRMATION = "transfer_confirmation", _("Transfer confirmation")
        CANCELLATION = "cancellation", _("Cancellation")

    kind = models.CharField(max_length=32, choices=Kind.choices)
    language = models.CharField(max_length=2, choices=Language.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    updated_by = models.CharField(max_length=254)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "language"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "language"],
                                    name="one_template_per_kind_and_language"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_language_display()})"
