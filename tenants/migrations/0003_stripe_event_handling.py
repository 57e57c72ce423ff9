from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tenants', '0002_payments'),
    ]

    operations = [
        migrations.AddField(
            model_name='stripeevent',
            name='payload',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='stripeevent',
            name='attempts',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='stripeevent',
            name='claimed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='stripeevent',
            name='last_error',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='stripeevent',
            name='next_attempt_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='stripeevent',
            name='handled_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name='stripeevent',
            index=models.Index(fields=['outcome', 'next_attempt_at'], name='stripe_event_retry_due'),
        ),
    ]
