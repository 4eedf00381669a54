"""Trigram indexes for donor search, on PostgreSQL only (a no-op elsewhere).

pg_trgm GIN indexes serve `LIKE 'x%'` and `LIKE '% x%'` on the indexed expression
(https://www.postgresql.org/docs/current/pgtrgm.html#PGTRGM-INDEX). The expressions must be
the ones `crm.search` queries with (NAME_SQL, EMAIL_SQL); tests/crm/test_search.py checks on
PostgreSQL that the planner can use them. pg_trgm is a trusted extension (PostgreSQL 13+): the
database owner may create it.
"""

from django.db import migrations

TRIGRAM_INDEXES = (
    (
        "crm_donor_name_trgm",
        """UPPER("last_name" || ' ' || "first_name" || ' ' || "organisation_name")""",
    ),
    ("crm_donor_email_trgm", 'LOWER("email")'),
    ("crm_donor_cf_trgm", '"codice_fiscale"'),
    ("crm_donor_piva_trgm", '"partita_iva"'),
)


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in TRIGRAM_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON crm_donor "
            f"USING gin (({expression}) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _expression in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
