"""What every bank format shares: bilingual text as Moodle multilang spans, a
scenario's chat as an HTML stem, and our metadata as tags.

A Moodle question has one text; ours have zh and en. Moodle's own answer is the
multilang filter (`<span lang="zh" class="multilang">…</span><span lang="en"
class="multilang">…</span>`), which shows the learner's language, so both
languages travel in one field and come back unchanged.

Anything an importer meets that we cannot represent is an `InterchangeError`
naming the file and the question (or sheet and row), never a silent drop.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from ..content.schema import ChatMessage, Question, Text

#: Tag prefixes: tag `rule:GRP-010` cites a rule, `wt-type:scenario` keeps the type.
RULE_TAG = "rule:"
TYPE_TAG = "wt-type:"
SHUFFLE_REASON_TAG = "wt-keep-order:"
#: Moodle keeps tag names to 50 characters (TAG_MAX_LENGTH in lib/classes/tag.php).
TAG_MAX_LENGTH = 50
CATEGORY_ROOT = "$course$/top/WeChat compliance"


class InterchangeError(Exception):
    """Problems found reading or writing a bank file; nothing was written."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Problems:
    """Collects every problem in a file before failing, like `check` does."""

    where: str
    found: list[str] = field(default_factory=list)

    def add(self, item: str, message: str) -> None:
        self.found.append(f"{self.where}: {item}: {message}")

    def raise_any(self) -> None:
        if self.found:
            raise InterchangeError(self.found)


_SPAN = r'<span lang="{lang}" class="multilang">(.*?)</span>'
_MULTILANG = re.compile(_SPAN.format(lang="zh") + _SPAN.format(lang="en"), re.S)
_TAG = re.compile(r"<[a-zA-Z/!]")


def multilang(text: Text) -> str:
    return (
        f'<span lang="zh" class="multilang">{html.escape(text.zh, quote=False)}</span>'
        f'<span lang="en" class="multilang">{html.escape(text.en, quote=False)}</span>'
    )


def read_multilang(markup: str) -> Text:
    """The zh/en pair of `markup`; ValueError says what else was found."""
    markup = markup.strip()
    found = _MULTILANG.fullmatch(markup)
    if found is None:
        if _TAG.search(markup):
            raise ValueError(
                f"HTML markup is not supported here ({_shorten(markup)}): write plain text in two "
                'multilang spans, <span lang="zh" class="multilang">…</span><span lang="en" class="multilang">…</span>'
            )
        raise ValueError(
            f"text {_shorten(markup)} has one language; every text needs zh and en, written as two "
            'multilang spans <span lang="zh" class="multilang">…</span><span lang="en" class="multilang">…</span>'
        )
    zh, en = (html.unescape(part).strip() for part in found.groups())
    if not zh or not en:
        raise ValueError("a multilang span is empty: every text needs both zh and en")
    if _TAG.search(zh) or _TAG.search(en):
        raise ValueError(f"HTML markup inside a multilang span is not supported ({_shorten(zh or en)})")
    return Text(zh=zh, en=en)


def _shorten(value: str, size: int = 60) -> str:
    return repr(value if len(value) <= size else value[: size - 1] + "…")


# --- scenario stems: the chat, then the prompt -------------------------------------------

# Role and time live in a class and in the text, not in data-* attributes: Moodle's
# HTML cleaning (HTMLPurifier) drops data-* on save but keeps class and lang.
_MESSAGE = re.compile(
    r'<p class="wt-msg wt-(?P<role>[a-z]+)">'
    r"<b>(?P<sender>.*?)</b> (?P<time>\d\d:\d\d)<br\s*/?>(?P<text>.*?)</p>",
    re.S,
)
_CHAT = re.compile(r'<div class="wt-chat">(?P<messages>.*?)</div><p class="wt-prompt">(?P<prompt>.*?)</p>', re.S)


def stem(question: Question) -> str:
    """The question text: the prompt, or for a scenario the chat followed by the prompt."""
    if question.type != "scenario":
        return multilang(question.prompt)
    messages = "".join(
        f'<p class="wt-msg wt-{m.role.value}"><b>{multilang(m.sender)}</b> {m.time}<br/>{multilang(m.text)}</p>'
        for m in question.chat or []
    )
    return f'<div class="wt-chat">{messages}</div><p class="wt-prompt">{multilang(question.prompt)}</p>'


def read_stem(markup: str) -> tuple[Text, list[ChatMessage] | None]:
    """(prompt, chat or None) from a question text written by `stem`."""
    markup = markup.strip()
    chat = _CHAT.fullmatch(markup)
    if chat is None:
        return read_multilang(markup), None
    messages, rest = [], chat["messages"]
    for found in _MESSAGE.finditer(rest):
        messages.append(
            ChatMessage(
                sender=read_multilang(found["sender"]),
                role=found["role"],
                time=found["time"],
                text=read_multilang(found["text"]),
            )
        )
    leftover = _MESSAGE.sub("", rest).strip()
    if leftover:
        raise ValueError(f"chat holds something that is not a chat message: {_shorten(leftover)}")
    return read_multilang(chat["prompt"]), messages


# --- tags -----------------------------------------------------------------------------


def tags(question: Question) -> list[str]:
    out = [RULE_TAG + r for r in question.rules] + [TYPE_TAG + question.type]
    if not question.shuffle:
        out.append(SHUFFLE_REASON_TAG + (question.shuffle_reason or ""))
    for tag in out:
        if len(tag) > TAG_MAX_LENGTH:
            raise InterchangeError([f"{question.id}: tag {tag!r} is longer than Moodle's {TAG_MAX_LENGTH} characters"])
    return out


@dataclass(frozen=True)
class Tagged:
    rules: list[str]
    type: str | None
    shuffle_reason: str | None


def read_tags(values: list[str]) -> Tagged:
    rules = [t.removeprefix(RULE_TAG) for t in values if t.startswith(RULE_TAG)]
    types = [t.removeprefix(TYPE_TAG) for t in values if t.startswith(TYPE_TAG)]
    reasons = [t.removeprefix(SHUFFLE_REASON_TAG) for t in values if t.startswith(SHUFFLE_REASON_TAG)]
    other = [t for t in values if not t.startswith((RULE_TAG, TYPE_TAG, SHUFFLE_REASON_TAG))]
    if other:
        raise ValueError(f"tags {other} mean nothing to the kit (known: {RULE_TAG}ID, {TYPE_TAG}TYPE)")
    if not rules:
        raise ValueError(f"no rule cited: add a tag {RULE_TAG}RULE-ID (e.g. {RULE_TAG}GRP-010)")
    return Tagged(rules, types[0] if types else None, reasons[0] if reasons else None)


def question_from(fields: dict) -> Question:
    """Validate an imported question; pydantic's error becomes one line."""
    from pydantic import ValidationError

    try:
        return Question.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{where}: {first['msg']}" if where else first["msg"]) from exc


def category(question: Question) -> str:
    from ..content.schema import AREA_PREFIX

    area = next(a for a, p in AREA_PREFIX.items() if p == question.area_prefix)
    return f"{CATEGORY_ROOT}/{area}"


def write_questions(questions: list[Question], into, replace: bool = False) -> list:
    """Write `questions` as quizzes/questions/<area>.yaml under `into`, one file per area.

    Refuses (before writing anything) to overwrite an existing file unless `replace`."""
    from collections import defaultdict
    from pathlib import Path

    import yaml

    from ..content.catalog import QUESTIONS_DIR
    from ..content.schema import AREA_PREFIX

    by_area: dict[str, list[Question]] = defaultdict(list)
    for q in questions:
        by_area[next(a for a, p in AREA_PREFIX.items() if p == q.area_prefix)].append(q)
    directory = Path(into) / QUESTIONS_DIR
    targets = {area: directory / f"{area}.yaml" for area in by_area}
    existing = [str(p) for p in targets.values() if p.exists()]
    if existing and not replace:
        raise InterchangeError([f"{p}: exists already (pass --replace to overwrite it)" for p in existing])
    directory.mkdir(parents=True, exist_ok=True)
    for area, items in sorted(by_area.items()):
        data = {"questions": [q.model_dump(mode="json", exclude_none=True) for q in sorted(items, key=lambda q: q.id)]}
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)
        targets[area].write_text(text, encoding="utf-8")
    return [targets[a] for a in sorted(targets)]
