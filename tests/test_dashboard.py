"""The HR dashboard in real Voila and headless Chromium, its figures checked against the records."""

from __future__ import annotations

import base64
import csv
import io
import os
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, free_port, running_server

from wechat_training.records import analytics as A
from wechat_training.records import rollup as R

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
AS_OF = date(2026, 4, 15)
CAMPAIGN = """\
home_page: https://corp.example
campaigns:
  - id: all-staff
    title: {zh: 全员培训, en: All staff}
    open_date: 2026-01-05
    due_date: 2026-03-31
    audience: {everyone: true}
    modules: [account_security]
"""
#: Sales 6 people, Legal 5, Finance 2 (below the minimum group of 5: its answers are hidden).
PEOPLE = (
    [(f"S{i:02d}", f"销售{i}号", "Sales") for i in range(1, 7)]
    + [(f"L{i:02d}", f"Legal Person {i}", "Legal") for i in range(1, 6)]
    + [("F01", "Zhao Jing", "Finance"), ("F02", "Huang Tao", "Finance")]
)
#: employee -> attempts as (day of 2026, all answers right?); people not listed never started.
ATTEMPTS = {
    "S01": [(10, True)],
    "S02": [(12, False), (20, True)],
    "S03": [(15, False)],
    "S04": [(40, True)],
    "L01": [(11, True)],
    "L02": [(11, True)],
    "L03": [(30, False)],
    "L04": [(25, True)],
    "L05": [(26, False)],
    "F01": [(14, True)],
}


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    import records_gradebook as G

    from wechat_training.assessment import gradebook
    from wechat_training.content.catalog import load_catalog

    course_dir = tmp_path_factory.mktemp("hr-course")
    url = gradebook.default_url(course_dir)
    catalog = load_catalog(DATA / "valid")
    G.register_modules(url, catalog, ["account_security"])
    G.add_roster(
        url,
        [
            {
                "employee_id": e,
                "name": n,
                "department": d,
                "role": "Staff",
                "email": "",
                "manager": "S01",
                "hire_date": None,
            }
            for e, n, d in PEOPLE
        ],
    )
    rows = [
        G.graded_attempt(
            catalog, e, "account_security", datetime(2026, 1, 1, 9, tzinfo=UTC) + timedelta(days=day - 1), right
        )
        for e, tries in ATTEMPTS.items()
        for day, right in tries
    ]
    G.store(url, rows)
    gradebook.dispose(url)
    campaign = course_dir / "campaign.yaml"
    campaign.write_text(CAMPAIGN, encoding="utf-8")
    return course_dir, campaign


@pytest.fixture(scope="module")
def voila(course: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    course_dir, campaign = course
    port = free_port()
    home = tmp_path_factory.mktemp("voila-home")
    env = {
        **os.environ,
        "WECHAT_TRAINING_ROOT": str(DATA / "valid"),
        "WECHAT_TRAINING_COURSE_DIR": str(course_dir),
        "WECHAT_TRAINING_CAMPAIGN": str(campaign),
        "WECHAT_TRAINING_MIN_GROUP": "5",
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_DATA_DIR": str(home / "data"),
    }
    env.pop("WECHAT_TRAINING_DB", None)
    command = [
        sys.executable,
        "-m",
        "voila",
        str(REPO / "notebooks" / "hr_dashboard.ipynb"),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--ServerApp.allow_root=True",
    ]
    base = f"http://127.0.0.1:{port}/"
    with running_server(command, base + "voila/static/", home / "voila.log", env=env, cwd=home, startup_seconds=60):
        yield base


@pytest.fixture(scope="module")
def expected(course: tuple[Path, Path]):
    from wechat_training.records.book import open_record_book

    course_dir, campaign = course
    return open_record_book(course_dir, DATA / "valid", campaign_path=campaign, as_of=AS_OF)


@pytest.fixture(scope="module")
def page(voila: str) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page()
            tab.goto(f"{voila}?as_of={AS_OF}", timeout=120_000)
            tab.wait_for_selector("#completion", timeout=120_000)
            yield tab
        finally:
            browser.close()


def test_completion_by_department_matches_records(page, expected) -> None:
    """Do the completion table and chart show every department's figures from the records,
    Finance (2 people) too, with Chinese headings first and English beside them?"""
    assert page.inner_text("#as-of") == str(AS_OF)
    assert "object at 0x" not in page.inner_text("body")  # no stray repr under the widgets
    assert "人力资源看板" in page.inner_text("h1") and "HR dashboard" in page.inner_text("h1")
    assert page.inner_text("#completion tr th >> nth=0").startswith("部门")
    want = A.completion_by_department(expected.records).set_index(R.DEPARTMENT)
    assert sorted(want.index) == ["Finance", "Legal", "Sales"]
    rows = page.query_selector_all("#completion tr[data-department]")
    shown = {r.get_attribute("data-department"): [c.inner_text() for c in r.query_selector_all("td")] for r in rows}
    assert set(shown) == {"Finance", "Legal", "Sales"}
    for dept, cells in shown.items():
        w = want.loc[dept]
        assert [int(c) for c in cells[1:7]] == [
            w[A.PEOPLE],
            w[R.ASSIGNED],
            w[R.PASSED],
            w[R.OVERDUE],
            w[R.EXPIRED],
            w[R.EXEMPT],
        ]
    # Sales: S01, S02, S04 passed of 6; Legal: L01, L02, L04 passed of 5.
    assert (want.loc["Sales", R.PASSED], want.loc["Legal", R.PASSED]) == (3, 3)
    bars = {
        b.get_attribute("data-label"): float(b.get_attribute("data-value"))
        for b in page.query_selector_all("#completion-chart rect.bar")
    }
    assert bars == pytest.approx({"Sales": 0.5, "Legal": 0.6, "Finance": 0.5})


def test_overdue_list_names_everyone_overdue(page, expected) -> None:
    """Does the overdue list hold exactly the records that are overdue, Finance included?"""
    rows = page.query_selector_all("#overdue tr[data-employee]")
    shown = sorted(r.get_attribute("data-employee") for r in rows)
    want = sorted(expected.records.loc[expected.records[R.STATUS] == R.OVERDUE, R.EMPLOYEE_ID])
    assert shown == want == ["F02", "L03", "L05", "S03", "S05", "S06"]
    cells = page.query_selector("#overdue tr[data-employee='S03']").query_selector_all("td")
    assert cells[3].inner_text() == "销售1号"  # the manager's name, not the id S01
    assert cells[4].inner_text() == "账号安全"  # the module's title, not its id


def test_trend_and_rule_misses(page, expected) -> None:
    """Is the trend a line from 0 on the opening day to the overall pass share on the as-of day,
    and do the rule miss rates match the answers, per department, with no 0 % rows?"""
    points = page.query_selector_all("#trend-chart circle.point")
    assert len(points) > 2
    assert points[0].get_attribute("data-label") == "2026-01-05" and float(points[0].get_attribute("data-value")) == 0
    assert points[-1].get_attribute("data-label") == str(AS_OF)
    last = float(points[-1].get_attribute("data-value"))
    assert last == pytest.approx(7 / 13, abs=1e-4)  # 7 of 13 people passed
    employees = expected.records[[R.EMPLOYEE_ID, R.DEPARTMENT]].drop_duplicates()
    want = A.rule_miss_rates(expected.answers, employees).set_index([R.DEPARTMENT, A.RULE_ID])
    rows = page.query_selector_all("#rule-misses tr[data-rule]")
    got = {
        (r.get_attribute("data-department"), r.get_attribute("data-rule")): float(r.get_attribute("data-miss-rate"))
        for r in rows
    }
    assert got and {d for d, _ in got} <= {"Legal", "Sales"}  # Finance: 1 person answered, hidden
    assert all(rate > 0 for rate in got.values())
    assert "未显示" in page.inner_text("#privacy-note")
    for key, rate in got.items():
        assert rate == pytest.approx(want.loc[key, A.MISS_RATE])


def test_export_button_downloads_the_records(page, expected) -> None:
    """Does the CSV export button offer a file holding the same records as the CLI export?"""
    page.click(".wt-export-csv")
    link = page.wait_for_selector("a.wt-download-csv", timeout=60_000)
    href = link.get_attribute("href")
    assert href.startswith("data:text/csv;base64,")
    data = base64.b64decode(href.split(",", 1)[1])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == len(expected.records)
    assert {r["employee_id"]: r["status"] for r in rows} == dict(
        zip(expected.records[R.EMPLOYEE_ID], expected.records[R.STATUS], strict=True)
    )


def test_without_settings_the_dashboard_says_what_is_missing_and_creates_nothing(tmp_path, monkeypatch) -> None:
    """Run the real dashboard notebook with no course directory or database set: does it name
    the missing variables and the gradebook it looked for, and leave no gradebook behind?"""
    import shutil

    import nbformat
    from nbclient import NotebookClient

    content = tmp_path / "content"
    shutil.copytree(DATA / "valid", content)
    for name in ("WECHAT_TRAINING_COURSE_DIR", "WECHAT_TRAINING_DB", "WECHAT_TRAINING_CAMPAIGN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WECHAT_TRAINING_ROOT", str(content))
    nb = nbformat.read(REPO / "notebooks" / "hr_dashboard.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", []))
    assert "No gradebook to read" in html and "没有可读取的成绩库" in html
    assert "WECHAT_TRAINING_COURSE_DIR" in html and "WECHAT_TRAINING_DB" in html
    assert "<code>WECHAT_TRAINING_ROOT</code>" not in html  # it is set
    assert str(content / "grading" / "gradebook.db") in html
    assert not (content / "grading").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content"]
