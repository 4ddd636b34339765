"""Answers read from notebook answer cells as literals only."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from wechat_training.assessment import answers, assignments
from wechat_training.content.catalog import load_catalog

VALID = Path(__file__).parent / "data" / "valid"
MODULE = "account_security"


@pytest.mark.parametrize(
    "source,value",
    [
        ('answer = "b"', "b"),
        ("answer = ['a', 'c']  # two of them", ["a", "c"]),
        ("answer = True", True),
        ("answer = ('a',)", ("a",)),
        ("# thinking...\n\nanswer = 'a'\n", "a"),
        ("", None),
    ],
)
def test_literals_are_read(source, value):
    assert answers.parse_answer(source) == (value, None)


@pytest.mark.parametrize(
    "source,problem",
    [
        ("answer = 'a'.upper()", "not a literal"),
        ("answer = open('/etc/passwd').read()", "not a literal"),
        ("import os\nanswer = 'a'", "must be one line"),
        ("x = 'a'", "must be one line"),
        ("answer = 'a'\nanswer = 'b'", "must be one line"),
        ("answer: str = 'a'", "must be one line"),
        ("answer = ", "not valid Python"),
        ("answer = [" + "[" * 200 + "]" * 201, ""),  # deep nesting: refused, never a crash
        ("answer = '" + "a" * 5000 + "'", "characters long"),
    ],
)
def test_anything_but_one_literal_assignment_is_refused(source, problem):
    value, why = answers.parse_answer(source)
    assert value is None and why and problem in why


@pytest.mark.parametrize(
    "value,picked",
    [
        ("b", ["b"]),
        (["c", "a", "a"], ["a", "c"]),
        (True, ["true"]),
        (False, ["false"]),
        ("", []),
        (None, []),
        ({"a"}, ["a"]),
        (1, None),
        ({"a": 1}, None),
        ([1], None),
        (b"a", None),
    ],
)
def test_picked_reads_a_literal_as_choice_ids(value, picked):
    assert answers.picked(value) == picked


def test_an_honest_notebook_has_no_flags_and_every_answer(tmp_path):
    catalog = load_catalog(VALID)
    nb = assignments.notebook_for(catalog, MODULE)
    # What a learner gets (the release) and fills in: stub replaced by an answer.
    for cell in nb.cells:
        part = cell.metadata["wechat_training"]["part"]
        if part == "answer":
            cell.source = 'answer = "a"'
        elif part == "test":
            cell.source = assignments.test_visible_source(cell.metadata["wechat_training"]["question"])
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    read = answers.read_notebook(path, catalog, MODULE)
    assert read.flags == []
    assert read.answers == {q: ["a"] for q in assignments.module_questions(catalog, MODULE)}


def test_the_source_notebook_key_is_not_what_the_release_expects(tmp_path):
    """Submitting the SOURCE notebook (key and hidden tests inside) is flagged: its
    test cells differ from the release's locked cells."""
    catalog = load_catalog(VALID)
    path = tmp_path / "source.ipynb"
    path.write_text(json.dumps(assignments.notebook_for(catalog, MODULE)), encoding="utf-8")
    read = answers.read_notebook(path, catalog, MODULE)
    assert any("locked cell edited" in f for f in read.flags)
