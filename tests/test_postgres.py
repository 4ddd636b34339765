"""The same grading, roster and frames on a real PostgreSQL server.

The server is `postgres_server.pg_server` (Debian's PostgreSQL 15 on a
loopback port, started and stopped by the test run).
"""

from __future__ import annotations

import pytest
from postgres_server import create_database, pg_server  # noqa: F401  (pg_server is a fixture)
from test_grader import MODULE, table_dump, valid_catalog, write_submission  # noqa: F401

from wechat_training.assessment import gradebook, grader
from wechat_training.records.roster import import_roster


@pytest.fixture
def pg_url(pg_server, request):  # noqa: F811 (the imported fixture)
    """A fresh database per test."""
    name = "wt_" + request.node.name.lower().replace("[", "_").replace("]", "")[:40]
    url = create_database(pg_server, name)
    yield url
    gradebook.dispose(url)


def test_grade_roster_and_frames_on_postgresql(pg_url, tmp_path):
    from nbgrader.api import Gradebook

    catalog = valid_catalog()
    roster = tmp_path / "roster.csv"
    roster.write_text("工号,姓名,部门\nE1001,欧阳娜娜,销售部\nE1002,司马建国,运营部\n", encoding="utf-8")
    assert import_roster(roster, pg_url).added == 2
    assert import_roster(roster, pg_url).unchanged == 2

    course = tmp_path / "course"
    write_submission(course, catalog, "E1001", right=2, submitted_at="2026-03-01T08:10:00.000Z")
    write_submission(course, catalog, "E1001", right=4, submitted_at="2026-03-02T08:10:00.000Z")
    write_submission(course, catalog, "E1002", right=3)
    first = grader.grade(course, catalog, db_url=pg_url, batch_size=2)
    assert (first.graded, first.flagged) == (3, 0)
    again = grader.grade(course, catalog, db_url=pg_url)
    assert (again.graded, again.already) == (0, 3)

    frames = gradebook.read_frames(pg_url)
    assert len(frames.attempts) == 3 and frames.attempts["submitted_at"].dt.tz is not None
    assert frames.employees.set_index("employee_id").loc["E1001", "name"] == "欧阳娜娜"
    assert set(frames.answers["employee_id"]) == {"E1001", "E1002"}
    with Gradebook(pg_url, gradebook.COURSE_ID) as gb:
        assert gb.find_submission(MODULE, "E1001").score == 4.0
        assert gb.find_submission(MODULE, "E1002").score == 3.0
        assert gb.find_student("E1002").last_name == "司马建国"

    # A later, better attempt moves nbgrader's record; odd text survives COPY exactly.
    write_submission(course, catalog, "E1002", right=4, submitted_at="2026-03-05T08:10:00.000Z")
    odd = "Q-\\x\t\n\"'"
    qids = catalog.questions_for(MODULE, "E1003") + [odd]
    write_submission(course, catalog, "E1003", answers={odd: ["a"]}, question_ids=qids)
    later = grader.grade(course, catalog, db_url=pg_url)
    assert (later.graded, later.flagged) == (2, 1)
    attempts = gradebook.read_frames(pg_url).attempts.set_index("employee_id")
    assert f"unknown question {odd}" in attempts.loc["E1003", "flags"]
    with Gradebook(pg_url, gradebook.COURSE_ID) as gb:
        assert gb.find_submission(MODULE, "E1002").score == 4.0
        assert gb.find_submission(MODULE, "E1003").notebooks[0].flagged


def test_postgresql_and_sqlite_hold_the_same_results(pg_url, tmp_path):
    catalog = valid_catalog()
    course = tmp_path / "course"
    for n in range(12):
        write_submission(
            course, catalog, f"E{2000 + n}", right=n % 5, submitted_at=f"2026-03-{n + 1:02d}T08:00:00.000Z"
        )
    grader.grade(course, catalog, db_url=pg_url, batch_size=5)
    sqlite_url = gradebook.default_url(course)
    grader.grade(course, catalog, db_url=sqlite_url)
    columns = [
        "submission_id",
        "employee_id",
        "score",
        "max_score",
        "passed",
        "red_line_misses",
        "late",
        "flags",
        "submitted_at",
    ]
    on_pg = gradebook.read_frames(pg_url).attempts[columns].sort_values("submission_id").reset_index(drop=True)
    on_sqlite = gradebook.read_frames(sqlite_url).attempts[columns].sort_values("submission_id").reset_index(drop=True)
    assert on_pg.equals(on_sqlite)
    gradebook.dispose(sqlite_url)
