"""The database cache's table (CACHES in config/settings.py), so `migrate` is the only step."""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

# The LOCATION of the database cache in config/settings.py. Created also when REDIS_URL makes
# Redis the cache, so a deployment that later drops REDIS_URL finds its table.
CACHE_TABLE = "trama_cache"


def create_cache_table(apps, schema_editor):
    # createcachetable's own table definition; an existing table is left as it is.
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, CACHE_TABLE, dry_run=False)


class Migration(migrations.Migration):
    dependencies = [("crm", "0004_layers")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
