"""Safe grading: answers are data, keys never leave the grading side.

Two entry points, one scoring path (`scoring.score_attempt` against the
catalogue's keys):

- `grade(course_dir, ...)`: the bulk path. Every new file in the portal's
  submission store becomes one attempt in the gradebook; idempotent (a stored
  submission id is never graded twice), crash-safe (one transaction per batch),
  late attempts marked by the campaign's due date.
- `grade_notebook(...)`: one nbgrader notebook submission, read by `answers`
  (literals only), used by the course's `nbgrader autograde` pipeline.

What a store file must prove before it counts (issue 15), in order:

1. it reads as a submission within the store's limits (`submissions.read`);
2. employee, module and id agree with its folder and file name;
3. its id and signature verify with that employee's key (`provenance`): an
   unsigned, mis-signed or copied-id file is attributed to NOBODY: it is kept
   in place and listed in ``wt_rejected`` with the reason, and no employee's
   record changes;
4. its content version and rule versions are a published pair
   (``wt_published``), its questions are the employee's seeded draw of that
   version, its times lie inside the campaign window and not in the future;
   failing any of these is a flag on the writer's own attempt (kept as
   evidence, never a pass).

A run holds the gradebook's lock (`gradebook.grade_lock`): a second run waits
`wait` seconds, then stops with `GradeLockBusy`. Ids come from the store, whose
lengths `submissions.read` bounds to the columns, so the database never sees an
over-long value.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..content.catalog import Catalog
from ..submissions import store as submissions
from ..submissions.scoring import score_attempt
from . import answers as answer_reader
from . import assignments, gradebook
from .evaluation import CLOCK_SKEW, Evaluation, ModuleKeys, stamp_of
from .store_judge import (
    JudgedFiles,
    Lateness,
    StoreJudge,
    attempt_row,
    name_parts,
    rejection,
    relative_path,
    worker_count,
)

BATCH_SIZE = 1000
#: nbgrader autograde stores one notebook at a time: it waits for a bulk run rather than failing.
NOTEBOOK_LOCK_WAIT = 600.0

Progress = Callable[[int, int], None]


@dataclass
class GradeReport:
    """What one run did (the CLI prints it)."""

    considered: int = 0  #: files in scope
    graded: int = 0  #: new attempts stored
    already: int = 0  #: skipped: graded by an earlier run
    flagged: int = 0  #: new attempts carrying flags
    late: int = 0  #: new attempts after their due date
    rejected: list[tuple[str, str]] = field(default_factory=list)  #: (path, reason), newly rejected files
    #: (employee id, module id, submission id, flags) of the new flagged attempts
    flagged_attempts: list[tuple[str, str, str, str]] = field(default_factory=list)
    seconds: float = 0.0
    #: where the seconds went: find (store listing, ids graded before), read (files and JSON),
    #: verify (signatures), score, insert (the batched transactions)
    phases: dict[str, float] = field(default_factory=dict)
    #: processes that read, verified and scored files beside this one (their seconds overlap the insert's)
    workers: int = 0

    @property
    def rate(self) -> float:
        return self.graded / self.seconds if self.seconds else 0.0


def grade(
    course_dir: Path,
    catalog: Catalog,
    db_url: str | None = None,
    module: str | None = None,
    since: datetime | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    now: datetime | None = None,
    wait: float = 0.0,
    workers: int | None = None,
) -> GradeReport:
    """Grade every new submission in the store into the gradebook (one run at a time).

    `workers`: processes that read, verify and score files while this one
    inserts (None: one fewer than the cores, at most 2, and none for a run of
    fewer than two batches; 0: all in this process). The result is the same."""
    course_dir = Path(course_dir)
    db_url = gradebook.resolve_url(course_dir, db_url)
    if module is not None and module not in catalog.modules:
        raise ValueError(f"unknown module {module!r}; modules: {', '.join(sorted(catalog.modules))}")
    gradebook.ensure_schema(db_url)
    with gradebook.grade_lock(db_url, wait):
        return _grade_locked(course_dir, catalog, db_url, module, since, progress, batch_size, now, workers)


def publish_versions(catalog: Catalog, db_url: str) -> int:
    """Record the catalogue's current (module, content version, rules, draw) as published."""
    return gradebook.record_published(db_url, [ModuleKeys(catalog, m).published() for m in catalog.modules])


def _grade_locked(
    course_dir: Path,
    catalog: Catalog,
    db_url: str,
    module: str | None,
    since: datetime | None,
    progress: Progress | None,
    batch_size: int,
    now: datetime | None,
    workers: int | None,
) -> GradeReport:
    started = time.perf_counter()
    publish_versions(catalog, db_url)
    report = GradeReport()
    # Graded already = the same id in the same employee's folder: a copy of an
    # id elsewhere is examined (and rejected), not skipped.
    done_ids = gradebook.known_attempt_keys(db_url, module)
    done_rejected = gradebook.known_rejected(db_url)
    since_stamp = stamp_of(gradebook.utc_text(since)) if since else None
    todo: list[Path] = []
    for path in submissions.paths(course_dir, module_id=module):
        stamp, sid = name_parts(path)
        if since_stamp and stamp and stamp < since_stamp:
            continue
        report.considered += 1
        if (path.parent.parent.name, path.parent.name, sid) in done_ids or relative_path(course_dir, path)[
            :512
        ] in done_rejected:
            report.already += 1
            continue
        todo.append(path)
    total = len(todo)
    report.phases["find"] = time.perf_counter() - started
    if progress:
        progress(0, total)
    now = now or datetime.now(UTC)
    judge = StoreJudge(course_dir, catalog, db_url, now)
    cells: dict[str, gradebook.AssignmentCells] = {}
    graded_at = gradebook.utc_text(now)
    owners: dict[str, str] = {}  # submission id -> the file that used it first in this run
    judged = JudgedFiles(judge, todo, graded_at, worker_count(total, batch_size) if workers is None else workers)
    for start in range(0, total, batch_size):
        batch, rejected = [], []
        for path, row, problem in itertools.islice(judged, batch_size):
            if row is not None:
                sid, relative = row.attempt["submission_id"], relative_path(course_dir, path)
                first = owners.setdefault(sid, relative)
                if first != relative:
                    # The same employee's id twice (ids are bound to employee and module):
                    # the newcomer is the one set aside, the first file keeps its attempt.
                    row, problem = rejection(
                        judge, path, f"{relative}: submission id {sid} reused (first used by {first})", graded_at
                    )
            if problem:
                rejected.append(problem)
                continue
            batch.append(row)
        for module_id in {r.attempt["module_id"] for r in batch} - set(cells):
            cells[module_id] = registered(course_dir, db_url, catalog, module_id)
        inserting = time.perf_counter()
        stored = gradebook.store_attempts(db_url, batch, cells)
        gradebook.record_rejected(db_url, rejected)
        report.phases["insert"] = report.phases.get("insert", 0.0) + time.perf_counter() - inserting
        report.graded += stored
        report.already += len(batch) - stored
        flagged = [r.attempt for r in batch if r.attempt["flags"]]
        report.flagged += len(flagged)
        report.flagged_attempts += [(a["employee_id"], a["module_id"], a["submission_id"], a["flags"]) for a in flagged]
        report.late += sum(1 for r in batch if r.attempt["late"])
        report.rejected += [(r["path"], r["reason"]) for r in rejected]
        if progress:
            progress(min(start + batch_size, total), total)
    report.workers = judged.workers
    report.phases.update(judged.seconds)
    report.seconds = time.perf_counter() - started
    return report


def registered(course_dir: Path, db_url: str, catalog: Catalog, module_id: str) -> gradebook.AssignmentCells:
    """The module's nbgrader cells, registering the assignment first if it is not yet."""
    cells = gradebook.assignment_cells(db_url, module_id)
    if cells is None or not cells.grade_cells:
        assignments.build(catalog, course_dir, [module_id])
        gradebook.register_assignment(course_dir, db_url, module_id)
        cells = gradebook.assignment_cells(db_url, module_id)
        if cells is None:
            raise gradebook.GradebookError(f"assignment {module_id} is not in the gradebook after registering it")
    return cells


def grade_notebook(
    course_dir: Path,
    catalog: Catalog,
    module_id: str,
    employee_id: str,
    path: Path,
    submitted_at: datetime | None = None,
    db_url: str | None = None,
    now: datetime | None = None,
) -> tuple[gradebook.AttemptRow, bool]:
    """Grade one nbgrader notebook submission as data; returns (attempt, newly stored).

    The attempt id is a digest of employee, module and file bytes, so grading
    the same file again changes nothing.
    """
    course_dir = Path(course_dir)
    db_url = gradebook.resolve_url(course_dir, db_url)
    submissions.check_employee_id(employee_id)
    if module_id not in catalog.modules:
        raise ValueError(f"unknown module {module_id!r}")
    gradebook.ensure_schema(db_url)
    now = now or datetime.now(UTC)
    path = Path(path)
    digest = hashlib.sha256(f"{employee_id}\0{module_id}\0".encode())
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    read = answer_reader.read_notebook(path, catalog, module_id)
    flags = list(read.flags)
    submitted = submitted_at.astimezone(UTC) if submitted_at else now
    if submitted > now + CLOCK_SKEW:
        flags.append("submission timestamp is in the future")
    result = score_attempt(catalog, module_id, read.question_ids, read.answers)
    stamp = gradebook.utc_text(submitted)
    late = Lateness(catalog, db_url).is_late(employee_id, module_id, stamp)
    row = attempt_row(
        "nb-" + digest.hexdigest()[:32],
        employee_id,
        module_id,
        catalog.content_version(module_id),
        catalog.rule_versions(module_id),
        stamp,
        stamp,
        gradebook.utc_text(now),
        Evaluation(result, flags),
        late,
        gradebook.NOTEBOOK_SOURCE,
    )
    cells = {module_id: registered(course_dir, db_url, catalog, module_id)}
    with gradebook.grade_lock(db_url, wait=NOTEBOOK_LOCK_WAIT):
        stored = gradebook.store_attempts(db_url, [row], cells)
    return row, bool(stored)


def parse_since(text: str) -> datetime:
    """--since: an ISO date or time (UTC unless it says otherwise)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"--since {text!r} is not an ISO date or time, e.g. 2026-03-01 or 2026-03-01T08:00Z") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
