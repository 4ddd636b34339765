"""Cross-checks of a content tree: the rules that span items (ids, citations, pools, coverage).

Each check reports through the catalogue loader, so `load_catalog` still
collects every problem of a tree, with its file and line, before it fails.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .schema import AREA_PREFIX, AREAS, Module, Question, Rule, Severity
from .sources import Sources

if TYPE_CHECKING:
    from .catalog import Item, Loader

MODULES_DIR = "quizzes/modules"
MIN_QUESTIONS_PER_RULE = 2
#: A module with practice questions must keep draw.count plus this share of it again
#: (rounded up) in its graded pool, so employees still get different questions.
DRAW_SPARE_SHARE = 0.5
SCENARIO_MESSAGES = (2, 6)


def check_draft(loader: Loader, item: Item) -> None:
    """A published item keeps no skeleton placeholder and cites no draft rule."""
    from .schema import SKELETON_MARK

    model = item.model
    kind = "rule" if isinstance(model, Rule) else "question"
    if model.draft:
        return
    for where, value in strings(model.model_dump(mode="json")):
        if value.startswith(SKELETON_MARK):
            loader.report(
                item.path,
                item.line_of(*where),
                f"{kind} {model.id}: still holds the skeleton placeholder {value[:40]!r}; "
                "write it, or keep 'draft: true' until it is ready",
            )
            break
    for i, rid in enumerate(getattr(model, "rules", [])):
        if rid in loader.draft_ids:
            loader.report(
                item.path,
                item.line_of("rules", i),
                f"question {model.id}: cites draft rule {rid}; publish the rule (remove its 'draft: true') "
                "or mark this question 'draft: true' too",
            )


def strings(value: Any, where: tuple = ()):
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, sub in value.items():
            yield from strings(sub, (*where, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from strings(sub, (*where, index))


def unique(loader: Loader, items: list[Item], kind: str) -> dict[str, Item]:
    seen: dict[str, Item] = {}
    for item in items:
        ident = item.model.id
        if not isinstance(ident, str):
            continue
        if ident in seen:
            first = seen[ident]
            loader.report(
                item.path,
                item.line_of("id"),
                f"duplicate {kind} id {ident} (first at {first.path}:{first.line_of('id')})",
            )
        else:
            seen[ident] = item
    return seen


def check_rule(loader: Loader, item: Item, declared: Sources) -> None:
    rule: Rule = item.model
    stem = Path(item.path).stem
    if stem in AREAS and stem != rule.area:
        loader.report(item.path, item.line_of("area"), f"rule {rule.id}: area {rule.area} but the file is {stem}.yaml")
    # Membership in the declared list, not a file-name shape: a company cites 员工手册2026.docx
    # once it lists it in sources.yaml, and an invented 009_....txt is refused (issue 14).
    for i, source in enumerate(rule.source):
        if source.kind == "seed" and source.file and source.file not in declared.files:
            line = item.line_of("source", i, "file")
            loader.report(item.path, line, f"rule {rule.id}: {declared.unknown(source.file)}")
        for j, conflict in enumerate(source.conflicts or []):
            if conflict.file and conflict.file not in declared.files:
                line = item.line_of("source", i, "conflicts", j, "file")
                loader.report(item.path, line, f"rule {rule.id}: conflict {declared.unknown(conflict.file)}")


def check_question(loader: Loader, item: Item, rules: dict[str, Item]) -> None:
    q: Question = item.model
    report = lambda line, msg: loader.report(item.path, line, f"question {q.id}: {msg}")  # noqa: E731
    for i, rid in enumerate(q.rules):
        if loader.unknown(rid, rules):
            report(item.line_of("rules", i), f"cites unknown rule {rid}")
    choices = q.choices or []
    correct = [c for c in choices if c.correct]
    if q.type == "true_false":
        if q.answer is None:
            report(item.line_of(), "a true_false question needs 'answer: true' or 'answer: false'")
        if q.choices is not None:
            report(item.line_of("choices"), "a true_false question has no 'choices' (use 'answer')")
    else:
        if q.answer is not None:
            report(
                item.line_of("answer"),
                f"'answer' is only for true_false questions; mark choices 'correct: true' in a {q.type} question",
            )
        if len(choices) < 2:
            report(item.line_of("choices"), f"a {q.type} question needs at least 2 choices, has {len(choices)}")
        if q.type in ("single", "scenario") and len(correct) != 1:
            report(item.line_of("choices"), f"a {q.type} question needs exactly one correct choice, has {len(correct)}")
        if q.type == "multiple" and not correct:
            report(item.line_of("choices"), "a multiple question needs at least one correct choice, has 0")
        counts = Counter(c.id for c in choices)
        for i, choice in enumerate(choices):
            if counts[choice.id] > 1:
                report(item.line_of("choices", i, "id"), f"duplicate choice id '{choice.id}'")
                counts[choice.id] = 1
    low, high = SCENARIO_MESSAGES
    if q.type == "scenario":
        n = len(q.chat or [])
        if not low <= n <= high:
            report(item.line_of("chat"), f"a scenario needs {low}-{high} chat messages, has {n}")
    elif q.chat is not None:
        report(item.line_of("chat"), f"'chat' is only for scenario questions, not {q.type}")


def check_module(loader: Loader, item: Item, questions: dict[str, Item], rules: dict[str, Item]) -> None:
    m: Module = item.model
    report = lambda line, msg: loader.report(item.path, line, f"module {m.id}: {msg}")  # noqa: E731
    stem = Path(item.path).stem
    if stem != m.id:
        report(item.line_of("id"), f"module id {m.id} but the file is {stem}.yaml")
    for key in ("fixed", "red_line_questions", "practice"):
        seen: set[str] = set()
        for i, qid in enumerate(getattr(m, key)):
            if loader.unknown(qid, questions):
                report(item.line_of(key, i), f"{key} names unknown question {qid}")
            elif qid in loader.draft_ids:
                report(item.line_of(key, i), f"{key} names draft question {qid}: drafts never reach learners")
            if qid in seen:
                report(item.line_of(key, i), f"{key} lists {qid} twice")
            seen.add(qid)
    prefix = "Q-" + AREA_PREFIX[m.id] + "-"
    graded = set(m.fixed) | set(m.draw.pool or ())
    for i, qid in enumerate(m.practice):
        if qid in questions and not qid.startswith(prefix):
            report(item.line_of("practice", i), f"practice question {qid} is not a question of {m.id}")
        if qid in graded:
            report(
                item.line_of("practice", i),
                f"practice question {qid} is also graded (fixed or draw.pool): practice shows its answer",
            )
    if m.draw.pool is not None:
        pool = list(m.draw.pool)
        for i, qid in enumerate(pool):
            if loader.unknown(qid, questions):
                report(item.line_of("draw", "pool", i), f"draw.pool names unknown question {qid}")
            elif qid in loader.draft_ids:
                report(item.line_of("draw", "pool", i), f"draw.pool names draft question {qid}: drafts are never drawn")
            elif qid in m.fixed:
                report(item.line_of("draw", "pool", i), f"draw.pool repeats fixed question {qid}")
    else:
        pool = [
            q
            for q in questions
            if q.startswith(prefix) and q not in m.fixed and q not in m.practice and q not in loader.draft_ids
        ]
    available = len(set(pool))
    needed = m.draw.count + math.ceil(m.draw.count * DRAW_SPARE_SHARE)
    if m.draw.count > available and not loader.unparsed_file:
        report(
            item.line_of("draw", "count"),
            f"draw.count is {m.draw.count} but only {available} questions are in the pool",
        )
    elif m.practice and available < needed and not loader.unparsed_file:
        # Setting questions aside for practice shrinks the graded pool: keep the draw varied.
        report(
            item.line_of("draw", "count"),
            f"draw.count is {m.draw.count} but the graded pool holds only {available} questions: keep at least "
            f"{needed} (draw.count and half as many again) so employees get different questions; "
            "move questions out of practice or lower draw.count",
        )
    for i, qid in enumerate(m.red_line_questions):
        if qid in questions and qid not in m.fixed:
            report(
                item.line_of("red_line_questions", i),
                f"red-line question {qid} must also be in 'fixed' so everyone is asked it",
            )
        if qid in questions and not loader.unparsed_file:
            cited = questions[qid].model.rules
            if not any(r in rules and rules[r].model.severity == Severity.red_line for r in cited):
                report(item.line_of("red_line_questions", i), f"red-line question {qid} cites no red_line rule")
    if not m.fixed and m.draw.count == 0:
        report(item.line_of(), "asks no questions (empty 'fixed' and draw.count 0)")


def check_coverage(
    loader: Loader,
    rules: dict[str, Item],
    question_items: list[Item],
    module_items: list[Item],
    rule_items: list[Item],
) -> None:
    tested: dict[str, int] = defaultdict(int)
    for item in question_items:
        if item.model.draft:  # learners never meet it, so it tests nothing yet
            continue
        for rid in set(item.model.rules):
            tested[rid] += 1
    # A rule that failed its schema is reported already: its coverage would only repeat that.
    rule_items = [i for i in rule_items if not i.broken]
    for rid, item in rules.items():
        if rid in loader.draft_ids:
            continue
        if not item.broken and tested[rid] < MIN_QUESTIONS_PER_RULE:
            loader.report(
                item.path,
                item.line_of("id"),
                f"rule {rid} is tested by {tested[rid]} question(s); "
                f"every rule needs at least {MIN_QUESTIONS_PER_RULE}",
            )
    module_areas = {item.model.id for item in module_items}
    for area in sorted({item.model.area for item in rule_items} - module_areas):
        first = next(i for i in rule_items if i.model.area == area)
        loader.report(
            first.path, first.line_of("area"), f"area {area} has rules but no module in {MODULES_DIR}/{area}.yaml"
        )
