"""Gradebook frames built by hand, in the shape `gradebook.read_frames` returns (see the team contract).

Fictional people only. Shared by the records, exports and dashboard tests.
"""

from __future__ import annotations

import secrets
from datetime import date

import pandas as pd

from wechat_training.assessment.gradebook import ANSWER_COLUMNS, ATTEMPT_COLUMNS, EMPLOYEE_COLUMNS  # noqa: F401 - re-exported to tests


def employees(rows: list[tuple]) -> pd.DataFrame:
    """rows: (employee_id, name, department, role[, hire_date])."""
    data = []
    for row in rows:
        eid, name, dept, role, *rest = row
        hired = rest[0] if rest else None
        data.append((eid, name, dept, role, f"{eid.lower()}@corp.example", "Manager One", hired))
    return pd.DataFrame(data, columns=EMPLOYEE_COLUMNS)


def attempt(
    employee_id: str,
    module_id: str,
    when: str,
    score: float | None,
    max_score: float = 4,
    *,
    passed: bool | None = None,
    red_line_misses: int = 0,
    content_version: str = "cv1",
    rule_versions: dict[str, int] | None = None,
) -> dict:
    submitted = pd.Timestamp(when, tz="UTC")
    return {
        "submission_id": secrets.token_hex(16),
        "employee_id": employee_id,
        "module_id": module_id,
        "content_version": content_version,
        "rule_versions": rule_versions if rule_versions is not None else {"ACC-001": 1, "ACC-002": 2},
        "started_at": submitted - pd.Timedelta(minutes=5),
        "submitted_at": submitted,
        "score": score,
        "max_score": max_score,
        "passed": passed
        if passed is not None or score is None
        else (score / max_score >= 0.75 and not red_line_misses),
        "red_line_misses": red_line_misses,
        "late": False,
        "flags": "",
    }


def attempts(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=ATTEMPT_COLUMNS)
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True)
    frame["started_at"] = pd.to_datetime(frame["started_at"], utc=True)
    frame["score"] = frame["score"].astype(float)
    frame["max_score"] = frame["max_score"].astype(float)
    frame["passed"] = frame["passed"].astype(object)
    return frame


def day(text: str) -> date:
    return date.fromisoformat(text)
