"""Admission of store files: is this file the portal's, and how does it grade?

`StoreJudge` is shared by the grader and by the record book's pending
attempts, so a record shows only what the grader would accept. What a file
must prove is listed in `grader`'s docstring (issue 15); the due dates and
opening days of the campaign come from `Lateness`.
"""

from __future__ import annotations

import collections
import itertools
import json
import multiprocessing
import os
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path

from ..content.catalog import Catalog
from ..submissions import provenance
from ..submissions import store as submissions
from . import assignments, gradebook
from .evaluation import Evaluation, ModuleKeys, evaluate, stamp_of, timestamp_flags


class StoreJudge:
    """Decides, for one store file, whether it is the portal's and how it grades.

    Shared by `grade` and the record book's pending attempts, so records show
    only what the grader would accept."""

    def __init__(self, course_dir: Path, catalog: Catalog, db_url: str, now: datetime | None = None):
        self.course_dir = Path(course_dir)
        self.catalog = catalog
        self.verifier = provenance.Verifier.for_course(self.course_dir)
        self.published = gradebook.published_versions(db_url)
        self.lateness = Lateness(catalog, db_url)
        self.now = now or datetime.now(UTC)
        self._keys: dict[tuple[str, str], ModuleKeys | None] = {}
        #: seconds spent reading and parsing files, checking signatures and scoring (for the breakdown)
        self.seconds = {"read": 0.0, "verify": 0.0, "score": 0.0}

    def keys(self, module_id: str, content_version: str) -> ModuleKeys | None:
        key = (module_id, content_version)
        if key not in self._keys:
            current = ModuleKeys(self.catalog, module_id)
            if content_version == current.content_version:
                self._keys[key] = current
            elif key in self.published:
                self._keys[key] = ModuleKeys(self.catalog, module_id, self.published[key])
            else:
                self._keys[key] = None
        return self._keys[key]

    def admit(self, path: Path) -> tuple[submissions.Submission | None, str]:
        """(the submission, '') when the file is provably the portal's and where it
        belongs, else (None, why not: the reason recorded in wt_rejected)."""
        relative = relative_path(self.course_dir, path)
        module_dir, employee_dir = path.parent.parent.name, path.parent.name
        stamp, sid = name_parts(path)
        started = time.perf_counter()
        try:
            sub = submissions.read(path)
        except submissions.SubmissionError as exc:
            return None, str(exc).replace(str(path), relative, 1)
        finally:
            self.seconds["read"] += time.perf_counter() - started
        # A file whose identity disagrees with its folder is attributed to nobody:
        # recording it under either employee could alter someone else's record.
        if sub.employee_id != employee_dir or sub.module_id != module_dir:
            return None, (
                f"{relative}: employee/module in the file ({sub.employee_id}/{sub.module_id}) "
                f"differ from the store folder ({employee_dir[:64]}/{module_dir[:40]})"
            )
        if sub.submission_id != sid:
            return None, f"{relative}: submission id {sub.submission_id} differs from the file name"
        if sub.module_id not in self.catalog.modules:
            return None, f"{relative}: unknown module {sub.module_id}"
        started = time.perf_counter()
        problem = self.verifier.problem(
            sub.employee_id, sub.module_id, sub.submission_id, sub.signed_fields(), sub.signature
        )
        self.seconds["verify"] += time.perf_counter() - started
        if problem:
            return None, f"{relative}: {problem}"
        return sub, ""

    def evaluate(self, sub: submissions.Submission, stamp: str | None) -> tuple[Evaluation, bool]:
        """(evaluation with every flag, late) of an admitted submission."""
        evaluation = evaluate(self.catalog, sub, self.keys(sub.module_id, sub.content_version))
        opens = self.lateness.opens(sub.employee_id, sub.module_id)
        evaluation.flags.extend(timestamp_flags(sub, stamp, self.now, opens))
        # Lateness by the later of the two recorded times, so editing submitted_at
        # cannot make a late attempt look on time.
        latest = sub.submitted_at
        if stamp != stamp_of(sub.submitted_at):
            latest = max(sub.submitted_at, _from_stamp(stamp) or sub.submitted_at, key=gradebook.parse_utc)
        return evaluation, self.lateness.is_late(sub.employee_id, sub.module_id, latest)


def worker_count(total: int, batch_size: int) -> int:
    """Worker processes that judge files while this one inserts: none for a small run
    (starting one costs more than it saves) or on one core."""
    if total < 2 * batch_size:
        return 0
    return max(0, min(2, (os.cpu_count() or 1) - 1))


class JudgedFiles:
    """(path, attempt row or None, rejection or None) of every file, in order.

    With workers, forked processes read, verify and score chunks of files while
    the caller stores the previous batch (the judge and its keys are inherited
    by the fork, never pickled); `seconds` then adds up the workers' time."""

    def __init__(self, judge: StoreJudge, paths: list[Path], graded_at: str, workers: int):
        self.judge, self.graded_at, self.workers = judge, graded_at, workers
        self.seconds = judge.seconds
        self._results = self._in_workers(paths) if workers else self._here(paths)

    def __iter__(self) -> Iterator[tuple[Path, gradebook.AttemptRow | None, dict[str, str] | None]]:
        return self._results

    def _here(self, paths: list[Path]):
        for path in paths:
            yield (path, *_attempt_from_file(self.judge, path, self.graded_at))

    def _in_workers(self, paths: list[Path]):
        global _WORKER_JUDGE
        _WORKER_JUDGE = (self.judge, self.graded_at)
        chunks = iter([paths[i : i + _CHUNK] for i in range(0, len(paths), _CHUNK)])
        self.seconds = dict.fromkeys(self.judge.seconds, 0.0)
        with multiprocessing.get_context("fork").Pool(self.workers) as pool:
            # A few chunks in flight, not all: judged rows waiting for a slower
            # insert would otherwise pile up in memory.
            pending = collections.deque(
                pool.apply_async(_judge_chunk, (chunk,)) for chunk in itertools.islice(chunks, 4 * self.workers)
            )
            while pending:
                results, seconds = pending.popleft().get()
                following = next(chunks, None)
                if following is not None:
                    pending.append(pool.apply_async(_judge_chunk, (following,)))
                for phase, spent in seconds.items():
                    self.seconds[phase] += spent
                yield from results


#: Files per task sent to a worker: large enough that the queue's cost per task is lost in it.
_CHUNK = 250
_WORKER_JUDGE: tuple[StoreJudge, str] | None = None


def _judge_chunk(paths: list[Path]) -> tuple[list[tuple], dict[str, float]]:
    judge, graded_at = _WORKER_JUDGE
    before = dict(judge.seconds)
    results = [(path, *_attempt_from_file(judge, path, graded_at)) for path in paths]
    return results, {phase: judge.seconds[phase] - before[phase] for phase in before}


def rejection(judge: StoreJudge, path: Path, reason: str, graded_at: str) -> tuple[None, dict[str, str]]:
    # Clipped to the columns: a folder name is the attacker's choice.
    return None, {
        "path": relative_path(judge.course_dir, path)[:512],
        "employee_id": path.parent.name[:64],
        "module_id": path.parent.parent.name[:40],
        "reason": reason,
        "seen_at": graded_at,
    }


def _attempt_from_file(
    judge: StoreJudge, path: Path, graded_at: str
) -> tuple[gradebook.AttemptRow | None, dict[str, str] | None]:
    stamp, _sid = name_parts(path)
    sub, problem = judge.admit(path)
    if sub is None:
        return rejection(judge, path, problem, graded_at)
    scoring = time.perf_counter()
    evaluation, late = judge.evaluate(sub, stamp)
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
    judge.seconds["score"] += time.perf_counter() - scoring
    return row, None


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


class Lateness:
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
        employee = self._employee(employee_id)
        # Due dates depend on who someone is (department, role, hire date) and
        # on exemptions by id; the id stays in the key for the latter.
        key = (employee_id, module_id)
        if key not in self.cache:
            self.cache[key] = self.campaign.due_date(employee, module_id)
        return self.cache[key]

    def opens(self, employee_id: str, module_id: str) -> date | None:
        """First day the campaign gives the module to the employee (None: no window)."""
        if self.campaign is None:
            return None
        key = ("open", employee_id, module_id)
        if key not in self.cache:
            found = None
            for assignment in self.campaign.assignments_for(self._employee(employee_id)):
                if assignment.module_id == module_id:
                    found = assignment.open_date
            self.cache[key] = found  # type: ignore[index]
        return self.cache[key]  # type: ignore[index]

    def _employee(self, employee_id: str) -> dict:
        person = self.roster.get(employee_id) or {"employee_id": employee_id}
        employee = {k: ("" if v is None and k != "hire_date" else v) for k, v in person.items()}
        employee.setdefault("department", "")
        employee.setdefault("role", "")
        return employee

    def is_late(self, employee_id: str, module_id: str, submitted_at: str) -> bool:
        due = self.due(employee_id, module_id)
        # Due dates are whole days: late means submitted after the due day (UTC).
        return due is not None and gradebook.parse_utc(submitted_at).date() > due


def _from_stamp(stamp: str | None) -> str | None:
    if not stamp:
        return None
    try:
        moment = datetime.strptime(stamp.rstrip("Z"), "%Y%m%dT%H%M%S%f")
    except ValueError:
        return None
    # "...123" milliseconds parse as 123000 microseconds with %f: exact.
    return gradebook.utc_text(moment.replace(tzinfo=UTC))


def name_parts(path: Path) -> tuple[str | None, str]:
    stem = path.stem
    stamp, _, sid = stem.rpartition("_")
    return (stamp or None), sid


def relative_path(course_dir: Path, path: Path) -> str:
    # Plain string slicing: Path.relative_to costs more than reading the file.
    text, prefix = str(path), str(course_dir) + "/"
    return text.removeprefix(prefix)
