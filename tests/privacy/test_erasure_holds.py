"""An erasure holds: a later feed or CSV bringing the erased offer's reference again neither
restores the person nor makes a new offer for them (the row is refused, by row, and the rest
imported); and the survey's free text is erased too, with the person or by age, while the
answers the service measures count stay."""

from datetime import UTC, date, datetime, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEntry
from booking.models import Channel, ErasureRecord, Offer, SatisfactionResponse
from booking.services import retention
from booking.services.offer_import import import_offers

from ..test_offer_import import csv_bytes, offer_row
from .conftest import ESSEX_HOST, every_row_text

TODAY = date(2026, 12, 3)


def erase(offer, admin):
    return retention.erase_offer(offer.pk, rule=ErasureRecord.Rule.REQUEST,
                                 reason="subject_request", acting_user=admin)


def feed(*rows):
    return import_offers(list(rows), source=Offer.Source.API, actor="feed", channel=Channel.API)


def test_a_reimport_of_an_erased_offer_is_refused_row_by_row(person, staff):
    offer, _booking = person
    erasure = erase(offer, staff[Role.CLIENT_ADMIN])
    assert erasure.reference_digest and "ESX-900001" not in erasure.reference_digest
    offers_before = Offer.objects.count()
    result = feed(offer_row("ESX-900001", first_name="Priya", last_name="Erasable"),
                  offer_row("ESX-900002", first_name="Noor"))
    assert (result.created, result.updated) == (1, 0)
    when = f"{timezone.localtime(erasure.erased_at):%-d %B %Y}"
    assert result.refused == [{
        "row": 1, "reference": "ESX-900001",
        "reason": f"This offer was erased on request on {when}; it cannot be imported again."}]
    assert Offer.objects.count() == offers_before + 1
    assert not Offer.objects.filter(reference="ESX-900001").exists()
    offer.refresh_from_db()
    assert (offer.reference, offer.first_name, offer.erased_at) == (
        erasure.pseudonym, "", erasure.erased_at)
    # Recorded by row and pseudonym, never the reference or anything of the person's.
    entry = AuditEntry.objects.filter(action="offers.imported").latest("pk")
    assert entry.after["refused_erased"] == [{"row": 1, "erasure": erasure.pseudonym}]
    assert "Priya" not in every_row_text() and "ESX-900001" not in every_row_text()


def test_the_retention_job_s_erasure_is_refused_in_its_own_words(in_essex):
    from ..factories import OfferFactory

    old = OfferFactory(reference="ESX-900010", status=Offer.Status.EXPIRED,
                       offence_date=date(2024, 1, 10), critical_date=date(2024, 5, 1),
                       booking_period_end=date(2024, 5, 1))
    retention.erase_due(today=TODAY, now=datetime(2026, 12, 3, 1, tzinfo=UTC))
    old.refresh_from_db()
    assert old.erased_at
    result = feed(offer_row("esx-900010"))
    assert result.created == 0
    assert result.refused[0]["reason"] == ("This offer was erased under the retention "
                                           "schedule on 3 December 2026; it cannot be "
                                           "imported again.")


def test_the_upload_page_lists_the_refused_rows(person, staff, client):
    offer, _booking = person
    erase(offer, staff[Role.CLIENT_ADMIN])
    client.force_login(staff[Role.CLIENT_ADMIN])
    sent = client.post("/manage/offers/import/", {"file": SimpleUploadedFile(
        "offers.csv", csv_bytes([offer_row("ESX-900001")]), content_type="text/csv")},
        HTTP_HOST=ESSEX_HOST)
    assert sent.status_code == 302
    page = client.get(sent["Location"], HTTP_HOST=ESSEX_HOST).content.decode()
    assert "1 row was refused because the person's data was erased" in page
    assert "it cannot be imported again" in page


def test_the_person_s_survey_comment_is_erased_with_them(person, staff):
    offer, booking = person
    counts = dict(SatisfactionResponse.objects.values_list("level").annotate(n=Count("pk")))
    erasure = erase(offer, staff[Role.CLIENT_ADMIN])
    assert erasure.erased["survey_comments"] == 1
    answer = SatisfactionResponse.objects.get(booking=booking)
    assert (answer.comment, answer.level) == ("", "satisfied")
    assert dict(SatisfactionResponse.objects.values_list("level").annotate(
        n=Count("pk"))) == counts


def test_the_nightly_job_blanks_comments_older_than_the_shortest_period(in_essex):
    def answer(when, comment, level="neutral"):
        return SatisfactionResponse.objects.create(level=level, comment=comment,
                                                   created_at=when)

    cutoff = datetime(2025, 12, 3, 12, tzinfo=UTC)  # 12 months before TODAY
    old = answer(cutoff - timedelta(days=1), "I am Jo Bloggs of 3 Mill Lane")
    kept = answer(cutoff + timedelta(days=1), "Quick and easy", "very_satisfied")
    empty = answer(cutoff - timedelta(days=40), "")
    counts = dict(SatisfactionResponse.objects.values_list("level").annotate(n=Count("pk")))
    run = retention.erase_due(today=TODAY)
    assert run.comments_blanked == 1
    old.refresh_from_db(), kept.refresh_from_db(), empty.refresh_from_db()
    assert (old.comment, kept.comment) == ("", "Quick and easy")
    assert dict(SatisfactionResponse.objects.values_list("level").annotate(
        n=Count("pk"))) == counts  # the service measures count the same answers
    entry = ErasureRecord.objects.get(rule=ErasureRecord.Rule.SURVEY_COMMENTS)
    assert (entry.offer, entry.erased, entry.actor) == (None, {"survey_comments": 1}, "system")
    assert retention.erase_due(today=TODAY).comments_blanked == 0  # once only
    assert ErasureRecord.objects.filter(rule=ErasureRecord.Rule.SURVEY_COMMENTS).count() == 1
    # A shorter schedule blanks sooner.
    retention.set_retention_schedule(attended_months=42, not_attended_months=1,
                                     access_log_months=24, acting_user="tests")
    assert retention.erase_due(today=TODAY).comments_blanked == 1


def test_the_erasure_log_shows_the_comment_blanking(in_essex, staff, client):
    SatisfactionResponse.objects.create(level="neutral", comment="old words",
                                        created_at=datetime(2020, 1, 1, tzinfo=UTC))
    retention.erase_due(today=TODAY)
    client.force_login(staff[Role.CLIENT_ADMIN])
    page = client.get("/manage/privacy/", HTTP_HOST=ESSEX_HOST).content.decode()
    assert "Survey comments (1)" in page
