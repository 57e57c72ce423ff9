from django.db import migrations

# The offer's course type copied onto each call already logged about one (new calls get it from
# create_call). Its own migration: in 0021 the update queued the new foreign key's deferred
# checks before the schema editor's deferred CREATE INDEX, which PostgreSQL refuses on a table
# with rows ("pending trigger events"). Undoing it leaves the copies; 0021's reversal drops them.
COPY_COURSE_TYPE = """
UPDATE booking_calllog AS call SET course_type_id = offer.course_type_id
FROM booking_offer AS offer WHERE offer.id = call.offer_id AND call.course_type_id IS NULL
"""


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0023_session_fill_index"),
    ]

    operations = [
        migrations.RunSQL(COPY_COURSE_TYPE, migrations.RunSQL.noop),
    ]
