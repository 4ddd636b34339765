"""Graded attempts: wt_attempt / wt_answer rows, rejected store files, and
nbgrader's submission rows kept at each employee's BEST attempt per module."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
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
    employee_table,
    engine_for,
    insert_many,
    insert_tuples,
    nbgrader_tables,
    new_ids,
    parse_utc,
    rejected_table,
)


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


def best_key(attempt: Mapping[str, Any]) -> tuple:
    """Order of preference for the official (nbgrader) record: clean before
    flagged, passed before failed, higher share, then the EARLIER attempt."""
    share = attempt["score"] / attempt["max_score"] if attempt["max_score"] else 0.0
    return (not attempt["flags"], bool(attempt["passed"]), share, _negated_time(attempt["submitted_at"]))


def _negated_time(stamp: str) -> float:
    return -parse_utc(stamp).timestamp()


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
        _ensure_students(conn, nb, {r.attempt["employee_id"] for r in fresh.values()})
        _refresh_best(conn, nb, list(fresh.values()), cells)
        _ensure_comments(conn, nb, [r for r in fresh.values() if r.attempt["source"] == NOTEBOOK_SOURCE], cells)
    return len(fresh)


def _ensure_students(conn: sa.Connection, nb: Mapping[str, sa.Table], employee_ids: set[str]) -> None:
    student = nb["student"]
    ids = sorted(employee_ids)
    present = {
        sid
        for chunk in chunks(ids, 500)
        for sid in conn.execute(sa.select(student.c.id).where(student.c.id.in_(chunk))).scalars()
    }
    missing = [i for i in ids if i not in present]
    if not missing:
        return
    names = {
        row.employee_id: row
        for chunk in chunks(missing, 500)
        for row in conn.execute(
            sa.select(employee_table.c.employee_id, employee_table.c.name, employee_table.c.email).where(
                employee_table.c.employee_id.in_(chunk)
            )
        )
    }
    conn.execute(
        student.insert(),
        [
            {
                "id": i,
                "first_name": "",
                # An employee missing from the roster is still graded; the
                # roster import fills the name in later.
                "last_name": names[i].name if i in names else "",
                "email": (names[i].email or None) if i in names else None,
            }
            for i in missing
        ],
    )


def _refresh_best(
    conn: sa.Connection, nb: Mapping[str, sa.Table], fresh: list[AttemptRow], cells: Mapping[str, AssignmentCells]
) -> None:
    """Make nbgrader's submission for every touched (employee, module) hold the best attempt."""
    new_id = new_ids()
    touched: dict[str, set[str]] = {}
    for r in fresh:
        touched.setdefault(r.attempt["module_id"], set()).add(r.attempt["employee_id"])
    new_by_id = {r.attempt["submission_id"]: r for r in fresh}
    sa_t, sn_t, grade_t, comment_t = nb["submitted_assignment"], nb["submitted_notebook"], nb["grade"], nb["comment"]
    for module_id, employee_ids in touched.items():
        info = cells[module_id]
        ids = sorted(employee_ids)
        # Best per employee among ALL their attempts at this module, old and new.
        candidates: dict[str, dict[str, Any]] = {}
        for chunk in chunks(ids, 500):
            for row in conn.execute(
                sa.select(
                    attempt_table.c.submission_id,
                    attempt_table.c.employee_id,
                    attempt_table.c.score,
                    attempt_table.c.max_score,
                    attempt_table.c.passed,
                    attempt_table.c.flags,
                    attempt_table.c.submitted_at,
                ).where(attempt_table.c.module_id == module_id, attempt_table.c.employee_id.in_(chunk))
            ):
                current = candidates.get(row.employee_id)
                attempt = dict(row._mapping)
                if current is None or best_key(attempt) > best_key(current):
                    candidates[row.employee_id] = attempt
        # An older best that no new attempt beat: its nbgrader rows are already
        # right, nothing to write for that employee.
        best_scores = {
            employee_id: new_by_id[attempt["submission_id"]].cell_scores
            for employee_id, attempt in candidates.items()
            if attempt["submission_id"] in new_by_id
        }
        changed = {e: candidates[e] for e in best_scores}
        if not changed:
            continue
        existing = {
            row.student_id: row
            for chunk in chunks(sorted(changed), 500)
            for row in conn.execute(
                sa.select(sa_t.c.id, sa_t.c.student_id, sn_t.c.id.label("nb_id"))
                .join(sn_t, sn_t.c.assignment_id == sa_t.c.id)
                .where(sa_t.c.assignment_id == info.assignment_id, sa_t.c.student_id.in_(chunk))
            )
        }
        new_sa, new_sn, new_scores, new_commented, upd_sa, upd_sn, upd_grades = [], [], [], [], [], [], []
        for employee_id, attempt in changed.items():
            stamp = parse_utc(attempt["submitted_at"]).replace(tzinfo=None)
            scores = best_scores[employee_id]
            flagged = bool(attempt["flags"])
            if employee_id in existing:
                row = existing[employee_id]
                upd_sa.append({"key": row.id, "timestamp": stamp})
                upd_sn.append({"key": row.nb_id, "flagged": flagged})
                for grade_id, (cell_id, _max) in info.grade_cells.items():
                    upd_grades.append({"nb": row.nb_id, "cell": cell_id, "auto_score": scores.get(grade_id, 0.0)})
                continue
            sa_id, sn_id = next(new_id), next(new_id)
            new_sa.append((sa_id, info.assignment_id, employee_id, stamp))
            new_sn.append((sn_id, sa_id, info.notebook_id, flagged, None))
            new_scores.append((sn_id, scores))
            if new_by_id[attempt["submission_id"]].attempt["source"] == NOTEBOOK_SOURCE:
                new_commented.append(sn_id)
        if new_sa:
            insert_tuples(conn, sa_t, ("id", "assignment_id", "student_id", "timestamp"), new_sa)
            insert_tuples(
                conn, sn_t, ("id", "assignment_id", "notebook_id", "flagged", "late_submission_penalty"), new_sn
            )
            insert_tuples(conn, grade_t, GRADE_COLUMNS, _new_grades(info, new_scores, new_id))
            insert_tuples(conn, comment_t, COMMENT_COLUMNS, _blank_comments(info, new_commented, new_id))
        if upd_sa:
            conn.execute(
                sa_t.update().where(sa_t.c.id == sa.bindparam("key")).values(timestamp=sa.bindparam("timestamp")),
                upd_sa,
            )
            conn.execute(
                sn_t.update().where(sn_t.c.id == sa.bindparam("key")).values(flagged=sa.bindparam("flagged")), upd_sn
            )
            conn.execute(
                grade_t.update()
                .where(grade_t.c.notebook_id == sa.bindparam("nb"), grade_t.c.cell_id == sa.bindparam("cell"))
                .values(auto_score=sa.bindparam("auto_score"), needs_manual_grade=False),
                upd_grades,
            )


#: Column order of the grade and comment rows `_new_grades` and `_blank_comments` build.
GRADE_COLUMNS = ("id", "cell_id", "notebook_id", "auto_score", "manual_score", "extra_credit", "needs_manual_grade")
COMMENT_COLUMNS = ("id", "cell_id", "notebook_id", "auto_comment", "manual_comment")


def _new_grades(
    info: AssignmentCells, scores: list[tuple[str, dict[str, float]]], new_id: Iterator[str]
) -> list[tuple]:
    """Grade rows of new submitted notebooks (ids ascending as `new_id` gave them), in
    the order of the unique (cell_id, notebook_id) index and given ascending ids in
    that order: SQLite's B-trees take sorted inserts ~10% faster."""
    cells = sorted((cell_id, grade_id) for grade_id, (cell_id, _max) in info.grade_cells.items())
    return [
        (next(new_id), cell_id, notebook_id, by_grade.get(grade_id, 0.0), None, None, False)
        for cell_id, grade_id in cells
        for notebook_id, by_grade in scores
    ]


def _blank_comments(info: AssignmentCells, notebook_ids: list[str], new_id: Iterator[str]) -> list[tuple]:
    """Empty comment rows for every solution cell of the submitted notebooks `notebook_ids`
    (in ascending order), in index order as `_new_grades`."""
    return [
        (next(new_id), cell_id, notebook_id, None, None)
        for cell_id in sorted(info.solution_cells.values())
        for notebook_id in notebook_ids
    ]


def _ensure_comments(
    conn: sa.Connection,
    nb: Mapping[str, sa.Table],
    notebook_rows: list[AttemptRow],
    cells: Mapping[str, AssignmentCells],
) -> None:
    """A comment row for every solution cell of the nbgrader submission of each
    notebook attempt, where one is missing (comments already there are kept).

    formgrader's page of an autograded notebook looks every one up
    (`GetGrades` -> `find_comment`, which raises `MissingEntry` without it).
    A portal attempt has no notebook for formgrader to open (its page says the
    file is not found, as for any submission without one), so the bulk grader
    writes its submission without comment rows: 38 fewer rows per attempt.
    """
    sa_t, sn_t, comment_t = nb["submitted_assignment"], nb["submitted_notebook"], nb["comment"]
    new_id = new_ids()
    for row in notebook_rows:
        info = cells[row.attempt["module_id"]]
        submitted_notebook_id = conn.execute(
            sa.select(sn_t.c.id)
            .join(sa_t, sn_t.c.assignment_id == sa_t.c.id)
            .where(sa_t.c.assignment_id == info.assignment_id, sa_t.c.student_id == row.attempt["employee_id"])
        ).scalar_one()
        present = set(
            conn.execute(
                sa.select(comment_t.c.cell_id).where(comment_t.c.notebook_id == submitted_notebook_id)
            ).scalars()
        )
        missing = [c for c in _blank_comments(info, [submitted_notebook_id], new_id) if c[1] not in present]
        insert_tuples(conn, comment_t, COMMENT_COLUMNS, missing)
