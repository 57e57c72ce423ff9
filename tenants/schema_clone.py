"""Creating a client's schema as a copy of the migrated template schema, quickly.

django-tenants' own clone (the `clone_schema` SQL function from pg-clone-schema) reads the catalog
through views such as pg_indexes and information_schema across every schema in the database, so
with 1,000 clients it spends seconds per onboarding; its `migrate_schemas --fake` afterwards
lists every relation in the database too. `clone_template` reads only the template's own catalog
rows, reaching them through indexed catalog columns (the namespace's dependants in pg_depend,
then conrelid, indrelid, tgrelid, attrelid), so its cost does not grow with the number of
clients. The template's django_migrations rows are copied with the other rows, which makes the
fake migrate unnecessary -- provided the template has applied every tenant migration this code
knows, which `require_template_migrated` checks first.

How the DDL is made: the template's definitions are printed by PostgreSQL itself
(pg_get_constraintdef, pg_get_indexdef, pg_get_triggerdef) while search_path holds only the
template schema, so references to the template's own tables come out unqualified and references
anywhere else (public.waymark_refuse_change(), a foreign key to a public table) come out
schema-qualified. The DDL then runs with search_path holding only the new schema, so the
unqualified names land in the new schema and the qualified ones keep pointing where they did.
The only place the template's name is printed regardless is the table after ON in index and
trigger definitions; that exact token is replaced, and any definition still naming the template
schema afterwards makes the clone refuse (see UnsupportedTemplate).

Tables are made with CREATE TABLE new.t (LIKE template.t INCLUDING ALL EXCLUDING CONSTRAINTS
EXCLUDING INDEXES EXCLUDING STATISTICS, <the template's checks, primary key, unique and exclusion
constraints>): LIKE would give indexes and constraints default names, and Django's migrations
refer to them by name, so those come from pg_get_constraintdef / pg_get_indexdef under their own
names. Identity columns come from LIKE with their sequence options; a sequence whose default name
differs from the template's is renamed.

Everything runs in one savepoint (a transaction when the caller has none) and never commits, so
inside onboard_client's durable transaction a failed onboarding leaves no schema behind.
"""

import functools
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

logger = logging.getLogger(__name__)


class UnsupportedTemplate(Exception):
    """The template holds objects clone_template does not copy (views, functions, types,
    serial sequences, inheritance, row-level security, ...). Nothing has been written; the
    caller should use django-tenants' own clone, which copies them."""


class TemplateNotMigrated(RuntimeError):
    """The template schema lacks tenant migrations the code has, so a client copied from it
    would lack tables or columns the running code uses (django-tenants' clone followed by a
    fake migrate would even record those migrations as applied). Onboarding refuses until
    migrate_schemas has brought the template, and every client, up to date."""


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    # standard_conforming_strings is on in every supported PostgreSQL.
    return "'" + value.replace("'", "''") + "'"


# --- Is the template up to date? ---------------------------------------------------------

@functools.cache
def tenant_migrations() -> tuple[tuple[tuple[str, str], tuple[tuple[str, str], ...]], ...]:
    """Every migration of the tenant apps on disk, as (key, keys it replaces), the way Django's
    loader sees them (a squashed migration stands in for the ones it replaces). Read once per
    process: the code does not change under a running process."""
    from django.db.migrations.loader import MigrationLoader
    from django_tenants.routers import TenantSyncRouter

    router = TenantSyncRouter()
    loader = MigrationLoader(None, ignore_no_migrations=True)
    nodes = []
    for key in sorted(loader.graph.nodes):
        app_label = key[0]
        if not router.app_in_list(app_label, settings.TENANT_APPS):
            continue
        migration = loader.graph.nodes[key]
        nodes.append((key, tuple(tuple(replaced) for replaced in migration.replaces or ())))
    return tuple(nodes)


def missing_tenant_migrations(template_schema: str, *, using: str = DEFAULT_DB_ALIAS):
    """The tenant migrations the code has that the template schema has not applied."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT app, name FROM {quote_ident(template_schema)}.django_migrations")
        applied = set(cursor.fetchall())
    return [key for key, replaces in tenant_migrations()
            if key not in applied and not (replaces and all(r in applied for r in replaces))]


def require_template_migrated(template_schema: str, *, using: str = DEFAULT_DB_ALIAS) -> None:
    missing = missing_tenant_migrations(template_schema, using=using)
    if missing:
        shown = ", ".join(f"{app}.{name}" for app, name in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise TemplateNotMigrated(
            f"The client template schema {template_schema!r} has not applied {len(missing)} "
            f"tenant migration(s) this code has ({shown}{more}). A client cloned from it would "
            "be recorded as migrated without their tables. Run `manage.py migrate_schemas` "
            "(it migrates the template with every client), then onboard the client again. "
            "Nothing was created."
        )


# --- Reading the template ----------------------------------------------------------------

_UNSUPPORTED_OBJECTS = """
SELECT d.classid::regclass::text, c.relkind, count(*)
FROM pg_depend d
LEFT JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = %(ns)s AND d.deptype = 'n'
  AND NOT (d.classid = 'pg_class'::regclass AND c.relkind = 'r')
  AND NOT (d.classid = 'pg_class'::regclass AND c.relkind = 'S' AND EXISTS (
      SELECT 1 FROM pg_depend i
      WHERE i.classid = 'pg_class'::regclass AND i.objid = c.oid AND i.deptype = 'i'))
GROUP BY 1, 2
"""

_TABLES = """
SELECT c.oid, c.relname, quote_ident(n.nspname) || '.' || quote_ident(c.relname),
       c.relpersistence, c.reloptions, pg_get_userbyid(c.relowner),
       obj_description(c.oid, 'pg_class'),
       c.relacl IS NOT NULL,
       concat_ws(', ',
         CASE WHEN c.relhasrules THEN 'rules' END,
         CASE WHEN c.relrowsecurity OR c.relforcerowsecurity THEN 'row-level security' END,
         CASE WHEN c.reloftype <> 0 THEN 'a typed table' END,
         CASE WHEN c.reltablespace <> 0 THEN 'its own tablespace' END,
         CASE WHEN c.relreplident <> 'd' THEN 'a replica identity' END,
         CASE WHEN c.relhassubclass OR c.relispartition
              OR EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = c.oid)
              THEN 'inheritance' END,
         CASE WHEN EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)
              THEN 'policies' END,
         CASE WHEN EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                           AND a.attnum > 0 AND NOT a.attisdropped
                           AND (a.attacl IS NOT NULL OR a.attfdwoptions IS NOT NULL))
              THEN 'column privileges' END),
       ARRAY(SELECT quote_ident(a.attname) FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
               AND a.attgenerated = '' ORDER BY a.attnum)
FROM pg_depend d
JOIN pg_class c ON c.oid = d.objid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = %(ns)s AND d.deptype = 'n'
  AND d.classid = 'pg_class'::regclass AND c.relkind = 'r'
ORDER BY c.relname
"""

_IDENTITY_COLUMNS = """
SELECT a.attrelid, a.attname, s.relname, q.seqtypid::int, s.relacl IS NOT NULL, s.oid
FROM pg_attribute a
JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = a.attrelid
     AND d.refobjsubid = a.attnum AND d.classid = 'pg_class'::regclass AND d.deptype = 'i'
JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_sequence q ON q.seqrelid = s.oid
WHERE a.attrelid = ANY(%(tables)s) AND a.attnum > 0 AND NOT a.attisdropped
  AND a.attidentity <> ''
ORDER BY a.attrelid, a.attnum
"""

# 't' (constraint triggers) are made by their CREATE CONSTRAINT TRIGGER; 'n' (not-null,
# PostgreSQL 18) by LIKE, which always copies NOT NULL.
_CONSTRAINTS = """
SELECT k.conrelid, k.conname, k.contype, pg_get_constraintdef(k.oid), k.convalidated,
       obj_description(k.oid, 'pg_constraint')
FROM pg_constraint k
WHERE k.conrelid = ANY(%(tables)s) AND k.contype IN ('c', 'p', 'u', 'x', 'f')
ORDER BY k.conrelid, CASE k.contype WHEN 'c' THEN 0 WHEN 'p' THEN 1 ELSE 2 END, k.conname
"""

_INDEXES = """
SELECT i.indrelid, c.relname, pg_get_indexdef(i.indexrelid), obj_description(c.oid, 'pg_class')
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = ANY(%(tables)s)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = i.indrelid
                  AND k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
ORDER BY i.indrelid, c.relname
"""

_TRIGGERS = """
SELECT t.tgrelid, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled,
       obj_description(t.oid, 'pg_trigger')
FROM pg_trigger t
WHERE t.tgrelid = ANY(%(tables)s) AND NOT t.tgisinternal
ORDER BY t.tgrelid, t.tgname
"""


@dataclass
class ClonePlan:
    """What clone_template runs, in three steps: `create` (the schema and its tables with their
    checks, primary keys and unique/exclusion constraints), then the identity sequences LIKE
    made are given the template's names and data types where those differ (`identities`: new
    table, column, the template's sequence name and type oid), then `finish` (rows, sequences
    past the rows, other indexes, foreign keys, triggers, comments, owners, privileges)."""

    create: list[str] = field(default_factory=list)
    identities: list[tuple[str, str, str, int]] = field(default_factory=list)
    finish: list[str] = field(default_factory=list)


def _grants(cursor, oid: int, kind: str, target: str) -> list[str]:
    """GRANT statements reproducing an object's ACL on `target` (kind TABLE, SEQUENCE or
    SCHEMA)."""
    catalog, column = {"SCHEMA": ("pg_namespace", "nspacl")}.get(kind, ("pg_class", "relacl"))
    cursor.execute(
        f"SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid("
        f"a.grantee)) END, a.privilege_type, a.is_grantable "
        f"FROM {catalog} o, aclexplode(o.{column}) a WHERE o.oid = %s ORDER BY 1, 2", [oid])
    return [f"GRANT {privilege} ON {kind} {target} TO {grantee}"
            + (" WITH GRANT OPTION" if grantable else "")
            for grantee, privilege, grantable in cursor.fetchall()]


def _replace_once(definition: str, old: str, new: str) -> str:
    if definition.count(old) != 1:
        raise UnsupportedTemplate(f"Cannot find {old.strip()!r} once in {definition!r}")
    return definition.replace(old, new)


def plan_clone(cursor, template: str, new: str) -> ClonePlan:
    """Read the template's catalog (search_path must hold only the template schema) and plan
    the statements that make `new` a copy of it. Writes nothing; raises UnsupportedTemplate
    if the template holds what the plan would not copy."""
    cursor.execute(
        "SELECT n.oid, pg_get_userbyid(n.nspowner), n.nspacl IS NOT NULL, "
        "obj_description(n.oid, 'pg_namespace'), current_user, "
        "EXISTS (SELECT 1 FROM pg_default_acl a WHERE a.defaclnamespace = n.oid) "
        "FROM pg_namespace n WHERE n.nspname = %s", [template])
    row = cursor.fetchone()
    if row is None:
        raise UnsupportedTemplate(f"There is no schema {template!r} to clone.")
    ns, schema_owner, schema_has_acl, schema_comment, current_user, default_acls = row
    params = {"ns": ns}

    cursor.execute(_UNSUPPORTED_OBJECTS, params)
    problems = [f"{count} {catalog}{f' (relkind {relkind})' if relkind else ''} object(s)"
                for catalog, relkind, count in cursor.fetchall()]
    if default_acls:
        problems.append("default privileges for the schema")
    cursor.execute(_TABLES, params)
    tables = cursor.fetchall()
    problems += [f"table {row[1]}: {row[8]}" for row in tables if row[8]]
    if problems:
        raise UnsupportedTemplate(f"Schema {template!r} holds what the fast clone does not "
                                  "copy: " + "; ".join(problems))
    params["tables"] = [row[0] for row in tables]

    cursor.execute(_CONSTRAINTS, params)
    constraints = cursor.fetchall()
    cursor.execute(_INDEXES, params)
    indexes = cursor.fetchall()
    cursor.execute(_TRIGGERS, params)
    triggers = cursor.fetchall()
    cursor.execute(_IDENTITY_COLUMNS, params)
    identities = cursor.fetchall()

    plan = ClonePlan()
    new_q, template_q = quote_ident(new), quote_ident(template)
    printed_by_postgres = []    # checked for the template's name at the end
    comments, owners, grants = [], [], []
    plan.create.append(f"CREATE SCHEMA {new_q}" + (
        f" AUTHORIZATION {quote_ident(schema_owner)}" if schema_owner != current_user else ""))
    # Unqualified names in the definitions below resolve in the new schema only.
    plan.create.append(f"SELECT set_config('search_path', {_literal(new_q)}, true)")
    if schema_comment is not None:
        comments.append(f"COMMENT ON SCHEMA {new_q} IS {_literal(schema_comment)}")
    if schema_has_acl:
        grants += _grants(cursor, ns, "SCHEMA", new_q)

    name_of = {}    # table oid -> (template's name as PostgreSQL prints it, new name)
    for oid, name, printed, *_ in tables:
        name_of[oid] = (printed, f"{new_q}.{quote_ident(name)}")

    # Checks, primary keys and unique and exclusion constraints (with their indexes, named
    # after them) inside CREATE TABLE; foreign keys, and anything NOT VALID, after the rows.
    inline, later = {}, {}
    for table, name, kind, definition, validated, comment in constraints:
        clause = f"CONSTRAINT {quote_ident(name)} {definition}"
        printed_by_postgres.append(definition)
        if kind == "f" or not validated:
            later.setdefault(table, []).append(f"ADD {clause}")
        else:
            inline.setdefault(table, []).append(clause)
        if comment is not None:
            comments.append(f"COMMENT ON CONSTRAINT {quote_ident(name)} ON {name_of[table][1]} "
                            f"IS {_literal(comment)}")

    for oid, name, _, persistence, options, owner, comment, has_acl, _, columns in tables:
        target = name_of[oid][1]
        source = f"{template_q}.{quote_ident(name)}"
        elements = [f"LIKE {source} INCLUDING ALL EXCLUDING CONSTRAINTS EXCLUDING INDEXES "
                    "EXCLUDING STATISTICS"] + inline.get(oid, [])
        plan.create.append(
            f"CREATE {'UNLOGGED ' if persistence == 'u' else ''}TABLE {target} "
            f"({', '.join(elements)})" + (f" WITH ({', '.join(options)})" if options else ""))
        # The rows (django_migrations, django_content_type, anything a migration put in the
        # template), before foreign keys and triggers exist, as pg_dump orders it.
        if columns:
            listed = ", ".join(columns)
            plan.finish.append(f"INSERT INTO {target} ({listed}) OVERRIDING SYSTEM VALUE "
                               f"SELECT {listed} FROM {source}")
        if comment is not None:
            comments.append(f"COMMENT ON TABLE {target} IS {_literal(comment)}")
        if owner != current_user:
            owners.append(f"ALTER TABLE {target} OWNER TO {quote_ident(owner)}")
        if has_acl:
            grants += _grants(cursor, oid, "TABLE", target)

    for table, column, sequence, sequence_type, has_acl, sequence_oid in identities:
        target = name_of[table][1]
        plan.identities.append((target, column, sequence, sequence_type))
        # Past the copied ids, as Django's sqlsequencereset does.
        plan.finish.append(
            f"SELECT setval(pg_get_serial_sequence({_literal(target)}, {_literal(column)}), m) "
            f"FROM (SELECT max({quote_ident(column)}) AS m FROM {target}) AS copied "
            "WHERE m IS NOT NULL")
        if has_acl:
            grants += _grants(cursor, sequence_oid, "SEQUENCE",
                              f"{new_q}.{quote_ident(sequence)}")

    for table, name, definition, comment in indexes:
        printed, target = name_of[table]
        definition = _replace_once(definition, f" ON {printed} USING ", f" ON {target} USING ")
        printed_by_postgres.append(definition)
        plan.finish.append(definition)
        if comment is not None:
            comments.append(f"COMMENT ON INDEX {new_q}.{quote_ident(name)} IS "
                            f"{_literal(comment)}")

    for table, clauses in later.items():
        plan.finish.append(f"ALTER TABLE {name_of[table][1]} {', '.join(clauses)}")

    for table, name, definition, enabled, comment in triggers:
        printed, target = name_of[table]
        definition = _replace_once(definition, f" ON {printed} ", f" ON {target} ")
        printed_by_postgres.append(definition)
        plan.finish.append(definition)
        if enabled != "O":
            state = {"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}[enabled]
            plan.finish.append(f"ALTER TABLE {target} {state} TRIGGER {quote_ident(name)}")
        if comment is not None:
            comments.append(f"COMMENT ON TRIGGER {quote_ident(name)} ON {target} IS "
                            f"{_literal(comment)}")

    leftover = [d for d in printed_by_postgres if f"{template_q}." in d or f"{template}." in d]
    if leftover:
        raise UnsupportedTemplate(
            f"These definitions still name the template schema {template!r} after rewriting, "
            f"so they would tie the new schema to it: {leftover}")
    plan.finish += comments + owners + grants
    return plan


def clone_template(template_schema: str, new_schema: str, *,
                   using: str = DEFAULT_DB_ALIAS) -> None:
    """Create `new_schema` as a copy of `template_schema`: tables (columns, defaults,
    generated columns, storage, column comments), identity columns with their own sequences
    of the same names and options set past the copied rows, constraints and indexes under
    their own names, foreign keys (into the new schema, or wherever outside the template they
    pointed), triggers, comments, ownership, privileges and every row.

    One savepoint, no commit. Raises UnsupportedTemplate, having written nothing, when the
    template holds something this does not copy."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE lower(nspname) = "
                       "lower(%s))", [new_schema])
        if cursor.fetchone()[0]:
            # Same check and message as django-tenants: names differing only in case would
            # leave two clients fighting over one schema.
            raise ValidationError("New schema name already exists")
    with transaction.atomic(using=using), connection.cursor() as cursor:
        # One cursor throughout: django-tenants re-issues SET search_path whenever a cursor is
        # opened, and these set_config(..., true) (SET LOCAL) must hold for the statements
        # below. Rolling the savepoint back undoes them too; on success the caller's
        # search_path is put back.
        cursor.execute("SELECT current_setting('search_path'), "
                       "set_config('search_path', %s, true)", [quote_ident(template_schema)])
        previous = cursor.fetchone()[0]
        plan = plan_clone(cursor, template_schema, new_schema)
        # Each step is sent as one script: no parameters, so the driver passes it untouched.
        cursor.execute(";\n".join(plan.create))
        if plan.identities:
            # LIKE names each identity sequence by PostgreSQL's default rule, and makes it bigint
            # whatever the column's type; the template's may differ (an integer id; a renamed
            # table keeps its sequence's name), and migrations use the names.
            cursor.execute(
                "SELECT concat_ws(';', CASE WHEN q.seqtypid <> v.typ::oid THEN format("
                "'ALTER SEQUENCE %%s AS %%s', s.oid::regclass, format_type(v.typ::oid, NULL)) "
                "END, CASE WHEN s.relname <> v.wanted THEN format("
                "'ALTER SEQUENCE %%s RENAME TO %%I', s.oid::regclass, v.wanted) END) "
                "FROM (VALUES " + ", ".join(["(%s, %s, %s, %s)"] * len(plan.identities))
                + ") AS v (tbl, col, wanted, typ) "
                "JOIN pg_class s ON s.oid = pg_get_serial_sequence(v.tbl, v.col)::regclass "
                "JOIN pg_sequence q ON q.seqrelid = s.oid "
                "WHERE s.relname <> v.wanted OR q.seqtypid <> v.typ::oid",
                [value for identity in plan.identities for value in identity])
            fixes = [row[0] for row in cursor.fetchall()]
            if fixes:
                cursor.execute(";\n".join(fixes))
        cursor.execute(";\n".join(plan.finish))
        cursor.execute("SELECT set_config('search_path', %s, true)", [previous])
    logger.debug("cloned schema %s from %s", new_schema, template_schema)
