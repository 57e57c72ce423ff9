"""Report tallies: running counts the reports sum instead of reading every booking and offer
(a million bookings grouped on each visit took seconds). They are kept by booking itself, in
the transaction that logs the event (booking/tallies.py), and are never edited by hand.

Each tally table holds delta rows: the writer appends (no row is shared by two bookings, so
nothing waits on a lock), and `fold` now and then sums the rows of a key into one. A report's
figure is the sum of every row of its keys, exact at any moment."""

from django.db import models

from .catalogue import CourseType, Venue
from .offers import Offer
from .sessions import CourseSession


class BookingTally(models.Model):
    """Bookings made: counted once, in the Europe/London month the booking was first confirmed,
    at its first date's course type and venue (none for a date online), by its channel. A
    transfer is the same booking moved, so it adds nothing."""

    month = models.DateField()
    course_type = models.ForeignKey(CourseType, on_delete=models.PROTECT, related_name="+")
    venue = models.ForeignKey(Venue, null=True, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=16)
    bookings = models.IntegerField()
    fees_pence = models.BigIntegerField()
    folded = models.BooleanField(default=False)  # a sum of rows, or one booking's new row

    class Meta:
        indexes = [models.Index(fields=["month", "course_type"], name="booking_tally_month"),
                   models.Index(fields=["venue", "month"], name="booking_tally_venue"),
                   models.Index(fields=["month"], name="booking_tally_unfolded",
                                condition=models.Q(folded=False))]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.channel}: {self.bookings}"


class FunnelEntry(models.Model):
    """Where one offer stands in the funnel now, as last counted into FunnelTally: what the
    next count takes away before it adds the offer's new place."""

    offer = models.OneToOneField(Offer, primary_key=True, on_delete=models.PROTECT,
                                 related_name="+")
    month = models.DateField()  # the Europe/London month the offer arrived
    course_type = models.ForeignKey(CourseType, on_delete=models.PROTECT, related_name="+")
    venue = models.ForeignKey(Venue, null=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=24)
    days_to_book = models.IntegerField(null=True)  # whole days to its first booking; None: never

    def __str__(self):
        return f"offer {self.offer_id}: {self.status}"


class FunnelTally(models.Model):
    """Offers by the month they arrived, course type, status and whole days to their first
    booking, twice over: for all venues (`all_venues`, venue empty) and for the venue of the
    offer's first booking (offers booked at a venue only), so a venue filter reads few rows."""

    month = models.DateField()
    course_type = models.ForeignKey(CourseType, on_delete=models.PROTECT, related_name="+")
    all_venues = models.BooleanField()
    venue = models.ForeignKey(Venue, null=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=24)
    days_to_book = models.IntegerField(null=True)
    offers = models.IntegerField()

    class Meta:
        # Only `fold` writes here (one at a time), adding to a key's one row.
        constraints = [models.UniqueConstraint(
            fields=["month", "course_type", "all_venues", "venue", "status", "days_to_book"],
            nulls_distinct=False, name="funnel_tally_key")]
        indexes = [models.Index(fields=["all_venues", "month"], name="funnel_tally_all",
                                condition=models.Q(all_venues=True)),
                   models.Index(fields=["venue", "month"], name="funnel_tally_venue")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.status}: {self.offers}"


class SessionFill(models.Model):
    """A course date's bookings by where they stand, as last counted: booked (confirmed or
    with an outcome; a booking moved away counts at its new date only), attended (completed)
    and did not attend."""

    session = models.OneToOneField(CourseSession, primary_key=True, on_delete=models.PROTECT,
                                   related_name="fill")
    booked = models.IntegerField()
    attended = models.IntegerField()
    did_not_attend = models.IntegerField()

    def __str__(self):
        return f"date {self.session_id}: {self.booked} booked"


class TallyChange(models.Model):
    """An offer whose place in the funnel, and a course date whose fill, may have changed since
    they were last counted: appended with the event, taken away by the next count."""

    offer_id = models.BigIntegerField()
    session_id = models.BigIntegerField(null=True)

    def __str__(self):
        return f"offer {self.offer_id}, date {self.session_id}"


class RemittanceTally(models.Model):
    """The money taken (+) and refunded (a row of its own, `refund`), per Europe/London month
    it moved in, referring police force, course type, fee kind and fee component: kept by
    booking itself as payments succeed and refunds are made (booking/tallies.py). Like
    FunnelTally it counts twice over, for all venues (`all_venues`, venue empty) and for the
    venue of the payment's booking (dates at a venue only), so a venue filter reads few rows;
    like BookingTally it holds delta rows that `fold` sums. Police cost recovery and VAT are
    each payment's or refund's share of its booking's fee snapshot, rounded per row as the
    statement has always rounded them, so the sums are the statement's to the penny."""

    month = models.DateField()
    police_force = models.CharField(max_length=100)
    course_type = models.ForeignKey(CourseType, on_delete=models.PROTECT, related_name="+")
    all_venues = models.BooleanField()
    venue = models.ForeignKey(Venue, null=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16)  # Payment.Kind
    refund = models.BooleanField()
    count = models.IntegerField()  # payments, or refunds
    amount_pence = models.BigIntegerField()
    police_pence = models.BigIntegerField()
    vat_pence = models.BigIntegerField()
    folded = models.BooleanField(default=False)  # a sum of rows, or one payment's new row

    class Meta:
        indexes = [models.Index(fields=["month"], name="remittance_tally_all",
                                condition=models.Q(all_venues=True)),
                   models.Index(fields=["venue", "month"], name="remittance_tally_venue",
                                condition=models.Q(all_venues=False)),
                   models.Index(fields=["month"], name="remittance_tally_unfolded",
                                condition=models.Q(folded=False))]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.police_force or '-'} {self.kind}: {self.amount_pence}p"
