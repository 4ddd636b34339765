"""Roster import: encodings, Chinese headers, bad rows, re-imports."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from wechat_training.assessment import gradebook
from wechat_training.cli import main
from wechat_training.records.roster import RosterError, import_roster, read_roster

CHINESE = (
    "工号,姓名,部门,岗位,邮箱,上级,入职日期\n"
    "E1001,欧阳娜娜,销售部,客户经理,nana@corp.example,E0001,2026-01-10\n"
    "E1002,司马建国,运营部,专员,,E0001,2025/7/1\n"
)
ENGLISH = (
    "employee_id,name,department,role,email,manager,hire_date\n"
    'E2001,"Lin, Mei",Sales,Relationship Manager,lin.mei@corp.example,E0002,\n'
)


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    yield url
    gradebook.dispose(url)


@pytest.mark.parametrize(
    "encoding,bom",
    [("utf-8", False), ("utf-8", True), ("gb18030", False)],
    ids=["utf8", "utf8-bom", "gb18030"],
)
def test_chinese_roster_reads_right_in_every_encoding(tmp_path, encoding, bom):
    path = tmp_path / "roster.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + CHINESE.encode(encoding))
    rows = read_roster(path)
    assert [(r["employee_id"], r["name"], r["department"], r["role"]) for r in rows] == [
        ("E1001", "欧阳娜娜", "销售部", "客户经理"),
        ("E1002", "司马建国", "运营部", "专员"),
    ]
    assert [r["hire_date"] for r in rows] == ["2026-01-10", "2025-07-01"]


def test_english_headers_and_quoted_commas(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ENGLISH, encoding="utf-8")
    (row,) = read_roster(path)
    assert row["name"] == "Lin, Mei" and row["hire_date"] is None


def test_xlsx_roster_with_excel_dates(tmp_path, db):
    from datetime import datetime

    book = Workbook()
    sheet = book.active
    sheet.append(["工号", "姓名", "部门", "岗位", "邮箱", "上级", "入职日期"])
    sheet.append(["E3001", "诸葛亮", "法务部", "顾问", "kongming@corp.example", "E0003", datetime(2024, 5, 6)])
    path = tmp_path / "roster.xlsx"
    book.save(path)
    report = import_roster(path, db)
    assert (report.added, report.updated) == (1, 0)
    assert gradebook.employees(db)["E3001"]["hire_date"] == "2024-05-06"


def test_every_bad_row_is_named_with_its_line_and_nothing_is_imported(tmp_path, db):
    path = tmp_path / "roster.csv"
    path.write_text(
        "工号,姓名,部门\nE1001,欧阳娜娜,销售部\nbad id!,王五,销售部\nE1003,,销售部\nE1001,欧阳娜娜,销售部\n",
        encoding="utf-8",
    )
    with pytest.raises(RosterError) as caught:
        import_roster(path, db)
    problems = caught.value.problems
    assert any(p.startswith(f"{path}:3:") and "bad id!" in p for p in problems)
    assert any(p.startswith(f"{path}:4:") and "no name" in p for p in problems)
    assert any(p.startswith(f"{path}:5:") and "already on line 2" in p for p in problems)
    assert gradebook.employees(db) == {}


def test_a_quoted_multiline_cell_keeps_line_numbers_right(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text('employee_id,name,department\nE1,"Two\nlines",Sales\nE2,,Sales\n', encoding="utf-8")
    with pytest.raises(RosterError, match=r"roster\.csv:4: employee E2 has no name"):
        read_roster(path)


def test_unknown_and_missing_columns_are_errors(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("工号,名字\nE1,x\n", encoding="utf-8")
    with pytest.raises(RosterError) as caught:
        read_roster(path)
    text = str(caught.value)
    assert "unknown column '名字'" in text and "missing column name" in text


def test_reimport_updates_and_never_duplicates(tmp_path, db):
    from nbgrader.api import Gradebook

    path = tmp_path / "roster.csv"
    path.write_text(CHINESE, encoding="utf-8")
    assert (import_roster(path, db).added, import_roster(path, db).unchanged) == (2, 2)
    path.write_text(CHINESE.replace("销售部", "市场部"), encoding="utf-8")
    report = import_roster(path, db)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    people = gradebook.employees(db)
    assert len(people) == 2 and people["E1001"]["department"] == "市场部"
    with Gradebook(db, gradebook.COURSE_ID) as gb:
        assert sorted((s.id, s.last_name) for s in gb.students) == [("E1001", "欧阳娜娜"), ("E1002", "司马建国")]


def test_cli_roster_import(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(CHINESE.encode("gb18030"))
    course = tmp_path / "course"
    course.mkdir()
    result = CliRunner().invoke(main, ["roster", "import", str(path), "--course-dir", str(course)])
    assert result.exit_code == 0, result.output
    assert "2 employee(s): 2 added" in result.output
    path.write_text("工号,姓名\nE1,\n", encoding="utf-8")
    bad = CliRunner().invoke(main, ["roster", "import", str(path), "--course-dir", str(course)])
    assert bad.exit_code == 1 and f"{path}:2:" in bad.stderr and "nothing imported" in bad.stderr
    gradebook.dispose(gradebook.default_url(course))


def test_wecom_user_id_column_is_optional_and_validated(tmp_path, db):
    """Is the 企业微信 column imported when present, '' when absent, and a bad id named with file:line?"""
    path = tmp_path / "roster.csv"
    path.write_text(
        "工号,姓名,邮箱,上级,企业微信\nE3001,欧阳娜娜,nana@corp.example,E3002,ouyang.nana\nE3002,司马建国,,,\n",
        encoding="utf-8",
    )
    import_roster(path, db)
    people = gradebook.employees(db)
    assert (people["E3001"]["wecom_userid"], people["E3002"]["wecom_userid"]) == ("ouyang.nana", "")
    bad = tmp_path / "bad.csv"
    bad.write_text("工号,姓名,企业微信\nE3003,王芳,<@all>\n", encoding="utf-8")
    with pytest.raises(RosterError) as info:
        read_roster(bad)
    assert info.value.problems == [
        f"{bad}:2: WeCom user id '<@all>' of E3003 is not valid (1-64 letters, digits, '.', '_', '@', '-')"
    ]


def test_a_gradebook_from_before_the_wecom_column_gets_it_on_import(tmp_path, db):
    """Does a database whose wt_employee lacks wecom_userid keep its rows and gain the column on the next import?"""
    import sqlalchemy as sa

    path = tmp_path / "roster.csv"
    path.write_text(ENGLISH, encoding="utf-8")
    import_roster(path, db)
    engine = gradebook.engine_for(db)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE wt_employee DROP COLUMN wecom_userid")
    gradebook.dispose(db)
    path.write_text(ENGLISH.replace("E0002,\n", "E0002,\nE2002,Gao Yan,Sales,Clerk,,E2001,\n"), encoding="utf-8")
    report = import_roster(path, db)
    assert (report.added, report.unchanged) == (1, 1)
    columns = {c["name"] for c in sa.inspect(gradebook.engine_for(db)).get_columns("wt_employee")}
    assert "wecom_userid" in columns
    assert gradebook.employees(db)["E2001"]["name"] == "Lin, Mei"


def test_a_gradebook_from_before_the_wecom_column_is_read_without_being_changed(tmp_path, db):
    """Do records and the login lookup read an older wt_employee (no wecom_userid) as '' and leave it as it was?"""
    import sqlalchemy as sa

    path = tmp_path / "roster.csv"
    path.write_text(ENGLISH, encoding="utf-8")
    import_roster(path, db)
    with gradebook.engine_for(db).begin() as conn:
        conn.exec_driver_sql("ALTER TABLE wt_employee DROP COLUMN wecom_userid")
    gradebook.dispose(db)
    assert gradebook.employees(db)["E2001"]["wecom_userid"] == ""
    assert gradebook.employee_by_login(db, "e2001")["name"] == "Lin, Mei"
    columns = {c["name"] for c in sa.inspect(gradebook.engine_for(db)).get_columns("wt_employee")}
    assert "wecom_userid" not in columns
