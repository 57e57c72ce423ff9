"""The audit trail refuses UPDATE and DELETE at the database, whichever code path tries.

The trigger function lives in the public schema so one definition serves every client schema
(and survives cloning from the template, which copies the trigger but not public objects).
"""

from django.db import migrations

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION public.waymark_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only (% refused on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""

CREATE_TRIGGER = """
CREATE TRIGGER audit_entry_append_only
    BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION public.waymark_refuse_change();
"""

DROP_TRIGGER = "DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_auditentry;"


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunSQL(CREATE_FUNCTION, reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(CREATE_TRIGGER, reverse_sql=DROP_TRIGGER),
    ]
