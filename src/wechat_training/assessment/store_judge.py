"""Admission of store files: is this file the portal's, and how does it grade?

`StoreJudge` is shared by the grader and by the record book's pending
attempts, so a record shows only what the grader would accept. What a file
must prove is listed in `grader`'s docstring (issue 15); the due dates and
opening days of the campaign come from `Lateness`.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path

from ..content.catalog import Catalog
from ..submissions import provenance
from ..submissions import store as submissions
from . import gradebook
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
