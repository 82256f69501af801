"""Trigram indexes for the account list's "contains" search, on PostgreSQL only.

Django's icontains filter is `UPPER(col::text) LIKE UPPER(%s)`; a GIN trigram index on the same
expression lets PostgreSQL answer it without reading every account. pg_trgm is a trusted
extension (PostgreSQL 13+), so the database owner may create it; if that is not allowed, the
indexes are skipped and the search still works, only slower. SQLite needs nothing.
"""

from django.db import migrations

COLUMNS = ("name", "domain", "hq_city")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SAVEPOINT salesprep_trgm")
        try:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception:  # noqa: BLE001 - not allowed here: keep the plain scan
            cursor.execute("ROLLBACK TO SAVEPOINT salesprep_trgm")
            return
        for column in COLUMNS:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS account_{column}_trgm ON accounts_account "
                f"USING gin ((UPPER({column}::text)) gin_trgm_ops) WITH (fastupdate = off)"
            )
        # The search also matches the ticker exactly (iexact): with this index every branch of
        # the OR can use an index, so PostgreSQL can combine them instead of scanning.
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS account_ticker_upper ON accounts_account "
            "(UPPER(ticker::text))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for column in COLUMNS:
            cursor.execute(f"DROP INDEX IF EXISTS account_{column}_trgm")
        cursor.execute("DROP INDEX IF EXISTS account_ticker_upper")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_account_buyingprocess_contact_importfile_and_more")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
