"""Meter values become a table partitioned by day on PostgreSQL (retention drops whole days
instead of deleting rows); SQLite keeps its plain table. See csms/partitions.py."""
from django.db import migrations

from csms import partitions

TABLE, COLUMN = "transactions_metervalue", "timestamp"


def partition(apps, schema_editor):
    partitions.convert_to_partitioned(schema_editor, TABLE, COLUMN)


def unpartition(apps, schema_editor):
    partitions.convert_to_plain(schema_editor, TABLE, COLUMN)


class Migration(migrations.Migration):

    dependencies = [("transactions", "0007_revisions")]

    # Database layout only: Django's model (pk `id`) is unchanged; in the database the primary
    # key becomes (id, timestamp), which partitioning requires. unique_reading_per_transaction
    # already holds the timestamp, so it stays one key across all partitions.
    operations = [migrations.RunPython(partition, unpartition, elidable=False)]
