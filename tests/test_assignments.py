"""nbgrader source assignments built from the question bank."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
import test_grader
from click.testing import CliRunner

from wechat_training.assessment import assignments
from wechat_training.cli import main
from wechat_training.content.catalog import load_catalog

registered_template = test_grader.registered_template  # shared fixture

VALID = Path(__file__).parent / "data" / "valid"
MODULE = "account_security"


def test_same_catalogue_same_bytes(tmp_path):
    catalog = load_catalog(VALID)
    first = assignments.build(catalog, tmp_path / "a")
    second = assignments.build(load_catalog(VALID), tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    mtime = first[0].stat().st_mtime_ns
    assignments.build(catalog, tmp_path / "a")
    assert first[0].stat().st_mtime_ns == mtime  # unchanged bytes are not rewritten


def test_cells_carry_nbgrader_v3_metadata_ascii_grade_ids_and_our_namespace():
    catalog = load_catalog(VALID)
    nb = assignments.notebook_for(catalog, MODULE)
    grade_ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells]
    assert len(grade_ids) == len(set(grade_ids))
    assert all(gid.isascii() and gid.replace("_", "").isalnum() for gid in grade_ids)
    assert all(c.metadata["nbgrader"]["schema_version"] == 3 for c in nb.cells)
    tests = [c for c in nb.cells if c.metadata["nbgrader"]["grade"]]
    asked = assignments.module_questions(catalog, MODULE)
    assert [c.metadata["nbgrader"]["grade_id"] for c in tests] == [q.replace("-", "_") for q in asked]
    assert [c.metadata["nbgrader"]["points"] for c in tests] == [catalog.questions[q].points for q in asked]
    assert all(c.metadata["nbgrader"]["locked"] for c in tests)
    assert {c.metadata["wechat_training"]["part"] for c in nb.cells} == {
        "header",
        "setup",
        "question",
        "answer",
        "test",
    }
    assert nb.metadata["wechat_training"]["content_version"] == catalog.content_version(MODULE)


@pytest.mark.slow
def test_nbgrader_generates_and_validates_a_release_without_the_key(tmp_path, registered_template):
    """generate_assignment ran in the fixture (nbgrader's own API); validate the
    release and look for any trace of the key in it."""
    from nbgrader.validator import Validator

    course = tmp_path / "course"
    shutil.copytree(registered_template, course)
    release = course / "release" / MODULE / f"{MODULE}.ipynb"
    nb = nbformat.read(release, as_version=4)
    catalog = load_catalog(VALID)
    text = release.read_text(encoding="utf-8")
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text and "assert" not in text
    answers = [c for c in nb.cells if c.metadata["nbgrader"].get("solution")]
    assert [c.source for c in answers] == [assignments.ANSWER_STUB] * len(assignments.module_questions(catalog, MODULE))
    for qid in assignments.module_questions(catalog, MODULE):
        test = next(c for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == assignments.grade_id(qid))
        assert test.source == assignments.test_visible_source(qid)

    # An answered release is valid: its cells run, no hidden test is left to
    # fail and the locked cells' checksums hold (what `nbgrader validate` checks).
    for cell in answers:
        cell.source = 'answer = "a"'
    answered = tmp_path / "answered.ipynb"
    nbformat.write(nb, answered)
    assert Validator().validate(str(answered)) == {}
    # An edited locked cell is what validate reports as changed.
    next(c for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == "setup").source = "pass"
    nbformat.write(nb, answered)
    assert "changed" in Validator().validate(str(answered))


def test_cli_build_writes_every_module(tmp_path):
    result = CliRunner().invoke(
        main,
        ["build", "--root", str(VALID), "--course-dir", str(tmp_path), "--notebooks-dir", str(tmp_path / "nb")],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "nb").iterdir()) == ["account_security.ipynb", "portal.ipynb"]
    path = tmp_path / "source" / MODULE / f"{MODULE}.ipynb"
    assert f"wrote {path}" in result.output
    assert nbformat.read(path, as_version=4).metadata["wechat_training"]["module"] == MODULE


def test_cli_build_writes_beside_the_root_it_is_given(tmp_path):
    """Without --notebooks-dir / --course-dir, does `build --root DIR` write DIR/notebooks and
    DIR/grading/source (not into the kit's own folders)?"""
    import shutil

    content = tmp_path / "company"
    shutil.copytree(VALID, content)
    result = CliRunner().invoke(main, ["build", "--root", str(content)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (content / "notebooks").iterdir()) == ["account_security.ipynb", "portal.ipynb"]
    assert (content / "grading" / "source" / MODULE / f"{MODULE}.ipynb").is_file()
    assert str(content) in result.output and "/work/main" not in result.output
