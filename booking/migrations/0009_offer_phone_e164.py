"""Offer.phone_e164: the phone number in E.164, indexed, so the contact centre finds a caller by
number without reading every offer. Existing offers are filled from their phone numbers."""

from django.db import migrations, models

from booking.models.offers import phone_e164

BATCH = 2000


def fill_phone_e164(apps, schema_editor):
    Offer = apps.get_model("booking", "Offer")
    offers = Offer.objects.exclude(phone="").only("pk", "phone").order_by("pk")
    batch = []
    for offer in offers.iterator(chunk_size=BATCH):
        offer.phone_e164 = phone_e164(offer.phone)
        batch.append(offer)
        if len(batch) == BATCH:
            Offer.objects.bulk_update(batch, ["phone_e164"])
            batch = []
    Offer.objects.bulk_update(batch, ["phone_e164"])


class Migration(migrations.Migration):

    dependencies = [
        ("booking", "0008_session_cancelled_wording"),
    ]

    operations = [
        migrations.AddField(
            model_name="offer",
            name="phone_e164",
            field=models.CharField(blank=True, editable=False, max_length=16),
        ),
        # Backwards the column goes with the field, so there is nothing to undo here.
        migrations.RunPython(fill_phone_e164, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="offer",
            index=models.Index(fields=["phone_e164"], name="offer_phone_e164"),
        ),
    ]
