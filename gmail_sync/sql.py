"""The few writes on the sync's hot path, each one plain SQL statement.

The page loop writes its run and its receipts once per fetched batch. The ORM compiles every
UPDATE and INSERT anew, which costs about half a millisecond of CPU each, several times what
the database itself spends on them; so these statements are written out here. Values still go
through the fields' own conversions, so they are stored exactly as the ORM would store them.

On PostgreSQL the rows of an INSERT travel as one JSON parameter, read back into rows by
``json_populate_recordset``: a multi-row ``VALUES`` list has a placeholder per value, and
psycopg then parses the statement and quotes every value in Python, at every call, since it
caches only statements of at most 50 parameters. Other databases get the ``VALUES`` list (the
same SQL on SQLite 3.35 or newer, for ``RETURNING``).
"""
from __future__ import annotations

import datetime
import decimal
import json
import uuid
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from django.db import connection, models


def _column(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    meta = model._meta
    return meta.pk if name == "pk" else meta.get_field(name)  # type: ignore[return-value]


@lru_cache(maxsize=64)
def _update_sql(model: type[models.Model], values: tuple[str, ...], increments: tuple[str, ...],
                where: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    sets = [f"{quote(_column(model, name).column)} = %s" for name in values]
    sets += [f"{quote(c)} = {quote(c)} + %s" for c in (_column(model, name).column for name in increments)]
    conditions = [f"{quote(_column(model, name).column)} = %s" for name in where]
    return f"UPDATE {quote(model._meta.db_table)} SET {', '.join(sets)} WHERE {' AND '.join(conditions)}"


def update_where(model: type[models.Model], *, where: Mapping[str, Any], values: Mapping[str, Any],
                 increments: Mapping[str, int] | None = None) -> int:
    """``UPDATE … SET values, column = column + step … WHERE every where-field equals its value``;
    returns the number of rows changed."""
    increments = increments or {}
    sql = _update_sql(model, tuple(values), tuple(increments), tuple(where))
    params = [_column(model, name).get_db_prep_save(value, connection) for name, value in values.items()]
    params += list(increments.values())
    params += [_column(model, name).get_db_prep_value(value, connection) for name, value in where.items()]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def insert_new(model: type[models.Model], rows: Sequence[Mapping[str, Any]], *, unique: Sequence[str],
               returning: Sequence[str]) -> list[tuple[Any, ...]]:
    """Insert the rows that do not collide with an existing row on the ``unique`` fields (which a
    unique constraint must cover); return the ``returning`` values of the rows inserted.

    ``INSERT … ON CONFLICT DO NOTHING`` decides in the database, so two writers racing on the
    same row never both insert it and neither fails. Every row must have the same keys."""
    if not rows:
        return []
    # A JSONField with an encoder of its own needs that encoder, which the JSON path does not apply.
    custom_json = any(getattr(_column(model, name), "encoder", None) for name in rows[0])
    if connection.vendor == "postgresql" and not custom_json:
        return insert_new_from_json(model, rows, unique=unique, returning=returning)
    return insert_new_from_values(model, rows, unique=unique, returning=returning)


def _insert_head_tail(model: type[models.Model], names: Sequence[str], unique: Sequence[str],
                      returning: Sequence[str]) -> tuple[str, str]:
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(_column(model, n).column) for n in names)})"
    tail = (
        f" ON CONFLICT ({', '.join(quote(_column(model, n).column) for n in unique)}) DO NOTHING"
        f" RETURNING {', '.join(quote(_column(model, n).column) for n in returning)}"
    )
    return head, tail


def insert_new_from_values(model: type[models.Model], rows: Sequence[Mapping[str, Any]], *, unique: Sequence[str],
                           returning: Sequence[str]) -> list[tuple[Any, ...]]:
    """``insert_new`` as ``INSERT … VALUES (…), (…)``, values through ``get_db_prep_save``: any database."""
    if not rows:
        return []
    names = list(rows[0])
    fields = [_column(model, name) for name in names]
    per_statement = max(1, connection.ops.bulk_batch_size(fields, rows))
    head, tail = _insert_head_tail(model, names, unique, returning)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    inserted: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            params = [field.get_db_prep_save(row[name], connection)
                      for row in chunk for name, field in zip(names, fields, strict=True)]
            cursor.execute(f"{head} VALUES {', '.join([placeholder] * len(chunk))}{tail}", params)
            inserted += [tuple(row) for row in cursor.fetchall()]
    return inserted


def insert_new_from_json(model: type[models.Model], rows: Sequence[Mapping[str, Any]], *, unique: Sequence[str],
                         returning: Sequence[str]) -> list[tuple[Any, ...]]:
    """``insert_new`` with the rows as one JSON array: PostgreSQL only.

    Each value goes through its field's ``get_prep_value`` (what the ORM does before the driver
    adapts it), then into JSON as the text PostgreSQL reads for its column type: decimals and
    UUIDs as strings, dates and times in ISO 8601, JSONField values as nested JSON (the field's
    encoder is not applied: ``insert_new`` sends fields with one to the VALUES path)."""
    if not rows:
        return []
    names = list(rows[0])
    fields = [_column(model, name) for name in names]
    columns = [field.column for field in fields]
    head, tail = _insert_head_tail(model, names, unique, returning)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    sql = (f"{head} SELECT {', '.join(quote(c) for c in columns)} "
           f"FROM json_populate_recordset(NULL::{table}, %s::json){tail}")
    payload = json.dumps(
        [{column: field.get_prep_value(row[name]) for name, column, field in zip(names, columns, fields, strict=True)}
         for row in rows],
        default=_json_value, ensure_ascii=False, check_circular=False,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [payload])
        return [tuple(row) for row in cursor.fetchall()]


def _json_value(value: Any) -> Any:
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.date | datetime.time):  # datetime is a date
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} has no JSON form for insert_new")
