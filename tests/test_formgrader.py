"""nbgrader's formgrader, in a real browser, on a gradebook our grader wrote.

A portal attempt's nbgrader submission has grade rows but no comment rows
(issue 11: 38 rows fewer per attempt). This opens formgrader in Chromium and
checks what a trainer meets: every employee's best score, manual grading that
offers only the submissions with a notebook (never a portal attempt), and a
notebook graded by `nbgrader autograde` after a portal attempt shown with a
comment box per answer cell that saves a comment.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import test_grader
import test_tamper
from browser import CHROMIUM, CHROMIUM_ARGS, free_port, running_server
from test_grader import MODULE, write_submission

from wechat_training.assessment import gradebook, grader

REPO = Path(__file__).resolve().parents[1]
registered_template = test_grader.registered_template  # shared fixture
catalog = test_tamper.catalog  # shared fixture: the valid content with the tamper overlay
PORTAL_ONLY, PORTAL_THEN_NOTEBOOK, NOTEBOOK_ONLY = "E5001", "E5002", "E5003"
TIMEOUT_MS = 60_000


def submitted_notebook_id(db: Path, student: str) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "select n.id from submitted_notebook n join submitted_assignment a on a.id = n.assignment_id "
            "where a.student_id = ?",
            (student,),
        ).fetchone()[0]


def comment_rows(db: Path, student: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "select c.cell_id, c.manual_comment from comment c join submitted_notebook n on n.id = c.notebook_id "
            "join submitted_assignment a on a.id = n.assignment_id where a.student_id = ? order by c.cell_id",
            (student,),
        ).fetchall()


@pytest.fixture(scope="module")
def course(tmp_path_factory, registered_template, catalog) -> Path:
    """Portal attempts graded by `wechat-training grade`, then notebooks by `nbgrader autograde`."""
    course = tmp_path_factory.mktemp("formgrader") / "course"
    shutil.copytree(registered_template, course)
    write_submission(course, catalog, PORTAL_ONLY, right=2)
    write_submission(course, catalog, PORTAL_THEN_NOTEBOOK, right=1)
    grader.grade(course, catalog)
    gradebook.dispose(gradebook.default_url(course))
    assert comment_rows(course / "gradebook.db", PORTAL_ONLY) == []  # the rows this issue saves

    shutil.copy(REPO / "grading" / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(catalog.root, course / "content")
    for student in (PORTAL_THEN_NOTEBOOK, NOTEBOOK_ONLY):
        folder = course / "submitted" / student / MODULE
        folder.mkdir(parents=True)
        nb = test_tamper.honest_notebook(course, catalog, target_right=True)
        (folder / f"{MODULE}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
        (folder / "timestamp.txt").write_text("2026-03-02 10:00:00.000000 UTC")
    env = {**os.environ, "WECHAT_TRAINING_ROOT": str(course / "content")}
    env.pop("WECHAT_TRAINING_DB", None)
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", MODULE],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return course


@pytest.fixture(scope="module")
def formgrader(course: Path):
    """Jupyter Server with nbgrader's formgrader extension, serving the course directory."""
    port = free_port()
    env = {**os.environ, "WECHAT_TRAINING_ROOT": str(course / "content")}
    env.pop("WECHAT_TRAINING_DB", None)
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "server",
        "--no-browser",
        "--allow-root",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={course}",
    ]
    base = f"http://127.0.0.1:{port}"
    with running_server(
        command, base + "/formgrader/manage_assignments", course.parent / "formgrader.log", env=env, cwd=course
    ):
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    tab.failed = []  # type: ignore[attr-defined]
    tab.on("response", lambda r: r.status >= 500 and tab.failed.append(f"{r.status} {r.url}"))
    yield tab
    context.close()


def test_formgrader_shows_every_employee_best_score(page, formgrader, course):
    """Manage Students: each employee's best score, portal attempts included."""
    with sqlite3.connect(course / "gradebook.db") as conn:
        best = dict(
            conn.execute(
                "select a.student_id, sum(g.auto_score) from grade g join submitted_notebook n on n.id = g.notebook_id "
                "join submitted_assignment a on a.id = n.assignment_id group by a.student_id"
            )
        )
    assert set(best) == {PORTAL_ONLY, PORTAL_THEN_NOTEBOOK, NOTEBOOK_ONLY}
    page.goto(f"{formgrader}/formgrader/manage_students")
    for student, score in best.items():
        cell = page.locator(f"#main-table tr:has(td.id:text-is('{student}')) td.score")
        cell.wait_for()
        assert cell.inner_text().startswith(f"{score:g} / "), (student, cell.inner_text())
    assert page.failed == []


def test_manual_grading_links_only_the_notebooks_never_a_portal_attempt(page, formgrader, course):
    """formgrader offers for grading only submissions with an autograded notebook, so a
    portal attempt's page (the one place its missing comment rows could matter) is never
    linked. Typed by hand, that page fails in nbgrader 0.9.6 itself, comment rows or not:
    its formgrade_404.tpl imports a template nbgrader does not ship."""
    db = course / "gradebook.db"
    page.goto(f"{formgrader}/formgrader/gradebook/{MODULE}/{MODULE}")
    page.wait_for_selector("text=Submission #2")
    linked = {
        href.rstrip("/").rsplit("/", 1)[-1]
        for href in page.eval_on_selector_all("a[href*='/formgrader/submissions/']", "els => els.map(e => e.href)")
    }
    assert linked == {submitted_notebook_id(db, s) for s in (PORTAL_THEN_NOTEBOOK, NOTEBOOK_ONLY)}
    assert page.failed == []


@pytest.mark.parametrize("student", [PORTAL_THEN_NOTEBOOK, NOTEBOOK_ONLY])
def test_a_graded_notebook_opens_with_a_comment_box_per_answer_and_saves_one(page, formgrader, course, student):
    db = course / "gradebook.db"
    cells = comment_rows(db, student)
    assert len(cells) == len(gradebook.assignment_cells(gradebook.default_url(course), MODULE).solution_cells)
    response = page.goto(f"{formgrader}/formgrader/submissions/{submitted_notebook_id(db, student)}/")
    assert response.status == 200
    # formgrader binds its boxes once its grades and comments are fetched from its API.
    page.wait_for_function("() => window.formgrader?.comments?.loaded && window.formgrader?.grades?.loaded")
    assert page.evaluate("formgrader.comments.length") == len(cells)
    boxes = page.locator("textarea.comment")
    assert boxes.count() == len(cells)
    text = f"请复核 review {student}"
    boxes.first.fill(text)
    page.locator("input.score").first.focus()  # leaving the box saves it
    deadline = time.monotonic() + 30
    while text not in [c for _cell, c in comment_rows(db, student)] and time.monotonic() < deadline:
        time.sleep(0.3)
    assert text in [c for _cell, c in comment_rows(db, student)]
    assert page.failed == []
