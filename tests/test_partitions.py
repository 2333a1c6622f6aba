"""Meter values and message log partitioned by day on PostgreSQL: rows from the real paths land in
their day's partition, retention drops whole days, the reading key still de-duplicates; SQLite
keeps plain tables and deletes by date."""
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from csms import partitions
from csms.models import MessageLogEntry
from csms.ocpp import messagelog
from stations.models import Station
from tests import environment
from tests.helpers import eventually
from tests.transactions_helpers import new_token
from transactions.models import MeterValue, Transaction

METER_VALUES, MESSAGE_LOG = "transactions_metervalue", "csms_messagelogentry"
on_postgres = pytest.mark.skipif(environment.BACKEND != "services", reason="PostgreSQL only")
on_sqlite = pytest.mark.skipif(environment.BACKEND != "embedded", reason="SQLite only")


def iso(moment):
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def today():
    return timezone.now().astimezone(UTC).date()


def partition_of(table, where, params):
    """The partitions holding the rows `where` selects."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT tableoid::regclass::text FROM {table} WHERE {where}", params)
        return {row[0] for row in cursor.fetchall()}


def log_frames(identity, *moments):
    """Frames written through the message log's own batch writer, one per moment."""
    batch = [MessageLogEntry(identity=identity, timestamp=moment, direction="in", frame="[]")
             for moment in moments]
    assert messagelog.write(batch) == []
    return batch


@on_postgres
def test_both_tables_are_partitioned_by_day():
    for table in (METER_VALUES, MESSAGE_LOG):
        assert partitions.is_partitioned(table)
        with connection.cursor() as cursor:
            cursor.execute("SELECT partstrat FROM pg_partitioned_table "
                           "WHERE partrelid = %s::regclass", [table])
            assert cursor.fetchone()[0] == "r"  # range
            cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                           "WHERE i.inhparent = %s::regclass", [table])
            children = {row[0] for row in cursor.fetchall()}
        assert f"{table}_default" in children
        assert partitions.partition_name(table, today()) in children
        assert partitions.partition_name(table, today() + timedelta(days=7)) in children


@on_postgres
def test_rows_from_a_station_land_in_their_day(connect_station, identity):
    station = connect_station(identity)
    now = timezone.now()
    in_three_days = now + timedelta(days=3)
    for moment in (now, in_three_days):
        station.call("MeterValues", {"evseId": 1, "meterValue": [{"timestamp": iso(moment), "sampledValue": [
            {"value": 1234.5, "unitOfMeasure": {"unit": "Wh"}},
            {"value": 7.2, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "kW"}}]}]})
    station_pk = Station.objects.get(identity=identity).pk
    assert MeterValue.objects.filter(station_id=station_pk).count() == 4
    assert partition_of(METER_VALUES, "station_id = %s", [station_pk]) == {
        partitions.partition_name(METER_VALUES, moment.astimezone(UTC).date())
        for moment in (now, in_three_days)}
    # The frames of that exchange, written by the server's message log.
    eventually(lambda: MessageLogEntry.objects.filter(identity=identity, action="MeterValues").count() >= 4)
    assert partition_of(MESSAGE_LOG, "identity = %s", [identity]) <= {
        partitions.partition_name(MESSAGE_LOG, today()),
        partitions.partition_name(MESSAGE_LOG, today() - timedelta(days=1)),  # run across midnight
    }


@on_postgres
def test_a_repeated_reading_counts_once_across_the_partitioned_table(connect_station, identity):
    station = connect_station(identity, "1.6")
    started = station.call("StartTransaction", {"connectorId": 1, "idTag": new_token().id_token,
                                                "meterStart": 100, "timestamp": iso(timezone.now())})
    reading = {"connectorId": 1, "transactionId": started["transactionId"], "meterValue": [
        {"timestamp": iso(timezone.now()), "sampledValue": [{"value": "900", "unit": "Wh"}]}]}
    for _ in range(2):  # a repeat after a reconnect
        assert station.call("MeterValues", reading) == {}
    row = Transaction.objects.get(station__identity=identity, transaction_id=str(started["transactionId"]))
    assert MeterValue.objects.filter(transaction=row, raw_value="900").count() == 1
    # The raw multi-row INSERT ... ON CONFLICT DO NOTHING an ingest path may use is accepted too.
    stored = MeterValue.objects.get(transaction=row, raw_value="900")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {METER_VALUES} (station_id, transaction_id, timestamp, measurand, phase, "
            "location, context, raw_value, unit, multiplier, value, base_unit, after_end) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, '900', 'Wh', 0, 900, 'Wh', false), "
            "(%s, %s, %s, %s, %s, %s, %s, '950', 'Wh', 0, 950, 'Wh', false) ON CONFLICT DO NOTHING",
            [row.station_id, row.pk, stored.timestamp, stored.measurand, stored.phase, stored.location,
             stored.context] * 2)
        assert cursor.rowcount == 0  # both repeat the stored reading's key
    assert MeterValue.objects.filter(transaction=row).exclude(context="Transaction.Begin").count() == 1


@on_postgres
def test_retention_drops_whole_old_days_and_keeps_recent_ones(identity):
    now = timezone.now()
    # Far enough back (and retention long enough) that no other test's rows are old enough.
    old, recent = now - timedelta(days=2500), now - timedelta(hours=1)
    log_frames(identity, old, old + timedelta(minutes=1), recent)
    old_day = old.astimezone(UTC).date()
    # A day with no partition lands in DEFAULT; maintenance gives it one of its own.
    assert partition_of(MESSAGE_LOG, "identity = %s AND timestamp = %s", [identity, old]) == {
        f"{MESSAGE_LOG}_default"}
    settled = partitions.settle_default(MESSAGE_LOG, "timestamp", oldest_day=today() - timedelta(days=3000))
    assert settled[old_day] >= 2
    assert partition_of(MESSAGE_LOG, "identity = %s AND timestamp < %s", [identity, now - timedelta(days=1)]) \
        == {partitions.partition_name(MESSAGE_LOG, old_day)}

    outcome = messagelog.purge(retention_days=2000)
    assert outcome["dropped"] == [partitions.partition_name(MESSAGE_LOG, old_day)]
    assert partitions.partition_name(MESSAGE_LOG, old_day) not in partitions.day_partitions(MESSAGE_LOG).values()
    assert list(MessageLogEntry.objects.filter(identity=identity).values_list("timestamp", flat=True)) == [recent]


@on_postgres
def test_meter_value_retention_drops_days_and_deletes_old_rows_left_in_default(identity):
    station = Station.objects.create(identity=identity)
    now = timezone.now()
    far_past, old, recent = (datetime(1999, 1, 1, tzinfo=UTC), now - timedelta(days=2500),
                             now - timedelta(minutes=5))
    MeterValue.objects.bulk_create([MeterValue(station=station, timestamp=moment, raw_value="1", unit="Wh")
                                    for moment in (far_past, old, recent)])
    old_day = old.astimezone(UTC).date()
    partitions.ensure_days(METER_VALUES, "timestamp", [old_day])
    outcome = partitions.apply_retention(MeterValue, "timestamp", 2000)
    assert outcome["dropped"] == [partitions.partition_name(METER_VALUES, old_day)]
    assert outcome["deleted"] >= 1  # the 1999 reading, kept in DEFAULT (no day of its own)
    assert list(MeterValue.objects.filter(station=station).values_list("timestamp", flat=True)) == [recent]


@on_postgres
def test_making_partitions_ahead_is_idempotent_and_takes_future_rows_out_of_default(identity):
    future = timezone.now() + timedelta(days=20)
    future_day = future.astimezone(UTC).date()
    log_frames(identity, future)
    assert partition_of(MESSAGE_LOG, "identity = %s", [identity]) == {f"{MESSAGE_LOG}_default"}

    made = partitions.ensure_ahead(MESSAGE_LOG, "timestamp", ahead_days=21)
    assert made[future_day] == 1 and set(made) <= {today() + timedelta(days=n) for n in range(22)}
    assert partition_of(MESSAGE_LOG, "identity = %s", [identity]) == {
        partitions.partition_name(MESSAGE_LOG, future_day)}
    assert partitions.ensure_ahead(MESSAGE_LOG, "timestamp", ahead_days=21) == {}
    days = partitions.day_partitions(MESSAGE_LOG)
    assert all(today() + timedelta(days=n) in days for n in range(22))
    # The periodic pass finds nothing more to make, and runs again without error.
    assert partitions.maintain()[MESSAGE_LOG]["made"] == []


@on_sqlite
def test_sqlite_tables_are_plain_and_retention_deletes_by_date(identity):
    assert not partitions.is_partitioned(METER_VALUES)
    assert not partitions.is_partitioned(MESSAGE_LOG)
    station = Station.objects.create(identity=identity)
    now = timezone.now()
    old, recent = now - timedelta(days=2500), now - timedelta(minutes=5)
    MeterValue.objects.bulk_create([MeterValue(station=station, timestamp=moment, raw_value="1", unit="Wh")
                                    for moment in (old, recent)])
    log_frames(identity, old, recent)

    assert messagelog.purge(retention_days=2000) == {"dropped": [], "deleted": 1}
    assert partitions.apply_retention(MeterValue, "timestamp", 0)["deleted"] == 0  # 0: forever
    assert partitions.apply_retention(MeterValue, "timestamp", 2000) == {"dropped": [], "deleted": 1}
    for model, rows in ((MeterValue, MeterValue.objects.filter(station=station)),
                        (MessageLogEntry, MessageLogEntry.objects.filter(identity=identity))):
        assert list(rows.values_list("timestamp", flat=True)) == [recent], model
    summary = partitions.maintain()
    assert summary[METER_VALUES]["made"] == [] and summary[MESSAGE_LOG]["made"] == []
