"""Aggregates for HR: per-rule miss rates by department (small groups hidden), completion, trend."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from records_frames import ANSWER_COLUMNS, attempt, attempts, day, employees

from wechat_training.content.campaign import load_campaign
from wechat_training.records import analytics as A
from wechat_training.records import rollup as R

CAMPAIGN = load_campaign(Path(__file__).parent / "data" / "records" / "campaign.yaml")

#: Sales has 5 people (shown), Legal 2 (hidden at the default minimum of 5).
PEOPLE = employees(
    [(f"S{i}", f"Sales {i}", "Sales", "Clerk") for i in range(1, 6)]
    + [("L1", "Legal 1", "Legal", "Clerk"), ("L2", "Legal 2", "Legal", "Clerk")]
)


def _answers(rows: list[tuple[str, str, bool]]) -> pd.DataFrame:
    """rows: (employee, rule, correct) -> one answer row per (submission, question, rule)."""
    data = [(f"sub-{e}", e, "account_security", f"Q-ACC-{i:03d}", rule, ok) for i, (e, rule, ok) in enumerate(rows)]
    return pd.DataFrame(data, columns=ANSWER_COLUMNS)


def test_rule_miss_rates_by_department_hide_small_groups() -> None:
    """Are miss rates per department and rule right, worst first, with Legal (2 people) left out?"""
    rows = [(f"S{i}", "ACC-001", i <= 2) for i in range(1, 6)]  # 3 of 5 missed ACC-001
    rows += [(f"S{i}", "ACC-002", i != 1) for i in range(1, 6)]  # 1 of 5 missed ACC-002
    rows += [("L1", "ACC-001", False), ("L2", "ACC-001", False)]
    rates = A.rule_miss_rates(_answers(rows), PEOPLE)
    assert list(rates[R.DEPARTMENT]) == ["Sales", "Sales"]
    assert list(rates[A.RULE_ID]) == ["ACC-001", "ACC-002"]
    assert list(rates[A.MISS_RATE]) == [0.6, 0.2]
    assert list(rates[A.PEOPLE]) == [5, 5]
    shown_all = A.rule_miss_rates(_answers(rows), PEOPLE, min_group=2)
    legal = shown_all[shown_all[R.DEPARTMENT] == "Legal"]
    assert list(legal[A.MISS_RATE]) == [1.0]


def test_rule_misses_leave_out_rules_nobody_missed() -> None:
    """Does "rules missed most" list only rules someone missed (no 0 % padding rows), and count
    the departments whose answers are hidden?"""
    rows = [(f"S{i}", "ACC-001", i != 1) for i in range(1, 6)]  # 1 of 5 missed ACC-001
    rows += [(f"S{i}", "ACC-002", True) for i in range(1, 6)]  # nobody missed ACC-002
    rows += [("L1", "ACC-001", False)]
    rates = A.rule_miss_rates(_answers(rows), PEOPLE)
    assert list(rates[A.RULE_ID]) == ["ACC-001"] and list(rates[A.MISS_RATE]) == [0.2]
    assert A.hidden_rule_groups(_answers(rows), PEOPLE) == 1  # Legal: 1 person answered


def test_completion_by_department_shows_every_department() -> None:
    """Is completion shown for every department, small ones too (status is HR's record by name;
    only answers are hidden below the minimum group)?"""
    frame = attempts(
        [
            attempt("S1", "account_security", "2026-01-10T09:00", 4),
            attempt("L1", "account_security", "2026-01-10T09:00", 4),
        ]
    )
    records = R.build_records(PEOPLE, frame, CAMPAIGN, modules=["account_security"], as_of=day("2026-03-01"))
    shown = A.completion_by_department(records).set_index(R.DEPARTMENT)
    assert list(shown.index) == ["Legal", "Sales"]
    assert shown.loc["Sales", A.PEOPLE] == 5 and shown.loc["Sales", R.COMPLETION_RATE] == pytest.approx(0.2)
    assert shown.loc["Legal", A.PEOPLE] == 2 and shown.loc["Legal", R.COMPLETION_RATE] == pytest.approx(0.5)


def test_trend_counts_passes_per_day_cumulatively() -> None:
    """Does the trend start at 0 on the opening day, give per day with a pass the share of
    assigned modules passed by then, and run on to the as-of day (a line, even with one pass day)?"""
    frame = attempts(
        [
            attempt("S1", "account_security", "2026-01-10T09:00", 4),
            attempt("S2", "account_security", "2026-01-10T15:00", 4),
            attempt("S3", "account_security", "2026-01-12T09:00", 4),
            attempt("S4", "account_security", "2026-01-13T09:00", 1),
        ]
    )
    records = R.build_records(PEOPLE, frame, CAMPAIGN, modules=["account_security"], as_of=day("2026-03-01"))
    trend = A.completion_trend(records, as_of=day("2026-03-01"))
    assert list(trend[A.DAY]) == [day("2025-01-01"), day("2026-01-10"), day("2026-01-12"), day("2026-03-01")]
    assert list(trend[R.PASSED]) == [0, 2, 3, 3]
    assert list(trend[A.PASSED_SHARE]) == [0, pytest.approx(2 / 7, abs=1e-4)] + [pytest.approx(3 / 7, abs=1e-4)] * 2
    one_day = R.build_records(PEOPLE, frame[:1], CAMPAIGN, modules=["account_security"], as_of=day("2026-01-10"))
    assert len(A.completion_trend(one_day, as_of=day("2026-01-10"))) == 2


def test_overdue_list_is_by_person() -> None:
    """Does the overdue list name each overdue person and module, and nobody else?"""
    frame = attempts([attempt("S1", "account_security", "2026-01-10T09:00", 4)])
    records = R.build_records(PEOPLE, frame, CAMPAIGN, modules=["account_security"], as_of=day("2026-04-01"))
    overdue = A.overdue_list(records)
    assert sorted(overdue[R.EMPLOYEE_ID]) == ["L1", "L2", "S2", "S3", "S4", "S5"]


def test_rule_miss_rates_overall_pool_departments_and_hide_small_groups() -> None:
    """Across departments: Legal's 2 people count towards a rule's 7, a rule 3 people answered is hidden."""
    rows = [(f"S{i}", "ACC-001", i <= 2) for i in range(1, 6)]  # Sales: 3 of 5 missed ACC-001
    rows += [("L1", "ACC-001", False), ("L2", "ACC-001", False)]  # Legal: 2 of 2 missed
    rows += [(f"S{i}", "ACC-002", False) for i in range(1, 4)]  # 3 people only
    rates = A.rule_miss_rates_overall(_answers(rows), PEOPLE)
    assert list(rates.columns) == [A.RULE_ID, A.PEOPLE, A.ANSWERS, A.MISSES, A.MISS_RATE]
    assert list(rates[A.RULE_ID]) == ["ACC-001"]
    assert list(rates[A.PEOPLE]) == [7] and list(rates[A.MISS_RATE]) == [round(5 / 7, 4)]
    assert list(A.rule_miss_rates_overall(_answers(rows), PEOPLE, min_group=3)[A.RULE_ID]) == ["ACC-002", "ACC-001"]
