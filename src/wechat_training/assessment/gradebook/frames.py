"""Tidy pandas frames of the gradebook for the records roll-up (the team contract)."""

from __future__ import annotations

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
    """Tidy frames of the gradebook for the records roll-up (see the contract)."""

    employees: Any  #: pandas.DataFrame [EMPLOYEE_COLUMNS]
    attempts: Any  #: pandas.DataFrame [ATTEMPT_COLUMNS]
    answers: Any  #: pandas.DataFrame [ANSWER_COLUMNS], one row per (submission, question, rule)


def read_frames(db_url: str) -> Frames:
    """Read the roster, every attempt and every answer into pandas frames.

    A database without our tables (nothing graded yet) gives empty frames with
    the right columns. Times are tz-aware UTC; rule_versions is a dict;
    red_line_misses is a count.
    """
    import pandas as pd

    engine = engine_for(db_url)
    present = set(sa.inspect(engine).get_table_names())
    with engine.connect() as conn:
        if employee_table.name in present:
            emp = pd.DataFrame(
                [tuple(r) for r in conn.execute(sa.select(*[employee_table.c[c] for c in EMPLOYEE_COLUMNS]))],
                columns=EMPLOYEE_COLUMNS,
            )
        else:
            emp = pd.DataFrame(columns=EMPLOYEE_COLUMNS)
        if attempt_table.name in present:
            att = pd.DataFrame(
                [tuple(r) for r in conn.execute(sa.select(*[attempt_table.c[c] for c in ATTEMPT_COLUMNS]))],
                columns=ATTEMPT_COLUMNS,
            )
            ans_rows = conn.execute(
                sa.select(
                    answer_table.c.submission_id,
                    attempt_table.c.employee_id,
                    attempt_table.c.module_id,
                    answer_table.c.question_id,
                    answer_table.c.rules,
                    answer_table.c.correct,
                ).join(attempt_table, attempt_table.c.submission_id == answer_table.c.submission_id)
            ).all()
        else:
            att = pd.DataFrame(columns=ATTEMPT_COLUMNS)
            ans_rows = []
    emp = emp.astype({c: "object" for c in EMPLOYEE_COLUMNS})
    att["rule_versions"] = [json.loads(v) if isinstance(v, str) else {} for v in att["rule_versions"]]
    for column in ("started_at", "submitted_at"):
        att[column] = pd.to_datetime(att[column], utc=True, format="ISO8601")
    att["red_line_misses"] = [len([q for q in str(v).split(",") if q]) for v in att["red_line_misses"]]
    att = att.astype(
        {"score": "float64", "max_score": "float64", "passed": "bool", "late": "bool", "red_line_misses": "int64"}
    )
    att["flags"] = att["flags"].astype("object")
    exploded = [
        (r.submission_id, r.employee_id, r.module_id, r.question_id, rule, bool(r.correct))
        for r in ans_rows
        for rule in r.rules.split(",")
        if rule
    ]
    ans = pd.DataFrame(exploded, columns=ANSWER_COLUMNS).astype({"correct": "bool"})
    return Frames(employees=emp, attempts=att, answers=ans)
