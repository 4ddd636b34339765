"""The question bank as GIFT, both ways.

Syntax and escapes follow Moodle's GIFT importer and exporter,
moodle/moodle question/format/gift/format.php (read at commit 00e93a993910):
questions are separated by blank lines, `//` lines are comments, `$CATEGORY:` switches category, `::name::`
names a question, `[html]` gives the text format, answers sit in `{…}` with
`=` right, `~` wrong, `~%50%` a weighted answer, `#` feedback and `####` the
general feedback; `\\ \\~ \\= \\# \\{ \\} \\:` and `\\n` are escapes (repchar /
escapedchar_pre there).

GIFT has no field for an id number or tags, so the question's id is its name
and the rules it cites ride in a comment line above it,
`// [id:Q-GRP-001] [tag:rule:GRP-010]`: that importer drops comment lines
before parsing (readquestion), our importer reads them.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..content.schema import QUESTION_ID_PATTERN, Question
from . import interchange as X

_RESERVED = {"\\": "\\\\", "#": "\\#", "=": "\\=", "~": "\\~", "{": "\\{", "}": "\\}", ":": "\\:", "\n": "\\n"}
#: Stand-ins for escaped characters while the question is split (as escapedchar_pre does).
_HOLD = {"\\:": "\x01", "\\#": "\x02", "\\=": "\x03", "\\{": "\x04", "\\}": "\x05", "\\~": "\x06", "\\n": "\x07"}
_BACK = {"\x01": ":", "\x02": "#", "\x03": "=", "\x04": "{", "\x05": "}", "\x06": "~", "\x07": "\n", "\x08": "\\"}
_WEIGHT = re.compile(r"^%(-?\d{1,3}(?:\.\d*)?)%")
_META = re.compile(r"\[(id|tag):([^\]]+)\]")


def escape(text: str) -> str:
    return "".join(_RESERVED.get(ch, ch) for ch in text.replace("\r", ""))


def export(questions: list[Question]) -> str:
    blocks: list[str] = []
    current = None
    for q in questions:
        if X.category(q) != current:
            current = X.category(q)
            blocks.append(f"$CATEGORY: {current}")
        meta = " ".join([f"[id:{q.id}]", *(f"[tag:{t}]" for t in X.tags(q))])
        lines = [f"// {meta}", f"// points: {q.points}" if q.points != 1 else None]
        head = f"::{escape(q.id)}::[html]{escape(X.stem(q))}"
        general = f"####{escape(X.multilang(q.explanation))}"
        if q.type == "true_false":
            body = f"{{{'TRUE' if q.answer else 'FALSE'}{general}}}"
            lines.append(head + body)
        else:
            right = [c for c in q.choices or [] if c.correct]
            wrong = len(q.choices or []) - len(right)
            answers = []
            for c in q.choices or []:
                if q.type == "multiple":
                    share = 100 / len(right) if c.correct else -100 / wrong
                    mark = f"~%{share:.5f}".rstrip("0").rstrip(".") + "%"
                else:
                    mark = "=" if c.correct else "~"
                feedback = f"#{escape(X.multilang(c.feedback))}" if c.feedback else ""
                answers.append(f"\t{mark}{escape(X.multilang(c.text))}{feedback}")
            lines += [head + "{", *answers, f"\t{general}", "}"]
        blocks.append("\n".join(line for line in lines if line is not None))
    return "\n\n".join(blocks) + "\n"


def read(path: Path) -> list[Question]:
    shown = str(path)
    problems = X.Problems(shown)
    questions = []
    for line, block in _blocks(path.read_text(encoding="utf-8")):
        comments = [b.strip()[2:] for b in block if b.strip().startswith("//")]
        text = "\n".join(b for b in block if not b.strip().startswith("//")).strip()
        if not text:
            continue
        try:
            question = _question(text, comments)
        except ValueError as exc:
            problems.add(f"line {line}", str(exc))
            continue
        if question is not None:
            questions.append(question)
    problems.raise_any()
    return questions


def _blocks(document: str):
    """(first line number, lines) of each blank-line-separated question."""
    block: list[str] = []
    start = 1
    for number, line in enumerate(document.splitlines(), start=1):
        if line.strip():
            if not block:
                start = number
            block.append(line)
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def _hold(text: str) -> str:
    text = text.replace("\\\\", "\x08")
    for escaped, stand_in in _HOLD.items():
        text = text.replace(escaped, stand_in)
    return text


def _release(text: str) -> str:
    return "".join(_BACK.get(ch, ch) for ch in text)


def _formatted(text: str) -> str:
    """Text without its [format] prefix (html, moodle, plain, markdown: all read as written)."""
    text = text.strip()
    found = re.match(r"^\[(html|moodle|plain|markdown)\]", text)
    return _release(text[found.end() :] if found else text).strip()


def _question(text: str, comments: list[str]) -> Question | None:
    text = _hold(text)
    if text.startswith("$CATEGORY:"):
        return None  # our category is the area, which the id carries
    name = None
    if text.startswith("::"):
        end = text.find("::", 2)
        if end < 0:
            raise ValueError("a question name opened with :: is not closed with ::")
        name, text = _release(text[2:end]).strip(), text[end + 2 :].strip()
    start, finish = text.find("{"), text.find("}")
    if start < 0 and finish < 0:
        raise ValueError(f"{name or 'question'}: a description (no answers) is not supported")
    if start < 0 or finish < start:
        raise ValueError(f"{name or 'question'}: unbalanced {{ }} (escape a literal brace as \\{{ or \\}})")
    if text[finish + 1 :].strip():
        raise ValueError(f"{name or 'question'}: missing-word questions (text after the answers) are not supported")
    stem_text, answers = text[:start], text[start + 1 : finish].strip()
    general = ""
    if "####" in answers:
        answers, general = answers[: answers.rindex("####")].strip(), answers[answers.rindex("####") + 4 :]
    meta = [m for c in comments for m in _META.findall(c)]
    ident = next((v.strip() for k, v in meta if k == "id"), None) or name
    label = ident or "question"
    if not ident or not re.match(QUESTION_ID_PATTERN, ident):
        raise ValueError(f"{label}: no question id: name it ::Q-AREA-NNN:: or add a comment // [id:Q-AREA-NNN]")
    try:
        kind = _kind(answers)  # an unsupported type is the first thing to say
        tagged = X.read_tags([v.strip() for k, v in meta if k == "tag"])
        prompt, chat = X.read_stem(_formatted(stem_text))
        if not general.strip():
            raise ValueError("no general feedback (####…): the kit's explanation, citing the rule, goes there")
        fields: dict = {
            "id": ident,
            "rules": tagged.rules,
            "prompt": prompt,
            "explanation": X.read_multilang(_formatted(general)),
        }
        points = next((c.split(":", 1)[1] for c in comments if c.strip().startswith("points:")), None)
        if points is not None:
            fields["points"] = int(points)
        if kind == "truefalse":
            if "#" in answers:
                raise ValueError("feedback on a true/false answer is not supported (use ####general feedback)")
            fields |= {"type": "true_false", "answer": answers.strip() in ("T", "TRUE")}
        else:
            fields["choices"], single = _choices(answers)
            fields["type"] = tagged.type or ("single" if single else "multiple")
            if chat is not None:
                fields["chat"] = chat
            if tagged.shuffle_reason is not None:
                fields |= {"shuffle": False, "shuffle_reason": tagged.shuffle_reason}
        return X.question_from(fields)
    except ValueError as exc:
        raise ValueError(f"{label}: {exc}") from exc


def _kind(answers: str) -> str:
    if not answers:
        raise ValueError("essay questions (empty {}) are not supported")
    if answers.startswith("#"):
        raise ValueError("numerical questions ({#…}) are not supported")
    if "~" in answers:
        return "multichoice"
    if "=" in answers and "->" in answers:
        raise ValueError("matching questions (=a -> b) are not supported")
    if answers.split("#")[0].strip() in ("T", "TRUE", "F", "FALSE"):
        return "truefalse"
    raise ValueError("short-answer questions ({=…} without ~) are not supported")


def _choices(answers: str) -> tuple[list[dict], bool]:
    single = "=" in answers
    parts = [p.strip() for p in answers.replace("=", "~=").split("~")]
    parts = [p for p in parts if p]
    if len(parts) > 26:
        raise ValueError(f"{len(parts)} answers: a question holds at most 26 (choice ids a-z)")
    choices = []
    for letter, part in zip("abcdefghijklmnopqrstuvwxyz", parts, strict=False):
        if part.startswith("="):
            weight, part = 100.0, part[1:]
        elif found := _WEIGHT.match(part):
            weight, part = float(found.group(1)), part[found.end() :]
        else:
            weight = 0.0
        answer, _, feedback = part.partition("#")
        choices.append(
            {
                "id": letter,
                "text": X.read_multilang(_formatted(answer)),
                "correct": weight > 0,
                **({"feedback": X.read_multilang(_formatted(feedback))} if feedback.strip() else {}),
            }
        )
    if len(choices) < 2:
        raise ValueError("a multiple-choice question needs at least 2 answers")
    return choices, single
