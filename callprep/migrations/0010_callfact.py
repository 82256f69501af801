"""The dashboard's read model: one row of facts per call, kept by database triggers.

``CallFact`` (callprep/dashboard/models.py) is the join of a call with its account's team, its
brief and the executive's read of that brief. Row triggers on those four tables recompute the
row of every call whose inputs a statement changed, inside that statement, so the facts are
never behind the tables they come from, whatever writes them. The existing calls are copied
once here.

On PostgreSQL each refresh first locks the calls' fact rows and only then reads the join, in a
new statement: under READ COMMITTED that statement sees everything committed by a transaction
it waited for, so two transactions changing the same call (an approval and a reschedule, say)
never leave the facts of only one of them.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The facts of the calls matching {where}: the one definition both databases use.
FACT_SELECT = """
SELECT c.id, a.team_id, c.owner_id, c.executive_id, c.kind, c.status, c.starts_at, c.time_zone,
       COALESCE(b.status, ''), b.approved_at, r.read_at,
       COALESCE(b.sections_required, 0), COALESCE(b.sections_complete, 0)
FROM callprep_call c
JOIN accounts_account a ON a.id = c.account_id
LEFT JOIN callprep_brief b ON b.call_id = c.id
LEFT JOIN callprep_executiveread r ON r.brief_id = b.id AND r.user_id = c.executive_id
WHERE {where}
"""
COLUMNS = (
    "team_id", "owner_id", "executive_id", "kind", "status", "starts_at", "time_zone",
    "brief_status", "approved_at", "executive_read_at", "sections_required", "sections_complete",
)  # fmt: skip


def upsert(where: str) -> str:
    """Insert or refresh the facts of the calls matching ``where`` (``c`` is the call)."""
    columns = ", ".join(("call_id", *COLUMNS))
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS)
    return (
        f"INSERT INTO callprep_callfact ({columns}) {FACT_SELECT.format(where=where)}"
        f"ON CONFLICT (call_id) DO UPDATE SET {updates}"
    )


# What each table contributes, so an update that changes none of it costs nothing.
CALL_INPUTS = ("account_id", "owner_id", "executive_id", "kind", "status", "starts_at", "time_zone")
BRIEF_INPUTS = ("call_id", "status", "approved_at", "sections_required", "sections_complete")
READ_INPUTS = ("brief_id", "user_id", "read_at")


def _changed(columns) -> str:
    old = ", ".join(f"OLD.{c}" for c in columns)
    new = ", ".join(f"NEW.{c}" for c in columns)
    return f"ROW({old}) IS DISTINCT FROM ROW({new})"


def _row_triggers(name: str, table: str, inputs) -> str:
    """The insert, update (when an input changed) and delete triggers of one source table."""
    return "\n".join(
        f"CREATE TRIGGER callprep_callfact_{name}_{event.lower()} AFTER {event} ON {table}\n"
        f"FOR EACH ROW{when} EXECUTE FUNCTION callprep_callfact_on_{name}();"
        for event, when in (
            ("INSERT", ""),
            ("UPDATE", f" WHEN ({_changed(inputs)})"),
            ("DELETE", ""),
        )
    )


# Built from the constants above only: nothing here comes from outside.
POSTGRES_TRIGGERS = f"""
CREATE FUNCTION callprep_callfact_refresh(targets bigint[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- Wait for any transaction that is refreshing the same calls; the next statement then
    -- reads the join with a fresh snapshot that includes what it committed.
    PERFORM 1 FROM callprep_callfact WHERE call_id = ANY(targets) ORDER BY call_id FOR UPDATE;
    {upsert("c.id = ANY(targets)")};
END
$$;

CREATE FUNCTION callprep_callfact_on_call() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM callprep_callfact WHERE call_id = OLD.id;
    ELSE
        PERFORM callprep_callfact_refresh(ARRAY[NEW.id]);
    END IF;
    RETURN NULL;
END
$$;
{_row_triggers("call", "callprep_call", CALL_INPUTS)}

CREATE FUNCTION callprep_callfact_on_brief() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM callprep_callfact_refresh(ARRAY[OLD.call_id]);
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.call_id <> OLD.call_id) THEN
        PERFORM callprep_callfact_refresh(ARRAY[NEW.call_id]);
    END IF;
    RETURN NULL;
END
$$;
{_row_triggers("brief", "callprep_brief", BRIEF_INPUTS)}

CREATE FUNCTION callprep_callfact_on_read() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM callprep_callfact_refresh(
            ARRAY(SELECT call_id FROM callprep_brief WHERE id = OLD.brief_id));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM callprep_callfact_refresh(
            ARRAY(SELECT call_id FROM callprep_brief WHERE id = NEW.brief_id));
    END IF;
    RETURN NULL;
END
$$;
{_row_triggers("read", "callprep_executiveread", READ_INPUTS)}

CREATE FUNCTION callprep_callfact_on_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM callprep_callfact_refresh(
        ARRAY(SELECT id FROM callprep_call WHERE account_id = NEW.id));
    RETURN NULL;
END
$$;
CREATE TRIGGER callprep_callfact_account_update AFTER UPDATE OF team_id ON accounts_account
FOR EACH ROW WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id)
EXECUTE FUNCTION callprep_callfact_on_account();
"""  # noqa: S608
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS callprep_callfact_account_update ON accounts_account;
DROP FUNCTION IF EXISTS callprep_callfact_on_account();
DROP FUNCTION IF EXISTS callprep_callfact_on_read() CASCADE;
DROP FUNCTION IF EXISTS callprep_callfact_on_brief() CASCADE;
DROP FUNCTION IF EXISTS callprep_callfact_on_call() CASCADE;
DROP FUNCTION IF EXISTS callprep_callfact_refresh(bigint[]);
"""


def _sqlite_trigger(name: str, event: str, table: str, when: str, *statements: str) -> str:
    condition = f"\nWHEN {when}" if when else ""
    body = "".join(f"    {s};\n" for s in statements)
    return (
        f"CREATE TRIGGER {name} AFTER {event} ON {table}\nFOR EACH ROW{condition}\n"
        f"BEGIN\n{body}END;"
    )


def _sqlite_changed(columns) -> str:
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)


# SQLite runs one writer at a time, so a refresh needs no lock; the statements are the same.
SQLITE_TRIGGERS = [
    _sqlite_trigger(
        "callprep_callfact_call_insert", "INSERT", "callprep_call", "",
        upsert("c.id = NEW.id"),
    ),
    _sqlite_trigger(
        "callprep_callfact_call_update", "UPDATE", "callprep_call", _sqlite_changed(CALL_INPUTS),
        upsert("c.id = NEW.id"),
    ),
    _sqlite_trigger(
        "callprep_callfact_call_delete", "DELETE", "callprep_call", "",
        "DELETE FROM callprep_callfact WHERE call_id = OLD.id",
    ),
    _sqlite_trigger(
        "callprep_callfact_brief_insert", "INSERT", "callprep_brief", "",
        upsert("c.id = NEW.call_id"),
    ),
    _sqlite_trigger(
        "callprep_callfact_brief_update", "UPDATE", "callprep_brief",
        _sqlite_changed(BRIEF_INPUTS),
        upsert("c.id IN (OLD.call_id, NEW.call_id)"),
    ),
    _sqlite_trigger(
        "callprep_callfact_brief_delete", "DELETE", "callprep_brief", "",
        upsert("c.id = OLD.call_id"),
    ),
    _sqlite_trigger(
        "callprep_callfact_read_insert", "INSERT", "callprep_executiveread", "",
        upsert("c.id = (SELECT call_id FROM callprep_brief WHERE id = NEW.brief_id)"),
    ),
    _sqlite_trigger(
        "callprep_callfact_read_update", "UPDATE", "callprep_executiveread",
        _sqlite_changed(READ_INPUTS),
        upsert(
            "c.id IN (SELECT call_id FROM callprep_brief WHERE id IN (OLD.brief_id, NEW.brief_id))"
        ),
    ),
    _sqlite_trigger(
        "callprep_callfact_read_delete", "DELETE", "callprep_executiveread", "",
        upsert("c.id = (SELECT call_id FROM callprep_brief WHERE id = OLD.brief_id)"),
    ),
    _sqlite_trigger(
        "callprep_callfact_account_update", "UPDATE OF team_id", "accounts_account",
        "OLD.team_id IS NOT NEW.team_id",
        upsert("c.account_id = NEW.id"),
    ),
]  # fmt: skip
SQLITE_NAMES = [t.split()[2] for t in SQLITE_TRIGGERS]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_TRIGGERS)
    elif vendor == "sqlite":
        for trigger in SQLITE_TRIGGERS:
            schema_editor.execute(trigger)
    else:  # without triggers the facts would silently fall behind the tables
        raise RuntimeError(
            f"SalesPrep runs on PostgreSQL or SQLite; the call-fact triggers do not exist for "
            f"{vendor}."
        )
    # Every existing call, once (SQLite: ``WHERE true`` keeps ON CONFLICT apart from the join).
    schema_editor.execute(upsert("true"))


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)
    elif vendor == "sqlite":
        for name in SQLITE_NAMES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_audit_and_session_stamp"),
        ("callprep", "0009_brief_due_follows_call"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CallFact",
            fields=[
                (
                    "call",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="fact",
                        serialize=False,
                        to="callprep.call",
                    ),
                ),
                ("kind", models.CharField(max_length=20)),
                ("status", models.CharField(max_length=10)),
                ("starts_at", models.DateTimeField()),
                ("time_zone", models.CharField(max_length=64)),
                ("brief_status", models.CharField(blank=True, max_length=20)),
                ("approved_at", models.DateTimeField(null=True)),
                ("executive_read_at", models.DateTimeField(null=True)),
                ("sections_required", models.PositiveSmallIntegerField(default=0)),
                ("sections_complete", models.PositiveSmallIntegerField(default=0)),
                (
                    "executive",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="accounts.team",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["team", "starts_at"],
                        include=(
                            "owner",
                            "executive",
                            "kind",
                            "status",
                            "time_zone",
                            "brief_status",
                            "approved_at",
                            "executive_read_at",
                            "sections_required",
                            "sections_complete",
                        ),
                        name="callfact_team_start_idx",
                    ),
                    models.Index(
                        fields=["starts_at"],
                        include=(
                            "team",
                            "owner",
                            "executive",
                            "kind",
                            "status",
                            "time_zone",
                            "brief_status",
                            "approved_at",
                            "executive_read_at",
                            "sections_required",
                            "sections_complete",
                        ),
                        name="callfact_start_idx",
                    ),
                    models.Index(fields=["owner", "starts_at"], name="callfact_owner_start_idx"),
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
