"""Tidy pandas frames of the gradebook for the records roll-up (the team contract)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from .database import (
    ANSWER_COLUMNS,
    ATTEMPT_COLUMNS,
    EMPLOYEE_COLUMNS,
    answer_table,
    attempt_table,
    employee_table,
    engine_for,
)


@dataclass(frozen=True)
class Frames:
    """Tidy frames of the gradebook for the records roll-up (see the contract).

    `answers` is read on first use: the records and their exports never need it,
    and at 100,000 employees x 6 modules it was 35 s of a 40 s read
    (shared/PERF_NOTES.md); only per-rule analytics and the dashboard ask for it.
    """

    employees: Any  #: pandas.DataFrame [EMPLOYEE_COLUMNS]
    attempts: Any  #: pandas.DataFrame [ATTEMPT_COLUMNS, or the columns asked for]
    db_url: str = ""
    employee_id: str | None = None  #: set when only one employee's rows were read

    @functools.cached_property
    def answers(self) -> Any:
        """pandas.DataFrame [ANSWER_COLUMNS], one row per (submission, question, rule)."""
        return read_answers(self.db_url, employee_id=self.employee_id)


def read_frames(
    db_url: str, *, employee_id: str | None = None, attempt_columns: list[str] = ATTEMPT_COLUMNS
) -> Frames:
    """Read the roster and every attempt into pandas frames (answers on first use).

    `attempt_columns` picks the attempt columns read (`RECORD_ATTEMPT_COLUMNS`:
    only what the records roll-up uses).

    With `employee_id`, only that employee's roster row and attempts are read,
    through the (employee_id, module_id) index: `records show` stays fast at
    any size. A database without our tables (nothing graded yet) gives empty
    frames with the right columns. Times are tz-aware UTC; rule_versions is a
    dict; red_line_misses is a count.
    """
    import pandas as pd

    engine = engine_for(db_url)
    present = set(sa.inspect(engine).get_table_names())
    with engine.connect() as conn:
        emp_query = sa.select(*[employee_table.c[c] for c in EMPLOYEE_COLUMNS])
        unknown = set(attempt_columns) - set(ATTEMPT_COLUMNS)
        if unknown:
            raise ValueError(f"not attempt columns: {sorted(unknown)}")
        att_query = sa.select(*[attempt_table.c[c] for c in attempt_columns])
        if employee_id is not None:
            emp_query = emp_query.where(employee_table.c.employee_id == employee_id)
            att_query = att_query.where(attempt_table.c.employee_id == employee_id)
        emp = _frame(conn, emp_query, EMPLOYEE_COLUMNS) if employee_table.name in present else None
        att = _frame(conn, att_query, attempt_columns) if attempt_table.name in present else None
    emp = pd.DataFrame(columns=EMPLOYEE_COLUMNS) if emp is None else emp
    att = pd.DataFrame(columns=attempt_columns) if att is None else att
    emp = emp.astype({c: "object" for c in EMPLOYEE_COLUMNS})
    # A module's attempts share a handful of rule_versions texts: parse each distinct one once
    # (the rows then share read-only dicts), and count red-line misses the same way.
    if "rule_versions" in att:
        att["rule_versions"] = _per_distinct(att["rule_versions"], _rule_versions)
    for column in ("started_at", "submitted_at"):
        if column in att:
            att[column] = pd.to_datetime(att[column], utc=True, format="ISO8601")
    if "red_line_misses" in att:
        att["red_line_misses"] = _per_distinct(att["red_line_misses"], _count_of_listed)
    kinds = {"score": "float64", "max_score": "float64", "passed": "bool", "late": "bool", "red_line_misses": "int64"}
    att = att.astype({c: kind for c, kind in kinds.items() if c in att})
    if "flags" in att:
        att["flags"] = att["flags"].astype("object")
    return Frames(employees=emp, attempts=att, db_url=db_url, employee_id=employee_id)


def _frame(conn: sa.Connection, query: sa.Select, columns: list[str]) -> Any:
    """The query's rows as a frame, fetched straight from the driver's cursor: SQLAlchemy's
    per-row processing and pandas' row-wise construction were most of a 650,000-attempt read."""
    import pandas as pd

    rows = conn.execute(query).cursor.fetchall()
    if not rows:
        return pd.DataFrame(columns=columns)
    # from_records splits the row tuples in C, 3x faster than transposing them in Python
    # (measured on 650,000 attempts); infer_objects then gives text columns pandas' string
    # dtype, as the column-wise build did: object columns made the roll-up 3x slower.
    return pd.DataFrame.from_records(rows, columns=columns).infer_objects()


def _rule_versions(text: Any) -> dict[str, int]:
    return json.loads(text) if isinstance(text, str) else {}


def _count_of_listed(text: Any) -> int:
    """How many ids a comma-separated list holds ('' holds none)."""
    return len([q for q in str(text).split(",") if q])


def _per_distinct(values: Any, parse: Any) -> Any:
    """`parse` applied to each value, computed once per distinct value (an object array)."""
    import numpy as np
    import pandas as pd

    # factorize hashes the column in C: a Python dict lookup per row was 4x slower.
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    parsed = np.empty(len(uniques), dtype=object)
    parsed[:] = [parse(v) for v in uniques]
    return parsed[codes]


def read_answers(db_url: str, *, employee_id: str | None = None) -> Any:
    """Every graded answer, one row per (submission, question, cited rule)."""
    import pandas as pd

    engine = engine_for(db_url)
    present = set(sa.inspect(engine).get_table_names())
    rows: list[Any] = []
    if attempt_table.name in present and answer_table.name in present:
        query = sa.select(
            answer_table.c.submission_id,
            attempt_table.c.employee_id,
            attempt_table.c.module_id,
            answer_table.c.question_id,
            answer_table.c.rules,
            answer_table.c.correct,
        ).join(attempt_table, attempt_table.c.submission_id == answer_table.c.submission_id)
        if employee_id is not None:
            query = query.where(attempt_table.c.employee_id == employee_id)
        with engine.connect() as conn:
            rows = conn.execute(query).all()
    exploded = [
        (r.submission_id, r.employee_id, r.module_id, r.question_id, rule, bool(r.correct))
        for r in rows
        for rule in r.rules.split(",")
        if rule
    ]
    return pd.DataFrame(exploded, columns=ANSWER_COLUMNS).astype({"correct": "bool"})


def attempted_modules(db_url: str, among: set[str]) -> set[str]:
    """Which of the modules `among` anyone has an attempt in (a records grid has a column
    for each). One indexed-or-early-exit EXISTS per module asked about, never a scan of
    every attempt: `records show` asks only about modules outside the campaign."""
    engine = engine_for(db_url)
    if not among or attempt_table.name not in set(sa.inspect(engine).get_table_names()):
        return set()
    with engine.connect() as conn:
        return {
            m
            for m in sorted(among)
            if conn.execute(sa.select(sa.exists().where(attempt_table.c.module_id == m))).scalar()
        }
