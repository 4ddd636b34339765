"""What the portal shows one employee: the modules due and the status of each.

Statuses come from the employee's own attempts in the submission store,
re-scored with the same pure function the grader uses, so the portal agrees
with the record without reading the gradebook (no pandas or SQL in a learner
kernel). Only files that verify with the employee's own key count as attempts
(the grader rejects the others), and an attempt shows "passed" only when it
also passes the grader's checks the portal can repeat: current content and
rule versions, the employee's seeded draw, no answers to questions not asked,
times in order and inside the campaign window. An attempt on an older content
version counts as made but never shows passed here (the grader may still
accept it against the published versions table, which the kernel cannot read).
Due dates come from the campaign file when the campaign module and file exist;
without them every module is due, with no date.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ..content.catalog import Catalog
from ..content.schema import AREAS
from ..submissions import provenance
from ..submissions import store as submissions
from ..submissions.scoring import score_attempt

CAMPAIGN_FILE = "campaign.yaml"
CAMPAIGN_VARIABLE = "WECHAT_TRAINING_CAMPAIGN"
#: Roster attributes the server may pass to a learner kernel (JupyterHub
#: spawner environment, or `serve`), so department/role campaigns apply.
PROFILE_VARIABLES = {
    "department": "WECHAT_TRAINING_DEPARTMENT",
    "role": "WECHAT_TRAINING_ROLE",
    "hire_date": "WECHAT_TRAINING_HIRE_DATE",
}

#: As the grader's evaluation.CLOCK_SKEW (the learning layer cannot import assessment).
CLOCK_SKEW = timedelta(minutes=5)

NOT_STARTED = "not_started"
PASSED = "passed"
FAILED = "failed"
EXEMPT = "exempt"


@dataclass(frozen=True)
class ModuleStatus:
    module_id: str
    status: str
    attempts: int
    #: Best share of points over the attempts (0..1), None before any attempt.
    best_share: float | None
    best_score: int | None
    max_score: int | None
    #: Date of the first passing attempt (UTC), None when not passed.
    passed_on: date | None
    due: date | None
    mandatory: bool = True

    def overdue(self, today: date) -> bool:
        return self.status in (NOT_STARTED, FAILED) and self.due is not None and today > self.due


@dataclass(frozen=True)
class Due:
    module_id: str
    due: date | None
    mandatory: bool = True
    #: First day the campaign gives the module (None: no window).
    opens: date | None = None


def campaign_path(root: Path) -> Path:
    configured = os.environ.get(CAMPAIGN_VARIABLE)
    return Path(configured) if configured else Path(root) / CAMPAIGN_FILE


def modules_due(catalog: Catalog, employee_id: str, today: date, campaign_file: Path | None = None) -> list[Due]:
    """The modules assigned to the employee, in the catalogue's area order.

    The campaign module belongs to the records issue; until it is installed
    (or when no campaign file exists) every module is due with no date.
    """
    ordered = [a for a in AREAS if a in catalog.modules]
    path = campaign_file if campaign_file is not None else campaign_path(catalog.root)
    try:
        from ..content import campaign as campaign_module  # type: ignore[attr-defined]
    except ImportError:
        campaign_module = None
    if campaign_module is None or not path.is_file():
        return [Due(m, None) for m in ordered]
    # Invalid campaign files raise ContentError naming file and line: the view shows it.
    campaign = campaign_module.load_campaign(path)
    employee = {"employee_id": employee_id}
    employee.update({key: os.environ[var] for key, var in PROFILE_VARIABLES.items() if os.environ.get(var)})
    found = []
    for assignment in campaign.assignments_for(employee):
        if assignment.module_id not in catalog.modules:
            continue
        if campaign.is_exempt(employee_id, assignment.module_id, today):
            continue
        found.append(Due(assignment.module_id, assignment.due_date, assignment.mandatory, assignment.open_date))
    return sorted(found, key=lambda d: ordered.index(d.module_id))


def module_status(catalog: Catalog, course_dir: Path, employee_id: str, due: Due) -> ModuleStatus:
    """Status of one module from the employee's attempts (oldest first in the store)."""
    module_id = due.module_id
    best: tuple[float, int, int] | None = None
    passed_on: date | None = None
    count = 0
    signer = provenance.signer_for(course_dir, employee_id)
    for attempt in submissions.attempts(course_dir, employee_id, module_id):
        if not _signed(signer, attempt):
            continue  # rejected by the grader: not an attempt of this employee at all
        count += 1
        if any(q not in catalog.questions for q in attempt.question_ids):
            # Asked questions since removed from the bank: the grader decides.
            continue
        result = score_attempt(catalog, module_id, attempt.question_ids, attempt.answers)
        if best is None or result.share > best[0]:
            best = (result.share, result.score, result.max_score)
        if result.passed and passed_on is None and _clean(catalog, attempt, due):
            passed_on = _day(attempt.submitted_at)
    if passed_on is not None:
        status = PASSED
    elif count:
        status = FAILED
    else:
        status = NOT_STARTED
    return ModuleStatus(
        module_id=module_id,
        status=status,
        attempts=count,
        best_share=best[0] if best else None,
        best_score=best[1] if best else None,
        max_score=best[2] if best else None,
        passed_on=passed_on,
        due=due.due,
        mandatory=due.mandatory,
    )


def statuses(
    catalog: Catalog, course_dir: Path, employee_id: str, today: date, campaign_file: Path | None = None
) -> list[ModuleStatus]:
    return [
        module_status(catalog, course_dir, employee_id, d)
        for d in modules_due(catalog, employee_id, today, campaign_file)
    ]


def _signed(signer: provenance.Signer, attempt: submissions.Submission) -> bool:
    return (
        attempt.path is not None
        and attempt.path.parent.name == attempt.employee_id
        and attempt.path.stem.rpartition("_")[2] == attempt.submission_id
        and signer.check_id(attempt.module_id, attempt.submission_id)
        and signer.verify(attempt.signed_fields(), attempt.signature)
    )


def _clean(catalog: Catalog, attempt: submissions.Submission, due: Due) -> bool:
    """Would the grader's checks leave this attempt unflagged (as far as a kernel can tell)?"""
    module_id = attempt.module_id
    started, submitted = _moment(attempt.started_at), _moment(attempt.submitted_at)
    return (
        attempt.content_version == catalog.content_version(module_id)
        and attempt.rule_versions == catalog.rule_versions(module_id)
        and attempt.question_ids == catalog.questions_for(module_id, attempt.employee_id)
        and set(attempt.answers) <= set(attempt.question_ids)
        and started <= submitted <= datetime.now(UTC) + CLOCK_SKEW
        and (due.opens is None or started.date() >= due.opens)
    )


def _moment(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return moment.astimezone(UTC)


def _day(stamp: str) -> date:
    return datetime.fromisoformat(stamp).date()
