"""The validated catalogue: rules, questions and modules loaded from a content tree.

`load_catalog(root)` reads `rules/*.yaml`, `quizzes/questions/*.yaml` and
`quizzes/modules/*.yaml`, validates each item against `schema`, checks the
references between them, and either returns a `Catalog` or raises
`ContentError` carrying every problem found (each with its file and line).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from . import located_yaml
from .problems import ContentError, Problem, display_path
from .schema import AREAS, Module, Question, Rule, Severity
from .sources import Sources, load_sources

RULES_DIR = "rules"
QUESTIONS_DIR = "quizzes/questions"
MODULES_DIR = "quizzes/modules"

MIN_QUESTIONS_PER_RULE = 2
#: A module with practice questions must keep draw.count plus this share of it again
#: (rounded up) in its graded pool, so employees still get different questions.
DRAW_SPARE_SHARE = 0.5
SCENARIO_MESSAGES = (2, 6)


@dataclass(frozen=True)
class Catalog:
    root: Path
    rules: dict[str, Rule]
    questions: dict[str, Question]
    modules: dict[str, Module]
    #: Where each rule, question and module was written (by id), for `item_lint`.
    places: dict[str, located_yaml.Place] = field(default_factory=dict, compare=False, repr=False)
    #: Ids of draft rules and questions (`draft: true`), left out of the dicts above
    #: unless loaded with include_drafts=True (the trainer's preview).
    drafts: tuple[str, ...] = ()

    def rules_of_area(self, area: str) -> list[Rule]:
        return [r for r in self.rules.values() if r.area == area]

    def questions_of_area(self, area: str) -> list[Question]:
        prefix = "Q-" + area_prefix(area) + "-"
        return [q for q in self.questions.values() if q.id.startswith(prefix)]

    def draw_pool(self, module_id: str) -> list[str]:
        module = self.modules[module_id]
        if module.draw.pool is not None:
            return list(module.draw.pool)
        # Practice questions are shown answered: they are never graded.
        kept_out = set(module.fixed) | set(module.practice)
        return [q.id for q in self.questions_of_area(module.id) if q.id not in kept_out]

    def practice_questions(self, module_id: str) -> list[str]:
        """The module's practice-only questions, in the order the module lists them."""
        return list(self.modules[module_id].practice)

    def questions_for(self, module_id: str, employee_id: str) -> list[str]:
        """The module's quiz for one employee: fixed questions, then a seeded draw.

        The seed is the module and employee id, so an employee who reloads the
        page or resubmits meets the same questions, and the grader can recompute
        exactly which questions a submission should answer.
        """
        module = self.modules[module_id]
        pool = sorted(self.draw_pool(module_id))
        rng = random.Random(f"{module_id}:{employee_id}")
        drawn = rng.sample(pool, module.draw.count)
        return list(module.fixed) + drawn

    def cited_rules(self, module_id: str) -> list[str]:
        """Every rule id tested by any question the module may ask, sorted."""
        module = self.modules[module_id]
        ids = {r for qid in [*module.fixed, *self.draw_pool(module_id)] for r in self.questions[qid].rules}
        return sorted(ids)

    def rule_versions(self, module_id: str) -> dict[str, int]:
        return {rid: self.rules[rid].version for rid in self.cited_rules(module_id)}

    def content_version(self, module_id: str) -> str:
        """A short digest of everything that decides the module's questions and keys."""
        module = self.modules[module_id]
        qids = [*module.fixed, *self.draw_pool(module_id)]
        payload = {
            "module": module.model_dump(mode="json"),
            "questions": [self.questions[q].model_dump(mode="json") for q in qids],
            "rules": self.rule_versions(module_id),
        }
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        return digest[:12]

    def to_json(self) -> dict[str, Any]:
        return {
            "rules": [r.model_dump(mode="json") for r in self.rules.values()],
            "questions": [q.model_dump(mode="json", exclude_none=True) for q in self.questions.values()],
            "modules": [
                {**m.model_dump(mode="json"), "content_version": self.content_version(m.id)}
                for m in self.modules.values()
            ],
        }

    def summary(self) -> str:
        per_area = ", ".join(
            f"{area} {len(self.rules_of_area(area))}/{len(self.questions_of_area(area))}"
            for area in AREAS
            if area in self.modules or self.rules_of_area(area)
        )
        scenarios = sum(1 for q in self.questions.values() if q.type == "scenario")
        return (
            f"ok: {len(self.rules)} rules, {len(self.questions)} questions ({scenarios} scenarios), "
            f"{len(self.modules)} modules; rules/questions per area: {per_area}"
        )


def area_prefix(area: str) -> str:
    from .schema import AREA_PREFIX

    return AREA_PREFIX[area]


@dataclass
class _Item:
    """One validated item and where it was written (`broken`: it failed its schema and
    `model` is a `_Raw` view of what was written)."""

    model: Any
    path: str
    line: int
    doc: located_yaml.LocatedDocument
    loc: tuple[Any, ...]
    broken: bool = False

    def line_of(self, *sub: Any) -> int:
        return self.doc.line_of(self.loc + sub)


class _Loader:
    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []
        #: Ids of items that failed to parse or validate: references to them are
        #: not reported again, and coverage counts are skipped (they would cascade).
        self.broken_ids: set[str] = set()
        self.unparsed_file = False
        #: Ids of valid items marked `draft: true` (never reach learners).
        self.draft_ids: set[str] = set()

    def unknown(self, ident: str, known: dict[str, _Item]) -> bool:
        """True when `ident` is surely undefined (not merely in a file that failed to load)."""
        return ident not in known and ident not in self.broken_ids and not self.unparsed_file

    def report(self, path: str, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def read_items(self, subdir: str, top_key: str, model: type[BaseModel], many: bool) -> list[_Item]:
        items: list[_Item] = []
        directory = self.root / subdir
        if not directory.is_dir():
            self.report(subdir, 0, f"missing directory {subdir}/ under content root {self.root}")
            return items
        for path in sorted(directory.glob("*.y*ml")):
            shown = display_path(path, self.root)
            try:
                doc = located_yaml.load(path, shown)
            except located_yaml.YamlSyntaxError as exc:
                self.problems.append(exc.problem)
                self.unparsed_file = True
                continue
            if not isinstance(doc.data, dict) or set(doc.data) != {top_key}:
                found = sorted(doc.data) if isinstance(doc.data, dict) else type(doc.data).__name__
                self.report(shown, doc.line_of(()), f"expected one top-level key '{top_key}', found {found}")
                self.unparsed_file = True
                continue
            raw = doc.data[top_key]
            entries = raw if many else [raw]
            if many and not isinstance(raw, list):
                self.report(shown, doc.line_of((top_key,)), f"'{top_key}' must be a list")
                continue
            for index, entry in enumerate(entries):
                loc: tuple[Any, ...] = (top_key, index) if many else (top_key,)
                item = self.validate(model, entry, doc, loc)
                if item is not None:
                    items.append(item)
        return items

    def validate(
        self, model: type[BaseModel], entry: Any, doc: located_yaml.LocatedDocument, loc: tuple
    ) -> _Item | None:
        label = _label(model, entry)
        try:
            obj = model.model_validate(entry)
        except ValidationError as exc:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                self.broken_ids.add(entry["id"])
            for err in exc.errors():
                where = loc + tuple(err["loc"])
                self.report(doc.path, doc.line_of(where), f"{label}: {_describe(err)}{doc.quoting_hint(where)}")
            # The cross checks still look at what was written, so one bad value (a chat
            # role) does not hide the item's other problems (issue 14).
            if not isinstance(entry, dict):
                return None
            return _Item(_Raw(entry), doc.path, doc.line_of(loc), doc, loc, broken=True)
        return _Item(obj, doc.path, doc.line_of(loc), doc, loc)


#: What a missing key of a broken item reads as in the cross checks.
_RAW_DEFAULTS: dict[str, Any] = {
    "rules": [],
    "fixed": [],
    "red_line_questions": [],
    "source": [],
    "conflicts": [],
    "correct": False,
    "kind": "seed",
    "count": 0,
}


class _Raw:
    """Attribute view of a mapping that failed its schema: `raw.choices[0].correct` reads
    what the YAML says (or a neutral default), so the cross checks can run on it."""

    def __init__(self, data: dict[str, Any]):
        self._data = data

    def __getattr__(self, name: str) -> Any:
        if name == "draw" and not isinstance(self._data.get("draw"), dict):
            return _Raw({})
        return _wrap(self._data.get(name, _RAW_DEFAULTS.get(name)))


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return _Raw(value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _checked(check, loader: _Loader, item: _Item, *args: Any) -> None:
    """Run a cross check; on a broken item, a value of the wrong type just ends it
    (the schema error is already reported)."""
    if not item.broken:
        check(loader, item, *args)
        return
    with contextlib.suppress(TypeError, AttributeError, ValueError, KeyError):
        check(loader, item, *args)


def _label(model: type[BaseModel], entry: Any) -> str:
    kind = {"Rule": "rule", "Question": "question", "Module": "module"}[model.__name__]
    ident = entry.get("id") if isinstance(entry, dict) else None
    return f"{kind} {ident}" if ident else kind


def _describe(err: dict[str, Any]) -> str:
    field = ".".join(str(p) for p in err["loc"] if not (isinstance(p, str) and p[:1].isupper()))
    kind = err["type"]
    if kind == "missing":
        return f"missing required key '{field}'"
    if kind == "extra_forbidden":
        return f"unknown key '{field}'"
    if kind == "string_pattern_mismatch":
        return f"{field}: {err['input']!r} does not match the pattern {err['ctx']['pattern']}"
    message = err["msg"]
    message = message.removeprefix("Value error, ")
    return f"{field}: {message}" if field else message


def load_catalog(root: Path | str, *, include_drafts: bool = False) -> Catalog:
    """Load and validate the content tree at `root`; raise ContentError listing every problem.

    Draft rules and questions are validated like the others but left out of the
    catalogue (so of every page, draw and assignment) unless `include_drafts`."""
    root = Path(root)
    loader = _Loader(root)
    rule_items = loader.read_items(RULES_DIR, "rules", Rule, many=True)
    question_items = loader.read_items(QUESTIONS_DIR, "questions", Question, many=True)
    module_items = loader.read_items(MODULES_DIR, "module", Module, many=False)
    loader.draft_ids = {i.model.id for i in [*rule_items, *question_items] if i.model.draft is True}
    for item in [*rule_items, *question_items]:
        _checked(_check_draft, loader, item)

    rules = _unique(loader, rule_items, "rule")
    questions = _unique(loader, question_items, "question")
    modules = _unique(loader, module_items, "module")

    declared = load_sources(root, loader.problems)
    for item in rule_items:
        _checked(_check_rule, loader, item, declared)
    for item in question_items:
        _checked(_check_question, loader, item, rules)
    for item in module_items:
        _checked(_check_module, loader, item, questions, rules)
    if not loader.unparsed_file:
        _check_coverage(loader, rules, question_items, module_items, rule_items)
    if not rules and not loader.problems:
        loader.report(RULES_DIR, 0, "no rules found: add rules/<area>.yaml (see docs/content-format.md)")

    if loader.problems:
        raise ContentError(loader.problems)
    shown = lambda ident: include_drafts or ident not in loader.draft_ids  # noqa: E731
    return Catalog(
        root=root,
        rules={k: v.model for k, v in sorted(rules.items()) if shown(k)},
        questions={k: v.model for k, v in sorted(questions.items()) if shown(k)},
        modules={a: modules[a].model for a in AREAS if a in modules},
        places={i.model.id: located_yaml.Place(i.doc, i.loc) for i in [*rule_items, *question_items, *module_items]},
        drafts=tuple(sorted(loader.draft_ids)),
    )


def _check_draft(loader: _Loader, item: _Item) -> None:
    """A published item keeps no skeleton placeholder and cites no draft rule."""
    from .schema import SKELETON_MARK

    model = item.model
    kind = "rule" if isinstance(model, Rule) else "question"
    if model.draft:
        return
    for where, value in _strings(model.model_dump(mode="json")):
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


def _strings(value: Any, where: tuple = ()):
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, sub in value.items():
            yield from _strings(sub, (*where, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from _strings(sub, (*where, index))


def _unique(loader: _Loader, items: list[_Item], kind: str) -> dict[str, _Item]:
    seen: dict[str, _Item] = {}
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


def _check_rule(loader: _Loader, item: _Item, declared: Sources) -> None:
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


def _check_question(loader: _Loader, item: _Item, rules: dict[str, _Item]) -> None:
    q: Question = item.model
    report = lambda line, msg: loader.report(item.path, line, f"question {q.id}: {msg}")
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


def _check_module(loader: _Loader, item: _Item, questions: dict[str, _Item], rules: dict[str, _Item]) -> None:
    m: Module = item.model
    report = lambda line, msg: loader.report(item.path, line, f"module {m.id}: {msg}")
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
    prefix = "Q-" + area_prefix(m.id) + "-"
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


def _check_coverage(
    loader: _Loader,
    rules: dict[str, _Item],
    question_items: list[_Item],
    module_items: list[_Item],
    rule_items: list[_Item],
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
                f"rule {rid} is tested by {tested[rid]} question(s); every rule needs at least {MIN_QUESTIONS_PER_RULE}",
            )
    module_areas = {item.model.id for item in module_items}
    for area in sorted({item.model.area for item in rule_items} - module_areas):
        first = next(i for i in rule_items if i.model.area == area)
        loader.report(
            first.path, first.line_of("area"), f"area {area} has rules but no module in {MODULES_DIR}/{area}.yaml"
        )
