"""The question bank as an Excel sheet, one row per question, both ways.

The layout is the question template Chinese corporate e-learning platforms
import: 题型, 题干, 选项A…, 答案, 解析, 知识点. Columns marked (英文) carry the
English text beside the Chinese, 反馈X the feedback of option X, 题号 our id.
A scenario's chat is written into the stem, one message a line, so a platform
that knows no chat still shows it: `【同事】周磊 10:05：…` then the prompt.

Reading collects every bad row (named by sheet and row) and returns nothing
when any row is bad.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..content.schema import ChatRole, Question, Text
from . import interchange as X

SHEET = "题库"
LETTERS = "ABCDEFGH"
TYPE_NAMES = {"single": "单选题", "multiple": "多选题", "true_false": "判断题", "scenario": "情景题"}
TYPES_BY_NAME = {v: k for k, v in TYPE_NAMES.items()}
TRUE_WORDS, FALSE_WORDS = {"正确", "对", "T", "TRUE"}, {"错误", "错", "F", "FALSE"}
ROLE_NAMES = {
    ChatRole.me: ("我", "me"),
    ChatRole.colleague: ("同事", "colleague"),
    ChatRole.manager: ("领导", "manager"),
    ChatRole.customer: ("客户", "customer"),
    ChatRole.stranger: ("外部人员", "stranger"),
    ChatRole.system: ("系统", "system"),
}
_ZH_LINE = re.compile(r"^【(?P<role>[^】]+)】(?P<sender>.+) (?P<time>\d\d:\d\d)：(?P<text>.*)$")
_EN_LINE = re.compile(r"^\[(?P<role>[a-z]+)\] (?P<sender>.+) (?P<time>\d\d:\d\d): (?P<text>.*)$")

ID, KIND, STEM, STEM_EN = "题号", "题型", "题干", "题干(英文)"
ANSWER, EXPLANATION, EXPLANATION_EN, RULES, POINTS = "答案", "解析", "解析(英文)", "知识点", "分值"
KEEP_ORDER = "固定选项顺序原因"
#: A second sheet explaining the columns; the importer skips it.
GUIDE = "说明"
GUIDE_ROWS = [
    ("列 Column", "填写 What goes there"),
    (ID, "题目编号 Q-区域-三位数，如 Q-GRP-012 / question id, never changes"),
    (KIND, "单选题 / 多选题 / 判断题 / 情景题"),
    (STEM, "题干；情景题先写对话，每行一条：【同事】周磊 10:05：消息，最后一行是问题"),
    (STEM_EN, "English stem; a scenario's chat lines as [colleague] Zhou Lei 10:05: message"),
    ("选项A…", "选项文字，从 A 起连续填写 / option text, from A on without gaps"),
    ("反馈A…", "选了该项时显示的反馈（可空）/ feedback when the option is picked (optional)"),
    (ANSWER, "正确选项字母，如 B 或 AC；判断题填 正确 或 错误"),
    (EXPLANATION, "答题后显示的解析，引用规则编号 / explanation citing the rule id"),
    (RULES, "考查的规则编号，逗号分隔，如 GRP-010 / rule ids"),
    (POINTS, "分值，默认 1 / points, default 1"),
    (KEEP_ORDER, "选项必须按原顺序显示时写明原因，否则留空 / why options keep their order"),
    ("(英文)", "每个中文列旁的英文列都要填 / every (英文) column holds the English beside the Chinese"),
]


def columns(letters: str = LETTERS[:6]) -> list[str]:
    out = [ID, KIND, STEM, STEM_EN]
    for x in letters:
        out += [f"选项{x}", f"选项{x}(英文)", f"反馈{x}", f"反馈{x}(英文)"]
    return out + [ANSWER, EXPLANATION, EXPLANATION_EN, RULES, POINTS, KEEP_ORDER]


def _stem(q: Question, lang: str) -> str:
    lines = []
    for m in q.chat or []:
        zh_role, en_role = ROLE_NAMES[m.role]
        if lang == "zh":
            lines.append(f"【{zh_role}】{m.sender.zh} {m.time}：{m.text.zh}")
        else:
            lines.append(f"[{en_role}] {m.sender.en} {m.time}: {m.text.en}")
    return "\n".join([*lines, q.prompt.get(lang)])


def row_of(q: Question) -> dict[str, object]:
    row: dict[str, object] = {ID: q.id, KIND: TYPE_NAMES[q.type], STEM: _stem(q, "zh"), STEM_EN: _stem(q, "en")}
    if q.type == "true_false":
        row[ANSWER] = "正确" if q.answer else "错误"
    else:
        for x, c in zip(LETTERS, q.choices or [], strict=False):
            row[f"选项{x}"], row[f"选项{x}(英文)"] = c.text.zh, c.text.en
            if c.feedback:
                row[f"反馈{x}"], row[f"反馈{x}(英文)"] = c.feedback.zh, c.feedback.en
        row[ANSWER] = "".join(x for x, c in zip(LETTERS, q.choices or [], strict=False) if c.correct)
    row |= {EXPLANATION: q.explanation.zh, EXPLANATION_EN: q.explanation.en, RULES: ",".join(q.rules), POINTS: q.points}
    if not q.shuffle:
        row[KEEP_ORDER] = q.shuffle_reason
    return row


def write(questions: list[Question], out: Path) -> None:
    from openpyxl import Workbook

    most = max((len(q.choices or []) for q in questions), default=0)
    if most > len(LETTERS):
        raise X.InterchangeError([f"a question has {most} options; the sheet holds {len(LETTERS)}"])
    header = columns(LETTERS[: max(most, 4)])
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(header)
    for q in questions:
        row = row_of(q)
        sheet.append([row.get(h) for h in header])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # a text starting with '=' stays text, never a formula
    sheet.freeze_panes = "A2"
    guide = book.create_sheet(GUIDE)
    for row in GUIDE_ROWS:
        guide.append(row)
    book.save(out)


def read(path: Path) -> list[Question]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    problems = X.Problems(str(path))
    questions = []
    for sheet in book.worksheets:
        if sheet.title == GUIDE:
            continue
        rows = sheet.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        missing = [h for h in (KIND, STEM, ANSWER, EXPLANATION, RULES) if h not in header]
        if missing:
            problems.add(f"sheet {sheet.title}", f"missing column(s) {', '.join(missing)} in the first row")
            continue
        known = set(columns(LETTERS))
        unknown = [h for h in header if h and h not in known]
        if unknown:
            problems.add(
                f"sheet {sheet.title}", f"unknown column(s) {', '.join(unknown)} (known: {', '.join(columns(LETTERS))})"
            )
            continue
        for number, values in enumerate(rows, start=2):
            cells = {h: (str(v).strip() if v is not None else "") for h, v in zip(header, values, strict=False) if h}
            if not any(cells.values()):
                continue
            try:
                questions.append(_question(cells))
            except ValueError as exc:
                problems.add(f"sheet {sheet.title} row {number}", str(exc))
    problems.raise_any()
    return questions


def _text(cells: dict[str, str], zh_column: str, en_column: str) -> Text:
    zh, en = cells.get(zh_column, ""), cells.get(en_column, "")
    if not zh or not en:
        raise ValueError(f"{zh_column} and {en_column} both need text (Chinese and English)")
    return Text(zh=zh, en=en)


def _chat(zh_stem: str, en_stem: str) -> tuple[Text, list[dict]]:
    zh_lines, en_lines = zh_stem.split("\n"), en_stem.split("\n")
    chat = []
    while zh_lines and _ZH_LINE.match(zh_lines[0]):
        zh = _ZH_LINE.match(zh_lines.pop(0))
        en = _EN_LINE.match(en_lines.pop(0)) if en_lines else None
        if en is None:
            raise ValueError(f"chat line {zh.group(0)!r} has no English line like '[colleague] Name 10:05: text'")
        role = next((r for r, (z, e) in ROLE_NAMES.items() if z == zh["role"]), None)
        if role is None or ROLE_NAMES[role][1] != en["role"] or zh["time"] != en["time"]:
            raise ValueError(f"chat line {zh.group(0)!r}: role or time differs between Chinese and English")
        chat.append(
            {
                "sender": Text(zh=zh["sender"], en=en["sender"]),
                "role": role,
                "time": zh["time"],
                "text": Text(zh=zh["text"], en=en["text"]),
            }
        )
    if not zh_lines or not en_lines:
        raise ValueError("题干 needs the prompt after the chat lines")
    return Text(zh="\n".join(zh_lines), en="\n".join(en_lines)), chat


def _question(cells: dict[str, str]) -> Question:
    kind = TYPES_BY_NAME.get(cells.get(KIND, ""))
    if kind is None:
        raise ValueError(f"题型 {cells.get(KIND)!r} is not one of {', '.join(TYPES_BY_NAME)}")
    if not cells.get(ID):
        raise ValueError("题号 is empty: the question id Q-AREA-NNN goes there")
    rules = [r.strip() for r in re.split(r"[,，;；\s]+", cells.get(RULES, "")) if r.strip()]
    if not rules:
        raise ValueError("知识点 is empty: list the rule id(s) the question tests, e.g. GRP-010")
    stem = _text(cells, STEM, STEM_EN)
    fields: dict = {
        "id": cells[ID],
        "type": kind,
        "rules": rules,
        "explanation": _text(cells, EXPLANATION, EXPLANATION_EN),
    }
    if cells.get(POINTS):
        fields["points"] = int(float(cells[POINTS]))
    if kind == "scenario":
        fields["prompt"], fields["chat"] = _chat(stem.zh, stem.en)
    else:
        fields["prompt"] = stem
    answer = cells.get(ANSWER, "").upper().replace(" ", "")
    if kind == "true_false":
        if answer not in TRUE_WORDS | FALSE_WORDS:
            raise ValueError(f"答案 of a 判断题 is 正确 or 错误, not {cells.get(ANSWER)!r}")
        used = [h for h in cells if h.startswith(("选项", "反馈")) and cells[h]]
        if used:
            raise ValueError(f"a 判断题 has no options; empty {', '.join(used)}")
        fields["answer"] = answer in TRUE_WORDS
    else:
        letters = [x for x in LETTERS if cells.get(f"选项{x}") or cells.get(f"选项{x}(英文)")]
        if letters != list(LETTERS[: len(letters)]):
            raise ValueError(f"options must be filled from 选项A on without gaps (found {', '.join(letters)})")
        bad = set(answer) - set(letters)
        if not answer or bad:
            raise ValueError(f"答案 {cells.get(ANSWER)!r} must name filled options by letter (e.g. B or AC)")
        choices = []
        for x in letters:
            choice = {"id": x.lower(), "text": _text(cells, f"选项{x}", f"选项{x}(英文)"), "correct": x in answer}
            if cells.get(f"反馈{x}") or cells.get(f"反馈{x}(英文)"):
                choice["feedback"] = _text(cells, f"反馈{x}", f"反馈{x}(英文)")
            choices.append(choice)
        for x in LETTERS[len(letters) :]:
            if cells.get(f"反馈{x}"):
                raise ValueError(f"反馈{x} is filled but 选项{x} is empty")
        fields["choices"] = choices
    if cells.get(KEEP_ORDER):
        fields |= {"shuffle": False, "shuffle_reason": cells[KEEP_ORDER]}
    return X.question_from(fields)
