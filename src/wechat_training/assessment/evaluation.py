"""Evaluating one submission: its score with the catalogue's keys, and what is suspect.

The grader (`grader`) decides what to do with an evaluation (store it, flag it,
count it late); this module only compares a submission with the catalogue's
truth: the module's questions, the employee's seeded draw, the keys, the clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..content.catalog import Catalog
from ..content.choice_order import choice_orders
from ..submissions import store as submissions
from ..submissions.scoring import AttemptResult, score_attempt
from . import gradebook

#: How far a submission's clock may run ahead of the grader's before it is suspect.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Evaluation:
    result: AttemptResult
    flags: list[str]


class ModuleKeys:
    """Per-module facts the grader needs for every submission, computed once.

    Without `version` they describe the current catalogue; with a published
    version (`gradebook.PublishedVersion`) they describe that one, so the
    seeded draw of an older version is recomputed just as exactly."""

    def __init__(self, catalog: Catalog, module_id: str, version: gradebook.PublishedVersion | None = None):
        module = catalog.modules[module_id]
        self.module = module
        self._catalog = catalog
        #: True when these are the current catalogue's facts (seeded choice orders
        #: can be recomputed only for the current content).
        self.current = version is None
        if version is None:
            self.content_version = catalog.content_version(module_id)
            self.rule_versions = catalog.rule_versions(module_id)
            self.fixed = list(module.fixed)
            self._pool = sorted(catalog.draw_pool(module_id))
            self.draw_count = module.draw.count
        else:
            self.content_version = version.content_version
            self.rule_versions = dict(version.rule_versions)
            self.fixed = list(version.fixed)
            self._pool = sorted(version.pool)
            self.draw_count = version.draw_count
        self.allowed = frozenset([*self.fixed, *self._pool])
        self.expected_count = len(self.fixed) + self.draw_count

    def published(self) -> gradebook.PublishedVersion:
        return gradebook.PublishedVersion(
            self.module.id,
            self.content_version,
            dict(self.rule_versions),
            list(self.fixed),
            list(self._pool),
            self.draw_count,
        )

    def questions_for(self, employee_id: str) -> list[str]:
        """`Catalog.questions_for` with the draw pool computed once per module
        instead of once per submission (it scans the whole bank);
        test_grader checks the two agree."""
        rng = random.Random(f"{self.module.id}:{employee_id}")
        return list(self.fixed) + rng.sample(self._pool, self.draw_count)


def evaluate(catalog: Catalog, sub: submissions.Submission, keys: ModuleKeys | None = None) -> Evaluation:
    """Score one store submission with the catalogue's keys and list what is suspect.

    `keys` are those of the submission's own content version (the grader looks
    it up among the published versions); None means the version was never
    published, which is a flag and leaves the draw checked against the current
    catalogue."""
    flags: list[str] = []
    module_id = sub.module_id
    if keys is None:
        current = ModuleKeys(catalog, module_id)
        if sub.content_version != current.content_version:
            flags.append(f"content version {sub.content_version!r} was never published for {module_id}")
        keys = current
    if sub.rule_versions != keys.rule_versions:
        flags.append(f"rule_versions differ from those of content version {keys.content_version}")
    module = keys.module
    asked: list[str] = []
    for qid in sub.question_ids:
        if qid not in catalog.questions:
            flags.append(f"unknown question {qid}")
        elif qid not in keys.allowed:
            flags.append(f"question {qid} is not in module {module_id}")
        elif qid in asked:
            flags.append(f"question {qid} listed twice")
        else:
            asked.append(qid)
    if sub.question_ids != keys.questions_for(sub.employee_id):
        flags.append("questions differ from the employee's seeded draw")
    flags += choice_order_flags(catalog, sub, asked, keys.current and sub.content_version == keys.content_version)
    for qid in sub.answers:
        if qid not in sub.question_ids:
            flags.append(f"answer for a question not asked: {qid}")
    # Red-line and fixed questions the submission dropped still count, as wrong.
    graded_ids = asked + [q for q in module.fixed if q not in asked and q in catalog.questions]
    result = score_attempt(catalog, module_id, graded_ids, {q: sub.answers.get(q, []) for q in asked})
    return Evaluation(result, flags)


def choice_order_flags(
    catalog: Catalog, sub: submissions.Submission, asked: list[str], same_content: bool
) -> list[str]:
    """A recorded choice order that is not the employee's seeded shuffle is a tamper signal.

    Scoring never uses the order (keys are choice ids); files from before
    issue 9 record none and are not flagged. With older content the seeded
    order cannot be recomputed, so only its shape is checked.
    """
    if sub.attempt is None and not sub.choice_order:
        return []
    if sub.attempt is None:
        return ["choice_order recorded without an attempt number"]
    questions = [catalog.questions[q] for q in asked]
    if same_content:
        expected = choice_orders(questions, sub.module_id, sub.employee_id, sub.attempt)
        if sub.choice_order != expected:
            return ["choice order differs from the employee's seeded shuffle for this attempt"]
    else:
        shapes = {q.id: sorted(c.id for c in q.choices or ()) for q in questions if q.type != "true_false"}
        if {q: sorted(o) for q, o in sub.choice_order.items()} != shapes:
            return ["choice order does not list each question's choices once"]
    return []


def timestamp_flags(
    sub: submissions.Submission, file_stamp: str | None, now: datetime, opens: date | None = None
) -> list[str]:
    """What is wrong with the attempt's times; `opens` is the first day the
    campaign gives the module to this employee (None: no campaign window)."""
    flags = []
    started, submitted = gradebook.parse_utc(sub.started_at), gradebook.parse_utc(sub.submitted_at)
    if opens is not None and min(started, submitted).date() < opens:
        flags.append(f"submitted before the campaign opened the module ({opens})")
    if started > submitted:
        flags.append("started_at is after submitted_at")
    if submitted > now + CLOCK_SKEW:
        flags.append("submitted_at is in the future")
    if file_stamp is not None and file_stamp != stamp_of(sub.submitted_at):
        flags.append("submitted_at differs from the time the store recorded in the file name")
    return flags


def stamp_of(iso: str) -> str:
    """The store's file-name form of a time (see submissions.write)."""
    return iso.replace(":", "").replace("-", "").replace(".", "")
