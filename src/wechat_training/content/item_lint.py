"""Item-writing lint: cues that let a test-wise learner pass without knowing the rules.

Pure: a validated `Catalog` in, `Problem`s (severity warning) out; `check`
prints them and `check --strict` treats them as errors. Each check is
documented with a bad and a good example in docs/content-format.md
("Item-writing lint"). Lengths are counted in characters of the zh text, the
language shown by default.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator

from .catalog import Catalog
from .problems import WARNING, Problem
from .schema import Question

#: Bank shares above this are a pattern a learner can learn (issue 9).
POSITION_SHARE = 0.40
TRUE_SHARE = (0.40, 0.60)
#: Below this many items a share says nothing: one single-choice item always
#: has 100 % of its keys on one position.
MIN_ITEMS_FOR_SHARE = 5
ABSOLUTE_CUES = ("只要", "一律", "绝对", "任何情况下")
ALL_OR_NONE_OF_THE_ABOVE = ("以上都", "以上皆", "以上均", "all of the above", "none of the above")
#: Jaccard similarity of character bigram sets (after `normalise`) at or above
#: which two chats, or two stems, are the same template. Calibrated on the bank
#: of 2026-12-02 (docs/content-format.md gives the figures): chats of one
#: template with names and details changed scored 0.13-0.27, the next pair
#: (two different situations) 0.096; stems are short, so only a same-fact
#: pair (0.46) is clearly one.
NEAR_DUPLICATE_CHAT = 0.10
NEAR_DUPLICATE_STEM = 0.45
NARRATION_WORDS = ("你看到", "你发现", "你注意到", "you see", "you notice", "you find", "you discover")


def lint(catalog: Catalog) -> list[Problem]:
    """Every item-writing finding in the catalogue, sorted by file and line."""
    problems: list[Problem] = []
    for check in (
        _lengths,
        _true_false_balance,
        _key_positions,
        _absolute_cues,
        _all_or_none,
        _near_duplicates,
        _narration,
    ):
        problems.extend(check(catalog))
    return sorted(problems)


def _warn(catalog: Catalog, ident: str, message: str, *sub: object) -> Problem:
    place = catalog.places[ident]
    return Problem(place.path, place.line_of(*sub), message, WARNING)


def _where(catalog: Catalog, ident: str) -> str:
    place = catalog.places[ident]
    return f"{place.path}:{place.line_of('id')}"


def _length(text: str) -> int:
    return len("".join(text.split()))


# --------------------------------------------------------------------------- form of the key


def _lengths(catalog: Catalog) -> Iterator[Problem]:
    for q in catalog.questions.values():
        if q.type == "true_false" or not q.choices:
            continue
        lengths = {c.id: _length(c.text.zh) for c in q.choices}
        right = [c.id for c in q.choices if c.correct]
        wrong = [c.id for c in q.choices if not c.correct]
        if not wrong:
            continue
        if q.type == "multiple":
            if min(lengths[c] for c in right) > max(lengths[c] for c in wrong):
                yield _warn(
                    catalog,
                    q.id,
                    f"question {q.id}: the {len(right)} correct choice(s) are exactly the {len(right)} longest "
                    f"(zh characters); lengthen a distractor or shorten a key",
                    "choices",
                )
            continue
        (key,) = right
        others = [lengths[c] for c in wrong]
        if lengths[key] > max(others):
            cue = f"longest ({lengths[key]} zh characters, the next is {max(others)})"
        elif lengths[key] < min(others):
            cue = f"shortest ({lengths[key]} zh characters, the next is {min(others)})"
        else:
            continue
        yield _warn(
            catalog,
            q.id,
            f"question {q.id}: the correct choice {key} is uniquely the {cue}; balance the lengths",
            "choices",
        )


def _bank_files(catalog: Catalog) -> dict[str, list[Question]]:
    files: dict[str, list[Question]] = defaultdict(list)
    for q in catalog.questions.values():
        files[catalog.places[q.id].path].append(q)
    return files


def _true_false_balance(catalog: Catalog) -> Iterator[Problem]:
    low, high = TRUE_SHARE
    for module_id, module in catalog.modules.items():
        ids = [*module.fixed, *catalog.draw_pool(module_id)]
        keys = [catalog.questions[q].answer for q in ids if catalog.questions[q].type == "true_false"]
        if len(keys) < MIN_ITEMS_FOR_SHARE:
            continue
        share = sum(1 for k in keys if k) / len(keys)
        if not low <= share <= high:
            yield _warn(
                catalog,
                module_id,
                f"module {module_id}: {sum(1 for k in keys if k)} of {len(keys)} true/false items are true "
                f"({share:.0%}); keep between {low:.0%} and {high:.0%}",
                "id",
            )


def _key_positions(catalog: Catalog) -> Iterator[Problem]:
    for path, questions in sorted(_bank_files(catalog).items()):
        # A bank-wide finding points at the file's `questions:` key.
        top_line = catalog.places[questions[0].id].doc.line_of(("questions",))
        singles = [q for q in questions if q.type == "single" and q.choices]
        positions = Counter(next(i for i, c in enumerate(q.choices or ()) if c.correct) for q in singles)
        if len(singles) >= MIN_ITEMS_FOR_SHARE:
            position, count = max(positions.items(), key=lambda kv: (kv[1], -kv[0]))
            there = [q.id for q in singles if q.choices and q.choices[position].correct]
            if count / len(singles) > POSITION_SHARE:
                yield Problem(
                    path,
                    top_line,
                    f"{count} of {len(singles)} single-choice keys are at authored position {position + 1} "
                    f"({count / len(singles):.0%}, more than {POSITION_SHARE:.0%}): {', '.join(there)}; spread them",
                    WARNING,
                )
        multiples = [q for q in questions if q.type == "multiple" and q.choices]
        leading = [q for q in multiples if _correct_set_is_leading(q)]
        if len(multiples) >= MIN_ITEMS_FOR_SHARE and len(leading) / len(multiples) > POSITION_SHARE:
            yield Problem(
                path,
                top_line,
                f"in {len(leading)} of {len(multiples)} multiple-choice items the correct set is exactly the "
                f"first choices ({len(leading) / len(multiples):.0%}, more than {POSITION_SHARE:.0%}): "
                f"{', '.join(q.id for q in leading)}; spread them",
                WARNING,
            )


def _correct_set_is_leading(q: Question) -> bool:
    flags = [c.correct for c in q.choices or ()]
    k = sum(flags)
    return 0 < k < len(flags) and all(flags[:k])


# --------------------------------------------------------------------------- wording


def _absolute_cues(catalog: Catalog) -> Iterator[Problem]:
    """An absolute word is a cue only when it predicts the key: 只要 always false."""
    for cue in ABSOLUTE_CUES:
        items = [q for q in catalog.questions.values() if q.type == "true_false" and cue in q.prompt.zh]
        keys = {q.answer for q in items}
        if len(items) < 2 or len(keys) != 1:
            continue
        (key,) = keys
        for q in items:
            yield _warn(
                catalog,
                q.id,
                f"question {q.id}: '{cue}' appears in {len(items)} true/false statements and all are "
                f"{'true' if key else 'false'}; reword, or balance with a statement of the other key",
                "prompt",
            )


def _all_or_none(catalog: Catalog) -> Iterator[Problem]:
    for q in catalog.questions.values():
        for i, choice in enumerate(q.choices or ()):
            shown = (choice.text.zh, choice.text.en.lower())
            for phrase in ALL_OR_NONE_OF_THE_ABOVE:
                if any(phrase in text for text in shown):
                    yield _warn(
                        catalog,
                        q.id,
                        f"question {q.id}: choice {choice.id} is an all/none-of-the-above option ('{phrase}'); "
                        "write a real action instead",
                        "choices",
                        i,
                    )
                    break


# --------------------------------------------------------------------------- near-duplicates


def normalise(text: str, names: tuple[str, ...] = ()) -> str:
    """Text with names, numbers, Latin letters, punctuation and spaces removed."""
    for name in sorted(names, key=len, reverse=True):
        if name:
            text = text.replace(name, "")
    kept = []
    for ch in text:
        kind = unicodedata.category(ch)
        if kind[0] in "PSZNC" or ch.isascii():
            continue
        kept.append(ch)
    return "".join(kept)


def shingles(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1)) or frozenset({text})


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def fingerprint(q: Question) -> frozenset[str]:
    """The shingles that identify an item's template: a scenario's chat, else the stem."""
    if q.type == "scenario":
        names = tuple(n for m in q.chat or () for n in (m.sender.zh, m.sender.zh[1:]) if len(n) > 1)
        body = "".join(m.text.zh for m in q.chat or ())
        return shingles(normalise(body, names))
    return shingles(normalise(q.prompt.zh))


def _near_duplicates(catalog: Catalog) -> Iterator[Problem]:
    ordered = sorted(catalog.questions.values(), key=lambda q: (catalog.places[q.id].path, catalog.places[q.id].line))
    prints = {q.id: fingerprint(q) for q in ordered}
    for later_index, q in enumerate(ordered):
        for earlier in ordered[:later_index]:
            if (earlier.type == "scenario") != (q.type == "scenario"):
                continue
            score = similarity(prints[q.id], prints[earlier.id])
            threshold = NEAR_DUPLICATE_CHAT if q.type == "scenario" else NEAR_DUPLICATE_STEM
            if score >= threshold:
                what = "chat" if q.type == "scenario" else "stem"
                yield _warn(
                    catalog,
                    q.id,
                    f"question {q.id}: {what} nearly duplicates {earlier.id} at {_where(catalog, earlier.id)} "
                    f"(similarity {score:.2f} >= {threshold:.2f}); write a different situation",
                    "chat" if q.type == "scenario" else "prompt",
                )


# --------------------------------------------------------------------------- chats

#: A bubble opening with a bracketed aside longer than a WeChat token such as
#: 【文件】 or [链接] is stage direction, not something the learner typed.
_NARRATION = re.compile(r"^\s*[(（\[【][^)）\]】]{5,}")


def _narration(catalog: Catalog) -> Iterator[Problem]:
    for q in catalog.questions.values():
        for i, message in enumerate(q.chat or ()):
            if message.role.value != "me":
                continue
            zh, en = message.text.zh, message.text.en.lower()
            if _NARRATION.match(zh) or _NARRATION.match(en) or any(w in zh or w in en for w in NARRATION_WORDS):
                yield _warn(
                    catalog,
                    q.id,
                    f"question {q.id}: chat message {i + 1} is narration in the learner's own bubble (role me); "
                    "put the situation in the prompt or a system line",
                    "chat",
                    i,
                )
