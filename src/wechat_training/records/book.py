"""The record book: the gradebook, the catalogue and the campaign put together as records.

The one place that gathers the inputs of `records.build_records` (the CLI,
the nbgrader export plugin and the HR dashboard all start here): frames from
`gradebook.read_frames`, current rule versions from the catalogue, the
campaign in force, plus attempts still waiting in the submission store (they
are `in_progress` until graded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from ..assessment.gradebook import ATTEMPT_COLUMNS
from ..content.campaign import Campaign, campaign_for
from ..content.catalog import Catalog, load_catalog
from . import rollup as R


@dataclass(frozen=True)
class RecordBook:
    records: pd.DataFrame
    answers: pd.DataFrame  #: gradebook answers frame (for per-rule analytics)
    attempts: pd.DataFrame  #: attempts up to as_of (for trends)
    campaign: Campaign
    catalog: Catalog
    as_of: date

    def module_titles(self) -> dict[str, dict[str, str]]:
        """Module titles as xAPI language maps."""
        return {m.id: {"zh-CN": m.title.zh, "en-US": m.title.en} for m in self.catalog.modules.values()}


def open_record_book(
    course_dir: Path | str,
    root: Path | str,
    *,
    db_url: str | None = None,
    campaign_path: Path | str | None = None,
    as_of: date | None = None,
    include_store: bool = True,
) -> RecordBook:
    """Read everything and roll it up. Raises `ContentError` for invalid content or campaign."""
    from ..assessment import gradebook

    course_dir = Path(course_dir)
    catalog = load_catalog(root)
    campaign = campaign_for(root, campaign_path)
    url = gradebook.resolve_url(course_dir, db_url)
    frames = gradebook.read_frames(url)
    attempts = frames.attempts
    if include_store:
        pending = pending_attempts(course_dir, set(attempts["submission_id"]), catalog, url)
        if not pending.empty:
            attempts = pd.concat([attempts, pending], ignore_index=True)
    as_of = as_of or R.today()
    modules = [m for m in catalog.modules if m in set(campaign.module_ids) | set(attempts["module_id"])]
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
    answers = frames.answers[frames.answers["submission_id"].isin(kept["submission_id"])]
    return RecordBook(records, answers, kept, campaign, catalog, as_of)


def pending_attempts(
    course_dir: Path, graded_ids: set[str], catalog: Catalog | None = None, db_url: str | None = None
) -> pd.DataFrame:
    """Attempts in the submission store that the gradebook has not graded yet (score NaN).

    Only files the grader would accept show (`grader.StoreJudge.admit`: readable,
    in their own folder, signed with their employee's key); the others are
    rejected by the grader and never appear in anybody's record. Their content
    and rule versions are the ones of the module's current catalogue or a
    published version, else the attempt is left out until graded (and flagged).
    """
    from ..assessment import gradebook
    from ..assessment.grader import StoreJudge
    from ..submissions import store as submissions

    if catalog is None:
        raise ValueError("pending_attempts needs the catalogue to check store files as the grader does")
    judge = StoreJudge(course_dir, catalog, gradebook.resolve_url(course_dir, db_url))
    rows: list[dict[str, Any]] = []
    for path in submissions.paths(course_dir):
        submission_id = path.stem.rsplit("_", 1)[-1]
        if submission_id in graded_ids:
            continue
        s, _problem = judge.admit(path)
        if s is None or s.submission_id in graded_ids:
            continue
        keys = judge.keys(s.module_id, s.content_version)
        if keys is None or keys.rule_versions != s.rule_versions:
            continue
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
    frame = pd.DataFrame(rows, columns=ATTEMPT_COLUMNS)
    for column in ("started_at", "submitted_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame
