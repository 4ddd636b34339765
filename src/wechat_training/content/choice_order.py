"""The order in which one employee sees a question's choices, per attempt.

Shuffling removes the cue of position (issue 9: the key sat on "a" in 37 of 60
single-choice items). The order is a seeded permutation, like the draw in
`Catalog.questions_for`, so the portal, the grader and an auditor all compute
the same order for the same employee and attempt:

* seed ``"{module}:{employee}:{attempt}:{question}"`` — the draw's seed
  ``"{module}:{employee}"`` plus the attempt number, so each attempt differs
  while a reload of the same attempt shows the same order again, plus the
  question id, so a question's order does not depend on which others were drawn;
* ``attempt`` is 1 for an employee's first graded attempt of the module, 2 for
  the next (the portal counts the employee's earlier submissions in the store,
  and the submission records the number), and ``PRACTICE_ATTEMPT`` (0) for
  practice, which records nothing;
* questions with ``shuffle: false`` keep their authored order; true/false
  questions have no choices to order.

Choice ids never change, so answers and scoring do not depend on the order.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from .schema import Question

PRACTICE_ATTEMPT = 0


def choice_order(question: Question, module_id: str, employee_id: str, attempt: int) -> list[str]:
    """Choice ids of `question` in the order this employee sees them in this attempt."""
    ids = [c.id for c in question.choices or ()]
    if question.shuffle and len(ids) > 1:
        random.Random(f"{module_id}:{employee_id}:{attempt}:{question.id}").shuffle(ids)
    return ids


def choice_orders(
    questions: Iterable[Question], module_id: str, employee_id: str, attempt: int
) -> dict[str, list[str]]:
    """{question id: shown order} for every question that has choices (true/false has none)."""
    return {q.id: choice_order(q, module_id, employee_id, attempt) for q in questions if q.type != "true_false"}


def position_label(index: int) -> str:
    """The letter shown before the choice at display position `index`: A, B, C…

    Letters follow the display position, not the choice id, so a label never
    reveals where the choice was written (the key used to be "a" most of the time).
    """
    return chr(ord("A") + index)
