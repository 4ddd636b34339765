"""nbgrader's own tables kept at each employee's BEST attempt per module.

formgrader and `nbgrader export` read the best attempt from nbgrader's
student, submitted_assignment, submitted_notebook, grade and comment tables;
`store_attempts` calls `refresh_best` in the transaction that stores the
attempts, so the mirror never disagrees with wt_attempt.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .database import attempt_table, chunks, employee_table, insert_tuples, new_ids, parse_utc

if TYPE_CHECKING:
    from .attempts import AssignmentCells, AttemptRow


def best_key(attempt: Mapping[str, Any]) -> tuple:
    """Order of preference for the official (nbgrader) record: clean before
    flagged, passed before failed, higher share, then the EARLIER attempt."""
    share = attempt["score"] / attempt["max_score"] if attempt["max_score"] else 0.0
    return (not attempt["flags"], bool(attempt["passed"]), share, _negated_time(attempt["submitted_at"]))


def _negated_time(stamp: str) -> float:
    return -parse_utc(stamp).timestamp()


def ensure_students(conn: sa.Connection, nb: Mapping[str, sa.Table], employee_ids: set[str]) -> None:
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


def refresh_best(
    conn: sa.Connection, nb: Mapping[str, sa.Table], fresh: list[AttemptRow], cells: Mapping[str, AssignmentCells]
) -> None:
    """Make nbgrader's submission for every touched (employee, module) hold the best attempt."""
    new_id = new_ids()
    touched: dict[str, set[str]] = {}
    for r in fresh:
        touched.setdefault(r.attempt["module_id"], set()).add(r.attempt["employee_id"])
    new_by_id = {r.attempt["submission_id"]: r for r in fresh}
    sa_t, sn_t, grade_t = nb["submitted_assignment"], nb["submitted_notebook"], nb["grade"]
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
        new_sa, new_sn, new_scores, upd_sa, upd_sn, upd_grades, upd_scores = [], [], [], [], [], [], []
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
                upd_scores.append((row.nb_id, scores))
                continue
            sa_id, sn_id = next(new_id), next(new_id)
            new_sa.append((sa_id, info.assignment_id, employee_id, stamp))
            new_sn.append((sn_id, sa_id, info.notebook_id, flagged, None))
            new_scores.append((sn_id, scores))
        if new_sa:
            insert_tuples(conn, sa_t, ("id", "assignment_id", "student_id", "timestamp"), new_sa)
            insert_tuples(
                conn, sn_t, ("id", "assignment_id", "notebook_id", "flagged", "late_submission_penalty"), new_sn
            )
            insert_tuples(conn, grade_t, GRADE_COLUMNS, _new_grades(info, new_scores, new_id))
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
            # A new best asked questions the old one did not: their rows are added.
            present = _grade_cells_present(conn, grade_t, [nb_id for nb_id, _scores in upd_scores])
            missing = [row for row in _new_grades(info, upd_scores, new_id) if row[1] not in present.get(row[2], ())]
            insert_tuples(conn, grade_t, GRADE_COLUMNS, missing)


#: Column order of the grade and comment rows `_new_grades` and `_blank_comments` build.
GRADE_COLUMNS = ("id", "cell_id", "notebook_id", "auto_score", "manual_score", "extra_credit", "needs_manual_grade")
COMMENT_COLUMNS = ("id", "cell_id", "notebook_id", "auto_comment", "manual_comment")


def _new_grades(
    info: AssignmentCells, scores: list[tuple[str, dict[str, float]]], new_id: Iterator[str]
) -> list[tuple]:
    """Grade rows of the questions each attempt asked (`scores`: per submitted
    notebook, ids ascending as `new_id` gave them, its points per grade id).

    A question not asked has no row: nbgrader sums a submission's score over its
    grade rows, so a missing row counts 0 as a row of 0 would, and formgrader
    never opens a portal attempt to look one up (`ensure_notebook_rows` adds
    them for a notebook it can open). The rows come in the order of the unique
    (cell_id, notebook_id) index, with ascending ids in that order: SQLite's
    B-trees take sorted inserts ~10% faster."""
    cells = sorted((cell_id, grade_id) for grade_id, (cell_id, _max) in info.grade_cells.items())
    return [
        (next(new_id), cell_id, notebook_id, by_grade[grade_id], None, None, False)
        for cell_id, grade_id in cells
        for notebook_id, by_grade in scores
        if grade_id in by_grade
    ]


def _grade_cells_present(conn: sa.Connection, grade_t: sa.Table, notebook_ids: list[str]) -> dict[str, set[str]]:
    present: dict[str, set[str]] = {}
    for chunk in chunks(notebook_ids, 500):
        for row in conn.execute(
            sa.select(grade_t.c.notebook_id, grade_t.c.cell_id).where(grade_t.c.notebook_id.in_(chunk))
        ):
            present.setdefault(row.notebook_id, set()).add(row.cell_id)
    return present


def _blank_comments(info: AssignmentCells, notebook_ids: list[str], new_id: Iterator[str]) -> list[tuple]:
    """Empty comment rows for every solution cell of the submitted notebooks `notebook_ids`
    (in ascending order), in index order as `_new_grades`."""
    return [
        (next(new_id), cell_id, notebook_id, None, None)
        for cell_id in sorted(info.solution_cells.values())
        for notebook_id in notebook_ids
    ]


def ensure_notebook_rows(
    conn: sa.Connection,
    nb: Mapping[str, sa.Table],
    notebook_rows: list[AttemptRow],
    cells: Mapping[str, AssignmentCells],
) -> None:
    """Every grade row and comment row nbgrader's own submission would have, for the
    submission of each notebook attempt, where one is missing (rows already there
    are kept, manual grades and comments with them).

    formgrader's page of an autograded notebook looks each one up (`GetGrades`:
    `find_grade`, `find_comment`, which raise `MissingEntry` without it). A
    portal attempt has no notebook for formgrader to open (it lists only
    submissions with one), so the bulk grader writes its submission with the
    asked questions' grade rows only: 49 rows fewer per attempt on the shipped
    modules. A missing grade row stands for 0 points, as the best attempt
    did not ask that question.
    """
    sa_t, sn_t, grade_t, comment_t = nb["submitted_assignment"], nb["submitted_notebook"], nb["grade"], nb["comment"]
    new_id = new_ids()
    for row in notebook_rows:
        info = cells[row.attempt["module_id"]]
        notebook_id = conn.execute(
            sa.select(sn_t.c.id)
            .join(sa_t, sn_t.c.assignment_id == sa_t.c.id)
            .where(sa_t.c.assignment_id == info.assignment_id, sa_t.c.student_id == row.attempt["employee_id"])
        ).scalar_one()
        graded = _grade_cells_present(conn, grade_t, [notebook_id]).get(notebook_id, set())
        zero = {grade_id: 0.0 for grade_id, (cell_id, _max) in info.grade_cells.items() if cell_id not in graded}
        insert_tuples(conn, grade_t, GRADE_COLUMNS, _new_grades(info, [(notebook_id, zero)], new_id))
        commented = set(
            conn.execute(sa.select(comment_t.c.cell_id).where(comment_t.c.notebook_id == notebook_id)).scalars()
        )
        missing = [c for c in _blank_comments(info, [notebook_id], new_id) if c[1] not in commented]
        insert_tuples(conn, comment_t, COMMENT_COLUMNS, missing)
