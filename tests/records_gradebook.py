"""A real gradebook filled for the records tests and the benchmark.

The module's assignment, notebook and grade cells are registered with
nbgrader's own Gradebook API; the roster and graded attempts go in through
`wechat_training.assessment.gradebook` (the only module that writes the database), so
nbgrader's tables hold the best attempts exactly as after a real grading run.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from wechat_training.assessment import gradebook, grader
from wechat_training.content.catalog import Catalog
from wechat_training.submissions.scoring import score_attempt


def register_modules(db_url: str, catalog: Catalog, module_ids: Iterable[str]) -> None:
    """Create nbgrader's assignment, notebook and one grade cell per question of each module."""
    from nbgrader.api import Gradebook  # lazy: ~5 s import

    gradebook.ensure_schema(db_url)
    with Gradebook(db_url, gradebook.COURSE_ID) as gb:
        for module_id in module_ids:
            gb.update_or_create_assignment(module_id)
            gb.update_or_create_notebook(module_id, module_id)
            module = catalog.modules[module_id]
            for qid in [*module.fixed, *catalog.draw_pool(module_id)]:
                gb.update_or_create_grade_cell(
                    qid.replace("-", "_"),
                    module_id,
                    module_id,
                    max_score=catalog.questions[qid].points,
                    cell_type="code",
                )


def add_roster(db_url: str, people: Sequence[dict]) -> None:
    gradebook.upsert_employees(db_url, list(people))


def graded_attempt(
    catalog: Catalog,
    employee_id: str,
    module_id: str,
    submitted_at: datetime,
    right: bool | float,
    rng: random.Random | None = None,
) -> gradebook.AttemptRow:
    """Score a real attempt: all answers right (True), all wrong (False), or each right with probability `right`."""
    rng = rng or random.Random(f"{employee_id}{module_id}{submitted_at}")
    qids = catalog.questions_for(module_id, employee_id)
    answers = {}
    for qid in qids:
        question = catalog.questions[qid]
        correct = sorted(question.correct_choice_ids())
        ok = right if isinstance(right, bool) else rng.random() < right
        if ok:
            answers[qid] = correct
        else:
            options = ["true", "false"] if question.type == "true_false" else [c.id for c in question.choices or ()]
            answers[qid] = [next(o for o in options if [o] != correct)]
    result = score_attempt(catalog, module_id, qids, answers)
    sid = f"{employee_id}-{module_id}-{int(submitted_at.timestamp())}".lower().replace("_", "")
    stamp = submitted_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    started = (
        (submitted_at - timedelta(minutes=7)).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )
    return grader.attempt_row(
        sid,
        employee_id,
        module_id,
        catalog.content_version(module_id),
        catalog.rule_versions(module_id),
        started,
        stamp,
        stamp,
        grader.Evaluation(result, flags=[]),
        late=False,
        source="portal",
    )


def store(db_url: str, rows: Sequence[gradebook.AttemptRow], batch: int = 5000) -> None:
    modules = {r.attempt["module_id"] for r in rows}
    cells = {m: gradebook.assignment_cells(db_url, m) for m in modules}
    for start in range(0, len(rows), batch):
        gradebook.store_attempts(db_url, rows[start : start + batch], cells)
