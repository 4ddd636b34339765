"""Graded attempts: wt_attempt / wt_answer rows and rejected store files, stored with
nbgrader's submission rows of each employee's BEST attempt (`nbgrader_mirror`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from .database import (
    COURSE_ID,
    GradebookError,
    answer_table,
    attempt_table,
    chunks,
    engine_for,
    insert_many,
    nbgrader_tables,
    rejected_table,
)
from .nbgrader_mirror import ensure_notebook_rows, ensure_students, refresh_best


@dataclass(frozen=True)
class AssignmentCells:
    """nbgrader's ids for one module's assignment, notebook and cells."""

    module_id: str
    assignment_id: str
    notebook_id: str
    grade_cells: dict[str, tuple[str, float]]  #: grade_id -> (base_cell id, max score)
    solution_cells: dict[str, str]  #: grade_id -> base_cell id


def assignment_cells(db_url: str, module_id: str) -> AssignmentCells | None:
    """The module's cells as registered in nbgrader, or None if not registered."""
    engine = engine_for(db_url)
    nb = nbgrader_tables(engine)
    a, n, bc, gc, sc = nb["assignment"], nb["notebook"], nb["base_cell"], nb["grade_cells"], nb["solution_cells"]
    with engine.connect() as conn:
        assignment = conn.execute(sa.select(a.c.id).where(a.c.name == module_id)).first()
        if assignment is None:
            return None
        notebook = conn.execute(
            sa.select(n.c.id).where(n.c.assignment_id == assignment.id, n.c.name == module_id)
        ).first()
        if notebook is None:
            return None
        grades = conn.execute(
            sa.select(bc.c.name, bc.c.id, gc.c.max_score)
            .join(gc, gc.c.id == bc.c.id)
            .where(bc.c.notebook_id == notebook.id)
        ).all()
        solutions = conn.execute(
            sa.select(bc.c.name, bc.c.id).join(sc, sc.c.id == bc.c.id).where(bc.c.notebook_id == notebook.id)
        ).all()
    return AssignmentCells(
        module_id=module_id,
        assignment_id=assignment.id,
        notebook_id=notebook.id,
        grade_cells={r.name: (r.id, float(r.max_score)) for r in grades},
        solution_cells={r.name: r.id for r in solutions},
    )


def register_assignment(course_dir: Path, db_url: str, module_id: str) -> None:
    """Register a built source assignment in the gradebook with nbgrader's own
    `generate_assignment` (in-process), so its master copies are nbgrader's."""
    from nbgrader.apps import NbGraderAPI  # lazy: ~5 s import
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(Path(course_dir).resolve())
    config.CourseDirectory.db_url = db_url
    config.CourseDirectory.course_id = COURSE_ID
    config.Exchange.root = str(Path(course_dir).resolve() / "exchange")
    # As grading/nbgrader_config.py: the release shows `answer = ""`, not nbgrader's
    # `raise NotImplementedError()` stub.
    from ..assignments import ANSWER_STUB

    config.ClearSolutions.code_stub = {"python": ANSWER_STUB}
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    result = api.generate_assignment(module_id, force=True, create=True)
    if not result.get("success"):
        raise GradebookError(
            f"nbgrader generate_assignment {module_id} failed: {result.get('error') or result.get('log')}"
        )


# --------------------------------------------------------------------------- attempts

#: wt_attempt.source of an attempt graded from an nbgrader notebook (the portal's are "portal").
NOTEBOOK_SOURCE = "notebook"


@dataclass(frozen=True)
class AttemptRow:
    """One graded attempt ready to be stored (values as the wt_* columns hold them)."""

    attempt: dict[str, Any]
    answers: list[dict[str, Any]]
    #: Scores per nbgrader grade_id for this attempt (questions not asked: 0).
    cell_scores: dict[str, float]


def known_submission_ids(db_url: str, module_id: str | None = None) -> set[str]:
    engine = engine_for(db_url)
    query = sa.select(attempt_table.c.submission_id)
    if module_id:
        query = query.where(attempt_table.c.module_id == module_id)
    with engine.connect() as conn:
        return set(conn.execute(query).scalars())


def known_attempt_keys(db_url: str, module_id: str | None = None) -> set[tuple[str, str, str]]:
    """(module, employee, submission id) of every stored attempt."""
    t = attempt_table
    query = sa.select(t.c.module_id, t.c.employee_id, t.c.submission_id)
    if module_id:
        query = query.where(t.c.module_id == module_id)
    with engine_for(db_url).connect() as conn:
        return {tuple(r) for r in conn.execute(query)}


def known_rejected(db_url: str) -> set[str]:
    with engine_for(db_url).connect() as conn:
        return set(conn.execute(sa.select(rejected_table.c.path)).scalars())


def record_rejected(db_url: str, rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        return
    engine = engine_for(db_url)
    with engine.begin() as conn:
        known = set(conn.execute(sa.select(rejected_table.c.path)).scalars())
        fresh = [dict(r) for r in rows if r["path"] not in known]
        if fresh:
            conn.execute(rejected_table.insert(), fresh)


def rejected(db_url: str) -> list[dict[str, Any]]:
    engine = engine_for(db_url)
    if not sa.inspect(engine).has_table(rejected_table.name):
        return []
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(rejected_table).order_by(rejected_table.c.path))]


def store_attempts(db_url: str, rows: Sequence[AttemptRow], cells: Mapping[str, AssignmentCells]) -> int:
    """Store a batch of graded attempts and refresh nbgrader's best-attempt rows,
    all in ONE transaction. Attempts already stored are skipped (idempotent).
    Returns how many attempts were new."""
    if not rows:
        return 0
    engine = engine_for(db_url)
    nb = nbgrader_tables(engine)
    with engine.begin() as conn:
        ids = [r.attempt["submission_id"] for r in rows]
        seen = {
            sid
            for chunk in chunks(ids, 500)
            for sid in conn.execute(
                sa.select(attempt_table.c.submission_id).where(attempt_table.c.submission_id.in_(chunk))
            ).scalars()
        }
        fresh: dict[str, AttemptRow] = {}
        for r in rows:
            sid = r.attempt["submission_id"]
            if sid not in seen and sid not in fresh:
                fresh[sid] = r
        if not fresh:
            return 0
        insert_many(conn, attempt_table, [r.attempt for r in fresh.values()])
        answers = [a for r in fresh.values() for a in r.answers]
        if answers:
            insert_many(conn, answer_table, answers)
        ensure_students(conn, nb, {r.attempt["employee_id"] for r in fresh.values()})
        refresh_best(conn, nb, list(fresh.values()), cells)
        ensure_notebook_rows(conn, nb, [r for r in fresh.values() if r.attempt["source"] == NOTEBOOK_SOURCE], cells)
    return len(fresh)
