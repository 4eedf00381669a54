"""The emptying after a transactional test, without TRUNCATE (issue 22).

Django empties the database after each transactional test (`TransactionTestCase`, pytest-django's
`transactional_db` and `live_server`) with `flush`: a TRUNCATE of all 131 tables, which on
PostgreSQL makes new files for every table and index (1.5–3.7 s on a loaded 2-core machine),
then the `post_migrate` signal, which makes the 611 content types and permissions again
(~0.5 CPU-s). With ~100 such tests per suite that was most of the suite's time.

Here the end state is the same, reached by less work: the rows of the tables that hold any are
deleted (one query finds them; a test leaves a few dozen), and the content types and permissions
are kept when they are exactly what `post_migrate` made after the process's first flush (their
rows compared; a test that changed them gets Django's way back). Foreign keys are deferred
(Django declares them so) and checked at the commit, as in `flush`. Anything unexpected (a test
case with `available_apps` or serialized rollback, another database, an error) falls back to
Django's own flush."""

import hashlib

from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal
from django.db import connections, transaction
from django.test import TransactionTestCase

# What `post_migrate` makes on an empty database (django.contrib.auth and contenttypes).
MADE_BY_POST_MIGRATE = ("django_content_type", "auth_permission")

_django_fixture_teardown = TransactionTestCase._fixture_teardown


class ProcessState:
    tables: dict[str, list[str]] = {}  # alias -> the tables flush empties
    made: dict[str, str] = {}  # alias -> the fingerprint of what post_migrate made


def install():
    TransactionTestCase._fixture_teardown = _fixture_teardown


def _fixture_teardown(self):
    aliases = list(self._databases_names(include_mirrors=False))
    if self.available_apps is not None or self.serialized_rollback or aliases != ["default"]:
        return _django_fixture_teardown(self)
    empty(connections["default"])


def empty(connection):
    """Leave the database as Django's flush (with post_migrate) leaves it."""
    if connection.alias not in ProcessState.made or not empty_quickly(connection):
        call_command("flush", verbosity=0, interactive=False, database=connection.alias)
        ProcessState.made[connection.alias] = _fingerprint(connection)


def _tables(connection):
    if connection.alias not in ProcessState.tables:
        ProcessState.tables[connection.alias] = sorted(
            connection.introspection.django_table_names(only_existing=True, include_views=False)
        )
    return ProcessState.tables[connection.alias]


def _tables_with_rows(connection):
    quote = connection.ops.quote_name
    query = " UNION ALL ".join(
        f"SELECT '{table}' WHERE EXISTS (SELECT 1 FROM {quote(table)})"
        for table in _tables(connection)
    )
    with connection.cursor() as cursor:
        cursor.execute(query)
        return [row[0] for row in cursor.fetchall()]


def _fingerprint(connection):
    """The rows of the tables post_migrate fills, as one digest."""
    digest = hashlib.sha256()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in MADE_BY_POST_MIGRATE:
            cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY id")
            digest.update(repr(cursor.fetchall()).encode())
    return digest.hexdigest()


def empty_quickly(connection):
    """Delete every row but what post_migrate made; False (nothing changed) if that cannot be
    done here, and Django's flush is to run instead."""
    quote = connection.ops.quote_name
    made = ProcessState.made[connection.alias]
    try:
        with transaction.atomic(using=connection.alias):
            with connection.cursor() as cursor:
                for table in _tables_with_rows(connection):
                    if table not in MADE_BY_POST_MIGRATE:
                        cursor.execute(f"DELETE FROM {quote(table)}")
            if _fingerprint(connection) != made:
                with connection.cursor() as cursor:
                    for table in MADE_BY_POST_MIGRATE:
                        cursor.execute(f"DELETE FROM {quote(table)}")
                emit_post_migrate_signal(verbosity=0, interactive=False, db=connection.alias)
                made = _fingerprint(connection)
    except Exception:
        return False
    ProcessState.made[connection.alias] = made
    return True
