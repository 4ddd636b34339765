"""The state of one learner working through a module: practice and graded quiz.

Plain Python, no widgets: the views in `widgets/` only render these objects
and forward clicks, so everything a learner can do is testable without a
browser. A graded attempt is written to the submission store as data
(`submissions.write`, atomic) and scored by `scoring.score_attempt`; nothing the
learner sends is executed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..content.catalog import Catalog
from ..content.choice_order import PRACTICE_ATTEMPT, choice_order, choice_orders
from ..content.schema import Question, Rule, Text
from ..submissions import provenance
from ..submissions import store as submissions
from ..submissions.scoring import AttemptResult, is_correct, normalise_answer, score_attempt
from .identity import Identity


class QuizStateError(RuntimeError):
    """An action the quiz does not allow in its current state (e.g. answering after submitting)."""


@dataclass(frozen=True)
class Feedback:
    """What a learner is told right after answering a practice question."""

    question_id: str
    correct: bool
    #: Feedback text of each picked choice that has one, in choice order.
    choice_feedback: tuple[Text, ...]
    explanation: Text
    #: The rules the question rests on, quoted in full.
    rules: tuple[Rule, ...]
    correct_choices: frozenset[str]


def feedback_for(catalog: Catalog, question: Question, answer: Iterable[str]) -> Feedback:
    picked = set(answer)
    return Feedback(
        question_id=question.id,
        correct=is_correct(question, picked),
        choice_feedback=tuple(c.feedback for c in question.choices or () if c.id in picked and c.feedback),
        explanation=question.explanation,
        rules=tuple(catalog.rules[r] for r in question.rules),
        correct_choices=question.correct_choice_ids(),
    )


class Practice:
    """Any question of the module's area, with instant feedback; nothing is recorded.

    Choices are shuffled per employee like the graded quiz (attempt
    `PRACTICE_ATTEMPT`), so practice does not teach an authored position.
    """

    def __init__(self, catalog: Catalog, module_id: str, employee_id: str = ""):
        self.catalog = catalog
        self.module_id = module_id
        self.employee_id = employee_id
        self.question_ids = [q.id for q in catalog.questions_of_area(module_id)]
        self.index = 0
        self.last: Feedback | None = None

    @property
    def question(self) -> Question:
        return self.catalog.questions[self.question_ids[self.index]]

    def order(self) -> list[str]:
        """Choice ids of the current question in the order shown."""
        return choice_order(self.question, self.module_id, self.employee_id, PRACTICE_ATTEMPT)

    def check(self, answer: Iterable[str]) -> Feedback:
        answer = list(answer)
        normalise_answer(self.question, answer)  # a ValueError names an impossible pick
        self.last = feedback_for(self.catalog, self.question, answer)
        return self.last

    def go(self, index: int) -> None:
        self.index = index % len(self.question_ids)
        self.last = None


@dataclass(frozen=True)
class ReviewItem:
    number: int
    question_id: str
    answer: tuple[str, ...]

    @property
    def answered(self) -> bool:
        return bool(self.answer)


@dataclass(frozen=True)
class Outcome:
    result: AttemptResult
    path: Path
    submission: submissions.Submission


class GradedQuiz:
    """One graded attempt: the employee's draw, answers, review, submit, result.

    States: answering -> (review) -> submitted. Answers may change until
    `submit`; afterwards the attempt is frozen. Resubmitting means starting a
    new `GradedQuiz`: a new attempt, earlier files stay in the store.
    """

    def __init__(
        self,
        catalog: Catalog,
        module_id: str,
        identity: Identity,
        course_dir: Path,
        clock: Callable[[], str] = submissions.utc_now,
    ):
        if module_id not in catalog.modules:
            raise KeyError(f"unknown module {module_id!r}; known: {', '.join(sorted(catalog.modules))}")
        self.catalog = catalog
        self.module_id = module_id
        self.identity = identity
        self.course_dir = Path(course_dir)
        self.clock = clock
        self.question_ids: list[str] = catalog.questions_for(module_id, identity.employee_id)
        # The attempt number seeds the choice order: counting the employee's own
        # earlier submissions makes a reload of an unsubmitted attempt show the same
        # order, and each new attempt a new one (see content.choice_order).
        self.attempt = len(submissions.attempts(self.course_dir, identity.employee_id, module_id)) + 1
        self.choice_order = choice_orders(self.questions(), module_id, identity.employee_id, self.attempt)
        # Captured when the quiz opens: the grader checks the attempt against the
        # content the learner actually saw.
        self.content_version = catalog.content_version(module_id)
        self.rule_versions = catalog.rule_versions(module_id)
        self.started_at = clock()
        self.answers: dict[str, tuple[str, ...]] = {}
        self.index = 0
        self.reviewing = False
        self.outcome: Outcome | None = None

    @property
    def module(self):
        return self.catalog.modules[self.module_id]

    @property
    def submitted(self) -> bool:
        return self.outcome is not None

    @property
    def question(self) -> Question:
        return self.catalog.questions[self.question_ids[self.index]]

    def questions(self) -> list[Question]:
        return [self.catalog.questions[q] for q in self.question_ids]

    def answer(self, question_id: str, choices: Sequence[str]) -> None:
        self._require_open()
        if question_id not in self.question_ids:
            raise QuizStateError(f"{question_id} is not part of this quiz")
        picked = normalise_answer(self.catalog.questions[question_id], list(choices))
        if picked:
            self.answers[question_id] = tuple(sorted(picked))
        else:
            self.answers.pop(question_id, None)

    def order_of(self, question_id: str) -> list[str]:
        """Choice ids of a question in the order this attempt shows them."""
        return self.choice_order.get(question_id, [])

    def answer_of(self, question_id: str) -> tuple[str, ...]:
        return self.answers.get(question_id, ())

    def go(self, index: int) -> None:
        self._require_open()
        if not 0 <= index < len(self.question_ids):
            raise QuizStateError(f"question {index + 1} does not exist (1-{len(self.question_ids)})")
        self.index = index
        self.reviewing = False

    def next(self) -> None:
        if self.index + 1 < len(self.question_ids):
            self.go(self.index + 1)
        else:
            self.start_review()

    def previous(self) -> None:
        self.go(max(self.index - 1, 0))

    def start_review(self) -> list[ReviewItem]:
        self._require_open()
        self.reviewing = True
        return self.review()

    def review(self) -> list[ReviewItem]:
        return [ReviewItem(i + 1, q, self.answer_of(q)) for i, q in enumerate(self.question_ids)]

    def unanswered(self) -> list[int]:
        """1-based numbers of the questions still without an answer."""
        return [item.number for item in self.review() if not item.answered]

    def submit(self) -> Outcome:
        """Record the attempt in the store, then score it. Only once per attempt."""
        self._require_open()
        submission = submissions.new_submission(
            employee_id=self.identity.employee_id,
            module_id=self.module_id,
            content_version=self.content_version,
            rule_versions=self.rule_versions,
            question_ids=self.question_ids,
            answers={q: list(a) for q, a in self.answers.items()},
            started_at=self.started_at,
            submitted_at=self.clock(),
            identity_source=self.identity.source,
            attempt=self.attempt,
            choice_order=self.choice_order,
        )
        # Sealed with this kernel's own employee key (`provenance`): the store
        # assigns the final id and signature.
        submission = submissions.seal(submission, provenance.signer_for(self.course_dir, self.identity.employee_id))
        # Written before scoring: if scoring ever failed, the attempt is still kept.
        path = submissions.write(self.course_dir, submission)
        result = score_attempt(self.catalog, self.module_id, self.question_ids, submission.answers)
        self.outcome = Outcome(result=result, path=path, submission=submission)
        return self.outcome

    def _require_open(self) -> None:
        if self.submitted:
            raise QuizStateError("this attempt is already submitted; start a new attempt to answer again")
