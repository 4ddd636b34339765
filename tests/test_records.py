"""Training records: every status, the roll-up figures, and the as-of freeze, on hand-built frames."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from records_frames import attempt, attempts, day, employees

from wechat_training.content.campaign import load_campaign
from wechat_training.records import rollup as R

CAMPAIGN = load_campaign(Path(__file__).parent / "data" / "records" / "campaign.yaml")
CURRENT = {"account_security": {"ACC-001": 1, "ACC-002": 2}, "customer_contact": {"CUS-001": 1}}
MODULES = ["account_security", "customer_contact"]

PEOPLE = employees(
    [
        ("E001", "Li Wei", "Legal", "Clerk"),
        ("E002", "Wang Fang", "Legal", "Clerk"),
        ("E003", "Zhang Min", "Sales", "Clerk"),
        ("E004", "Liu Yang", "Sales", "Clerk"),
        ("E005", "Chen Jie", "Sales", "Clerk"),
        ("E006", "Yang Lei", "Finance", "Analyst"),
        ("E007", "Zhao Jing", "Finance", "Analyst"),
        ("E008", "Huang Tao", "Finance", "Analyst"),
        ("E009", "Zhou Xin", "Legal", "Clerk"),
    ]
)

ATTEMPTS = attempts(
    [
        attempt("E001", "account_security", "2026-01-10T09:00", 2),
        attempt("E001", "account_security", "2026-01-11T09:00", 4),
        attempt("E002", "account_security", "2026-01-12T09:00", 3, red_line_misses=1, passed=False),
        attempt("E002", "account_security", "2026-01-13T09:00", 1),
        attempt("E003", "account_security", "2026-01-14T09:00", None),
        attempt(
            "E005",
            "account_security",
            "2026-01-15T09:00",
            4,
            rule_versions={"ACC-001": 1, "ACC-002": 1},
            content_version="cv0",
        ),
        attempt("E006", "account_security", "2025-01-10T09:00", 4),
        attempt("E008", "account_security", "2026-01-16T09:00", 1),
        attempt("E009", "account_security", "2026-02-01T09:00", 2),
        attempt("E009", "account_security", "2026-03-05T23:59", 4),
        attempt("E005", "customer_contact", "2026-01-20T09:00", 4, rule_versions={"CUS-001": 1}),
    ]
)


def _records(as_of: str, frame: pd.DataFrame = ATTEMPTS) -> pd.DataFrame:
    return R.build_records(PEOPLE, frame, CAMPAIGN, modules=MODULES, rule_versions=CURRENT, as_of=day(as_of))


def _status(records: pd.DataFrame) -> dict[tuple[str, str], str]:
    return {(r.employee_id, r.module_id): r.status for r in records.itertuples()}


def test_every_status_from_one_gradebook() -> None:
    """Does each employee get the status their attempts, dates and exemptions call for?"""
    status = _status(_records("2026-03-01"))
    assert status[("E001", "account_security")] == R.PASSED
    assert status[("E002", "account_security")] == R.FAILED
    assert status[("E003", "account_security")] == R.IN_PROGRESS
    assert status[("E004", "account_security")] == R.NOT_STARTED
    assert status[("E005", "account_security")] == R.EXPIRED  # ACC-002 went from v1 to v2
    assert status[("E006", "account_security")] == R.EXPIRED  # passed 2025-01-10, valid 365 days
    assert status[("E007", "account_security")] == R.EXEMPT
    assert status[("E001", "customer_contact")] == R.NOT_ASSIGNED  # Legal is not in the sales campaign
    assert status[("E004", "customer_contact")] == R.OVERDUE  # sales were due 2026-02-28
    assert status[("E005", "customer_contact")] == R.PASSED
    assert set(status.values()) == set(R.STATUSES)


def test_failed_becomes_overdue_after_the_due_date() -> None:
    """Is a failed or unstarted mandatory module overdue the day after it was due, and not on the due day?"""
    on_due = _status(_records("2026-03-31"))
    after = _status(_records("2026-04-01"))
    assert on_due[("E008", "account_security")] == R.FAILED
    assert after[("E008", "account_security")] == R.OVERDUE
    assert after[("E004", "account_security")] == R.OVERDUE
    assert after[("E001", "account_security")] == R.PASSED


def test_roll_up_figures_of_one_record() -> None:
    """Are best score, attempts, first/last attempt, passed_at, valid_until and red-line failures right?"""
    records = _records("2026-03-01").set_index([R.EMPLOYEE_ID, R.MODULE_ID])
    e1 = records.loc[("E001", "account_security")]
    assert (e1[R.BEST_SCORE], e1[R.MAX_SCORE], e1[R.ATTEMPTS]) == (4.0, 4.0, 2)
    assert e1[R.FIRST_ATTEMPT_AT] == pd.Timestamp("2026-01-10T09:00", tz="UTC")
    assert e1[R.LAST_ATTEMPT_AT] == pd.Timestamp("2026-01-11T09:00", tz="UTC")
    assert e1[R.PASSED_AT] == pd.Timestamp("2026-01-11T09:00", tz="UTC")
    assert e1[R.VALID_UNTIL] == day("2027-01-11")
    assert e1[R.DUE_DATE] == day("2026-03-31")
    assert e1[R.CONTENT_VERSION] == "cv1"
    e2 = records.loc[("E002", "account_security")]
    assert (e2[R.BEST_SCORE], e2[R.RED_LINE_FAILURES], e2[R.ATTEMPTS]) == (3.0, 1, 2)
    assert pd.isna(e2[R.PASSED_AT])
    e4 = records.loc[("E004", "account_security")]
    assert e4[R.ATTEMPTS] == 0 and pd.isna(e4[R.BEST_SCORE])


def test_expiry_and_exemption_say_why() -> None:
    """Does an expired or exempt record name the changed rule, the lapsed validity or the approver?"""
    records = _records("2026-03-01").set_index([R.EMPLOYEE_ID, R.MODULE_ID])
    assert records.loc[("E005", "account_security"), R.NOTE] == "rule changed since the pass: ACC-002 v1->v2"
    assert records.loc[("E006", "account_security"), R.NOTE] == "validity ended 2026-01-10"
    assert "Zhou Min, HR" in records.loc[("E007", "account_security"), R.NOTE]


def test_exemption_lapses_on_its_expiry() -> None:
    """After an exemption expires, does the employee's record fall back to the status of their attempts?"""
    assert _status(_records("2026-07-01"))[("E007", "account_security")] == R.OVERDUE


def test_as_of_ignores_later_attempts() -> None:
    """Does a later attempt leave an as-of export unchanged, and count from the next day on?"""
    before = _records("2026-03-04")
    assert _status(before)[("E009", "account_security")] == R.FAILED
    assert _status(_records("2026-03-05"))[("E009", "account_security")] == R.PASSED
    late = attempts([attempt("E004", "account_security", "2026-03-06T00:00", 4)])
    again = _records("2026-03-04", pd.concat([ATTEMPTS, late], ignore_index=True))
    pd.testing.assert_frame_equal(before, again)


def test_attempts_of_people_missing_from_the_roster_are_kept() -> None:
    """Is an attempt by an employee id absent from the roster still a record, flagged, not dropped?"""
    stray = attempts([attempt("E999", "account_security", "2026-01-10T09:00", 4)])
    records = _records("2026-03-01", pd.concat([ATTEMPTS, stray], ignore_index=True))
    row = records[(records[R.EMPLOYEE_ID] == "E999") & (records[R.MODULE_ID] == "account_security")].iloc[0]
    assert row[R.STATUS] == R.PASSED and row[R.NOTE] == "not on the roster"


def test_department_summary_counts_and_rate() -> None:
    """Does the department summary count mandatory records and leave exempt ones out of the rate?"""
    summary = R.department_summary(_records("2026-03-01")).set_index(R.DEPARTMENT)
    finance = summary.loc["Finance"]
    # E006 expired, E007 exempt, E008 failed: 2 assigned, none passed.
    assert (finance[R.ASSIGNED], finance[R.PASSED], finance[R.EXEMPT], finance[R.EXPIRED]) == (2, 0, 1, 1)
    sales = summary.loc["Sales"]
    # account_security x3 (in progress, not started, expired) + customer_contact x3 (overdue x2, passed).
    assert (sales[R.ASSIGNED], sales[R.PASSED], sales[R.OVERDUE]) == (6, 1, 2)
    assert sales[R.COMPLETION_RATE] == pytest.approx(1 / 6, abs=1e-4)


def test_employee_records_names_an_unknown_id() -> None:
    """Does asking for an unknown employee raise an error naming the id?"""
    with pytest.raises(KeyError, match="E404"):
        R.employee_records(_records("2026-03-01"), "E404")
