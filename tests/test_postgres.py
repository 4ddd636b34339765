"""The same grading, roster and frames on a real PostgreSQL server.

The fixture starts Debian's PostgreSQL 15 (initdb + pg_ctl as the `postgres`
user, which the server requires) on a loopback port, and stops it afterwards.
Where that is impossible the tests are skipped, saying why.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from test_grader import MODULE, table_dump, valid_catalog, write_submission  # noqa: F401

from wechat_training.assessment import gradebook, grader
from wechat_training.records.roster import import_roster

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _run(args: list[str]) -> subprocess.CompletedProcess:
    # Failures are turned into skips with the server's own message, not raised.
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pg_server():
    pytest.importorskip("psycopg2", reason="psycopg2-binary is the PostgreSQL driver these tests use")
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN} (apt-get install postgresql)")
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root and runuser is missing: PostgreSQL refuses to run as root")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data = Path(tempfile.mkdtemp(prefix="wt-pg-"))
    if as_postgres:
        shutil.chown(data, "postgres", "postgres")
    port = _free_port()
    init = _run(
        [
            *as_postgres,
            str(PG_BIN / "initdb"),
            "-D",
            str(data / "db"),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C",
        ]
    )
    if init.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        pytest.skip(f"initdb failed: {init.stderr.strip()[-500:]}")
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    start = _run(
        [
            *as_postgres,
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data / "db"),
            "-o",
            options,
            "-l",
            str(data / "log"),
            "-w",
            "start",
        ]
    )
    if start.returncode != 0:
        log = (data / "log").read_text(errors="replace")[-500:] if (data / "log").exists() else start.stderr
        shutil.rmtree(data, ignore_errors=True)
        pytest.skip(f"PostgreSQL did not start: {log}")
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}"
    finally:
        _run([*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data / "db"), "-m", "fast", "-w", "stop"])
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server, request):
    """A fresh database per test."""
    import psycopg2

    name = "wt_" + request.node.name.lower().replace("[", "_").replace("]", "")[:40]
    admin = psycopg2.connect(_pg_dsn(pg_server) + "/postgres")
    admin.autocommit = True
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    admin.close()
    url = f"{pg_server}/{name}"
    yield url
    gradebook.dispose(url)


def _pg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg2", "postgresql")


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
