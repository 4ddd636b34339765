"""The roster in the gradebook: wt_employee rows and nbgrader students, kept in step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from .database import ROSTER_COLUMNS, chunks, employee_table, engine_for, ensure_schema, nbgrader_tables, utc_text


def upsert_employees(db_url: str, rows: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    """Insert or update roster rows in ONE transaction; returns (added, updated).

    The nbgrader student (id, last_name = full name, email) is kept in step so
    formgrader lists people by name.
    """
    ensure_schema(db_url)
    engine = engine_for(db_url)
    now = utc_text()
    ids = [r["employee_id"] for r in rows]
    nb = nbgrader_tables(engine)
    student = nb["student"]
    with engine.begin() as conn:
        existing = {
            row.employee_id: row
            for chunk in chunks(ids, 500)
            for row in conn.execute(sa.select(employee_table).where(employee_table.c.employee_id.in_(chunk)))
        }
        students = {
            row.id
            for chunk in chunks(ids, 500)
            for row in conn.execute(sa.select(student.c.id).where(student.c.id.in_(chunk)))
        }
        new = [
            {**_values(r), "updated_at": now}
            for r in rows
            if r["employee_id"] not in existing
        ]
        changed = [
            {**_values(r), "updated_at": now, "key": r["employee_id"]}
            for r in rows
            if r["employee_id"] in existing
            and any(getattr(existing[r["employee_id"]], c) != v for c, v in _values(r).items())
        ]
        if new:
            conn.execute(employee_table.insert(), new)
        if changed:
            conn.execute(
                employee_table.update()
                .where(employee_table.c.employee_id == sa.bindparam("key"))
                .values({c: sa.bindparam(c) for c in [*ROSTER_COLUMNS[1:], "updated_at"]}),
                changed,
            )
        add_students = [
            {"id": r["employee_id"], "first_name": "", "last_name": r["name"], "email": r.get("email") or None}
            for r in rows
            if r["employee_id"] not in students
        ]
        update_students = [
            {"key": r["employee_id"], "first_name": "", "last_name": r["name"], "email": r.get("email") or None}
            for r in rows
            if r["employee_id"] in students
        ]
        if add_students:
            conn.execute(student.insert(), add_students)
        if update_students:
            conn.execute(
                student.update()
                .where(student.c.id == sa.bindparam("key"))
                .values(
                    first_name=sa.bindparam("first_name"),
                    last_name=sa.bindparam("last_name"),
                    email=sa.bindparam("email"),
                ),
                update_students,
            )
    return len(new), len(changed)


def _values(row: Mapping[str, Any]) -> dict[str, Any]:
    values = {c: row.get(c) for c in ROSTER_COLUMNS}
    values["wecom_userid"] = values["wecom_userid"] or ""  # optional roster column
    return values


def employees(db_url: str) -> dict[str, dict[str, Any]]:
    engine = engine_for(db_url)
    if not sa.inspect(engine).has_table(employee_table.name):
        return {}
    with engine.connect() as conn:
        return {row.employee_id: dict(row._mapping) for row in conn.execute(sa.select(*_readable_columns(engine)))}


def employee_by_login(db_url: str, login: str) -> dict[str, Any] | None:
    """The roster row whose id equals `login` ignoring case, or None.

    Single sign-on systems (and JupyterHub by default) lower-case user names
    (E001001 -> e001001) while HR's roster keeps its own case: both sides are
    compared lower-cased and the roster's id is what the caller records. Two
    roster ids differing only in case are ambiguous: None, never a guess.
    """
    engine = engine_for(db_url)
    if not sa.inspect(engine).has_table(employee_table.name):
        return None
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(*_readable_columns(engine)).where(
                sa.func.lower(employee_table.c.employee_id) == login.strip().lower()
            )
        ).all()
    return dict(rows[0]._mapping) if len(rows) == 1 else None


def _readable_columns(engine: sa.Engine) -> list[Any]:
    """The roster columns, with "" for any added after this database was made.

    Readers (records, the hub's login lookup) must work on a gradebook that only
    a newer `roster import` or `grade` would upgrade, without writing to it."""
    have = {c["name"] for c in sa.inspect(engine).get_columns(employee_table.name)}
    return [c if c.name in have else sa.literal("").label(c.name) for c in employee_table.columns]
