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


def test_xlsx_has_records_and_department_summary(records: pd.DataFrame, tmp_path: Path) -> None:
    """Does the workbook hold every record with text kept as text (never a formula), and a
    department sheet equal to the summary of the same records?"""
    from openpyxl import load_workbook

    out = exports.write_xlsx(records, tmp_path / "records.xlsx")
    book = load_workbook(out)
    assert book.sheetnames == ["records", "departments"]
    sheet = book["records"]
    header = [c.value for c in sheet[1]]
    assert header == R.RECORD_COLUMNS
    rows = [dict(zip(header, (c for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == len(records)
    names = {r["employee_id"].value: r["name"] for r in rows}
    for eid, name in NASTY.items():
        cell = names[eid]
        assert cell.data_type == "s", (eid, cell.data_type)
        assert cell.value == name, eid
    summary = R.department_summary(records)
    dept = book["departments"]
    got = pd.DataFrame(
        [[c.value for c in row] for row in dept.iter_rows(min_row=2)], columns=[c.value for c in dept[1]]
    )
    assert list(got.columns) == R.SUMMARY_COLUMNS
    pd.testing.assert_frame_equal(got, summary, check_dtype=False)


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
    assert load_workbook(xlsx)["records"].max_row == 4
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
    sheet = load_workbook(exports.write_xlsx(records, tmp_path / "r.xlsx"))["records"]
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
    """Does LibreOffice read the CSV (encoding from the BOM, formulas kept as text) and the XLSX with the same cells?"""
    import shutil

    from openpyxl import load_workbook

    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-calc-nogui)")
    exports.write_csv(records, tmp_path / "records.csv")
    exports.write_xlsx(records, tmp_path / "records.xlsx")
    out = tmp_path / "lo"
    # The CSV import is told comma, double quote and the SYSTEM charset (not UTF-8): the BOM must say it.
    for source, target, infilter in (
        ("records.csv", "xlsx", ["--infilter=CSV:44,34,SYSTEM,1"]),
        # (written back out as UTF-8: the check is of what LibreOffice read)
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
    # XLSX -> LibreOffice -> CSV: every record and name as we wrote them.
    text = (out / "records-xlsx" / "records.csv").read_text(encoding="utf-8", errors="strict")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == len(records)
    assert {r["employee_id"]: r["name"] for r in rows}["E002"] == NASTY["E002"]
    assert {r["employee_id"]: r["name"] for r in rows}["E001"] == '李伟, "Li"'
