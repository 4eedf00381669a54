"""Migration tests: the database taken to given migrations, and the models as they were there."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def latest_migrations():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def migrate_to(targets):
    """Apply or unapply migrations up to `targets`; the app registry of that state."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps
