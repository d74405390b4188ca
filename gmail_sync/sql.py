"""The few writes on the sync's hot path, each one plain SQL statement.

The page loop writes its run and its receipts once per fetched batch. The ORM compiles every
UPDATE and INSERT anew, which costs about half a millisecond of CPU each, several times what
the database itself spends on them; so these statements are written out here. Values still go
through each field's ``get_db_prep_save``, so they are stored exactly as the ORM would store
them. The SQL is the same on PostgreSQL and SQLite (3.35 or newer, for ``RETURNING``).
"""
from __future__ import annotations

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
    quote = connection.ops.quote_name
    names = list(rows[0])
    fields = [_column(model, name) for name in names]
    per_statement = max(1, connection.ops.bulk_batch_size(fields, rows))
    head = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    )
    tail = (
        f" ON CONFLICT ({', '.join(quote(_column(model, n).column) for n in unique)}) DO NOTHING"
        f" RETURNING {', '.join(quote(_column(model, n).column) for n in returning)}"
    )
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    inserted: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            params = [field.get_db_prep_save(row[name], connection)
                      for row in chunk for name, field in zip(names, fields, strict=True)]
            cursor.execute(head + ", ".join([placeholder] * len(chunk)) + tail, params)
            inserted += [tuple(row) for row in cursor.fetchall()]
    return inserted
