"""The usage ledger is append-only in the database too: an UPDATE or DELETE of a row is refused
(TRUNCATE, used only by test flushes, is not a row change)."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION billing_usage_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'billing_usagerecord is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER billing_usage_append_only BEFORE UPDATE OR DELETE ON billing_usagerecord
    FOR EACH ROW EXECUTE FUNCTION billing_usage_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS billing_usage_append_only ON billing_usagerecord;
DROP FUNCTION IF EXISTS billing_usage_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
