"""Daily range partitions of the time-series tables (meter values, message log) on PostgreSQL:
made ahead, rows moved out of the DEFAULT partition, and retention by dropping whole days.

SQLite (the embedded default) keeps plain tables and retention by DELETE. Partition bounds are
UTC days; a partition is named <table>_pYYYYMMDD and the catch-all <table>_default.

The primary key of a partitioned table must contain the partition key, so in the database it is
(id, timestamp) while Django keeps `id` as the model's pk: ids still come from one sequence and
stay unique, and reads, updates and deletes by id work (the key's index leads with id).
"""
import logging
import re
from datetime import UTC, datetime, time, timedelta

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

# (model label, time column, retention setting in days; 0 = keep forever). Labels, not imports:
# the core maintains these tables' storage without depending on the apps that own them.
RETAINED_TABLES = (
    ("csms.MessageLogEntry", "timestamp", "OCPP_MESSAGE_LOG_RETENTION_DAYS"),
    ("transactions.MeterValue", "timestamp", "METER_VALUE_RETENTION_DAYS"),
)
# How far back rows that landed in the DEFAULT partition get a partition of their own when no
# retention is set; older ones (a station clock in 1970) stay in DEFAULT.
SETTLE_BACK_DAYS = 400
# Making a partition (ATTACH) never blocks inserts; it waits at most this long for its lock.
LOCK_TIMEOUT = "5s"
# Dropping one takes the table's exclusive lock, and inserts queue behind the wait for it: wait
# only this long, else try again on the next run.
DROP_LOCK_TIMEOUT = "200ms"
_PARTITION_NAME = re.compile(r"_p(\d{8})$")


def quote(name):
    return connection.ops.quote_name(name)


def utc_day(moment):
    return moment.astimezone(UTC).date()


def day_start(day):
    return datetime.combine(day, time.min, tzinfo=UTC)


def partition_name(table, day):
    return f"{table}_p{day:%Y%m%d}"


def default_partition(table):
    return f"{table}_default"


def is_partitioned(table):
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)",
                       [quote(table)])
        return cursor.fetchone() is not None


def day_partitions(table):
    """{day: partition name} of the table's daily partitions (DEFAULT not included)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                       "WHERE i.inhparent = to_regclass(%s)", [quote(table)])
        names = [row[0] for row in cursor.fetchall()]
    days = {}
    for name in names:
        match = _PARTITION_NAME.search(name)
        if match and name == partition_name(table, datetime.strptime(match[1], "%Y%m%d").date()):
            days[datetime.strptime(match[1], "%Y%m%d").date()] = name
    return days


def _attach_day(cursor, table, column, day):
    """Make the day's partition; rows of that day waiting in DEFAULT move into it first.

    Built as a plain table and attached: ATTACH locks the parent only against other DDL
    (SHARE UPDATE EXCLUSIVE), where CREATE ... PARTITION OF would block every insert."""
    name, default = partition_name(table, day), default_partition(table)
    low, high = day_start(day), day_start(day + timedelta(days=1))
    cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    cursor.execute(f"CREATE TABLE {quote(name)} (LIKE {quote(table)} INCLUDING DEFAULTS "
                   f"INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)")
    moved = 0
    if _exists(cursor, default):
        # Held until commit: no row of this day can slip into DEFAULT between the move and the
        # attach (which would then fail its check of DEFAULT).
        cursor.execute(f"LOCK TABLE {quote(default)} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {quote(default)} WHERE {quote(column)} >= %s "
            f"AND {quote(column)} < %s RETURNING *) INSERT INTO {quote(name)} SELECT * FROM moved",
            [low, high])
        moved = cursor.rowcount
    cursor.execute(f"ALTER TABLE {quote(table)} ATTACH PARTITION {quote(name)} "
                   f"FOR VALUES FROM (%s) TO (%s)", [low, high])
    return moved


def _exists(cursor, relation):
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [quote(relation)])
    return cursor.fetchone()[0]


def ensure_days(table, column, days):
    """Make the partitions of `days` that do not exist yet; return {day: rows moved from DEFAULT}.
    Idempotent: a day that has its partition is left alone."""
    existing = day_partitions(table)
    made = {}
    for day in sorted(set(days) - set(existing)):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                made[day] = _attach_day(cursor, table, column, day)
        except DatabaseError as error:  # a lock timeout, another pass making it: next run
            logger.warning("partition %s not made this time: %s", partition_name(table, day), error)
    return made


def ensure_ahead(table, column, ahead_days=None, today=None):
    """Partitions from today to `ahead_days` days ahead (PARTITION_AHEAD_DAYS)."""
    ahead_days = settings.PARTITION_AHEAD_DAYS if ahead_days is None else ahead_days
    today = today or utc_day(timezone.now())
    return ensure_days(table, column, [today + timedelta(days=n) for n in range(ahead_days + 1)])


def settle_default(table, column, oldest_day, ahead_days=None, today=None):
    """Rows in DEFAULT whose day lies between `oldest_day` and the ahead window move into
    partitions of their own; return {day: rows moved}."""
    ahead_days = settings.PARTITION_AHEAD_DAYS if ahead_days is None else ahead_days
    today = today or utc_day(timezone.now())
    default = default_partition(table)
    with connection.cursor() as cursor:
        if not _exists(cursor, default):
            return {}
        cursor.execute(
            f"SELECT DISTINCT date_trunc('day', {quote(column)} AT TIME ZONE 'UTC')::date "
            f"FROM {quote(default)} WHERE {quote(column)} >= %s AND {quote(column)} < %s",
            [day_start(oldest_day), day_start(today + timedelta(days=ahead_days + 1))])
        days = [row[0] for row in cursor.fetchall()]
    return ensure_days(table, column, days)


def drop_older_than(table, column, cutoff):
    """Drop the daily partitions that end at or before `cutoff`, and delete DEFAULT's rows
    older than it; return (names dropped, rows deleted from DEFAULT). The partition holding the
    cutoff is kept whole: a day may be kept up to one day longer than the retention."""
    dropped = []
    for day, name in sorted(day_partitions(table).items()):
        if day_start(day + timedelta(days=1)) > cutoff:
            continue
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'")
                cursor.execute(f"ALTER TABLE {quote(table)} DETACH PARTITION {quote(name)}")
                cursor.execute(f"DROP TABLE {quote(name)}")
            dropped.append(name)
        except DatabaseError as error:  # a lock timeout, another pass dropping it: next run
            logger.warning("partition %s not dropped this time: %s", name, error)
    deleted = 0
    with connection.cursor() as cursor:
        if _exists(cursor, default_partition(table)):
            cursor.execute(f"DELETE FROM {quote(default_partition(table))} "
                           f"WHERE {quote(column)} < %s", [cutoff])
            deleted = cursor.rowcount
    return dropped, deleted


def apply_retention(model, column, retention_days, now=None):
    """Remove rows older than `retention_days` (0 or less: keep forever): whole partitions
    dropped on PostgreSQL, DELETE elsewhere. Returns {"dropped": [...], "deleted": n}."""
    if not retention_days or retention_days <= 0:
        return {"dropped": [], "deleted": 0}
    cutoff = (now or timezone.now()) - timedelta(days=retention_days)
    table = model._meta.db_table
    if is_partitioned(table):
        dropped, deleted = drop_older_than(table, column, cutoff)
        if dropped:
            logger.info("retention: dropped %s", ", ".join(dropped))
        return {"dropped": dropped, "deleted": deleted}
    deleted, _ = model.objects.filter(**{f"{column}__lt": cutoff}).delete()
    return {"dropped": [], "deleted": deleted}


def maintain(now=None):
    """The periodic pass: partitions made ahead, DEFAULT settled, retention applied, for every
    retained table. Returns a summary per table."""
    now = now or timezone.now()
    today = utc_day(now)
    summary = {}
    for label, column, retention_setting in RETAINED_TABLES:
        model = apps.get_model(label)
        table = model._meta.db_table
        retention_days = getattr(settings, retention_setting)
        made, settled = {}, {}
        if is_partitioned(table):
            made = ensure_ahead(table, column, today=today)
            keep_from = (today - timedelta(days=retention_days) if retention_days > 0
                         else today - timedelta(days=SETTLE_BACK_DAYS))
            settled = settle_default(table, column, keep_from, today=today)
        summary[table] = {"made": sorted(str(day) for day in made),
                          "settled": {str(day): rows for day, rows in settled.items() if rows},
                          **apply_retention(model, column, retention_days, now=now)}
    return summary


# --- Conversion (migrations) -------------------------------------------------------------------

def _definitions(cursor, relation):
    """What LIKE does not copy: the indexes (as CREATE INDEX statements) and the foreign-key
    and other index-backed constraints (as name, definition), primary key aside."""
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = to_regclass(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid "
        "AND k.conrelid = i.indrelid) ORDER BY i.indexrelid", [quote(relation)])
    indexes = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
        "to_regclass(%s) AND contype NOT IN ('c', 'n', 'p') ORDER BY oid", [quote(relation)])
    constraints = cursor.fetchall()
    cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s) "
                   "AND contype = 'p'", [quote(relation)])
    primary_key = cursor.fetchone()
    return indexes, constraints, primary_key[0] if primary_key else None


def _rebuild(cursor, table, primary_key, key_columns, indexes, constraints):
    """Give the new `table` the old one's key, indexes, constraints and sequence position."""
    # The identity sequence made for the new table got a suffix while the old one existed.
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [quote(table)])
    sequence = cursor.fetchone()[0]
    wanted = f"{table}_id_seq"
    if sequence and sequence.rsplit(".", 1)[-1].strip('"') != wanted:
        cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {quote(wanted)}")
        sequence = wanted
    if sequence:
        cursor.execute(f"SELECT setval(%s, (SELECT COALESCE(MAX(id), 0) + 1 FROM {quote(table)}), "
                       f"false)", [sequence])
    columns = ", ".join(quote(column) for column in key_columns)
    cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT "
                   f"{quote(primary_key or table + '_pkey')} PRIMARY KEY ({columns})")
    for statement in indexes:
        cursor.execute(re.sub(r" ON (ONLY )?\S+ USING ", f" ON {quote(table)} USING ", statement,
                              count=1))
    for name, definition in constraints:
        cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
    cursor.execute(f"ANALYZE {quote(table)}")


def convert_to_partitioned(schema_editor, table, column, ahead_days=7):
    """Migration step: rebuild `table` as a table partitioned by day on `column`, with its rows,
    a DEFAULT partition (an insert never fails) and partitions for every recent day that has
    rows plus `ahead_days` ahead. PostgreSQL only; runs inside the migration's transaction."""
    if schema_editor.connection.vendor != "postgresql" or is_partitioned(table):
        return
    old = f"{table}_unpartitioned"
    today = utc_day(timezone.now())
    with schema_editor.connection.cursor() as cursor:
        indexes, constraints, primary_key = _recreate_empty(
            cursor, table, old, f" PARTITION BY RANGE ({quote(column)})")
        cursor.execute(f"CREATE TABLE {quote(default_partition(table))} "
                       f"PARTITION OF {quote(table)} DEFAULT")
        cursor.execute(
            f"SELECT DISTINCT date_trunc('day', {quote(column)} AT TIME ZONE 'UTC')::date "
            f"FROM {quote(old)} WHERE {quote(column)} >= %s AND {quote(column)} < %s",
            [day_start(today - timedelta(days=SETTLE_BACK_DAYS)), day_start(today)])
        days = {row[0] for row in cursor.fetchall()}
        days |= {today + timedelta(days=n) for n in range(ahead_days + 1)}
        for day in sorted(days):
            cursor.execute(
                f"CREATE TABLE {quote(partition_name(table, day))} PARTITION OF {quote(table)} "
                f"FOR VALUES FROM (%s) TO (%s)", [day_start(day), day_start(day + timedelta(days=1))])
        cursor.execute(f"INSERT INTO {quote(table)} SELECT * FROM {quote(old)}")
        cursor.execute(f"DROP TABLE {quote(old)}")
        _rebuild(cursor, table, primary_key, ["id", column], indexes, constraints)


def convert_to_plain(schema_editor, table, column):
    """Migration step back: `table` as one plain table again, rows, indexes and keys kept."""
    if schema_editor.connection.vendor != "postgresql" or not is_partitioned(table):
        return
    old = f"{table}_partitioned"
    with schema_editor.connection.cursor() as cursor:
        indexes, constraints, primary_key = _recreate_empty(cursor, table, old)
        cursor.execute(f"INSERT INTO {quote(table)} SELECT * FROM {quote(old)}")
        cursor.execute(f"DROP TABLE {quote(old)}")  # its partitions with it
        _rebuild(cursor, table, primary_key, ["id"], indexes, constraints)


def _recreate_empty(cursor, table, old, partitioning=""):
    """Lock `table`, rename it to `old` and create an empty `table` like it (with `partitioning`
    appended, if any); returns the old table's (indexes, constraints, primary key) to rebuild."""
    cursor.execute(f"LOCK TABLE {quote(table)} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(f"ALTER TABLE {quote(table)} RENAME TO {quote(old)}")
    definitions = _definitions(cursor, old)
    cursor.execute(
        f"CREATE TABLE {quote(table)} (LIKE {quote(old)} INCLUDING DEFAULTS INCLUDING "
        f"CONSTRAINTS INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMPRESSION){partitioning}")
    return definitions
