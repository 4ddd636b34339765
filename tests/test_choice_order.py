"""Choice shuffling (issue 9 §1): per employee and attempt, reproducible, recorded, never scored."""

import dataclasses
import json

import pytest
import yaml
from conftest import REPO
from content_trees import VALID, lint_tree

from wechat_training.assessment.evaluation import evaluate
from wechat_training.content.catalog import load_catalog
from wechat_training.content.choice_order import PRACTICE_ATTEMPT, choice_order, choice_orders
from wechat_training.learning.identity import Identity
from wechat_training.learning.quiz_session import GradedQuiz, Practice
from wechat_training.learning.widgets.controls import choice_input
from wechat_training.submissions import store as submissions

MODULE = "account_security"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(VALID)


@pytest.fixture(scope="module")
def shipped():
    return load_catalog(REPO)


def quiz_for(catalog, employee, course_dir):
    return GradedQuiz(catalog, MODULE, Identity(employee, "local"), course_dir)


def answer_all_right(quiz):
    for qid in quiz.question_ids:
        quiz.answer(qid, sorted(quiz.catalog.questions[qid].correct_choice_ids()))


def test_two_employees_see_different_orders(shipped):
    questions = [q for q in shipped.questions.values() if q.type != "true_false"]
    first = choice_orders(questions, MODULE, "E200001", 1)
    second = choice_orders(questions, MODULE, "E200002", 1)
    differing = [q for q in first if first[q] != second[q]]
    # 4-choice questions: two independent permutations agree 1 time in 24.
    assert len(differing) > len(first) / 2


def test_the_same_employee_and_attempt_see_the_same_order_again(catalog, tmp_path):
    opened = quiz_for(catalog, "E200003", tmp_path)
    reopened = quiz_for(catalog, "E200003", tmp_path)  # a reload before submitting
    assert opened.attempt == reopened.attempt == 1
    assert opened.choice_order == reopened.choice_order
    assert set(opened.choice_order) == {q for q in opened.question_ids if catalog.questions[q].type != "true_false"}


def test_each_new_attempt_is_numbered_and_reshuffled(shipped, tmp_path):
    employee = "E200004"
    orders = []
    for attempt in (1, 2, 3):
        quiz = GradedQuiz(shipped, "group_chats", Identity(employee, "local"), tmp_path)
        assert quiz.attempt == attempt
        orders.append(quiz.choice_order)
        quiz.submit()
    assert orders[0] != orders[1] != orders[2]
    # Others' submissions do not count towards this employee's attempts.
    assert GradedQuiz(shipped, "group_chats", Identity("E200005", "local"), tmp_path).attempt == 1


def test_the_submission_records_the_order_shown(catalog, tmp_path):
    quiz = quiz_for(catalog, "E200006", tmp_path)
    answer_all_right(quiz)
    outcome = quiz.submit()
    data = json.loads(outcome.path.read_text(encoding="utf-8"))
    assert data["attempt"] == 1
    assert data["choice_order"] == quiz.choice_order
    assert submissions.read(outcome.path).choice_order == quiz.choice_order


def test_an_order_is_a_permutation_of_the_choice_ids(shipped):
    for q in shipped.questions.values():
        if q.type == "true_false":
            continue
        assert sorted(choice_order(q, q.id, "E200007", 1)) == sorted(c.id for c in q.choices)


def test_grading_does_not_depend_on_the_order_and_a_forged_order_is_flagged(catalog, tmp_path):
    quiz = quiz_for(catalog, "E200008", tmp_path)
    answer_all_right(quiz)
    honest = quiz.submit().submission
    reversed_order = {q: list(reversed(o)) for q, o in honest.choice_order.items()}
    forged = dataclasses.replace(honest, choice_order=reversed_order)
    before_issue_9 = dataclasses.replace(honest, attempt=None, choice_order={})
    results = {
        name: evaluate(catalog, sub) for name, sub in [("honest", honest), ("forged", forged), ("old", before_issue_9)]
    }
    assert {r.result.score for r in results.values()} == {honest_score := results["honest"].result.max_score}
    assert honest_score == 4
    assert results["honest"].flags == [] and results["old"].flags == []
    assert results["forged"].flags == ["choice order differs from the employee's seeded shuffle for this attempt"]


def test_a_file_written_before_shuffling_is_still_read(catalog, tmp_path):
    quiz = quiz_for(catalog, "E200009", tmp_path)
    path = quiz.submit().path
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["attempt"], data["choice_order"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data), encoding="utf-8")
    sub = submissions.read(old)
    assert sub.attempt is None and sub.choice_order == {}


def test_shuffle_false_keeps_the_authored_order(tmp_path):
    root = lint_tree("_clean", tmp_path / "content")
    bank = root / "quizzes/questions/account_security.yaml"
    data = yaml.safe_load(bank.read_text(encoding="utf-8"))
    multiple = next(q for q in data["questions"] if q["id"] == "Q-ACC-003")
    multiple.update(shuffle=False, shuffle_reason="the choices build on each other")
    bank.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    question = load_catalog(root).questions["Q-ACC-003"]
    assert {tuple(choice_order(question, MODULE, f"E3{n:05d}", 1)) for n in range(30)} == {("a", "b", "c")}


def test_practice_is_shuffled_per_employee_and_labels_follow_the_display_position(shipped):
    practice = Practice(shipped, "group_chats", "E200010")
    while practice.question.type != "single" or len(practice.question.choices) < 3:
        practice.go(practice.index + 1)
    order = practice.order()
    assert order == choice_order(practice.question, "group_chats", "E200010", PRACTICE_ATTEMPT)
    control = choice_input(practice.question, "en", [], lambda _: None, order)
    texts = {c.id: c.text.en for c in practice.question.choices}
    assert list(control.options) == [(f"{'ABCD'[i]}. {texts[cid]}", cid) for i, cid in enumerate(order)]
