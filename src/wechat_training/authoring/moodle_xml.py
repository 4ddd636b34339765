"""The question bank as Moodle XML, both ways.

Element names and their meaning follow Moodle's own importer,
moodle/moodle question/format/xml/format.php (read at commit 00055ef6abc8;
qformat_xml::import_question,
import_headers, import_multichoice, import_truefalse, import_question_tags):
<quiz> holds <question type="..."> elements; type "category" switches category;
a question has <name><text>, <questiontext format><text>, <generalfeedback>,
<defaultgrade>, <idnumber>, <tags><tag><text>; multichoice has <single>,
<shuffleanswers> and <answer fraction="percent"> with <text> and <feedback><text>;
truefalse has two answers whose text is "true" / "false".
"""

from __future__ import annotations

import math
from pathlib import Path
from xml.etree import ElementTree as ET

from ..content.schema import Question
from . import interchange as X

#: Answer grades Moodle offers (question/type/multichoice: question_bank::fraction_options_full),
#: as percentages; a fraction outside this list is refused by the editing form.
MOODLE_FRACTIONS = sorted(
    {
        round(100 * f, 5)
        for f in (
            1,
            0.9,
            0.8333333,
            0.8,
            0.75,
            0.7,
            0.6666667,
            0.6,
            0.5,
            0.4,
            0.3333333,
            0.3,
            0.25,
            0.2,
            0.1666667,
            0.1428571,
            0.125,
            0.1111111,
            0.1,
            0.05,
            0,
        )
    }
)
#: Elements of a question we read; the others below are accepted only when empty.
IGNORED_WHEN_EMPTY = {
    "correctfeedback",
    "partiallycorrectfeedback",
    "incorrectfeedback",
    "hint",
}
#: Elements that carry settings, not content, and have no counterpart in our questions.
SETTINGS = {"penalty", "hidden", "answernumbering", "shownumcorrect", "showstandardinstruction"}


def _fraction(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")


def _snap(percent: float) -> float:
    """The Moodle grade nearest `percent` (100/7 is 14.28571 there)."""
    return min(MOODLE_FRACTIONS, key=lambda f: abs(f - abs(percent))) * (1 if percent >= 0 else -1)


def _text(parent: ET.Element, tag: str, value: str, fmt: str | None = "html") -> ET.Element:
    node = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(node, "text").text = value
    return node


def export(questions: list[Question]) -> str:
    quiz = ET.Element("quiz")
    current = None
    for q in questions:
        if X.category(q) != current:
            current = X.category(q)
            cat = ET.SubElement(quiz, "question", {"type": "category"})
            ET.SubElement(ET.SubElement(cat, "category"), "text").text = current
        node = ET.SubElement(quiz, "question", {"type": "truefalse" if q.type == "true_false" else "multichoice"})
        ET.SubElement(ET.SubElement(node, "name"), "text").text = q.id
        _text(node, "questiontext", X.stem(q))
        _text(node, "generalfeedback", X.multilang(q.explanation))
        ET.SubElement(node, "defaultgrade").text = str(q.points)
        ET.SubElement(node, "penalty").text = "0"
        ET.SubElement(node, "hidden").text = "0"
        ET.SubElement(node, "idnumber").text = q.id
        if q.type == "true_false":
            for value in ("true", "false"):
                answer = ET.SubElement(
                    node,
                    "answer",
                    {"fraction": "100" if q.answer == (value == "true") else "0", "format": "moodle_auto_format"},
                )
                ET.SubElement(answer, "text").text = value
                _text(answer, "feedback", "")
        else:
            choices = q.choices or []
            right = [c for c in choices if c.correct]
            wrong = len(choices) - len(right)
            ET.SubElement(node, "single").text = "false" if q.type == "multiple" else "true"
            ET.SubElement(node, "shuffleanswers").text = "true" if q.shuffle else "false"
            ET.SubElement(node, "answernumbering").text = "abc"
            for c in choices:
                if q.type == "multiple":
                    # Moodle adds the fractions of the picked answers: right ones share 100 %,
                    # each wrong pick takes its share back, as our all-or-nothing key expects.
                    percent = _snap(100 / len(right)) if c.correct else -_snap(100 / wrong)
                else:
                    percent = 100 if c.correct else 0
                answer = ET.SubElement(node, "answer", {"fraction": _fraction(percent), "format": "html"})
                ET.SubElement(answer, "text").text = X.multilang(c.text)
                _text(answer, "feedback", X.multilang(c.feedback) if c.feedback else "")
        tags = ET.SubElement(node, "tags")
        for tag in X.tags(q):
            ET.SubElement(ET.SubElement(tags, "tag"), "text").text = tag
    ET.indent(quiz)
    body = ET.tostring(quiz, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def validate(document: str, where: str = "<moodle xml>") -> list[str]:
    """Structural problems Moodle's importer (format.php above) would trip on; [] when none."""
    problems = X.Problems(where)
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        return [f"{where}: not well-formed XML: {exc}"]
    if root.tag != "quiz":
        return [f"{where}: the root element is <{root.tag}>, Moodle reads <quiz>"]
    for n, node in enumerate(root, start=1):
        item = f"question {n}"
        kind = node.get("type")
        if node.tag != "question" or kind is None:
            problems.add(item, f"<{node.tag}> without type: <quiz> holds only <question type=...>")
            continue
        if kind == "category":
            if not (node.findtext("category/text") or "").strip():
                problems.add(item, "a category question needs <category><text>")
            continue
        name = (node.findtext("name/text") or "").strip()
        if not name:
            problems.add(item, "no <name><text> (Moodle: xmlimportnoname)")
        item = f"question {n} ({name})"
        if node.find("questiontext/text") is None:
            problems.add(item, "no <questiontext><text>")
        if len(node.findtext("idnumber") or "") > 100:
            problems.add(item, "<idnumber> longer than 100 characters")
        answers = node.findall("answer")
        try:
            fractions = [float(a.get("fraction", "0")) for a in answers]
        except ValueError:
            problems.add(item, "an answer fraction is not a number")
            continue
        for f in fractions:
            if all(not math.isclose(abs(f), g, abs_tol=0.01) for g in MOODLE_FRACTIONS):
                problems.add(item, f"answer fraction {f} is not one of Moodle's grades")
        if kind == "truefalse":
            texts = sorted((a.findtext("text") or "").strip() for a in answers)
            if texts != ["false", "true"] or sorted(fractions) != [0, 100]:
                problems.add(item, "truefalse needs answers 'true' and 'false', one at fraction 100")
        elif kind == "multichoice":
            single = (node.findtext("single") or "true").strip()
            if len(answers) < 2:
                problems.add(item, "multichoice needs at least 2 answers")
            if single == "true" and max(fractions, default=0) != 100:
                problems.add(item, "a single-answer multichoice needs one answer at fraction 100")
            if single == "false" and not math.isclose(sum(f for f in fractions if f > 0), 100, abs_tol=0.1):
                problems.add(item, "a multiple-answer multichoice needs positive fractions adding to 100")
        for tag in node.findall("tags/tag"):
            if not (tag.findtext("text") or "").strip():
                problems.add(item, "a <tag> without <text>")
    return problems.found


def read(path: Path) -> list[Question]:
    """Questions of a Moodle XML file; `InterchangeError` lists every question we cannot take."""
    from defusedxml.ElementTree import fromstring

    shown = str(path)
    problems = X.Problems(shown)
    try:
        root = fromstring(path.read_text(encoding="utf-8"))
    except ET.ParseError as exc:
        raise X.InterchangeError([f"{shown}: not well-formed XML: {exc}"]) from exc
    if root.tag != "quiz":
        raise X.InterchangeError([f"{shown}: the root element is <{root.tag}>, a Moodle XML file has <quiz>"])
    questions = []
    for n, node in enumerate(root, start=1):
        kind = node.get("type")
        if kind == "category":
            continue  # our category is the area, which the id carries
        name = (node.findtext("name/text") or "").strip()
        item = f"question {n} ({name or 'no name'})"
        try:
            questions.append(_question(node, kind))
        except ValueError as exc:
            problems.add(item, str(exc))
    problems.raise_any()
    return questions


def _question(node: ET.Element, kind: str | None) -> Question:
    if kind not in ("multichoice", "truefalse"):
        raise ValueError(f"type {kind!r} is not supported (multichoice and truefalse only)")
    known = {
        "name",
        "questiontext",
        "generalfeedback",
        "defaultgrade",
        "idnumber",
        "tags",
        "answer",
        "single",
        "shuffleanswers",
        *SETTINGS,
        *IGNORED_WHEN_EMPTY,
    }
    for child in node:
        if child.tag not in known:
            raise ValueError(f"<{child.tag}> is not supported")
        if child.tag in IGNORED_WHEN_EMPTY and "".join(child.itertext()).strip():
            raise ValueError(f"<{child.tag}> with text is not supported (put feedback on the answers)")
    if node.find("questiontext/file") is not None or node.find("answer/file") is not None:
        raise ValueError("embedded <file> is not supported")
    ident = (node.findtext("idnumber") or "").strip()
    if not ident:
        raise ValueError("no <idnumber>: the kit needs the question id there (Q-AREA-NNN)")
    tagged = X.read_tags([(t.findtext("text") or "").strip() for t in node.findall("tags/tag")])
    prompt, chat = X.read_stem(node.findtext("questiontext/text") or "")
    feedback = (node.findtext("generalfeedback/text") or "").strip()
    if not feedback:
        raise ValueError("no <generalfeedback>: the kit's explanation (why, citing the rule) goes there")
    fields: dict = {
        "id": ident,
        "rules": tagged.rules,
        "prompt": prompt,
        "explanation": X.read_multilang(feedback),
        "points": int(float(node.findtext("defaultgrade") or 1)),
    }
    answers = node.findall("answer")
    if kind == "truefalse":
        for a in answers:
            if (a.findtext("feedback/text") or "").strip():
                raise ValueError("feedback on a true/false answer is not supported (use <generalfeedback>)")
        right = [(a.findtext("text") or "").strip() for a in answers if float(a.get("fraction", 0)) == 100]
        fields |= {"type": "true_false", "answer": right == ["true"]}
    else:
        single = (node.findtext("single") or "true").strip() != "false"
        fields["type"] = tagged.type or ("single" if single else "multiple")
        if chat is not None:
            fields["chat"] = chat
        if len(answers) > 26:
            raise ValueError(f"{len(answers)} answers: a question holds at most 26 (choice ids a-z)")
        choices = []
        for letter, a in zip("abcdefghijklmnopqrstuvwxyz", answers, strict=False):
            fb = (a.findtext("feedback/text") or "").strip()
            choices.append(
                {
                    "id": letter,
                    "text": X.read_multilang(a.findtext("text") or ""),
                    "correct": float(a.get("fraction", 0)) > 0,
                    **({"feedback": X.read_multilang(fb)} if fb else {}),
                }
            )
        fields["choices"] = choices
        if (node.findtext("shuffleanswers") or "true").strip() in ("false", "0"):
            fields |= {"shuffle": False, "shuffle_reason": tagged.shuffle_reason}
    return X.question_from(fields)
