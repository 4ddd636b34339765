"""The question bank in Moodle XML, GIFT and Excel: lossless round trips of the whole
shipped bank, Moodle's structure, hand-written files, and clear errors for the rest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from wechat_training.authoring import gift, moodle_xml, question_sheet
from wechat_training.authoring.interchange import InterchangeError
from wechat_training.cli import main
from wechat_training.content.catalog import load_catalog
from wechat_training.content.location import content_root

SHIPPED = content_root()
BANK = Path(__file__).parent / "data" / "bank"
VALID = Path(__file__).parent / "data" / "valid"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def catalog_json(root: Path) -> dict:
    result = run("catalog", "--json", "--root", str(root))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def without_questions(tmp_path: Path, source: Path = SHIPPED) -> Path:
    """The content's rules and modules, its question files left out (the import writes them)."""
    root = tmp_path / "imported"
    shutil.copytree(source / "rules", root / "rules")
    shutil.copytree(source / "quizzes" / "modules", root / "quizzes" / "modules")
    return root


@pytest.mark.parametrize("fmt,suffix", [("moodle", ".xml"), ("gift", ".gift"), ("xlsx", ".xlsx")])
def test_whole_bank_round_trips_to_the_same_catalogue(tmp_path, fmt, suffix):
    """Is the catalogue JSON identical after importing our own export (ids, choices, keys, feedback, rules)?"""
    out = tmp_path / f"bank{suffix}"
    total = len(load_catalog(SHIPPED).questions)
    exported = run("bank", "export", "--format", fmt, "--out", str(out))
    assert exported.exit_code == 0 and f"wrote {total} questions" in exported.output
    root = without_questions(tmp_path)
    imported = run("bank", "import", str(out), "--into", str(root))
    assert imported.exit_code == 0, imported.output
    assert f"imported {total} questions" in imported.output
    assert catalog_json(root) == catalog_json(SHIPPED)
    again = run("bank", "import", str(out), "--into", str(root))
    assert again.exit_code == 1 and "exists already" in again.output  # no silent overwrite


def test_moodle_export_has_the_structure_moodles_importer_reads(tmp_path):
    catalog = load_catalog(SHIPPED)
    document = moodle_xml.export(list(catalog.questions.values()))
    assert moodle_xml.validate(document) == []
    from xml.etree import ElementTree as ET

    quiz = ET.fromstring(document)
    questions = [q for q in quiz if q.get("type") != "category"]
    assert {q.get("type") for q in questions} == {"multichoice", "truefalse"}
    assert len(questions) == len(catalog.questions)
    q = next(q for q in questions if q.findtext("idnumber") == "Q-GRP-001")
    assert q.findtext("name/text") == "Q-GRP-001" and q.findtext("single") == "true"
    assert [t.findtext("text") for t in q.findall("tags/tag")] == ["rule:GRP-010", "wt-type:scenario"]
    assert 'class="wt-chat"' in q.findtext("questiontext/text")  # the chat is the stem
    multiple = next(q for q in questions if q.findtext("single") == "false")
    fractions = [float(a.get("fraction")) for a in multiple.findall("answer")]
    assert abs(sum(f for f in fractions if f > 0) - 100) < 0.1


@pytest.mark.parametrize(
    "edit,problem",
    [
        (lambda d: d.replace("<quiz>", "<questions>", 1).replace("</quiz>", "</questions>"), "root element"),
        (lambda d: d.replace('<answer fraction="100"', '<answer fraction="90"', 1), "one answer at fraction 100"),
        (lambda d: d.replace('fraction="0"', 'fraction="37"', 1), "not one of Moodle's grades"),
        (lambda d: d.replace("<text>true</text>", "<text>yes</text>", 1), "truefalse needs answers"),
        (lambda d: d.replace("<name>", "<title>", 1).replace("</name>", "</title>", 1), "no <name><text>"),
        (lambda d: d.replace("</quiz>", ""), "not well-formed"),
    ],
)
def test_validator_catches_what_moodle_would_refuse(edit, problem):
    document = moodle_xml.export(list(load_catalog(VALID).questions.values()))
    problems = moodle_xml.validate(edit(document))
    assert problems and problem in problems[0]


def test_handwritten_gift_with_comments_categories_escapes():
    questions = {q.id: q for q in gift.read(BANK / "handwritten.gift")}
    assert list(questions) == ["Q-ACC-010", "Q-ACC-011", "Q-ACC-012"]
    escaped = questions["Q-ACC-010"]
    assert escaped.prompt.zh == "密码里可以有 { } ~ = # : 这些字符吗？"
    assert escaped.prompt.en == "May a password hold { } ~ = # : characters?"
    assert escaped.type == "single" and [c.correct for c in escaped.choices] == [True, False]
    assert escaped.choices[1].feedback.en == "Special characters make it harder to guess."
    assert escaped.rules == ["ACC-001"] and escaped.explanation.en == "See ACC-001."
    assert questions["Q-ACC-011"].type == "true_false" and questions["Q-ACC-011"].answer is True
    weighted = questions["Q-ACC-012"]
    assert weighted.type == "multiple" and weighted.correct_choice_ids() == {"a", "b"}


def test_handwritten_moodle_xml_with_cdata_entities_and_a_category():
    [q] = moodle_xml.read(BANK / "handwritten.xml")
    assert q.id == "Q-ACC-030" and q.type == "single" and q.points == 2
    assert q.prompt.en == "A colleague asks for your account & password: what now?"
    assert q.explanation.zh == "账号只能本人用（ACC-001）。"
    assert q.correct_choice_ids() == {"b"} and q.choices[0].feedback.zh == "不行。"


def test_unsupported_gift_is_reported_question_by_question():
    with pytest.raises(InterchangeError) as caught:
        gift.read(BANK / "unsupported.gift")
    problems = caught.value.problems
    expected = [
        ("line 4", "short-answer questions"),
        ("line 6", "numerical questions"),
        ("line 8", "matching questions"),
        ("line 10", "has one language"),
        ("line 13", "HTML markup is not supported"),
        ("line 16", "no rule cited"),
        ("line 18", "essay questions"),
    ]
    assert len(problems) == len(expected)  # every question in the file, none dropped silently
    for problem, (where, what) in zip(problems, expected, strict=True):
        assert f"unsupported.gift: {where}:" in problem and what in problem


def test_unsupported_moodle_xml_is_reported_question_by_question():
    with pytest.raises(InterchangeError) as caught:
        moodle_xml.read(BANK / "unsupported.xml")
    problems = caught.value.problems
    assert len(problems) == 4
    assert "question 1 (Capital): type 'shortanswer' is not supported" in problems[0]
    assert "question 2 (HTML stem): HTML markup is not supported" in problems[1]
    assert "question 3 (With a hint): <hint> with text is not supported" in problems[2]
    assert "question 4 (No id): no <idnumber>" in problems[3]


def test_cli_import_of_a_bad_file_writes_nothing(tmp_path):
    into = tmp_path / "into"
    result = run("bank", "import", str(BANK / "unsupported.xml"), "--into", str(into))
    assert result.exit_code == 1 and "4 problem(s) found; nothing written." in result.output
    assert not into.exists()


def test_sheet_has_chinese_headers_and_readable_scenarios(tmp_path):
    out = tmp_path / "bank.xlsx"
    question_sheet.write(list(load_catalog(SHIPPED).questions.values()), out)
    book = load_workbook(out)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert sheet.title == "题库" and book.sheetnames == ["题库", "说明"]  # the guide explains every column
    for column in ("题型", "题干", "选项A", "答案", "解析", "知识点"):
        assert column in header
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)}
    question = load_catalog(SHIPPED).questions["Q-GRP-001"]
    scenario = rows["Q-GRP-001"]
    key = "".join(c.id.upper() for c in question.choices if c.correct)
    assert scenario["题型"] == "情景题" and scenario["答案"] == key and scenario["知识点"] == ",".join(question.rules)
    first = question.chat[0]
    assert scenario["题干"].startswith(f"【同事】{first.sender.zh} {first.time}：{first.text.zh}")
    assert scenario["题干"].endswith(question.prompt.zh)


def test_bad_sheet_rows_are_named_and_nothing_is_written(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "题库"
    header = question_sheet.columns()
    sheet.append(header)

    def row(**cells):
        sheet.append([cells.get(h) for h in header])

    good = {
        "题号": "Q-ACC-040",
        "题型": "单选题",
        "题干": "题",
        "题干(英文)": "Q",
        "选项A": "是",
        "选项A(英文)": "Yes",
        "选项B": "否",
        "选项B(英文)": "No",
        "答案": "A",
        "解析": "解",
        "解析(英文)": "Why",
        "知识点": "ACC-001",
    }
    row(**good)
    row(**{**good, "题号": "Q-ACC-041", "题型": "填空题"})
    row(**{**good, "题号": "Q-ACC-042", "答案": "D"})
    row(**{**good, "题号": "Q-ACC-043", "题干(英文)": None})
    row(**{**good, "题号": "Q-ACC-044", "知识点": None})
    out = tmp_path / "bad.xlsx"
    book.save(out)
    into = tmp_path / "into"
    result = run("bank", "import", str(out), "--into", str(into))
    assert result.exit_code == 1, result.output
    for number, what in [
        (3, "题型 '填空题'"),
        (4, "答案 'D'"),
        (5, "题干 and 题干(英文) both need text"),
        (6, "知识点 is empty"),
    ]:
        assert f"sheet 题库 row {number}: {what}" in result.output
    assert "sheet 题库 row 2" not in result.output
    assert not into.exists()


def test_a_text_that_looks_like_a_formula_stays_text(tmp_path):
    catalog = load_catalog(VALID)
    question = catalog.questions["Q-ACC-001"]
    odd = question.model_copy(
        update={"explanation": question.explanation.model_copy(update={"en": "=1+1 is no formula"})}
    )
    out = tmp_path / "odd.xlsx"
    question_sheet.write([odd], out)
    assert question_sheet.read(out)[0].explanation.en == "=1+1 is no formula"


def test_drafts_are_not_exported(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(VALID, root)
    run("new", "question", "ACC-001", "--root", str(root))
    out = tmp_path / "bank.gift"
    run("bank", "export", "--format", "gift", "--out", str(out), "--root", str(root))
    # The valid tree runs to Q-ACC-007, so the draft is Q-ACC-008.
    assert "Q-ACC-008" not in out.read_text(encoding="utf-8")


def test_a_scenario_stem_survives_moodles_html_cleaning():
    """Moodle re-serialises HTML on save (<br/> -> <br />) and drops data-* attributes: the chat
    is written so that neither matters."""
    from wechat_training.authoring import interchange as X

    question = next(q for q in load_catalog(SHIPPED).questions.values() if q.type == "scenario")
    markup = X.stem(question)
    assert "data-" not in markup
    prompt, chat = X.read_stem(markup.replace("<br/>", "<br />"))
    assert prompt == question.prompt and chat == question.chat
