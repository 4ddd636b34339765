"""The tamper corpus (tests/data/tamper/corpus.yaml): cheating never pays.

For every case: no points for the attacked question, nobody else's record
touched, no code run, and a clear flag on the submission.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import test_grader
import yaml
from test_grader import write_submission

from wechat_training.assessment import assignments, gradebook, grader
from wechat_training.content.catalog import Catalog, load_catalog
from wechat_training.submissions import provenance
from wechat_training.submissions import store as submissions

course = test_grader.course  # shared fixture
registered_template = test_grader.registered_template  # shared fixture

HERE = Path(__file__).parent
TAMPER = HERE / "data" / "tamper"
CORPUS = yaml.safe_load((TAMPER / "corpus.yaml").read_text(encoding="utf-8"))
TARGET = CORPUS["target"]
MODULE = "account_security"
CHEAT, VICTIM = "E9001", "E9002"
REPO = HERE.parent


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Catalog:
    """tests/data/valid plus a publishing module, so 'another module' exists."""
    root = tmp_path_factory.mktemp("content") / "tree"
    shutil.copytree(HERE / "data" / "valid", root)
    shutil.copytree(TAMPER / "overlay", root, dirs_exist_ok=True)
    return load_catalog(root)


def literal(catalog: Catalog, qid: str, right: bool) -> str:
    question = catalog.questions[qid]
    picked = sorted(question.correct_choice_ids())
    if not right:
        wrong = [c for c in ("true", "false", *(c.id for c in question.choices or ())) if c not in picked]
        picked = [wrong[0]] if question.type != "true_false" else ["false" if picked == ["true"] else "true"]
    if question.type == "true_false":
        return "answer = " + ("True" if picked == ["true"] else "False")
    return "answer = " + (json.dumps(picked) if question.type == "multiple" else json.dumps(picked[0]))


def honest_notebook(course: Path, catalog: Catalog, target_right: bool = False) -> nbformat.NotebookNode:
    """The release notebook, every question answered right except the target."""
    nb = nbformat.read(course / "release" / MODULE / f"{MODULE}.ipynb", as_version=4)
    for cell in nb.cells:
        gid = cell.metadata["nbgrader"].get("grade_id", "")
        if gid.endswith(assignments.ANSWER_SUFFIX):
            qid = assignments.question_id(gid[: -len(assignments.ANSWER_SUFFIX)])
            cell.source = literal(catalog, qid, right=target_right or qid != TARGET)
    return nb


def cell(nb, gid):
    return next(c for c in nb.cells if c.metadata["nbgrader"].get("grade_id") == gid)


def apply_notebook_case(case: dict, nb, path: Path) -> None:
    if "raw" in case:
        path.write_text(case["raw"], encoding="utf-8")
        return
    if "size_mb" in case:
        # An honest notebook padded with a 50 MB output: the size alone stops it.
        nb.cells[0].setdefault("attachments", {})
        nb.metadata["padding"] = " " * (case["size_mb"] * 1_000_000)
    if "answer_cell" in case:
        cell(nb, assignments.grade_id(TARGET) + "_answer").source = (
            TAMPER / "answer_cells" / case["answer_cell"]
        ).read_text()
    if "answer_source" in case:
        cell(nb, assignments.grade_id(TARGET) + "_answer").source = case["answer_source"]
    edit = case.get("edit", {})
    if "delete" in edit:
        nb.cells.remove(cell(nb, edit["delete"]))
    if "duplicate" in edit:
        original = cell(nb, edit["duplicate"])
        twin = copy.deepcopy(original)
        twin.source = edit["source"]
        twin.id = "twin"
        nb.cells.insert(nb.cells.index(original) + 1, twin)
    if "replace_source" in edit:
        cell(nb, edit["replace_source"]).source = edit["source"]
    if "metadata" in edit:
        cell(nb, edit["metadata"]).metadata["nbgrader"][edit["key"]] = edit["value"]
    if "our_metadata" in edit:
        cell(nb, edit["our_metadata"]).metadata["wechat_training"][edit["key"]] = edit["value"]
    if "append_code" in edit:
        nb.cells.append(nbformat.v4.new_code_cell(edit["append_code"]))
    if "notebook_metadata" in edit:
        nb.metadata["wechat_training"][edit["notebook_metadata"]] = edit["value"]
    path.write_text(json.dumps(nb), encoding="utf-8")


def victim_rows(db_file: Path) -> dict[str, list]:
    with sqlite3.connect(db_file) as conn:
        return {
            "attempts": conn.execute("select * from wt_attempt where employee_id = ?", (VICTIM,)).fetchall(),
            "grades": conn.execute(
                "select g.auto_score, g.manual_score from grade g join submitted_notebook n on n.id = g.notebook_id "
                "join submitted_assignment a on a.id = n.assignment_id where a.student_id = ? order by g.cell_id",
                (VICTIM,),
            ).fetchall(),
        }


@pytest.fixture
def graded_victim(course, catalog):
    """E9002 has an honest, fully right notebook attempt on record."""
    path = course / "victim.ipynb"
    nbformat.write(honest_notebook(course, catalog, target_right=True), path)
    row, _ = grader.grade_notebook(course, catalog, MODULE, VICTIM, path)
    assert row.attempt["score"] == row.attempt["max_score"] and not row.attempt["flags"]
    return victim_rows(course / "gradebook.db")


@pytest.mark.parametrize("case", CORPUS["notebook"], ids=[c["name"] for c in CORPUS["notebook"]])
def test_notebook_attack(case, course, catalog, graded_victim, tmp_path, monkeypatch):
    marker = tmp_path / "marker"
    monkeypatch.setenv("WT_TAMPER_MARKER", str(marker))
    path = tmp_path / f"{case['name']}.ipynb"
    apply_notebook_case(case, honest_notebook(course, catalog), path)

    row, stored = grader.grade_notebook(course, catalog, MODULE, CHEAT, path)

    assert stored
    attempt = row.attempt
    assert case["flag"] in attempt["flags"], attempt["flags"]
    assert not attempt["passed"]
    target = {a["question_id"]: a for a in row.answers}[TARGET]
    assert target["points"] == 0 and not target["correct"]
    # Points can only be lost, never gained: the max is the catalogue's.
    assert attempt["max_score"] == sum(
        q.points for q in map(catalog.questions.get, assignments.module_questions(catalog, MODULE))
    )
    assert attempt["score"] <= attempt["max_score"] - catalog.questions[TARGET].points
    assert victim_rows(course / "gradebook.db") == graded_victim
    assert not marker.exists(), "learner code was executed"


def store_case_file(course: Path, catalog: Catalog, case: dict) -> Path:
    qids = catalog.questions_for(MODULE, CHEAT)
    assert TARGET in qids
    answers = {q: sorted(catalog.questions[q].correct_choice_ids()) for q in qids if q != TARGET}
    answers[TARGET] = ["false" if catalog.questions[TARGET].answer else "true"]
    sub = write_submission(course, catalog, CHEAT, answers=answers)
    path = next(submissions.paths(course, MODULE, CHEAT))
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(case.get("set", {}))
    if "add_question" in case:
        data["question_ids"].append(case["add_question"]["id"])
        data["answers"][case["add_question"]["id"]] = case["add_question"]["answer"]
    if "add_answer" in case:
        data["answers"][case["add_answer"]["id"]] = case["add_answer"]["answer"]
    if case.get("drop_target"):
        easier = next(q for q in assignments.module_questions(catalog, MODULE) if q not in qids)
        data["question_ids"] = [easier if q == TARGET else q for q in data["question_ids"]]
        data["answers"] = {(easier if q == TARGET else q): a for q, a in data["answers"].items()}
        data["answers"][easier] = sorted(catalog.questions[easier].correct_choice_ids())
    # The attacker holds their own employee key (a learner kernel does): the
    # edited file is signed again with it, so the checks below the signature's
    # are what must stop it.
    data["signature"] = provenance.signer_for(course, CHEAT).sign({k: v for k, v in data.items() if k != "signature"})
    text = json.dumps(data)
    if "raw" in case:
        text = case["raw"]
    if "size_mb" in case:
        data["padding"] = " " * (case["size_mb"] * 1_000_000)
        text = json.dumps(data)
    path.write_text(text, encoding="utf-8")
    assert sub.employee_id == CHEAT
    return path


@pytest.mark.parametrize("case", CORPUS["store"], ids=[c["name"] for c in CORPUS["store"]])
def test_store_attack(case, course, catalog):
    write_submission(course, catalog, VICTIM)
    grader.grade(course, catalog)
    before = victim_rows(course / "gradebook.db")
    store_case_file(course, catalog, case)

    report = grader.grade(course, catalog)

    attempts = gradebook.read_frames(gradebook.default_url(course)).attempts
    mine = attempts[attempts["employee_id"] == CHEAT]
    if case["outcome"] == "rejected":
        assert mine.empty
        assert len(report.rejected) == 1 and case["flag"] in report.rejected[0][1], report.rejected
        assert gradebook.rejected(gradebook.default_url(course))[0]["employee_id"] == CHEAT
    else:
        (attempt,) = mine.itertuples()
        assert case["flag"] in attempt.flags, attempt.flags
        assert not attempt.passed
        answers = gradebook.read_frames(gradebook.default_url(course)).answers
        target = answers[(answers["employee_id"] == CHEAT) & (answers["question_id"] == TARGET)]
        assert not target["correct"].any()
        assert attempt.score < attempt.max_score or TARGET not in set(
            answers["question_id"][answers["employee_id"] == CHEAT]
        )
    assert victim_rows(course / "gradebook.db") == before


ATTACKS = [c for c in CORPUS["notebook"] if "answer_cell" in c]


@pytest.mark.slow
def test_stock_nbgrader_autograde_command_runs_the_safe_pipeline(course, catalog, graded_victim, tmp_path):
    """`nbgrader autograde` in a course using grading/nbgrader_config.py runs no
    learner code: the four attacks (and the SQL one) score nothing, are flagged,
    and the victim's record stays as it was."""
    shutil.copy(REPO / "grading" / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(catalog.root, course / "content")
    for number, case in enumerate(ATTACKS):
        student = f"E91{number:02d}"
        folder = course / "submitted" / student / MODULE
        folder.mkdir(parents=True)
        apply_notebook_case(case, honest_notebook(course, catalog), folder / f"{MODULE}.ipynb")
        (folder / "timestamp.txt").write_text("2026-03-02 10:00:00.000000 UTC")
    marker = tmp_path / "marker"
    env = {
        **os.environ,
        "WECHAT_TRAINING_ROOT": str(course / "content"),
        "WT_TAMPER_MARKER": str(marker),
        "WT_TAMPER_DB": str(course / "gradebook.db"),
    }
    env.pop("WECHAT_TRAINING_DB", None)
    env.pop("WECHAT_TRAINING_STOCK_AUTOGRADE", None)
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
    assert not marker.exists(), "learner code was executed"
    attempts = gradebook.read_frames(gradebook.default_url(course)).attempts.set_index("employee_id")
    for number, case in enumerate(ATTACKS):
        attempt = attempts.loc[f"E91{number:02d}"]
        assert case["flag"] in attempt["flags"] and not attempt["passed"]
        assert attempt["score"] == attempt["max_score"] - catalog.questions[TARGET].points
    assert victim_rows(course / "gradebook.db") == graded_victim
    # nbgrader's own view agrees: the best (only) attempt, flagged.
    from nbgrader.api import Gradebook

    with Gradebook(gradebook.default_url(course), gradebook.COURSE_ID) as gb:
        first = gb.find_submission(MODULE, "E9100")
        assert first.score == attempts.loc["E9100", "score"] and first.notebooks[0].flagged
