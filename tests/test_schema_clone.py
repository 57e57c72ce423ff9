"""The fast template clone (tenants.schema_clone): a cloned client's schema is the template's
in every catalog detail, works, and a failed or refused onboarding leaves nothing behind."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django_tenants.clone import CloneSchema
from django_tenants.utils import schema_context, schema_exists

from audit.models import AuditEntry
from booking.models import CourseSession, CourseType, OfferEvent
from tenants import schema_clone
from tenants.models import ClientOrganisation
from tenants.services import NewClient, onboard_client

from .factories import CourseSessionFactory, OfferFactory, VenueFactory, book_offer

TEMPLATE = settings.TENANT_BASE_SCHEMA


def new_client(slug="clone-check", **overrides):
    values = dict(name=f"{slug.title()} Council", slug=slug, kind="county_council",
                  admin_email=f"admin@{slug}.test")
    values.update(overrides)
    return NewClient(**values)


def quoted(name):
    return '"' + name.replace('"', '""') + '"'


def catalog(schema: str) -> dict:
    """Everything about a schema's structure that a client could notice, printed by PostgreSQL
    with search_path holding only that schema: its own objects come out unqualified, anything
    elsewhere (public tables and functions) qualified, so two schemas compare directly."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", [schema])
        ns = cursor.fetchone()[0]
        cursor.execute("SELECT current_setting('search_path'), "
                       "set_config('search_path', %s, true)", [quoted(schema)])
        previous = cursor.fetchone()[0]

        def rows(sql):
            cursor.execute(sql, {"ns": ns, "schema": schema})
            return sorted(cursor.fetchall(), key=repr)

        result = {
            "relations": rows("""
                SELECT c.relname, c.relkind, c.relpersistence, c.reloptions,
                       pg_get_userbyid(c.relowner), c.relacl::text,
                       obj_description(c.oid, 'pg_class'), c.relhastriggers, c.relreplident
                FROM pg_class c WHERE c.relnamespace = %(ns)s"""),
            "columns": rows("""
                SELECT c.relname, a.attname,
                       row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum),
                       format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
                       a.attgenerated, pg_get_expr(d.adbin, d.adrelid), co.collname,
                       a.attstorage, col_description(c.oid, a.attnum)
                FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
                LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
                LEFT JOIN pg_collation co ON co.oid = a.attcollation
                WHERE c.relnamespace = %(ns)s AND c.relkind = 'r' AND a.attnum > 0
                  AND NOT a.attisdropped"""),
            "sequences": rows("""
                SELECT s.relname, format_type(q.seqtypid, NULL), q.seqstart, q.seqincrement,
                       q.seqmax, q.seqmin, q.seqcache, q.seqcycle, d.deptype,
                       d.refobjid::regclass::text, d.refobjsubid
                FROM pg_class s JOIN pg_sequence q ON q.seqrelid = s.oid
                LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
                     AND d.refclassid = 'pg_class'::regclass
                WHERE s.relnamespace = %(ns)s"""),
            # An index predicate or expression printed by PostgreSQL and parsed again can come
            # back as an equivalent but differently shaped expression (a cast on an ARRAY
            # becomes casts on its elements), as with pg_dump; their text is compared in
            # test_index_definitions_settle_after_one_copy.
            "indexes": rows("""
                SELECT i.indrelid::regclass::text, c.relname, am.amname, i.indisprimary,
                       i.indisunique, i.indimmediate, i.indisvalid, i.indnkeyatts,
                       ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY
                                 AS k (attnum, position)
                             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid
                                  AND a.attnum = k.attnum ORDER BY k.position)::text,
                       i.indclass::text, i.indoption::text,
                       i.indcollation::text, i.indpred IS NULL, i.indexprs IS NULL,
                       CASE WHEN i.indpred IS NULL AND i.indexprs IS NULL THEN
                       replace(pg_get_indexdef(i.indexrelid), quote_ident(%(schema)s) || '.', '')
                       END,
                       obj_description(c.oid, 'pg_class')
                FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                JOIN pg_am am ON am.oid = c.relam
                WHERE c.relnamespace = %(ns)s"""),
            "constraints": rows("""
                SELECT k.conrelid::regclass::text, k.conname, k.contype,
                       pg_get_constraintdef(k.oid), k.condeferrable, k.condeferred,
                       k.convalidated, k.confrelid::regclass::text, k.conindid::regclass::text,
                       obj_description(k.oid, 'pg_constraint')
                FROM pg_constraint k WHERE k.connamespace = %(ns)s"""),
            "triggers": rows("""
                SELECT t.tgrelid::regclass::text, t.tgenabled, t.tgisinternal,
                       t.tgfoid::regprocedure::text, t.tgtype, t.tgdeferrable,
                       t.tginitdeferred, t.tgconstrrelid::regclass::text,
                       k.conname,
                       ARRAY(SELECT a.attname FROM unnest(t.tgattr) AS k (attnum)
                             JOIN pg_attribute a ON a.attrelid = t.tgrelid
                                  AND a.attnum = k.attnum ORDER BY 1)::text,
                       -- the foreign keys' internal triggers are named after their oids
                       CASE WHEN NOT t.tgisinternal THEN t.tgname END,
                       CASE WHEN NOT t.tgisinternal THEN replace(pg_get_triggerdef(t.oid),
                           quote_ident(%(schema)s) || '.', '') END,
                       obj_description(t.oid, 'pg_trigger')
                FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                LEFT JOIN pg_constraint k ON k.oid = t.tgconstraint
                WHERE c.relnamespace = %(ns)s"""),
            "types": rows("""
                SELECT t.typname, t.typtype FROM pg_type t WHERE t.typnamespace = %(ns)s"""),
            "functions": rows("SELECT p.proname FROM pg_proc p WHERE p.pronamespace = %(ns)s"),
        }
        cursor.execute("SELECT set_config('search_path', %s, true)", [previous])
    return result


def table_rows(schema, table, columns="*"):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {quoted(schema)}.{quoted(table)} ORDER BY 1")
        return cursor.fetchall()


def assert_same_catalog(template, clone):
    expected, got = catalog(template), catalog(clone)
    for part in expected:
        assert got[part] == expected[part], f"{part} differ"


@pytest.fixture
def spy_clones(monkeypatch):
    """Counts calls of the fast clone and of django-tenants' own clone."""
    calls = {"fast": 0, "stock": 0}
    fast, stock = schema_clone.clone_template, CloneSchema.clone_schema

    def counted_fast(*args, **kwargs):
        calls["fast"] += 1
        return fast(*args, **kwargs)

    def counted_stock(*args, **kwargs):
        calls["stock"] += 1
        return stock(*args, **kwargs)

    monkeypatch.setattr(schema_clone, "clone_template", counted_fast)
    monkeypatch.setattr(CloneSchema, "clone_schema", counted_stock)
    return calls


# --- The onboarded client is the template ---------------------------------------------------


def test_an_onboarded_client_is_a_copy_of_the_template(db, spy_clones):
    organisation = onboard_client(new_client(), acting_user="tests")
    schema = organisation.schema_name
    assert spy_clones == {"fast": 1, "stock": 0}

    assert_same_catalog(TEMPLATE, schema)
    shape = catalog(schema)
    # The comparison has something to compare: the template's real contents are all there.
    assert {"django_migrations", "booking_offerevent", "audit_auditentry"} <= {
        row[0] for row in shape["relations"] if row[1] == "r"}
    assert any(row[2] == "f" and "DEFERRABLE INITIALLY DEFERRED" in row[3]
               for row in shape["constraints"])
    assert any(row[1] == "session_never_overbooked" for row in shape["constraints"])
    # The append-only and change-time triggers still call the one function in public.
    assert {(row[0], row[3]) for row in shape["triggers"] if not row[2]} == {
        ("audit_auditentry", "public.waymark_append_only_but_erasable()"),
        ("booking_offerevent", "public.waymark_append_only_but_erasable()"),
        ("booking_booking", "public.booking_touch_updated_at()"),
        ("booking_coursesession", "public.booking_touch_updated_at()"),
        ("booking_venue", "public.booking_touch_updated_at()")}
    # Every identity sequence is the new schema's own.
    assert all(row[9] and "." not in row[9] for row in shape["sequences"])

    # (The template's django_content_type has a dropped column, the copy not: attnums differ,
    # so columns and index keys are compared by name and position.)
    # The template's rows came along: migrations (so nothing needs faking) and content types.
    for table in ("django_migrations", "django_content_type"):
        assert table_rows(schema, table) == table_rows(TEMPLATE, table)
    assert schema_clone.missing_tenant_migrations(schema) == []
    with schema_context(schema):
        assert CourseType.objects.count() == 6   # onboarding's own rows, after the clone


def index_definitions(schema):
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname, replace(pg_get_indexdef(c.oid), quote_ident(%s) || '.', "
                       "'') FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                       "WHERE c.relnamespace = %s::regnamespace ORDER BY 1",
                       [schema, quoted(schema)])
        return cursor.fetchall()


def test_index_definitions_settle_after_one_copy(db):
    schema_clone.clone_template(TEMPLATE, "client_first_copy")
    schema_clone.clone_template("client_first_copy", "client_second_copy")
    first, second = index_definitions("client_first_copy"), index_definitions("client_second_copy")
    assert first == second
    template = dict(index_definitions(TEMPLATE))
    assert len(template) == len(first)
    changed = {name for name, definition in first if template[name] != definition}
    # Only a predicate Django wrote as IN (...) prints differently once parsed again.
    assert changed <= {"one_active_booking_per_offer"}
    for name in changed:
        definition = dict(first)[name]
        assert "'pending_payment'" in definition and "'confirmed'" in definition


def test_the_clone_leaves_the_connection_as_it_found_it(db):
    # One cursor throughout: opening a cursor makes django-tenants set search_path again,
    # which would hide a clone that left it pointing at the new schema.
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        before = cursor.fetchone()
        with transaction.atomic():
            schema_clone.clone_template(TEMPLATE, "client_path_check")
            cursor.execute("SHOW search_path")
            assert cursor.fetchone() == before
    assert schema_exists("client_path_check")
    assert connection.schema_name == "public"


# --- The cloned client works ----------------------------------------------------------------


def test_a_cloned_client_books_and_keeps_its_rules(db):
    organisation = onboard_client(new_client("works"), acting_user="tests")
    now = timezone.now()
    with schema_context(organisation.schema_name):
        session = CourseSessionFactory(
            venue=VenueFactory(name="Hall", town="Town", postcode="AB1 2CD", latitude=51.5,
                               longitude=0.1, capacity=20),
            starts_at=now + timedelta(days=10), capacity=1)
        offer = OfferFactory(reference="WRK0001", offence_days_ago=90,
                             date_of_birth=date(1985, 3, 14), postcode="AB1 2CD")
        booking = book_offer(offer, session, channel="online", actor="online", now=now)
        assert booking.session == session and booking.pk
        event = OfferEvent.objects.filter(offer=offer).first()
        assert event is not None

        # The append-only triggers refuse changes here, as in the template.
        entry = AuditEntry.objects.create(actor_label="tests", action="test.done",
                                          object_type="x", object_id="1", object_repr="x")
        for table, pk in (("booking_offerevent", event.pk), ("audit_auditentry", entry.pk)):
            with pytest.raises(DatabaseError), transaction.atomic(), \
                    connection.cursor() as cursor:
                cursor.execute(f"UPDATE {table} SET id = id WHERE id = %s", [pk])

        # The partial unique index: one active booking per offer, any number of ended ones.
        copy_booking = (
            "INSERT INTO booking_booking (reference, channel, status, fee_pence, fee_snapshot, "
            "policy_snapshot, transfer_count, made_by, created_at, session_id, offer_id) "
            "SELECT %s, channel, %s, fee_pence, fee_snapshot, policy_snapshot, transfer_count, "
            "made_by, created_at, session_id, offer_id FROM booking_booking WHERE id = %s")
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(copy_booking, ["SECOND01", "confirmed", booking.pk])
        with connection.cursor() as cursor:
            cursor.execute(copy_booking, ["ENDED001", "cancelled", booking.pk])

        # The capacity check refuses an overbooked session.
        with pytest.raises(IntegrityError), transaction.atomic():
            CourseSession.objects.filter(pk=session.pk).update(seats_booked=2)


def test_identity_sequences_continue_past_the_copied_rows(db):
    organisation = onboard_client(new_client("sequences"), acting_user="tests")
    copied = max(row[0] for row in table_rows(organisation.schema_name, "django_content_type"))
    with schema_context(organisation.schema_name):
        made = ContentType.objects.create(app_label="tests", model="sequencecheck")
    assert made.pk == copied + 1


# --- Failures leave nothing behind ----------------------------------------------------------


def test_a_failure_after_the_clone_leaves_no_schema(db, monkeypatch, spy_clones):
    def broken(*args, **kwargs):
        raise RuntimeError("course types exploded after the clone")

    monkeypatch.setattr(CourseType.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError, match="exploded"):
        onboard_client(new_client("broken"), acting_user="tests")
    assert spy_clones["fast"] == 1
    connection.set_schema_to_public()
    assert not schema_exists("client_broken")
    assert not ClientOrganisation.objects.filter(slug="broken").exists()


def test_a_failure_inside_the_clone_leaves_no_schema_and_keeps_its_error(db, monkeypatch):
    plan_clone = schema_clone.plan_clone

    def plan_with_a_bad_statement(*args, **kwargs):
        plan = plan_clone(*args, **kwargs)
        plan.finish.insert(len(plan.finish) // 2, "SELECT no_such_function()")
        return plan

    monkeypatch.setattr(schema_clone, "plan_clone", plan_with_a_bad_statement)
    with pytest.raises(DatabaseError, match="no_such_function"):
        onboard_client(new_client("half-made"), acting_user="tests")
    connection.set_schema_to_public()
    assert not schema_exists("client_half_made")
    assert not ClientOrganisation.objects.filter(slug="half-made").exists()


# --- The template must be up to date --------------------------------------------------------


def test_a_template_behind_the_code_is_refused(db):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {quoted(TEMPLATE)}.django_migrations WHERE app = 'booking' "
                       "AND name = (SELECT max(name) FROM "
                       f"{quoted(TEMPLATE)}.django_migrations WHERE app = 'booking')")
    with pytest.raises(ValidationError, match="migrate_schemas") as raised:
        onboard_client(new_client("too-early"), acting_user="tests")
    assert isinstance(raised.value.__cause__, schema_clone.TemplateNotMigrated)
    connection.set_schema_to_public()
    assert not schema_exists("client_too_early")
    assert not ClientOrganisation.objects.filter(slug="too-early").exists()


def test_only_tenant_apps_count_and_squashed_migrations_are_understood(db, monkeypatch):
    real = schema_clone.tenant_migrations
    monkeypatch.setattr(schema_clone, "tenant_migrations", lambda: (
        (("booking", "0001_initial"), ()),
        (("booking", "0002_squashed"), (("booking", "0002_a"), ("booking", "0002_b"))),
        (("booking", "9999_future"), ()),
    ))
    assert schema_clone.missing_tenant_migrations(TEMPLATE) == [
        ("booking", "0002_squashed"), ("booking", "9999_future")]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quoted(TEMPLATE)}.django_migrations (app, name, applied) "
                       "VALUES ('booking', '0002_a', now()), ('booking', '0002_b', now())")
    assert schema_clone.missing_tenant_migrations(TEMPLATE) == [("booking", "9999_future")]
    # The real list: tenant apps only, and the test database's template has them all.
    apps = {app for (app, _), _ in real()}
    assert apps and apps <= {"contenttypes", "audit", "outbox", "booking", "reports"}


# --- What the template may hold --------------------------------------------------------------


SCRATCH_TEMPLATE = """
CREATE SCHEMA scratch_template;
CREATE TABLE scratch_template.tenants_domain (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    label text NOT NULL DEFAULT 'unnamed',
    label_upper text GENERATED ALWAYS AS (upper(label)) STORED
);
ALTER SEQUENCE scratch_template.tenants_domain_id_seq RENAME TO renamed_domain_seq;
CREATE TABLE scratch_template.item (
    id bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 100 INCREMENT BY 5) PRIMARY KEY,
    public_domain_id bigint REFERENCES public.tenants_domain (id)
        DEFERRABLE INITIALLY DEFERRED,
    own_domain_id bigint REFERENCES scratch_template.tenants_domain (id) ON DELETE CASCADE,
    parent_id bigint REFERENCES scratch_template.item (id),
    qty integer CHECK (qty >= 0),
    code varchar(10) COLLATE "C",
    CONSTRAINT item_code_unique UNIQUE (code) DEFERRABLE,
    CONSTRAINT item_code_exclusive EXCLUDE USING btree (code WITH =)
) WITH (fillfactor = 70);
ALTER TABLE scratch_template.item ADD CONSTRAINT qty_small CHECK (qty < 1000) NOT VALID;
CREATE UNIQUE INDEX item_live_code ON scratch_template.item (lower(code)) WHERE qty > 0;
COMMENT ON TABLE scratch_template.item IS 'Items';
COMMENT ON COLUMN scratch_template.item.qty IS 'How many';
COMMENT ON INDEX scratch_template.item_live_code IS 'Live codes';
COMMENT ON CONSTRAINT qty_small ON scratch_template.item IS 'Not validated';
CREATE TRIGGER item_frozen BEFORE UPDATE OF qty ON scratch_template.item FOR EACH ROW
    WHEN (OLD.qty IS DISTINCT FROM NEW.qty) EXECUTE FUNCTION public.waymark_refuse_change();
CREATE TRIGGER item_frozen_later BEFORE DELETE ON scratch_template.item FOR EACH ROW
    EXECUTE FUNCTION public.waymark_refuse_change();
ALTER TABLE scratch_template.item DISABLE TRIGGER item_frozen_later;
INSERT INTO scratch_template.tenants_domain (label) VALUES ('one'), ('two');
INSERT INTO scratch_template.item (own_domain_id, qty, code) VALUES (2, 5, 'x');
SET CONSTRAINTS ALL IMMEDIATE;
"""


def test_a_template_with_more_kinds_of_object_clones_exactly(db):
    with connection.cursor() as cursor:
        cursor.execute(SCRATCH_TEMPLATE)
    schema_clone.clone_template("scratch_template", "scratch_copy")
    assert_same_catalog("scratch_template", "scratch_copy")
    for table in ("tenants_domain", "item"):
        assert table_rows("scratch_copy", table) == table_rows("scratch_template", table)

    with connection.cursor() as cursor:
        # Foreign keys: into the copy for the template's tables, still public for public's,
        # although the copy has a table of the same name.
        cursor.execute("SELECT conname, confrelid::regclass::text FROM pg_constraint "
                       "WHERE conrelid = 'scratch_copy.item'::regclass AND contype = 'f' "
                       "ORDER BY 1")
        assert cursor.fetchall() == [
            ("item_own_domain_id_fkey", "scratch_copy.tenants_domain"),
            ("item_parent_id_fkey", "scratch_copy.item"),
            ("item_public_domain_id_fkey", "tenants_domain")]
        # Identity (ALWAYS) continues past the copied rows, in a sequence of the template's
        # name; the generated column computes.
        cursor.execute("INSERT INTO scratch_copy.tenants_domain (label) VALUES ('three') "
                       "RETURNING id, label_upper, pg_get_serial_sequence("
                       "'scratch_copy.tenants_domain', 'id')")
        assert cursor.fetchone() == (3, "THREE", "scratch_copy.renamed_domain_seq")
        # The template's sequences are untouched.
        cursor.execute("INSERT INTO scratch_template.tenants_domain (label) VALUES ('three') "
                       "RETURNING id")
        assert cursor.fetchone() == (3,)
        cursor.execute("INSERT INTO scratch_copy.item (code) VALUES ('y') RETURNING id")
        assert cursor.fetchone() == (105,)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE scratch_copy.item SET qty = 6")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO scratch_copy.item (code) VALUES ('x')")


@pytest.mark.parametrize("extra", [
    "CREATE VIEW scratch_template.item_view AS SELECT id FROM scratch_template.item",
    "CREATE TABLE scratch_template.old_style (id serial PRIMARY KEY)",
    "CREATE SEQUENCE scratch_template.counter",
    "CREATE FUNCTION scratch_template.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "CREATE TYPE scratch_template.mood AS ENUM ('ok')",
    "CREATE TABLE scratch_template.child () INHERITS (scratch_template.item)",
    "ALTER TABLE scratch_template.item ENABLE ROW LEVEL SECURITY",
])
def test_what_the_fast_clone_does_not_copy_is_refused_before_writing(db, extra):
    with connection.cursor() as cursor:
        cursor.execute(SCRATCH_TEMPLATE)
        cursor.execute(extra)
    with pytest.raises(schema_clone.UnsupportedTemplate):
        schema_clone.clone_template("scratch_template", "scratch_copy")
    assert not schema_exists("scratch_copy")


def test_an_unusual_template_falls_back_to_django_tenants_clone(db, spy_clones):
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE VIEW {quoted(TEMPLATE)}.migration_names AS "
                       f"SELECT name FROM {quoted(TEMPLATE)}.django_migrations")
    organisation = onboard_client(new_client("fallback"), acting_user="tests")
    assert spy_clones == {"fast": 1, "stock": 1}
    schema = organisation.schema_name
    assert table_rows(schema, "django_migrations", "app, name") == table_rows(
        TEMPLATE, "django_migrations", "app, name")
    assert table_rows(schema, "migration_names")
