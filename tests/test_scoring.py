"""Scoring: is every question type scored all-or-nothing, and do red lines fail a module?"""

import pytest
from content_trees import VALID

from wechat_training.content.catalog import load_catalog
from wechat_training.submissions.scoring import is_correct, normalise_answer, score_attempt

CATALOG = load_catalog(VALID)
Q = CATALOG.questions
MODULE = "account_security"
ALL = ["Q-ACC-001", "Q-ACC-002", "Q-ACC-003", "Q-ACC-004"]
RIGHT = {"Q-ACC-001": ["b"], "Q-ACC-002": ["false"], "Q-ACC-003": ["a", "b"], "Q-ACC-004": ["a"]}


@pytest.mark.parametrize(
    ("qid", "answer", "expected"),
    [
        ("Q-ACC-001", ["b"], True),
        ("Q-ACC-001", ["a"], False),
        ("Q-ACC-001", ["a", "b"], False),
        ("Q-ACC-001", [], False),
        ("Q-ACC-002", ["false"], True),
        ("Q-ACC-002", ["true"], False),
        ("Q-ACC-003", ["b", "a"], True),
        ("Q-ACC-003", ["a"], False),
        ("Q-ACC-003", ["a", "b", "c"], False),
        ("Q-ACC-004", ["a"], True),
        ("Q-ACC-004", ["z"], False),
    ],
)
def test_question_is_correct_only_for_exactly_the_key(qid, answer, expected):
    assert is_correct(Q[qid], answer) is expected


def test_an_unknown_choice_is_rejected_with_the_question_named():
    with pytest.raises(ValueError, match="Q-ACC-001: unknown choice"):
        normalise_answer(Q["Q-ACC-001"], ["z"])


def test_all_right_passes():
    result = score_attempt(CATALOG, MODULE, ALL, RIGHT)
    assert (result.score, result.max_score, result.passed) == (4, 4, True)
    assert result.rules_to_revisit == ()


def test_one_wrong_of_four_passes_at_the_075_mark_and_names_the_rule():
    result = score_attempt(CATALOG, MODULE, ALL, {**RIGHT, "Q-ACC-003": ["a"]})
    assert (result.score, result.passed) == (3, True)
    assert result.rules_to_revisit == ("ACC-002",)


def test_a_red_line_miss_fails_whatever_the_total():
    result = score_attempt(CATALOG, MODULE, ALL, {**RIGHT, "Q-ACC-001": ["a"]})
    assert result.score == 3 and result.share >= 0.75
    assert result.passed is False
    assert result.red_line_misses == ("Q-ACC-001",)


def test_answers_to_questions_not_asked_do_not_count():
    result = score_attempt(CATALOG, MODULE, ["Q-ACC-001"], {"Q-ACC-001": ["b"], "Q-ACC-002": ["false"]})
    assert (result.score, result.max_score) == (1, 1)
