"""Safe grading: answers are data, keys never leave the grading side.

Two entry points, one scoring path (`scoring.score_attempt` against the
catalogue's keys):

- `grade(course_dir, ...)`: the bulk path. Every new file in the portal's
  submission store becomes one attempt in the gradebook; idempotent (a stored
  submission id is never graded twice), crash-safe (one transaction per batch),
  late attempts marked by the campaign's due date.
- `grade_notebook(...)`: one nbgrader notebook submission, read by `answers`
  (literals only), used by the course's `nbgrader autograde` pipeline.

A submission that disagrees with where the store keeps it, with the employee's
seeded draw, or with the module it claims is flagged; a flagged attempt is
stored (nothing is lost) but never counts as a pass, and only ever scores the
questions the module really asked with the catalogue's keys.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from ..content.catalog import Catalog
from ..submissions import store as submissions
from ..submissions.scoring import score_attempt
from . import answers as answer_reader
from . import assignments, gradebook
from .evaluation import CLOCK_SKEW, Evaluation, ModuleKeys, evaluate, stamp_of, timestamp_flags

BATCH_SIZE = 1000

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
) -> GradeReport:
    """Grade every new submission in the store into the gradebook."""
    started = time.perf_counter()
    course_dir = Path(course_dir)
    db_url = gradebook.resolve_url(course_dir, db_url)
    if module is not None and module not in catalog.modules:
        raise ValueError(f"unknown module {module!r}; modules: {', '.join(sorted(catalog.modules))}")
    gradebook.ensure_schema(db_url)
    report = GradeReport()
    done_ids = gradebook.known_submission_ids(db_url, module)
    done_rejected = gradebook.known_rejected(db_url)
    since_stamp = stamp_of(gradebook.utc_text(since)) if since else None
    todo: list[Path] = []
    for path in submissions.paths(course_dir, module_id=module):
        stamp, sid = _name_parts(path)
        if since_stamp and stamp and stamp < since_stamp:
            continue
        report.considered += 1
        if sid in done_ids or _relative(course_dir, path) in done_rejected:
            report.already += 1
            continue
        todo.append(path)
    total = len(todo)
    if progress:
        progress(0, total)
    lateness = _Lateness(catalog, db_url)
    cells: dict[str, gradebook.AssignmentCells] = {}
    keys: dict[str, ModuleKeys] = {}
    now = now or datetime.now(UTC)
    graded_at = gradebook.utc_text(now)
    for start in range(0, total, batch_size):
        batch, rejected = [], []
        for path in todo[start : start + batch_size]:
            row, problem = _attempt_from_file(course_dir, path, catalog, keys, lateness, now, graded_at)
            if problem:
                rejected.append(problem)
                continue
            batch.append(row)
        for module_id in {r.attempt["module_id"] for r in batch} - set(cells):
            cells[module_id] = registered(course_dir, db_url, catalog, module_id)
        stored = gradebook.store_attempts(db_url, batch, cells)
        gradebook.record_rejected(db_url, rejected)
        report.graded += stored
        report.already += len(batch) - stored
        flagged = [r.attempt for r in batch if r.attempt["flags"]]
        report.flagged += len(flagged)
        report.flagged_attempts += [(a["employee_id"], a["module_id"], a["submission_id"], a["flags"]) for a in flagged]
        report.late += sum(1 for r in batch if r.attempt["late"])
        report.rejected += [(r["path"], r["reason"]) for r in rejected]
        if progress:
            progress(min(start + batch_size, total), total)
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


def attempt_row(
    sub_id: str,
    employee_id: str,
    module_id: str,
    content_version: str,
    rule_versions: Mapping[str, int],
    started_at: str,
    submitted_at: str,
    graded_at: str,
    evaluation: Evaluation,
    late: bool,
    source: str,
) -> gradebook.AttemptRow:
    result = evaluation.result
    flags = "; ".join(evaluation.flags)
    return gradebook.AttemptRow(
        attempt={
            "submission_id": sub_id,
            "employee_id": employee_id,
            "module_id": module_id,
            "content_version": content_version,
            "rule_versions": json.dumps(dict(rule_versions), sort_keys=True),
            "started_at": started_at,
            "submitted_at": submitted_at,
            "graded_at": graded_at,
            "score": float(result.score),
            "max_score": float(result.max_score),
            # A flagged attempt is kept as evidence, never as a pass.
            "passed": bool(result.passed and not flags),
            "red_line_misses": ",".join(result.red_line_misses),
            "late": late,
            "flags": flags,
            "source": source,
        },
        answers=[
            {
                "submission_id": sub_id,
                "question_id": q.question_id,
                "rules": ",".join(q.rules),
                "correct": q.correct,
                "points": float(q.points),
                "max_points": float(q.max_points),
            }
            for q in result.questions
        ],
        cell_scores={assignments.grade_id(q.question_id): float(q.points) for q in result.questions},
    )


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
    late = _Lateness(catalog, db_url).is_late(employee_id, module_id, stamp)
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
        "notebook",
    )
    cells = {module_id: registered(course_dir, db_url, catalog, module_id)}
    stored = gradebook.store_attempts(db_url, [row], cells)
    return row, bool(stored)


class _Lateness:
    """Due dates from the campaign, if the campaign module is there (it is
    optional: without it nothing is late)."""

    def __init__(self, catalog: Catalog, db_url: str):
        try:
            from ..content import campaign
        except ImportError:  # the campaign issue may not be installed
            self.campaign = None
        else:
            self.campaign = campaign.campaign_for(catalog.root)
        self.roster = gradebook.employees(db_url) if self.campaign is not None else {}
        self.cache: dict[tuple[str, str], date | None] = {}

    def due(self, employee_id: str, module_id: str) -> date | None:
        if self.campaign is None:
            return None
        person = self.roster.get(employee_id) or {"employee_id": employee_id}
        employee = {k: ("" if v is None and k != "hire_date" else v) for k, v in person.items()}
        employee.setdefault("department", "")
        employee.setdefault("role", "")
        # Due dates depend on who someone is (department, role, hire date) and
        # on exemptions by id; the id stays in the key for the latter.
        key = (employee_id, module_id)
        if key not in self.cache:
            self.cache[key] = self.campaign.due_date(employee, module_id)
        return self.cache[key]

    def is_late(self, employee_id: str, module_id: str, submitted_at: str) -> bool:
        due = self.due(employee_id, module_id)
        # Due dates are whole days: late means submitted after the due day (UTC).
        return due is not None and gradebook.parse_utc(submitted_at).date() > due


def _attempt_from_file(
    course_dir: Path,
    path: Path,
    catalog: Catalog,
    keys: dict[str, ModuleKeys],
    lateness: _Lateness,
    now: datetime,
    graded_at: str,
) -> tuple[gradebook.AttemptRow | None, dict[str, str] | None]:
    relative = _relative(course_dir, path)
    module_dir, employee_dir = path.parent.parent.name, path.parent.name
    stamp, sid = _name_parts(path)

    def reject(reason: str) -> tuple[None, dict[str, str]]:
        return None, {
            "path": relative,
            "employee_id": employee_dir,
            "module_id": module_dir,
            "reason": reason,
            "seen_at": graded_at,
        }

    try:
        sub = submissions.read(path)
    except submissions.SubmissionError as exc:
        return reject(str(exc).replace(str(path), relative, 1))
    # A file whose identity disagrees with its folder is attributed to nobody:
    # recording it under either employee could alter someone else's record.
    if sub.employee_id != employee_dir or sub.module_id != module_dir:
        return reject(
            f"{relative}: employee/module in the file ({sub.employee_id}/{sub.module_id}) "
            f"differ from the store folder ({employee_dir}/{module_dir})"
        )
    if sub.submission_id != sid:
        return reject(f"{relative}: submission id {sub.submission_id} differs from the file name")
    if sub.module_id not in catalog.modules:
        return reject(f"{relative}: unknown module {sub.module_id}")
    if sub.module_id not in keys:
        keys[sub.module_id] = ModuleKeys(catalog, sub.module_id)
    evaluation = evaluate(catalog, sub, keys[sub.module_id])
    evaluation.flags.extend(timestamp_flags(sub, stamp, now))
    # Lateness by the later of the two recorded times, so editing submitted_at
    # cannot make a late attempt look on time.
    latest = sub.submitted_at
    if stamp != stamp_of(sub.submitted_at):
        latest = max(sub.submitted_at, _from_stamp(stamp) or sub.submitted_at, key=gradebook.parse_utc)
    late = lateness.is_late(sub.employee_id, sub.module_id, latest)
    row = attempt_row(
        sub.submission_id,
        sub.employee_id,
        sub.module_id,
        sub.content_version,
        sub.rule_versions,
        sub.started_at,
        sub.submitted_at,
        graded_at,
        evaluation,
        late,
        "portal",
    )
    return row, None


def _from_stamp(stamp: str | None) -> str | None:
    if not stamp:
        return None
    try:
        moment = datetime.strptime(stamp.rstrip("Z"), "%Y%m%dT%H%M%S%f")
    except ValueError:
        return None
    # "...123" milliseconds parse as 123000 microseconds with %f: exact.
    return gradebook.utc_text(moment.replace(tzinfo=UTC))


def _name_parts(path: Path) -> tuple[str | None, str]:
    stem = path.stem
    stamp, _, sid = stem.rpartition("_")
    return (stamp or None), sid


def _relative(course_dir: Path, path: Path) -> str:
    # Plain string slicing: Path.relative_to costs more than reading the file.
    text, prefix = str(path), str(course_dir) + "/"
    return text.removeprefix(prefix)


def parse_since(text: str) -> datetime:
    """--since: an ISO date or time (UTC unless it says otherwise)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"--since {text!r} is not an ISO date or time, e.g. 2026-03-01 or 2026-03-01T08:00Z") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
