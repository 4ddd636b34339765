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
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from . import located_yaml
from .cross_checks import MODULES_DIR, check_coverage, check_draft, check_module, check_question, check_rule, unique
from .problems import ContentError, Problem, display_path
from .schema import AREA_PREFIX, AREAS, Module, Question, Rule
from .sources import load_sources

RULES_DIR = "rules"
QUESTIONS_DIR = "quizzes/questions"



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
        prefix = "Q-" + AREA_PREFIX[area] + "-"
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


@dataclass
class Item:
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


class Loader:
    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []
        #: Ids of items that failed to parse or validate: references to them are
        #: not reported again, and coverage counts are skipped (they would cascade).
        self.broken_ids: set[str] = set()
        self.unparsed_file = False
        #: Ids of valid items marked `draft: true` (never reach learners).
        self.draft_ids: set[str] = set()

    def unknown(self, ident: str, known: dict[str, Item]) -> bool:
        """True when `ident` is surely undefined (not merely in a file that failed to load)."""
        return ident not in known and ident not in self.broken_ids and not self.unparsed_file

    def report(self, path: str, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def read_items(self, subdir: str, top_key: str, model: type[BaseModel], many: bool) -> list[Item]:
        items: list[Item] = []
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
    ) -> Item | None:
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
            return Item(_Raw(entry), doc.path, doc.line_of(loc), doc, loc, broken=True)
        return Item(obj, doc.path, doc.line_of(loc), doc, loc)


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


def _checked(check, loader: Loader, item: Item, *args: Any) -> None:
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
    loader = Loader(root)
    rule_items = loader.read_items(RULES_DIR, "rules", Rule, many=True)
    question_items = loader.read_items(QUESTIONS_DIR, "questions", Question, many=True)
    module_items = loader.read_items(MODULES_DIR, "module", Module, many=False)
    loader.draft_ids = {i.model.id for i in [*rule_items, *question_items] if i.model.draft is True}
    for item in [*rule_items, *question_items]:
        _checked(check_draft, loader, item)

    rules = unique(loader, rule_items, "rule")
    questions = unique(loader, question_items, "question")
    modules = unique(loader, module_items, "module")

    declared = load_sources(root, loader.problems)
    for item in rule_items:
        _checked(check_rule, loader, item, declared)
    for item in question_items:
        _checked(check_question, loader, item, rules)
    for item in module_items:
        _checked(check_module, loader, item, questions, rules)
    if not loader.unparsed_file:
        check_coverage(loader, rules, question_items, module_items, rule_items)
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
