"""The gradebook: tidy frames for the records roll-up, and nbgrader's own view of it."""

from __future__ import annotations

import pandas as pd
import pytest
import test_grader
from test_grader import MODULE, valid_catalog, write_submission

from wechat_training.assessment import gradebook, grader

course = test_grader.course  # shared fixture
registered_template = test_grader.registered_template  # shared fixture


def test_an_empty_database_gives_empty_frames_with_the_contract_columns(tmp_path):
    url = f"sqlite:///{tmp_path / 'nothing.db'}"
    frames = gradebook.read_frames(url)
    assert list(frames.employees.columns) == gradebook.EMPLOYEE_COLUMNS
    assert list(frames.attempts.columns) == gradebook.ATTEMPT_COLUMNS
    assert list(frames.answers.columns) == gradebook.ANSWER_COLUMNS
    assert frames.attempts.empty and frames.answers.empty
    gradebook.dispose(url)


def test_frames_hold_attempts_answers_and_roster_as_the_contract_says(course):
    catalog = valid_catalog()
    url = gradebook.default_url(course)
    gradebook.ensure_schema(url)
    gradebook.upsert_employees(
        url,
        [
            {
                "employee_id": "E1001",
                "name": "欧阳娜娜",
                "department": "销售部",
                "role": "客户经理",
                "email": "nana@corp.example",
                "manager": "E0001",
                "hire_date": "2026-01-10",
            }
        ],
    )
    sub = write_submission(course, catalog, "E1001", right=1)
    grader.grade(course, catalog)
    frames = gradebook.read_frames(url)

    employee = frames.employees.set_index("employee_id").loc["E1001"]
    assert employee["name"] == "欧阳娜娜" and employee["hire_date"] == "2026-01-10"

    attempt = frames.attempts.iloc[0]
    assert attempt["submission_id"] == sub.submission_id
    assert attempt["rule_versions"] == catalog.rule_versions(MODULE)
    assert attempt["submitted_at"] == pd.Timestamp("2026-03-01T08:10:00Z")
    assert str(frames.attempts["submitted_at"].dtype).endswith("UTC]")
    assert attempt["flags"] == "" and not attempt["late"]
    # Q-ACC-001 (the red line, first) is right, everything else wrong.
    assert attempt["red_line_misses"] == 0
    assert attempt["score"] == 1.0 and attempt["max_score"] == 4.0 and not attempt["passed"]

    answers = frames.answers
    asked = catalog.questions_for(MODULE, "E1001")
    expected_rows = sum(len(catalog.questions[q].rules) for q in asked)
    assert len(answers) == expected_rows
    first = answers[answers["question_id"] == asked[0]].iloc[0]
    assert (first["employee_id"], first["module_id"], first["rule_id"], first["correct"]) == (
        "E1001",
        MODULE,
        "ACC-001",
        True,
    )


def test_the_records_read_only_their_attempt_columns_with_the_same_values(course):
    """Do the roll-up's columns read alone equal those columns of the full read, and is a wrong column refused?"""
    catalog = valid_catalog()
    for employee_id, right in (("E1001", 1), ("E1002", 4)):
        write_submission(course, catalog, employee_id, right=right)
    grader.grade(course, catalog)
    url = gradebook.default_url(course)
    full = gradebook.read_frames(url).attempts
    some = gradebook.read_frames(url, attempt_columns=gradebook.RECORD_ATTEMPT_COLUMNS).attempts
    assert list(some.columns) == gradebook.RECORD_ATTEMPT_COLUMNS
    assert not {"started_at", "late", "flags"} & set(some.columns)
    pd.testing.assert_frame_equal(some, full[gradebook.RECORD_ATTEMPT_COLUMNS])
    with pytest.raises(ValueError, match="not attempt columns"):
        gradebook.read_frames(url, attempt_columns=["submission_id", "password"])


def test_formgrader_queries_see_the_graded_submissions(course):
    """nbgrader's API (what formgrader and `nbgrader export` call) lists our grades."""
    from nbgrader.api import Gradebook

    catalog = valid_catalog()
    write_submission(course, catalog, "E1001", right=4)
    write_submission(course, catalog, "E1002", right=2)
    grader.grade(course, catalog)
    with Gradebook(gradebook.default_url(course), gradebook.COURSE_ID) as gb:
        rows = {d["student"]: d for d in gb.submission_dicts(MODULE)}
        assert rows["E1001"]["score"] == 4.0 and rows["E1002"]["score"] == 2.0
        assert not rows["E1001"]["needs_manual_grade"]
        notebook = gb.notebook_submission_dicts(MODULE, MODULE)
        assert {d["student"] for d in notebook} == {"E1001", "E1002"}
