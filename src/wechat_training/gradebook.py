"""The gradebook: the ONLY module that touches the database.

One SQLAlchemy URL (SQLite by default, PostgreSQL for many employees) holds
nbgrader's own tables (assignment, notebook, grade cells, student, submitted
assignment/notebook, grade, comment) and ours, which keep what nbgrader cannot:

- ``wt_employee``: the roster (name, department, role, email, manager, hire date);
- ``wt_attempt``: every graded attempt, clean or flagged;
- ``wt_answer``: per-question results of each attempt (for per-rule analytics);
- ``wt_rejected``: store files that could not be read as a submission at all.

nbgrader's tables hold, per (employee, module), the BEST attempt, so formgrader
and ``nbgrader export`` show the official result. Bulk writes use SQLAlchemy Core
``executemany`` in one transaction per batch (the ORM costs ~1 ms a row), and
every batch commits its attempts together with the nbgrader rows they change:
a crash loses at most the batch in flight, which the next run grades again.

nbgrader itself is imported only to create its schema or to register an
assignment (it takes ~5 s to import), never on the read path.
"""

from __future__ import annotations

import json
import os
import uuid
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

DB_FILE = "gradebook.db"
DB_ENV = "WECHAT_TRAINING_DB"
#: nbgrader's course id for this kit's course (grading/nbgrader_config.py sets the same).
COURSE_ID = "wechat_training"

metadata = sa.MetaData()

employee_table = sa.Table(
    "wt_employee",
    metadata,
    sa.Column("employee_id", sa.String(64), primary_key=True),  #: the id used everywhere (student id in nbgrader)
    sa.Column("name", sa.Text, nullable=False),  #: full name, kept exactly as imported (Chinese names included)
    sa.Column("department", sa.Text, nullable=False, default=""),
    sa.Column("role", sa.Text, nullable=False, default=""),
    sa.Column("email", sa.Text, nullable=False, default=""),
    sa.Column("manager", sa.Text, nullable=False, default=""),  #: the manager's employee id or name
    sa.Column("hire_date", sa.Text, nullable=True),  #: ISO date or NULL
    sa.Column("updated_at", sa.Text, nullable=False),  #: ISO UTC time of the last import that changed the row
)

attempt_table = sa.Table(
    "wt_attempt",
    metadata,
    sa.Column("submission_id", sa.String(80), primary_key=True),  #: store id, or "nb-" + digest for notebooks
    sa.Column("employee_id", sa.String(64), nullable=False),
    sa.Column("module_id", sa.String(40), nullable=False),
    sa.Column("content_version", sa.String(64), nullable=False),  #: as submitted
    sa.Column("rule_versions", sa.Text, nullable=False),  #: JSON {rule id: version}
    sa.Column("started_at", sa.Text, nullable=False),  #: ISO UTC
    sa.Column("submitted_at", sa.Text, nullable=False),  #: ISO UTC
    sa.Column("graded_at", sa.Text, nullable=False),  #: ISO UTC, grader's clock
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("max_score", sa.Float, nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),  #: never true for a flagged attempt
    sa.Column("red_line_misses", sa.Text, nullable=False),  #: comma-joined question ids
    sa.Column("late", sa.Boolean, nullable=False),  #: submitted after the campaign due date
    sa.Column("flags", sa.Text, nullable=False),  #: '' when clean, else '; '-joined reasons
    sa.Column("source", sa.String(16), nullable=False),  #: 'portal' | 'notebook'
    sa.Index("ix_wt_attempt_employee_module", "employee_id", "module_id"),
)

answer_table = sa.Table(
    "wt_answer",
    metadata,
    sa.Column("submission_id", sa.String(80), primary_key=True),
    sa.Column("question_id", sa.String(32), primary_key=True),
    sa.Column("rules", sa.Text, nullable=False),  #: comma-joined rule ids the question cites
    sa.Column("correct", sa.Boolean, nullable=False),
    sa.Column("points", sa.Float, nullable=False),
    sa.Column("max_points", sa.Float, nullable=False),
)

rejected_table = sa.Table(
    "wt_rejected",
    metadata,
    sa.Column("path", sa.String(512), primary_key=True),  #: store path relative to the course directory
    sa.Column("employee_id", sa.String(64), nullable=False),  #: from the store directory, '' if none
    sa.Column("module_id", sa.String(40), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("seen_at", sa.Text, nullable=False),
)

EMPLOYEE_COLUMNS = ["employee_id", "name", "department", "role", "email", "manager", "hire_date"]
ATTEMPT_COLUMNS = [
    "submission_id",
    "employee_id",
    "module_id",
    "content_version",
    "rule_versions",
    "started_at",
    "submitted_at",
    "score",
    "max_score",
    "passed",
    "red_line_misses",
    "late",
    "flags",
]
ANSWER_COLUMNS = ["submission_id", "employee_id", "module_id", "question_id", "rule_id", "correct"]
NBGRADER_TABLES = (
    "course",
    "assignment",
    "notebook",
    "base_cell",
    "grade_cells",
    "solution_cells",
    "student",
    "submitted_assignment",
    "submitted_notebook",
    "grade",
    "comment",
)


class GradebookError(RuntimeError):
    """The gradebook cannot be used as asked (missing assignment, bad URL, ...)."""


def default_url(course_dir: Path) -> str:
    return f"sqlite:///{Path(course_dir).resolve() / DB_FILE}"


def resolve_url(course_dir: Path, db_url: str | None = None) -> str:
    """--db wins, then $WECHAT_TRAINING_DB, then SQLite in the course directory."""
    return db_url or os.environ.get(DB_ENV) or default_url(course_dir)


def utc_text(moment: datetime | None = None) -> str:
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_utc(text: str) -> datetime:
    """ISO 8601 text to an aware UTC datetime (naive input is taken as UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_engines: dict[str, sa.Engine] = {}


def engine_for(db_url: str) -> sa.Engine:
    """One engine per URL per process (creating engines is slow, pools are shared)."""
    engine = _engines.get(db_url)
    if engine is None:
        try:
            engine = sa.create_engine(db_url, future=True)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise GradebookError(f"cannot use database URL {db_url!r}: {exc}") from exc
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        _engines[db_url] = engine
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets formgrader read while a bulk run writes; busy_timeout rides out
    # the short lock of a concurrent writer instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def dispose(db_url: str) -> None:
    engine = _engines.pop(db_url, None)
    if engine is not None:
        _reflected.pop(id(engine), None)
        engine.dispose()


def ensure_schema(db_url: str) -> None:
    """Create nbgrader's tables (through nbgrader, so alembic is stamped) and ours."""
    engine = engine_for(db_url)
    present = set(sa.inspect(engine).get_table_names())
    if not set(NBGRADER_TABLES) <= present:
        from nbgrader.api import Gradebook  # lazy: ~5 s import

        Gradebook(db_url, COURSE_ID).close()
    if not {t.name for t in metadata.sorted_tables} <= present:
        metadata.create_all(engine)


# --------------------------------------------------------------------------- roster


def upsert_employees(db_url: str, rows: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    """Insert or update roster rows in ONE transaction; returns (added, updated).

    The nbgrader student (id, last_name = full name, email) is kept in step so
    formgrader lists people by name.
    """
    ensure_schema(db_url)
    engine = engine_for(db_url)
    now = utc_text()
    ids = [r["employee_id"] for r in rows]
    nb = _nbgrader_tables(engine)
    student = nb["student"]
    with engine.begin() as conn:
        existing = {
            row.employee_id: row
            for chunk in _chunks(ids, 500)
            for row in conn.execute(sa.select(employee_table).where(employee_table.c.employee_id.in_(chunk)))
        }
        students = {
            row.id
            for chunk in _chunks(ids, 500)
            for row in conn.execute(sa.select(student.c.id).where(student.c.id.in_(chunk)))
        }
        new = [{**{c: r.get(c) for c in EMPLOYEE_COLUMNS}, "updated_at": now} for r in rows if r["employee_id"] not in existing]
        changed = [
            {**{c: r.get(c) for c in EMPLOYEE_COLUMNS}, "updated_at": now, "key": r["employee_id"]}
            for r in rows
            if r["employee_id"] in existing
            and any(getattr(existing[r["employee_id"]], c) != r.get(c) for c in EMPLOYEE_COLUMNS)
        ]
        if new:
            conn.execute(employee_table.insert(), new)
        if changed:
            conn.execute(
                employee_table.update()
                .where(employee_table.c.employee_id == sa.bindparam("key"))
                .values({c: sa.bindparam(c) for c in [*EMPLOYEE_COLUMNS[1:], "updated_at"]}),
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
                .values(first_name=sa.bindparam("first_name"), last_name=sa.bindparam("last_name"), email=sa.bindparam("email")),
                update_students,
            )
    return len(new), len(changed)


def employees(db_url: str) -> dict[str, dict[str, Any]]:
    engine = engine_for(db_url)
    if not sa.inspect(engine).has_table(employee_table.name):
        return {}
    with engine.connect() as conn:
        return {row.employee_id: dict(row._mapping) for row in conn.execute(sa.select(employee_table))}


# --------------------------------------------------------------------------- assignments


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
    nb = _nbgrader_tables(engine)
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
            sa.select(bc.c.name, bc.c.id, gc.c.max_score).join(gc, gc.c.id == bc.c.id).where(bc.c.notebook_id == notebook.id)
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


def master_sources(db_url: str, module_id: str) -> dict[str, dict[str, Any]]:
    """nbgrader's master copies of the module's cells: grade_id -> {cell_type, locked, source, checksum}."""
    engine = engine_for(db_url)
    nb = _nbgrader_tables(engine)
    a, n, src = nb["assignment"], nb["notebook"], nb["source_cell"]
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(src.c.name, src.c.cell_type, src.c.locked, src.c.source, src.c.checksum)
            .join(n, n.c.id == src.c.notebook_id)
            .join(a, a.c.id == n.c.assignment_id)
            .where(a.c.name == module_id, n.c.name == module_id)
        ).all()
    return {r.name: dict(r._mapping) for r in rows}


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
    from .assignments import ANSWER_STUB

    config.ClearSolutions.code_stub = {"python": ANSWER_STUB}
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    result = api.generate_assignment(module_id, force=True, create=True)
    if not result.get("success"):
        raise GradebookError(f"nbgrader generate_assignment {module_id} failed: {result.get('error') or result.get('log')}")


# --------------------------------------------------------------------------- attempts


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
    nb = _nbgrader_tables(engine)
    with engine.begin() as conn:
        ids = [r.attempt["submission_id"] for r in rows]
        seen = {
            sid
            for chunk in _chunks(ids, 500)
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
        _insert_many(conn, attempt_table, [r.attempt for r in fresh.values()])
        answers = [a for r in fresh.values() for a in r.answers]
        if answers:
            _insert_many(conn, answer_table, answers)
        _ensure_students(conn, nb, {r.attempt["employee_id"] for r in fresh.values()})
        _refresh_best(conn, nb, list(fresh.values()), cells)
    return len(fresh)


def _ensure_students(conn: sa.Connection, nb: Mapping[str, sa.Table], employee_ids: set[str]) -> None:
    student = nb["student"]
    ids = sorted(employee_ids)
    present = {
        sid for chunk in _chunks(ids, 500) for sid in conn.execute(sa.select(student.c.id).where(student.c.id.in_(chunk))).scalars()
    }
    missing = [i for i in ids if i not in present]
    if not missing:
        return
    names = {
        row.employee_id: row
        for chunk in _chunks(missing, 500)
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
    new_id = _ids()
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
        for chunk in _chunks(ids, 500):
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
        best_scores: dict[str, dict[str, float]] = {}
        need_lookup = []
        for employee_id, attempt in candidates.items():
            sid = attempt["submission_id"]
            if sid in new_by_id:
                best_scores[employee_id] = new_by_id[sid].cell_scores
            else:
                need_lookup.append((employee_id, sid))
        # An older best that a new attempt did not beat: its nbgrader rows are
        # already right, nothing to write.
        changed = {e: candidates[e] for e in best_scores}
        if not changed:
            continue
        existing = {
            row.student_id: row
            for chunk in _chunks(sorted(changed), 500)
            for row in conn.execute(
                sa.select(sa_t.c.id, sa_t.c.student_id, sn_t.c.id.label("nb_id"))
                .join(sn_t, sn_t.c.assignment_id == sa_t.c.id)
                .where(sa_t.c.assignment_id == info.assignment_id, sa_t.c.student_id.in_(chunk))
            )
        }
        new_sa, new_sn, new_grades, new_comments, upd_sa, upd_sn, upd_grades = [], [], [], [], [], [], []
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
            new_sa.append({"id": sa_id, "assignment_id": info.assignment_id, "student_id": employee_id, "timestamp": stamp})
            new_sn.append(
                {"id": sn_id, "assignment_id": sa_id, "notebook_id": info.notebook_id, "flagged": flagged, "late_submission_penalty": None}
            )
            for grade_id, (cell_id, _max) in info.grade_cells.items():
                new_grades.append(
                    {
                        "id": next(new_id),
                        "notebook_id": sn_id,
                        "cell_id": cell_id,
                        "auto_score": scores.get(grade_id, 0.0),
                        "manual_score": None,
                        "extra_credit": None,
                        "needs_manual_grade": False,
                    }
                )
            for cell_id in info.solution_cells.values():
                new_comments.append(
                    {"id": next(new_id), "notebook_id": sn_id, "cell_id": cell_id, "auto_comment": None, "manual_comment": None}
                )
        if new_sa:
            _insert_many(conn, sa_t, new_sa)
            _insert_many(conn, sn_t, new_sn)
            _insert_many(conn, grade_t, new_grades)
            _insert_many(conn, comment_t, new_comments)
        if upd_sa:
            conn.execute(sa_t.update().where(sa_t.c.id == sa.bindparam("key")).values(timestamp=sa.bindparam("timestamp")), upd_sa)
            conn.execute(sn_t.update().where(sn_t.c.id == sa.bindparam("key")).values(flagged=sa.bindparam("flagged")), upd_sn)
            conn.execute(
                grade_t.update()
                .where(grade_t.c.notebook_id == sa.bindparam("nb"), grade_t.c.cell_id == sa.bindparam("cell"))
                .values(auto_score=sa.bindparam("auto_score"), needs_manual_grade=False),
                upd_grades,
            )


# --------------------------------------------------------------------------- reading


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
    att = att.astype({"score": "float64", "max_score": "float64", "passed": "bool", "late": "bool", "red_line_misses": "int64"})
    att["flags"] = att["flags"].astype("object")
    exploded = [
        (r.submission_id, r.employee_id, r.module_id, r.question_id, rule, bool(r.correct))
        for r in ans_rows
        for rule in r.rules.split(",")
        if rule
    ]
    ans = pd.DataFrame(exploded, columns=ANSWER_COLUMNS).astype({"correct": "bool"})
    return Frames(employees=emp, attempts=att, answers=ans)


# --------------------------------------------------------------------------- helpers


def _nbgrader_tables(engine: sa.Engine) -> dict[str, sa.Table]:
    """nbgrader's tables by reflection: the same columns nbgrader's models declare,
    without importing nbgrader (~5 s) on the bulk path."""
    cached = _reflected.get(id(engine))
    if cached is None:
        meta = sa.MetaData()
        meta.reflect(engine, only=[*NBGRADER_TABLES, "source_cell"])
        cached = dict(meta.tables)
        _reflected[id(engine)] = cached
    return cached


_reflected: dict[int, dict[str, sa.Table]] = {}


def _insert_many(conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """executemany of one INSERT. On SQLite the statement is compiled once and
    the rows go to the driver as tuples: SQLAlchemy's per-row parameter
    processing otherwise costs more than SQLite's own insert. Other databases
    keep SQLAlchemy's path, whose batching (insertmanyvalues / execute_batch)
    is what makes them fast."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(table.insert(), list(rows))
        return
    keys = list(rows[0])
    quote = conn.dialect.identifier_preparer.quote
    processors = [table.c[k].type.bind_processor(conn.dialect) for k in keys]
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(k) for k in keys)}) "
        f"VALUES ({', '.join('?' for _ in keys)})"
    )
    params = [tuple(p(r[k]) if p else r[k] for k, p in zip(keys, processors)) for r in rows]
    conn.exec_driver_sql(sql, params)


def _ids() -> Iterator[str]:
    """Unique 32-hex row ids like nbgrader's uuid4().hex: one random prefix per
    batch and a counter (uuid4 per row costs more than the row's insert)."""
    prefix = uuid.uuid4().hex[:16]
    return (f"{prefix}{n:016x}" for n in itertools.count())


def _chunks(items: Sequence[Any] | Iterable[Any], size: int) -> Iterable[list[Any]]:
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]
