"""Exports for HR: CSV and XLSX read back as Excel would, xAPI checked by Ralph's models,
and the `records` CLI end to end on a real gradebook."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from ralph_env import RALPH_PYTHON, require_ralph
from records_frames import attempt, attempts, day, employees

from wechat_training.cli import main
from wechat_training.content.campaign import load_campaign
from wechat_training.records import exports
from wechat_training.records import rollup as R
from wechat_training.records import vocabulary as V

DATA = Path(__file__).parent / "data"
CAMPAIGN = load_campaign(DATA / "records" / "campaign.yaml")
MODULES = ["account_security", "customer_contact"]

#: Names a hand-built CSV writer or a careless spreadsheet gets wrong.
NASTY = {
    "E001": '李伟, "Li"',
    "E002": '=HYPERLINK("http://evil.example","click")',
    "E003": "+86 138 0000 0000",
    "E004": "@SUM(A1:A9)",
    "E005": "-2+3",
    "E006": "\tTabbed",
    "E007": "王芳\nsecond line",
    "E008": "Zhou Xin",
}


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    people = employees([(eid, name, "Sales" if eid < "E005" else "Legal", "Clerk") for eid, name in NASTY.items()])
    frame = attempts(
        [
            attempt("E001", "account_security", "2026-01-10T09:00", 4),
            attempt("E002", "account_security", "2026-01-10T09:00", 1, red_line_misses=1, passed=False),
            attempt("E003", "customer_contact", "2026-01-12T09:00", None),
        ]
    )
    return R.build_records(people, frame, CAMPAIGN, modules=MODULES, as_of=day("2026-03-01"))


def test_csv_is_excel_safe_and_reads_back(records: pd.DataFrame, tmp_path: Path) -> None:
    """Does the CSV start with a BOM, keep commas, quotes and newlines inside names, neutralise
    formula-looking text, and leave never-attempted scores empty rather than 0?"""
    out = exports.write_csv(records, tmp_path / "records.csv")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(records) == len(NASTY) * len(MODULES)
    assert list(rows[0]) == R.RECORD_COLUMNS
    names = {r["employee_id"]: r["name"] for r in rows}
    assert names["E001"] == '李伟, "Li"'
    assert names["E007"] == "王芳\nsecond line"
    assert names["E008"] == "Zhou Xin"
    for eid in ("E002", "E003", "E004", "E005", "E006"):
        assert names[eid] == "'" + NASTY[eid], eid
    assert not any(v.startswith(exports.FORMULA_STARTS) for r in rows for v in r.values())
    by_key = {(r["employee_id"], r["module_id"]): r for r in rows}
    assert by_key[("E001", "account_security")]["best_score"] == "4.0"
    assert by_key[("E001", "account_security")]["passed_at"] == "2026-01-10T09:00:00Z"
    assert by_key[("E008", "account_security")]["best_score"] == ""
    assert by_key[("E008", "account_security")]["status"] == "not_started"
    assert by_key[("E002", "account_security")]["red_line_failures"] == "1"
    assert by_key[("E008", "account_security")]["due_date"] == "2026-03-31"


TITLES = {
    "account_security": {"zh-CN": "账号安全", "en-US": "Account security"},
    "customer_contact": {"zh-CN": "客户沟通", "en-US": "Customer contact"},
}


def test_xlsx_is_for_hr_people(records: pd.DataFrame, tmp_path: Path) -> None:
    """Does HR's workbook speak Chinese (headings, statuses, module titles, manager names), hold
    dates as date cells and the score as a percent cell, with widths, a frozen header and
    filter buttons, and keep every name as a text cell (never a formula)?"""
    from openpyxl import load_workbook

    records = records.copy()
    records.loc[records[R.EMPLOYEE_ID] == "E002", R.MANAGER] = "E008"  # the roster names the manager by id
    out = exports.write_xlsx(records, tmp_path / "records.xlsx", module_titles=TITLES)
    book = load_workbook(out)
    assert book.sheetnames == ["培训记录", "部门汇总"]
    sheet = book["培训记录"]
    header = [c.value for c in sheet[1]]
    assert header[:9] == ["工号", "姓名", "部门", "岗位", "上级", "邮箱", "课程", "必修", "状态"]
    assert "content_version" not in header and "截止日期" in header and "得分率" in header
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(header)).column_letter}{len(records) + 1}"
    assert all(sheet.column_dimensions[sheet.cell(1, j).column_letter].width >= 6 for j in range(1, len(header) + 1))
    rows = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == len(records)
    for eid, name in NASTY.items():
        cell = next(r["姓名"] for r in rows if r["工号"].value == eid)
        assert cell.data_type == "s" and cell.value == name, eid
    e002 = next(r for r in rows if r["工号"].value == "E002" and r["课程"].value == "账号安全")
    assert e002["状态"].value == "未通过" and e002["必修"].value == "是"
    assert e002["上级"].value == "Zhou Xin"  # the manager's roster name, not the id E008
    assert next(r for r in rows if r["工号"].value == "E001")["上级"].value == "Manager One"
    assert e002["得分率"].value == 0.25 and e002["得分率"].number_format == "0.0%"
    assert e002["截止日期"].is_date and e002["截止日期"].value == datetime(2026, 3, 31)
    assert e002["最近提交 (UTC)"].is_date and e002["最近提交 (UTC)"].value == datetime(2026, 1, 10, 9, 0)
    assert e002["触犯红线的提交次数"].value == 1
    assert {r["状态"].value for r in rows} <= {zh for zh, _ in V.STATUS_WORDS.values()}

    dept = book["部门汇总"]
    assert [c.value for c in dept[1]] == ["部门", "应完成", "已通过", "已逾期", "已过期", "已豁免", "完成率"]
    got = pd.DataFrame([[c.value for c in row] for row in dept.iter_rows(min_row=2)], columns=R.SUMMARY_COLUMNS)
    pd.testing.assert_frame_equal(got, R.department_summary(records), check_dtype=False)
    assert all(row[6].number_format == "0.0%" for row in dept.iter_rows(min_row=2))


def test_xlsx_in_english_on_request(records: pd.DataFrame, tmp_path: Path) -> None:
    """With lang='en', are headings, statuses and module titles English?"""
    from openpyxl import load_workbook

    book = load_workbook(exports.write_xlsx(records, tmp_path / "en.xlsx", module_titles=TITLES, lang="en"))
    assert book.sheetnames == ["records", "departments"]
    sheet = book["records"]
    assert [c.value for c in sheet[1]][:3] == ["Employee ID", "Name", "Department"]
    assert {row[6].value for row in sheet.iter_rows(min_row=2)} == {"Account security", "Customer contact"}
    assert "not assigned" in {row[8].value for row in sheet.iter_rows(min_row=2)}


def test_xapi_statements_shape(records: pd.DataFrame) -> None:
    """Is there one statement per record with attempts, with the employee id as account name and the right verb?"""
    statements = list(exports.xapi_statements(records, "https://corp.example"))
    by_actor = {(s["actor"]["account"]["name"], s["object"]["id"].rsplit("/", 1)[1]): s for s in statements}
    assert set(by_actor) == {("E001", "account_security"), ("E002", "account_security"), ("E003", "customer_contact")}
    passed = by_actor[("E001", "account_security")]
    assert passed["verb"]["id"] == exports.VERB_PASSED
    assert passed["actor"]["account"]["homePage"] == "https://corp.example"
    assert passed["result"] == {
        "completion": True,
        "success": True,
        "score": {"scaled": 1.0, "raw": 4.0, "min": 0.0, "max": 4.0},
    }
    assert passed["context"]["extensions"]["https://corp.example/xapi/extensions/content-version"] == "cv1"
    failed = by_actor[("E002", "account_security")]
    assert failed["verb"]["id"] == exports.VERB_FAILED and failed["result"]["score"]["scaled"] == 0.25
    pending = by_actor[("E003", "customer_contact")]
    assert pending["verb"]["id"] == exports.VERB_COMPLETED and "score" not in pending["result"]
    # The same records give the same statement ids: re-sending a period is idempotent in an LRS.
    assert [s["id"] for s in exports.xapi_statements(records, "https://corp.example")] == [s["id"] for s in statements]
    assert "name" not in passed["actor"] and "mbox" not in passed["actor"]


def test_xapi_statements_pass_ralph_models(records: pd.DataFrame, tmp_path: Path) -> None:
    """Does Ralph's xAPI statement model accept every statement we export?"""
    require_ralph()
    out = exports.write_xapi(records, tmp_path / "statements.json", "https://corp.example")
    script = (
        "import json, sys\n"
        "from ralph.models.xapi.base.statements import BaseXapiStatement\n"
        "data = json.load(open(sys.argv[1], encoding='utf-8'))\n"
        "for s in data: BaseXapiStatement.model_validate(s)\n"
        "print(len(data))\n"
    )
    done = subprocess.run([str(RALPH_PYTHON), "-c", script, str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout) == 3
    # A broken statement is refused: the check can fail.
    broken = json.loads(out.read_text(encoding="utf-8"))
    broken[0]["result"]["score"]["scaled"] = 7
    out.write_text(json.dumps(broken), encoding="utf-8")
    refused = subprocess.run([str(RALPH_PYTHON), "-c", script, str(out)], capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "scaled" in refused.stderr


def test_unknown_format_is_refused(records: pd.DataFrame, tmp_path: Path) -> None:
    """Does asking for an unknown format raise an error naming the formats?"""
    with pytest.raises(exports.ExportError, match="csv, xlsx, xapi"):
        exports.write(records, "pdf", tmp_path / "x.pdf", home_page="https://corp.example")


# --------------------------------------------------------------------------- CLI on a real gradebook


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A course directory whose SQLite gradebook holds a roster and graded attempts."""
    import records_gradebook as G

    from wechat_training.assessment import gradebook
    from wechat_training.content.catalog import load_catalog

    root = DATA / "valid"
    course_dir = tmp_path_factory.mktemp("course")
    url = gradebook.default_url(course_dir)
    catalog = load_catalog(root)
    G.register_modules(url, catalog, ["account_security"])
    G.add_roster(
        url,
        [
            {
                "employee_id": "E001",
                "name": '李伟, "Li"',
                "department": "Sales",
                "role": "Clerk",
                "email": "li.wei@corp.example",
                "manager": "E900",
                "hire_date": "2020-05-01",
            },
            {
                "employee_id": "E002",
                "name": "=cmd|' /C calc'!A0",
                "department": "Sales",
                "role": "Clerk",
                "email": "",
                "manager": "E900",
                "hire_date": None,
            },
            {
                "employee_id": "E003",
                "name": "Zhou Xin",
                "department": "Legal",
                "role": "Clerk",
                "email": "",
                "manager": "E900",
                "hire_date": None,
            },
        ],
    )
    G.store(
        url,
        [
            G.graded_attempt(catalog, "E001", "account_security", datetime(2026, 1, 10, 9, tzinfo=UTC), False),
            G.graded_attempt(catalog, "E001", "account_security", datetime(2026, 1, 11, 9, tzinfo=UTC), True),
            G.graded_attempt(catalog, "E002", "account_security", datetime(2026, 2, 1, 9, tzinfo=UTC), False),
            G.graded_attempt(catalog, "E003", "account_security", datetime(2026, 3, 10, 9, tzinfo=UTC), True),
        ],
    )
    gradebook.dispose(url)
    campaign = course_dir / "campaign.yaml"
    campaign.write_text((DATA / "records" / "campaign.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return course_dir, campaign


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _common(course: tuple[Path, Path]) -> list[str]:
    course_dir, campaign = course
    return ["--root", str(DATA / "valid"), "--course-dir", str(course_dir), "--campaign", str(campaign)]


def test_cli_export_csv_as_of_is_frozen(course: tuple[Path, Path], tmp_path: Path) -> None:
    """Does `records export --as-of` write the gradebook's records as of that day, ignoring later attempts?"""
    out = tmp_path / "march.csv"
    printed = _cli("records", "export", "--format", "csv", "--out", str(out), "--as-of", "2026-03-01", *_common(course))
    assert "wrote 3 records as of 2026-03-01" in printed
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = {r["employee_id"]: r for r in csv.DictReader(handle)}
    assert rows["E001"]["status"] == "passed" and rows["E001"]["attempts"] == "2"
    assert rows["E001"]["name"] == '李伟, "Li"'
    assert rows["E002"]["status"] == "failed" and rows["E002"]["name"].startswith("'=")
    assert rows["E003"]["status"] == "not_started"  # passed on 2026-03-10, after the as-of day
    later = tmp_path / "april.csv"
    _cli("records", "export", "--format", "csv", "--out", str(later), "--as-of", "2026-04-01", *_common(course))
    with later.open(encoding="utf-8-sig", newline="") as handle:
        april = {r["employee_id"]: r for r in csv.DictReader(handle)}
    assert april["E003"]["status"] == "passed" and april["E002"]["status"] == "overdue"


def test_cli_export_xlsx_and_xapi(course: tuple[Path, Path], tmp_path: Path) -> None:
    """Do the xlsx and xapi formats write files holding the same records?"""
    from openpyxl import load_workbook

    xlsx, xapi = tmp_path / "r.xlsx", tmp_path / "r.json"
    _cli("records", "export", "--format", "xlsx", "--out", str(xlsx), "--as-of", "2026-04-01", *_common(course))
    _cli("records", "export", "--format", "xapi", "--out", str(xapi), "--as-of", "2026-04-01", *_common(course))
    assert load_workbook(xlsx)["培训记录"].max_row == 4
    english = tmp_path / "en.xlsx"
    _cli("records", "export", "--format", "xlsx", "--lang", "en", "--out", str(english), *_common(course))
    assert load_workbook(english)["records"]["A1"].value == "Employee ID"
    statements = json.loads(xapi.read_text(encoding="utf-8"))
    assert sorted(s["actor"]["account"]["name"] for s in statements) == ["E001", "E002", "E003"]
    assert {s["object"]["definition"]["name"]["en-US"] for s in statements} == {"Account security"}


def test_cli_show_prints_one_person(course: tuple[Path, Path]) -> None:
    """Does `records show` print the employee's status, score and attempts, and refuse an unknown id?"""
    printed = _cli("records", "show", "E001", "--as-of", "2026-03-01", *_common(course))
    assert '李伟, "Li"' in printed and "passed" in printed and "best 4/4" in printed and "attempts 2" in printed
    result = CliRunner().invoke(main, ["records", "show", "E404", *_common(course)])
    assert result.exit_code != 0 and "E404" in result.output


def test_one_employees_read_equals_their_rows_of_the_full_roll_up(course: tuple[Path, Path]) -> None:
    """Does `records show`'s indexed read (one employee's rows only) give exactly that employee's full records?"""
    from datetime import date

    from wechat_training.records.book import open_record_book

    course_dir, campaign = course
    common = {"campaign_path": campaign, "as_of": date(2026, 4, 1)}
    full = open_record_book(course_dir, DATA / "valid", **common).records
    for employee_id in ("E001", "E002", "E003", "E404"):
        one = open_record_book(course_dir, DATA / "valid", employee_id=employee_id, **common).records
        expected = full[full[R.EMPLOYEE_ID] == employee_id]

        def values(frame: pd.DataFrame) -> list[list]:
            # Missing is missing: pandas infers None or NaN per column from its other rows.
            return [[None if pd.isna(v) else v for v in row] for row in frame.astype(object).itertuples(index=False)]

        assert list(one.columns) == list(full.columns)
        assert values(one) == values(expected), employee_id


@pytest.mark.slow
def test_stock_nbgrader_export_writes_the_same_records(course: tuple[Path, Path], tmp_path: Path) -> None:
    """With our plugin in the course config, does the stock `nbgrader export` write the very file our CLI writes?"""
    course_dir, campaign = course
    config = tmp_path / "nbgrader_config.py"
    config.write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course_dir)!r}\n"
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(course_dir / 'gradebook.db')!r}\n"
        "c.CourseDirectory.course_id = 'wechat_training'\n"
        "c.ExportApp.plugin_class = 'wechat_training.records.nbgrader_export.RecordsExportPlugin'\n"
        f"c.RecordsExportPlugin.root = {str(DATA / 'valid')!r}\n"
        f"c.RecordsExportPlugin.campaign = {str(campaign)!r}\n"
        "c.RecordsExportPlugin.as_of = '2026-03-01'\n",
        encoding="utf-8",
    )
    ours = tmp_path / "ours.csv"
    _cli("records", "export", "--format", "csv", "--out", str(ours), "--as-of", "2026-03-01", *_common(course))
    theirs = tmp_path / "nbgrader.csv"
    env = {k: v for k, v in os.environ.items() if k != "WECHAT_TRAINING_DB"}
    done = subprocess.run(
        ["nbgrader", "export", "--to", str(theirs)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert theirs.read_bytes() == ours.read_bytes()
    only = tmp_path / "only.csv"
    subprocess.run(
        ["nbgrader", "export", "--to", str(only), "--student", "E002"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    with only.open(encoding="utf-8-sig", newline="") as handle:
        assert [r["employee_id"] for r in csv.DictReader(handle)] == ["E002"]


def test_xlsx_keeps_markup_and_drops_what_xml_cannot_hold(tmp_path: Path) -> None:
    """Are &, <, >, CR and surrounding spaces kept exactly, and control characters XML forbids dropped?"""
    from openpyxl import load_workbook

    people = employees(
        [("E001", "  A & B <Ltd>\r\n ", "R&D <1>", "Clerk"), ("E002", "bell\x07 here", "R&D <1>", "Clerk")]
    )
    records = R.build_records(people, attempts([]), CAMPAIGN, modules=MODULES, as_of=day("2026-03-01"))
    sheet = load_workbook(exports.write_xlsx(records, tmp_path / "r.xlsx"))["培训记录"]
    names = {row[0].value: row[1].value for row in sheet.iter_rows(min_row=2)}
    assert names == {"E001": "  A & B <Ltd>\r\n ", "E002": "bell here"}
    assert {row[2].value for row in sheet.iter_rows(min_row=2)} == {"R&D <1>"}


def test_cli_counts_ungraded_submissions_as_in_progress(course: tuple[Path, Path], tmp_path: Path) -> None:
    """Is an attempt waiting in the submission store (not graded yet) shown as in progress, not lost?"""
    import shutil

    from wechat_training.content.catalog import load_catalog
    from wechat_training.submissions import store as submissions

    course_dir = tmp_path / "course"
    shutil.copytree(course[0], course_dir)
    catalog = load_catalog(DATA / "valid")
    qids = catalog.questions_for("account_security", "E003")
    pending = submissions.new_submission(
        employee_id="E003",
        module_id="account_security",
        content_version=catalog.content_version("account_security"),
        rule_versions=catalog.rule_versions("account_security"),
        question_ids=qids,
        answers={q: [] for q in qids},
        started_at="2026-02-01T08:00:00.000Z",
        identity_source="local",
        submitted_at="2026-02-01T08:10:00.000Z",
    )
    submissions.write(course_dir, pending)
    out = tmp_path / "r.csv"
    _cli(
        "records",
        "export",
        "--format",
        "csv",
        "--out",
        str(out),
        "--as-of",
        "2026-03-01",
        "--root",
        str(DATA / "valid"),
        "--course-dir",
        str(course_dir),
        "--campaign",
        str(course[1]),
    )
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = {r["employee_id"]: r for r in csv.DictReader(handle)}
    assert rows["E003"]["status"] == "in_progress"
    assert rows["E003"]["attempts"] == "1" and rows["E003"]["best_score"] == ""


@pytest.mark.slow
def test_libreoffice_opens_both_files_right(records: pd.DataFrame, tmp_path: Path) -> None:
    """Does LibreOffice's default import (no filter options, as a double-click does) read the HR
    workbook right (Chinese headings and names, ISO dates, percents), and does the CSV read
    right once its charset is asked for (the BOM says UTF-8; formulas stay text)?

    Why HR gets the XLSX: LibreOffice's CSV import without options reads every CSV as
    Windows-1252 whatever its BOM (UTF-8 or UTF-16, tried with 7.4), so no CSV opens
    right by default in both Excel and LibreOffice; an XLSX does (issue 14)."""
    import shutil

    from openpyxl import load_workbook

    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-calc-nogui)")
    exports.write_csv(records, tmp_path / "records.csv")
    exports.write_xlsx(records, tmp_path / "records.xlsx", module_titles=TITLES)
    out = tmp_path / "lo"
    for source, target, infilter in (
        # The CSV import is told comma, double quote and the SYSTEM charset (not UTF-8): the BOM must say it.
        ("records.csv", "xlsx", ["--infilter=CSV:44,34,SYSTEM,1"]),
        # No import filter at all; written back out as UTF-8 text as shown: the check is of what LibreOffice read.
        ("records.xlsx", "csv:Text - txt - csv (StarCalc):44,34,76,1", []),
    ):
        done = subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                "--headless",
                *infilter,
                "--convert-to",
                target,
                "--outdir",
                str(out / source.replace(".", "-")),
                str(tmp_path / source),
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr
    # CSV -> LibreOffice -> XLSX: names intact, neutralised formulas are plain text, no cell is a formula.
    sheet = load_workbook(out / "records-csv" / "records.xlsx").active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    names = {row[0].value: row[1].value for row in sheet.iter_rows(min_row=2)}
    assert names["E001"] == '李伟, "Li"' and names["E007"] == "王芳\nsecond line"
    assert names["E002"] == "'" + NASTY["E002"]
    # XLSX -> LibreOffice (default import) -> CSV: every record, heading and name as we wrote them,
    # dates shown as ISO days, the score as a percent.
    text = (out / "records-xlsx" / "records.csv").read_text(encoding="utf-8", errors="strict")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == len(records)
    assert list(rows[0])[:3] == ["工号", "姓名", "部门"]
    by_id = {(r["工号"], r["课程"]): r for r in rows}
    assert by_id[("E002", "账号安全")]["姓名"] == NASTY["E002"]
    assert by_id[("E001", "账号安全")]["姓名"] == '李伟, "Li"'
    assert by_id[("E002", "账号安全")]["状态"] == "未通过"
    assert by_id[("E002", "账号安全")]["截止日期"] == "2026-03-31"
    assert by_id[("E002", "账号安全")]["得分率"] == "25.0%"
    assert by_id[("E001", "账号安全")]["通过时间 (UTC)"] == "2026-01-10 09:00"


def test_cli_names_campaign_departments_nobody_has(course: tuple[Path, Path], tmp_path: Path) -> None:
    """A campaign for department 销售部 while the roster says Sales: does `records export` name the
    department and its line instead of silently leaving everyone not assigned, and does an alias fix it?"""
    campaign = tmp_path / "campaign.yaml"
    body = (
        "campaigns:\n"
        "  - id: sales\n"
        "    title: {zh: 销售培训, en: Sales}\n"
        "    open_date: 2025-01-01\n"
        "    audience:\n"
        "      departments: [销售部]\n"
        "      roles: [Relationship Manager]\n"
        "    modules: [account_security]\n"
    )
    campaign.write_text(body, encoding="utf-8")
    common = ["--root", str(DATA / "valid"), "--course-dir", str(course[0]), "--campaign", str(campaign)]
    out = tmp_path / "r.csv"
    result = CliRunner().invoke(main, ["records", "export", "--format", "csv", "--out", str(out), *common])
    assert result.exit_code == 0, result.output
    assert f"warning: {campaign}:6: campaign sales: department '销售部' is not on the roster" in result.stderr
    assert "roster departments: Legal, Sales" in result.stderr
    assert f"{campaign}:7: campaign sales: role 'Relationship Manager' is not on the roster" in result.stderr
    with out.open(encoding="utf-8-sig", newline="") as handle:
        assert {r["employee_id"]: r["status"] for r in csv.DictReader(handle)}["E001"] == "not_assigned"

    campaign.write_text("aliases:\n  departments:\n    Sales: [销售部]\n" + body, encoding="utf-8")
    result = CliRunner().invoke(main, ["records", "export", "--format", "csv", "--out", str(out), *common])
    assert result.exit_code == 0, result.output
    assert "销售部" not in result.stderr and "'Relationship Manager' is not on the roster" in result.stderr
    with out.open(encoding="utf-8-sig", newline="") as handle:
        statuses = {r["employee_id"]: r["status"] for r in csv.DictReader(handle)}
    assert statuses["E001"] != "not_assigned" and statuses["E003"] == "not_assigned"
