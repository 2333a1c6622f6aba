"""The message log becomes a table partitioned by day on PostgreSQL (retention drops whole days
instead of deleting rows); SQLite keeps its plain table. See csms/partitions.py."""
from django.db import migrations

from csms import partitions

TABLE, COLUMN = "csms_messagelogentry", "timestamp"


def partition(apps, schema_editor):
    partitions.convert_to_partitioned(schema_editor, TABLE, COLUMN)


def unpartition(apps, schema_editor):
    partitions.convert_to_plain(schema_editor, TABLE, COLUMN)


class Migration(migrations.Migration):

    dependencies = [("csms", "0004_roles")]

    # Database layout only: Django's model (pk `id`) is unchanged; in the database the primary
    # key becomes (id, timestamp), which partitioning requires.
    operations = [migrations.RunPython(partition, unpartition, elidable=False)]
