"""Many rows in one statement whose text does not depend on how many rows there are.

The hot path writes a batch's readings, events and message-log frames with one statement each.
Written as a multi-row VALUES list, such a statement has a placeholder per value: its text is new
for every batch size, so psycopg parses it again each time (a regular-expression scan of the
whole text, a third of the writer's CPU in the ingest profile) and the server plans it again.
On PostgreSQL the rows go instead as one array per column, unnested by the server:
`INSERT ... SELECT * FROM unnest(%b::bigint[], %b::text[], ...)`. The text is fixed per table,
so psycopg keeps its parse and the server its plan (prepared after the fifth use), and the
parameters are bound on the server, in binary. SQLite, which has no arrays, keeps the VALUES list.

Values are given as the database takes them: `db_value` (Django's `field.get_db_prep_save`,
skipped on PostgreSQL where it would hand the value back unchanged)."""
import datetime
import decimal

from django.db import connection
from django.db.models import DateTimeField, DecimalField, FloatField, JSONField
from django.db.models.constants import OnConflict

def statement_cursor():
    """A cursor that binds parameters on the server on PostgreSQL: Django's default cursor
    quotes every parameter into the SQL text in Python. Logged and counted like any Django
    cursor."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    return connection._prepare_cursor(psycopg.Cursor(connection.connection))


_PLAIN = {str, int, bool}
_NEEDS_DJANGO = (DateTimeField, DecimalField, JSONField)


def db_value(field, value):
    """`value` as the database takes it for `field`. On PostgreSQL the values the hot path
    holds (text, numbers, aware datetimes, finite decimals) go as they are: Django's preparation
    returns them unchanged, at a cost per value that a batch of thousands of readings notices.
    Anything else (JSON, naive datetimes, SQLite) is prepared by Django."""
    if connection.vendor == "postgresql":
        kind = type(value)
        if value is None or (kind in _PLAIN and not isinstance(field, _NEEDS_DJANGO)):
            return value
        if kind is float and isinstance(field, FloatField):  # Django would truncate one for an int
            return value
        if kind is datetime.datetime and value.tzinfo is not None \
                and isinstance(field, DateTimeField):
            return value
        if kind is decimal.Decimal and value.is_finite() and isinstance(field, DecimalField):
            return value
    return field.get_db_prep_save(value, connection)


def unnest(types, rows):
    """SQL `unnest(%b::type[], ...)` of columns of `types` (PostgreSQL type names, as
    `field.cast_db_type` gives them), and its parameters: one list per column of `rows`."""
    # %b: arrays in binary. psycopg dumps a text-format array in Python, escaping every element
    # with a regular expression: nine times the CPU of the binary form for a batch of readings.
    sql = "unnest(" + ", ".join(f"%b::{name}[]" for name in types) + ")"
    columns = [list(column) for column in zip(*rows)] if rows else [[] for _ in types]
    return sql, columns


def insert(table, fields, rows, skip_conflicts=False, returning=None):
    """Insert `rows` (lists of database values in `fields`' order) into `table`. With
    `skip_conflicts`, a row breaking a unique key is skipped (ON CONFLICT DO NOTHING; on SQLite,
    call it only where no other constraint can fail: INSERT OR IGNORE skips those too). With
    `returning` (a column), that column of each inserted row, in the rows' order."""
    if not rows:
        return []
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    if connection.vendor != "postgresql":
        return _insert_values(table, columns, len(fields), rows, skip_conflicts, returning)
    source, params = unnest([field.cast_db_type(connection) for field in fields], rows)
    statement = f"INSERT INTO {quote(table)} ({columns}) SELECT * FROM {source}"
    if skip_conflicts:
        statement += " ON CONFLICT DO NOTHING"
    if returning:
        statement += f" RETURNING {quote(returning)}"
    with statement_cursor() as cursor:
        # An INSERT ... SELECT returns its rows in the order the SELECT gave them: unnest's.
        cursor.execute(statement, params)
        return [row[0] for row in cursor.fetchall()] if returning else []


def _insert_values(table, columns, width, rows, skip_conflicts, returning):
    quote, ops = connection.ops.quote_name, connection.ops
    # SQLite binds at most 999 (older) to 32,766 parameters a statement: Django knows how many.
    size = max(1, ops.bulk_batch_size([None] * width, rows))
    one_row = "(" + ", ".join(["%s"] * width) + ")"
    on_conflict = OnConflict.IGNORE if skip_conflicts else None
    results = []
    for start in range(0, len(rows), size):
        chunk = rows[start:start + size]
        statement = (f"{ops.insert_statement(on_conflict=on_conflict)} {quote(table)} ({columns})"
                     f" VALUES {', '.join([one_row] * len(chunk))}")
        if returning:
            statement += f" RETURNING {quote(returning)}"
        with statement_cursor() as cursor:
            cursor.execute(statement, [value for row in chunk for value in row])
            if returning:
                results += [row[0] for row in cursor.fetchall()]
    return results
