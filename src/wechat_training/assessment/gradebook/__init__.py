"""The gradebook: the ONLY package that touches the database.

One SQLAlchemy URL (SQLite by default, PostgreSQL for many employees) holds
nbgrader's own tables (assignment, notebook, grade cells, student, submitted
assignment/notebook, grade, comment) and ours, which keep what nbgrader cannot:

- ``wt_employee``: the roster (name, department, role, email, manager, hire date, WeCom user id);
- ``wt_attempt``: every graded attempt, clean or flagged;
- ``wt_answer``: per-question results of each attempt (for per-rule analytics);
- ``wt_rejected``: store files that could not be read as a submission at all,
  or not proven to be the portal's (unsigned, mis-signed, misplaced);
- ``wt_published``: every (module, content version, rule versions, draw) the
  catalogue had, the truth submissions are checked against.

nbgrader's tables hold, per (employee, module), the BEST attempt, so formgrader
and ``nbgrader export`` show the official result. Bulk writes use SQLAlchemy Core
``executemany`` in one transaction per batch (the ORM costs ~1 ms a row), and
every batch commits its attempts together with the nbgrader rows they change:
a crash loses at most the batch in flight, which the next run grades again.

nbgrader itself is imported only to create its schema or to register an
assignment (it takes ~5 s to import), never on the read path.
"""

from .attempts import (
    NOTEBOOK_SOURCE,
    AssignmentCells,
    AttemptRow,
    assignment_cells,
    known_attempt_keys,
    known_rejected,
    known_submission_ids,
    record_rejected,
    register_assignment,
    rejected,
    store_attempts,
)
from .database import (
    ANSWER_COLUMNS,
    ATTEMPT_COLUMNS,
    COURSE_ID,
    DB_ENV,
    DB_FILE,
    EMPLOYEE_COLUMNS,
    NBGRADER_TABLES,
    RECORD_ATTEMPT_COLUMNS,
    ROSTER_COLUMNS,
    GradebookError,
    answer_table,
    attempt_table,
    default_url,
    dispose,
    employee_table,
    engine_for,
    ensure_schema,
    metadata,
    parse_utc,
    published_table,
    rejected_table,
    resolve_url,
    utc_text,
)
from .employees import employee_by_login, employees, upsert_employees
from .frames import Frames, attempted_modules, read_answers, read_frames
from .lock import GradeLockBusy, grade_lock
from .nbgrader_mirror import best_key
from .published import PublishedVersion, published_versions, record_published

__all__ = [
    "NOTEBOOK_SOURCE",
    "attempted_modules",
    "read_answers",
    "ANSWER_COLUMNS",
    "ATTEMPT_COLUMNS",
    "RECORD_ATTEMPT_COLUMNS",
    "COURSE_ID",
    "DB_ENV",
    "DB_FILE",
    "EMPLOYEE_COLUMNS",
    "NBGRADER_TABLES",
    "ROSTER_COLUMNS",
    "AssignmentCells",
    "AttemptRow",
    "Frames",
    "GradebookError",
    "answer_table",
    "assignment_cells",
    "attempt_table",
    "best_key",
    "default_url",
    "GradeLockBusy",
    "PublishedVersion",
    "dispose",
    "employee_by_login",
    "grade_lock",
    "published_table",
    "published_versions",
    "record_published",
    "employee_table",
    "employees",
    "engine_for",
    "ensure_schema",
    "known_attempt_keys",
    "known_rejected",
    "known_submission_ids",
    "metadata",
    "parse_utc",
    "read_frames",
    "record_rejected",
    "register_assignment",
    "rejected",
    "rejected_table",
    "resolve_url",
    "store_attempts",
    "upsert_employees",
    "utc_text",
]
