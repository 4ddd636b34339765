"""Scoring: pure functions of (question, answer) and of a whole attempt.

The portal uses these to show a learner their result and the grader uses the
same functions to write the official record, so both always agree. Nothing
here reads files, executes learner input, or imports widgets.

An answer is the collection of choice ids the learner picked; a true/false
question has the two choice ids "true" and "false". An empty answer is a
question left unanswered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..content.catalog import Catalog
from ..content.schema import Question

TRUE_FALSE_CHOICES = ("true", "false")


def choice_ids(question: Question) -> tuple[str, ...]:
    """The choice ids a learner may pick for this question."""
    if question.type == "true_false":
        return TRUE_FALSE_CHOICES
    return tuple(c.id for c in question.choices or ())


def normalise_answer(question: Question, answer: Iterable[str] | None) -> frozenset[str]:
    """The answer as a set of valid choice ids; raises ValueError for an invalid one."""
    picked = frozenset(answer or ())
    allowed = set(choice_ids(question))
    invalid = sorted(picked - allowed)
    if invalid:
        raise ValueError(f"{question.id}: unknown choice(s) {', '.join(map(str, invalid))}")
    if len(picked) > 1 and question.type != "multiple":
        raise ValueError(f"{question.id}: a {question.type} question takes one choice, got {len(picked)}")
    return picked


def is_correct(question: Question, answer: Iterable[str] | None) -> bool:
    """All-or-nothing: the picked set must equal the set of correct choices."""
    try:
        picked = normalise_answer(question, answer)
    except ValueError:
        return False
    return picked == question.correct_choice_ids()


def question_score(question: Question, answer: Iterable[str] | None) -> int:
    return question.points if is_correct(question, answer) else 0


@dataclass(frozen=True)
class QuestionResult:
    question_id: str
    points: int
    max_points: int
    correct: bool
    answered: bool
    rules: tuple[str, ...]


@dataclass(frozen=True)
class AttemptResult:
    module_id: str
    score: int
    max_score: int
    pass_mark: float
    red_line_misses: tuple[str, ...]
    questions: tuple[QuestionResult, ...] = field(repr=False)

    @property
    def share(self) -> float:
        return self.score / self.max_score if self.max_score else 0.0

    @property
    def passed(self) -> bool:
        # A tiny epsilon so 0.8 * 10 points is not lost to float rounding.
        return not self.red_line_misses and self.share + 1e-9 >= self.pass_mark

    @property
    def rules_to_revisit(self) -> tuple[str, ...]:
        """Rules cited by the questions answered wrong, in first-missed order."""
        seen: dict[str, None] = {}
        for q in self.questions:
            if not q.correct:
                seen.update(dict.fromkeys(q.rules))
        return tuple(seen)


def score_attempt(
    catalog: Catalog,
    module_id: str,
    question_ids: Iterable[str],
    answers: Mapping[str, Iterable[str]],
) -> AttemptResult:
    """Score one attempt at a module; answers for questions not asked are ignored."""
    module = catalog.modules[module_id]
    red_lines = set(module.red_line_questions)
    results = []
    misses = []
    for qid in question_ids:
        question = catalog.questions[qid]
        answer = answers.get(qid)
        correct = is_correct(question, answer)
        results.append(
            QuestionResult(
                question_id=qid,
                points=question.points if correct else 0,
                max_points=question.points,
                correct=correct,
                answered=bool(answer),
                rules=tuple(question.rules),
            )
        )
        if qid in red_lines and not correct:
            misses.append(qid)
    return AttemptResult(
        module_id=module_id,
        score=sum(r.points for r in results),
        max_score=sum(r.max_points for r in results),
        pass_mark=module.pass_mark,
        red_line_misses=tuple(misses),
        questions=tuple(results),
    )
