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
    attempts: Any  #: pandas.DataFrame [ATTEMPT_COLUMNS]
    db_url: str = ""
    employee_id: str | None = None  #: set when only one employee's rows were read

    @functools.cached_property
    def answers(self) -> Any:
        """pandas.DataFrame [ANSWER_COLUMNS], one row per (submission, question, rule)."""
        return read_answers(self.db_url, employee_id=self.employee_id)


def read_frames(db_url: str, *, employee_id: str | None = None) -> Frames:
    """Read the roster and every attempt into pandas frames (answers on first use).

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
        if employee_table.name in present:
            query = sa.select(*[employee_table.c[c] for c in EMPLOYEE_COLUMNS])
            if employee_id is not None:
                query = query.where(employee_table.c.employee_id == employee_id)
            emp = pd.DataFrame([tuple(r) for r in conn.execute(query)], columns=EMPLOYEE_COLUMNS)
        else:
            emp = pd.DataFrame(columns=EMPLOYEE_COLUMNS)
        if attempt_table.name in present:
            query = sa.select(*[attempt_table.c[c] for c in ATTEMPT_COLUMNS])
            if employee_id is not None:
                query = query.where(attempt_table.c.employee_id == employee_id)
            att = pd.DataFrame([tuple(r) for r in conn.execute(query)], columns=ATTEMPT_COLUMNS)
        else:
            att = pd.DataFrame(columns=ATTEMPT_COLUMNS)
    emp = emp.astype({c: "object" for c in EMPLOYEE_COLUMNS})
    att["rule_versions"] = [json.loads(v) if isinstance(v, str) else {} for v in att["rule_versions"]]
    for column in ("started_at", "submitted_at"):
        att[column] = pd.to_datetime(att[column], utc=True, format="ISO8601")
    att["red_line_misses"] = [len([q for q in str(v).split(",") if q]) for v in att["red_line_misses"]]
    att = att.astype(
        {"score": "float64", "max_score": "float64", "passed": "bool", "late": "bool", "red_line_misses": "int64"}
    )
    att["flags"] = att["flags"].astype("object")
    return Frames(employees=emp, attempts=att, db_url=db_url, employee_id=employee_id)


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


def attempted_modules(db_url: str) -> set[str]:
    """The modules anyone has an attempt in (a records grid has a column for each)."""
    engine = engine_for(db_url)
    if attempt_table.name not in set(sa.inspect(engine).get_table_names()):
        return set()
    with engine.connect() as conn:
        return {m for (m,) in conn.execute(sa.select(attempt_table.c.module_id).distinct())}
