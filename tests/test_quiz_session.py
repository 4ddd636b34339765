"""The quiz and practice logic a learner drives, tested without a browser."""

import json
from pathlib import Path

import pytest

from wechat_training.content.catalog import load_catalog
from wechat_training.learning.identity import Identity
from wechat_training.learning.quiz_session import GradedQuiz, Practice, QuizStateError
from wechat_training.submissions import store as submissions

VALID = Path(__file__).parent / "data" / "valid"
MODULE = "account_security"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(VALID)


@pytest.fixture
def quiz(catalog, tmp_path):
    return GradedQuiz(catalog, MODULE, Identity("E100001", "local"), tmp_path)


def right_answer(catalog, qid):
    return sorted(catalog.questions[qid].correct_choice_ids())


def test_quiz_asks_the_employees_draw(catalog, quiz):
    assert quiz.question_ids == catalog.questions_for(MODULE, "E100001")
    assert quiz.question_ids[:2] == ["Q-ACC-001", "Q-ACC-004"]


def test_all_right_passes_and_the_file_holds_exactly_the_answers(catalog, quiz, tmp_path):
    for qid in quiz.question_ids:
        quiz.answer(qid, right_answer(catalog, qid))
    outcome = quiz.submit()
    assert outcome.result.passed and outcome.result.score == outcome.result.max_score == 4
    data = json.loads(outcome.path.read_text(encoding="utf-8"))
    assert data["answers"] == {qid: right_answer(catalog, qid) for qid in quiz.question_ids}
    assert data["question_ids"] == quiz.question_ids
    assert data["employee_id"] == "E100001" and data["identity_source"] == "local"
    assert data["content_version"] == catalog.content_version(MODULE)
    assert outcome.path.parent == tmp_path / "submissions" / MODULE / "E100001"


def test_red_line_miss_fails_whatever_the_total(catalog, quiz):
    for qid in quiz.question_ids:
        quiz.answer(qid, right_answer(catalog, qid))
    quiz.answer("Q-ACC-001", ["a"])  # lends the account: the red line
    result = quiz.submit().result
    assert result.share == 0.75 and not result.passed
    assert result.red_line_misses == ("Q-ACC-001",)
    assert result.rules_to_revisit == ("ACC-001",)


def test_review_lists_unanswered_and_answers_can_change_until_submit(catalog, quiz):
    quiz.answer("Q-ACC-001", ["a"])
    quiz.answer("Q-ACC-001", ["b"])
    quiz.answer("Q-ACC-004", ["a"])
    quiz.answer("Q-ACC-004", [])  # cleared again
    items = quiz.start_review()
    assert quiz.reviewing
    assert [i.answer for i in items][:2] == [("b",), ()]
    assert quiz.unanswered() == [2, 3, 4]
    quiz.go(1)
    assert not quiz.reviewing and quiz.question.id == "Q-ACC-004"


def test_navigation_next_on_the_last_question_opens_the_review(quiz):
    for _ in quiz.question_ids:
        quiz.next()
    assert quiz.reviewing
    with pytest.raises(QuizStateError):
        quiz.go(len(quiz.question_ids))


def test_submitted_attempt_is_frozen_and_a_new_attempt_keeps_the_old_file(catalog, quiz, tmp_path):
    first = quiz.submit()
    with pytest.raises(QuizStateError, match="new attempt"):
        quiz.answer("Q-ACC-001", ["b"])
    with pytest.raises(QuizStateError):
        quiz.submit()
    again = GradedQuiz(catalog, MODULE, Identity("E100001", "local"), tmp_path)
    again.answer("Q-ACC-001", ["b"])
    second = again.submit()
    stored = submissions.attempts(tmp_path, "E100001", MODULE)
    assert [s.submission_id for s in stored] == [first.submission.submission_id, second.submission.submission_id]
    assert stored[0].answers["Q-ACC-001"] == []


def test_impossible_answers_are_refused(quiz):
    with pytest.raises(ValueError, match="unknown choice"):
        quiz.answer("Q-ACC-001", ["z"])
    with pytest.raises(ValueError, match="takes one choice"):
        quiz.answer("Q-ACC-001", ["a", "b"])
    with pytest.raises(QuizStateError, match="not part"):
        quiz.answer("Q-ACC-999", ["a"])


def test_practice_feedback_quotes_the_rule_and_records_nothing(catalog, tmp_path):
    practice = Practice(catalog, MODULE)
    assert practice.question.id == "Q-ACC-007"
    wrong = practice.check(["a"])
    assert not wrong.correct
    assert [r.id for r in wrong.rules] == ["ACC-001"]
    assert wrong.rules[0].text.en == "Never let anyone else log in to your work account."
    assert [f.en for f in wrong.choice_feedback] == ["No."]
    assert wrong.correct_choices == {"b"}
    assert practice.check(["b"]).correct
    practice.go(len(practice.question_ids))  # wraps around
    assert practice.index == 0
    assert not (tmp_path / "submissions").exists()


def test_practice_never_shows_a_graded_question(catalog):
    """Does practice hold only the module's practice-only questions, none of which the graded
    quiz can ask anyone (so practice hands out no graded keys)?"""
    practice = Practice(catalog, MODULE)
    assert practice.question_ids == ["Q-ACC-007", "Q-ACC-006"]
    graded = {q for n in range(200) for q in catalog.questions_for(MODULE, f"E{n:06d}")}
    assert graded and not graded & set(practice.question_ids)
    assert set(catalog.draw_pool(MODULE)) == {"Q-ACC-002", "Q-ACC-003", "Q-ACC-005"}


def test_unknown_module_names_the_known_ones(catalog, tmp_path):
    with pytest.raises(KeyError, match="account_security"):
        GradedQuiz(catalog, "publishing", Identity("E1", "local"), tmp_path)
