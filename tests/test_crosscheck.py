"""Cross-check: stock `nbgrader autograde` (executing the hidden tests in a
kernel) and our grader (reading literals) give identical scores on honest
submissions; on the attacks, stock is fooled and ours is not."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
import test_grader
from test_tamper import ATTACKS, TARGET, apply_notebook_case, honest_notebook

from wechat_training.assessment import assignments, gradebook, grader
from wechat_training.content.catalog import load_catalog

registered_template = test_grader.registered_template  # shared fixture

MODULE = "account_security"
VALID = Path(__file__).parent / "data" / "valid"

#: Honest answers written the many ways a learner may write them.
HONEST = {
    "E8001": {
        "Q-ACC-001": '"b"',
        "Q-ACC-004": '"a"',
        "Q-ACC-002": "False",
        "Q-ACC-003": '["b", "a"]',
        "Q-ACC-005": "True",
    },
    "E8002": {
        "Q-ACC-001": '["b"]',
        "Q-ACC-004": '"b"',
        "Q-ACC-002": '"false"',
        "Q-ACC-003": '["a"]',
        "Q-ACC-005": '""',
    },
    "E8003": {
        "Q-ACC-001": '"a"',
        "Q-ACC-004": "('a',)",
        "Q-ACC-002": "False",
        "Q-ACC-003": '{"a", "b", "c"}',
        "Q-ACC-005": '"true"',
    },
    "E8004": {"Q-ACC-001": '"B"', "Q-ACC-004": '"a"', "Q-ACC-002": "None", "Q-ACC-003": '["a", "b"]', "Q-ACC-005": "1"},
}
#: Attacks that fool the stock pipeline (it runs them); ours gives them nothing.
FOOLS_STOCK = ["shadowed_builtin", "input_transformer", "read_answer_key"]


def honest(course: Path, answers: dict[str, str]) -> nbformat.NotebookNode:
    nb = nbformat.read(course / "release" / MODULE / f"{MODULE}.ipynb", as_version=4)
    for qid, value in answers.items():
        cell = next(c for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == assignments.grade_id(qid) + "_answer")
        cell.source = f"answer = {value}"
    return nb


def stock_autograde(course: Path) -> dict[str, float]:
    """nbgrader's own pipeline (Execute + SaveAutoGrades), in-process."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = gradebook.default_url(course)
    config.CourseDirectory.course_id = gradebook.COURSE_ID
    config.Execute.timeout = 60
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    result = api.autograde(MODULE, "*", force=True, create=True)
    assert result["success"], result.get("error") or result.get("log")
    with Gradebook(gradebook.default_url(course), gradebook.COURSE_ID) as gb:
        return {s.student_id: s.score for s in gb.assignment_submissions(MODULE)}


@pytest.mark.slow
def test_stock_autograde_and_ours_agree_on_honest_submissions(tmp_path, registered_template, monkeypatch):
    catalog = load_catalog(VALID)
    stock_course, our_course = tmp_path / "stock", tmp_path / "ours"
    shutil.copytree(registered_template, stock_course)
    shutil.copytree(registered_template, our_course)
    marker = tmp_path / "marker"
    monkeypatch.setenv("WT_TAMPER_MARKER", str(marker))
    files = {}
    for employee, answers in HONEST.items():
        folder = stock_course / "submitted" / employee / MODULE
        folder.mkdir(parents=True)
        nbformat.write(honest(stock_course, answers), folder / f"{MODULE}.ipynb")
        files[employee] = folder / f"{MODULE}.ipynb"
    attacks = {c["name"]: c for c in ATTACKS}
    for number, name in enumerate(FOOLS_STOCK):
        employee = f"E87{number:02d}"
        folder = stock_course / "submitted" / employee / MODULE
        folder.mkdir(parents=True)
        apply_notebook_case(attacks[name], honest_notebook(stock_course, catalog), folder / f"{MODULE}.ipynb")
        files[employee] = folder / f"{MODULE}.ipynb"

    stock = stock_autograde(stock_course)
    ours = {
        employee: grader.grade_notebook(our_course, catalog, MODULE, employee, path)[0].attempt["score"]
        for employee, path in files.items()
    }

    honest_ids = sorted(HONEST)
    assert [stock[e] for e in honest_ids] == [ours[e] for e in honest_ids]
    assert len({ours[e] for e in honest_ids}) > 2, "the honest corpus should spread over several scores"
    target_points = catalog.questions[TARGET].points
    full = sum(catalog.questions[q].points for q in assignments.module_questions(catalog, MODULE))
    for number, name in enumerate(FOOLS_STOCK):
        employee = f"E87{number:02d}"
        assert stock[employee] == full, f"{name} should fool the executing pipeline"
        assert ours[employee] == full - target_points, name
    assert marker.exists()  # stock ran the learner's code; the tamper test proves ours does not
    gradebook.dispose(gradebook.default_url(our_course))
    gradebook.dispose(gradebook.default_url(stock_course))
