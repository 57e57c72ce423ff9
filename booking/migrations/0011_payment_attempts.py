from django.db import migrations, models


class Migration(migrations.Migration):

    # Both: 0009 and 0010 were written at the same time and may still be siblings.
    dependencies = [
        ('booking', '0010_transfer_fee_pending'),
    ]

    operations = [
        migrations.AlterField(
            model_name='payment',
            name='status',
            field=models.CharField(choices=[('creating', 'Being set up'), ('pending', 'Waiting for the card'), ('succeeded', 'Paid'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], default='pending', max_length=16),
        ),
        migrations.AlterField(
            model_name='payment',
            name='stripe_payment_intent_id',
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
    ]
