"""The record book: the gradebook, the catalogue and the campaign put together as records.

The one place that gathers the inputs of `records.build_records` (the CLI,
the nbgrader export plugin and the HR dashboard all start here): frames from
`gradebook.read_frames`, current rule versions from the catalogue, the
campaign in force, plus attempts still waiting in the submission store (they
are `in_progress` until graded).
"""

from __future__ import annotations

import functools
from collections.abc import Container
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from ..assessment.gradebook import ANSWER_COLUMNS, ATTEMPT_COLUMNS, RECORD_ATTEMPT_COLUMNS
from ..content.campaign import Campaign, campaign_for
from ..content.catalog import Catalog, load_catalog
from ..content.problems import Problem
from . import rollup as R


@dataclass(frozen=True)
class RecordBook:
    records: pd.DataFrame
    attempts: pd.DataFrame  #: attempts up to as_of (for trends)
    campaign: Campaign
    catalog: Catalog
    as_of: date
    frames: Any = None  #: the gradebook frames read (answers come from them on first use)

    @functools.cached_property
    def answers(self) -> pd.DataFrame:
        """Gradebook answers of the attempts up to as_of (for per-rule analytics), read on first use."""
        if self.frames is None:
            return pd.DataFrame(columns=ANSWER_COLUMNS)
        answers = self.frames.answers
        return answers[answers["submission_id"].isin(self.attempts["submission_id"])]

    def module_titles(self) -> dict[str, dict[str, str]]:
        """Module titles as xAPI language maps."""
        return {m.id: {"zh-CN": m.title.zh, "en-US": m.title.en} for m in self.catalog.modules.values()}

    def audience_problems(self) -> list[Problem]:
        """Campaign departments and roles nobody on the roster has (so nobody is assigned
        through them), each with its campaign file and line."""
        on_roster = self.records[self.records[R.NOTE] != R.NOT_ON_ROSTER]
        return self.campaign.unknown_audience(_distinct(on_roster[R.DEPARTMENT]), _distinct(on_roster[R.ROLE]))


def _distinct(values: pd.Series) -> set[Any]:
    # set() of a pandas column boxes every value one by one; the list is built in C.
    return set(values.tolist())


class _GradedIds:
    """The graded submission ids, gathered on the first lookup: at 650,000 attempts the
    set costs a quarter of a second that a store with nothing waiting never needs."""

    def __init__(self, ids: pd.Series):
        self._ids, self._set = ids, None

    def __contains__(self, submission_id: object) -> bool:
        if self._set is None:
            self._set = _distinct(self._ids)
        return submission_id in self._set


def open_record_book(
    course_dir: Path | str,
    root: Path | str,
    *,
    db_url: str | None = None,
    campaign_path: Path | str | None = None,
    as_of: date | None = None,
    include_store: bool = True,
    employee_id: str | None = None,
) -> RecordBook:
    """Read everything and roll it up. Raises `ContentError` for invalid content or campaign.

    With `employee_id`, only that employee's rows are read and rolled up (through
    the gradebook's index, for `records show`); the records equal that
    employee's rows of the full roll-up, module columns included.
    """
    from ..assessment import gradebook

    course_dir = Path(course_dir)
    catalog = load_catalog(root)
    campaign = campaign_for(root, campaign_path)
    url = gradebook.resolve_url(course_dir, db_url)
    frames = gradebook.read_frames(url, employee_id=employee_id, attempt_columns=RECORD_ATTEMPT_COLUMNS)
    attempts = frames.attempts
    if include_store:
        graded = _GradedIds(attempts["submission_id"])
        pending = pending_attempts(
            course_dir, graded, catalog, url, employee_id=employee_id, columns=RECORD_ATTEMPT_COLUMNS
        )
        if not pending.empty:
            attempts = pd.concat([attempts, pending], ignore_index=True)
    as_of = as_of or R.today()
    attempted = _distinct(attempts["module_id"])
    if employee_id is not None:
        # The full roll-up has a column for every module anyone attempted.
        others = set(catalog.modules) - set(campaign.module_ids) - attempted
        attempted |= gradebook.attempted_modules(url, among=others)
        if include_store and others:
            attempted |= _store_modules(course_dir, others, catalog, url)
    modules = [m for m in catalog.modules if m in set(campaign.module_ids) | attempted]
    records = R.build_records(
        frames.employees,
        attempts,
        campaign,
        modules=modules or list(catalog.modules),
        rule_versions={m: catalog.rule_versions(m) for m in catalog.modules},
        as_of=as_of,
    )
    cutoff = R.end_of_day(as_of)
    kept = attempts[attempts["submitted_at"] <= cutoff]
    return RecordBook(records, kept, campaign, catalog, as_of, frames)


def _store_modules(course_dir: Path, among: set[str], catalog: Catalog, db_url: str) -> set[str]:
    """Which of the modules `among` have an attempt the grader would accept waiting in the store
    (a forged file must not add a module column to anybody's record)."""
    found: set[str] = set()
    for module_id in sorted(among):
        for _sub in _acceptable(course_dir, catalog, db_url, module_id=module_id):
            found.add(module_id)
            break
    return found


def _acceptable(
    course_dir: Path,
    catalog: Catalog,
    db_url: str,
    *,
    graded_ids: Container[str] = frozenset(),
    employee_id: str | None = None,
    module_id: str | None = None,
):
    """Store submissions not graded yet that the grader would accept (`store_judge.StoreJudge.admit`:
    readable, in their own folder, signed with their employee's key), of a content
    and rule version pair the catalogue had."""
    from ..submissions import store as submissions

    if employee_id is not None and not submissions.EMPLOYEE_ID_PATTERN.match(employee_id):
        return  # not an id the store can hold (and never a path into it)
    judge = None
    for path in submissions.paths(course_dir, module_id=module_id, employee_id=employee_id):
        if path.stem.rsplit("_", 1)[-1] in graded_ids:
            continue
        if judge is None:
            # Only with a file to judge: the grader's import and set-up cost seconds,
            # and `records show` of an employee with nothing pending must stay fast.
            from ..assessment.store_judge import StoreJudge

            judge = StoreJudge(course_dir, catalog, db_url)
        sub, _problem = judge.admit(path)
        if sub is None or sub.submission_id in graded_ids:
            continue
        keys = judge.keys(sub.module_id, sub.content_version)
        if keys is None or keys.rule_versions != sub.rule_versions:
            continue  # graded later as a flagged attempt, never a pass
        yield sub


def pending_attempts(
    course_dir: Path,
    graded_ids: Container[str],
    catalog: Catalog | None = None,
    db_url: str | None = None,
    employee_id: str | None = None,
    columns: list[str] = ATTEMPT_COLUMNS,
) -> pd.DataFrame:
    """Attempts in the submission store that the gradebook has not graded yet (score NaN),
    as a frame of `columns` (those of `gradebook.read_frames`).

    Only files the grader would accept show (see `_acceptable`); the others are
    rejected or flagged by the grader and never count in anybody's record.
    """
    from ..assessment import gradebook

    if catalog is None:
        raise ValueError("pending_attempts needs the catalogue to check store files as the grader does")
    url = gradebook.resolve_url(course_dir, db_url)
    rows: list[dict[str, Any]] = []
    for s in _acceptable(course_dir, catalog, url, graded_ids=graded_ids, employee_id=employee_id):
        rows.append(
            {
                "submission_id": s.submission_id,
                "employee_id": s.employee_id,
                "module_id": s.module_id,
                "content_version": s.content_version,
                "rule_versions": s.rule_versions,
                "started_at": s.started_at,
                "submitted_at": s.submitted_at,
                "score": float("nan"),
                "max_score": float("nan"),
                "passed": False,
                "red_line_misses": 0,
                "late": False,
                "flags": "",
            }
        )
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("started_at", "submitted_at"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame
