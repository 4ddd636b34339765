"""What a new employee trips over, checked in the real portal (`serve`) in headless Chromium (issue 14)."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, running_serve
from click.testing import CliRunner

from wechat_training.cli import main

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VALID = Path(__file__).parent / "data" / "valid"
TIMEOUT_MS = 60_000

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright python package not installed")
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def test_behind_a_proxy_the_portal_greets_the_roster_name(browser, tmp_path):
    """Behind an authenticating proxy (trusted header), does the portal show the roster's
    name for the id the header carries, not the bare id?"""
    course = tmp_path / "course"
    roster = tmp_path / "staff.csv"
    roster.write_text(
        "工号,姓名,部门,岗位,邮箱,上级,入职日期\nE2001,林美,销售部,客户经理,lin.mei@corp.example,,2024-03-01\n",
        encoding="utf-8",
    )
    imported = CliRunner().invoke(main, ["roster", "import", str(roster), "--course-dir", str(course)])
    assert imported.exit_code == 0, imported.output
    args = ["--root", str(VALID), "--course-dir", str(course), "--trusted-header", "X-Remote-User"]
    with running_serve(tmp_path, *args, "--pool-size", "1", startup_seconds=60) as (_, url):
        context = browser.new_context(extra_http_headers={"X-Remote-User": "E2001"})
        try:
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(url + "/")
            who = page.locator(".wt-who")
            who.wait_for()
            assert "林美" in who.inner_text() and "E2001" in who.inner_text()
        finally:
            context.close()


EMPLOYEE = "E100001"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """The real `serve` on the tiny test content, for one employee."""
    base = tmp_path_factory.mktemp("serve-ux")
    args = ["--root", str(VALID), "--course-dir", str(base / "course"), "--employee", EMPLOYEE]
    with running_serve(base, *args, "--pool-size", "1", startup_seconds=60) as (_, url):
        yield url


@pytest.fixture
def phone(browser):
    """A 390 px wide phone screen; every request and console error of the page is kept."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.requests, page.errors = [], []  # type: ignore[attr-defined]
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def _fits(page, selector: str) -> list[str]:
    """Texts of the elements matching `selector` that are cut (text wider than the box) or run off screen."""
    return page.eval_on_selector_all(
        selector,
        """(els) => els.filter(e => { const r = e.getBoundingClientRect();
               return e.scrollWidth > e.clientWidth + 1 || r.right > window.innerWidth + 1; })
             .map(e => e.textContent.trim())""",
    )


def test_pages_need_nothing_from_outside_and_log_no_errors(portal, phone):
    """Offline: do the portal and a module page load everything from this server (no Font
    Awesome CDN), with no console errors (no failing JupyterLab extensions)?"""
    phone.goto(portal + "/")
    phone.locator(".wt-who").wait_for()
    phone.goto(portal + "/voila/render/account_security.ipynb")
    phone.locator(".wt-title").wait_for()
    phone.get_by_role("button", name="练习").click()
    phone.locator(".wt-qid").wait_for()
    elsewhere = sorted({u for u in phone.requests if not u.startswith(("http://127.0.0.1:", "ws://127.0.0.1:"))})
    assert elsewhere == []
    assert phone.errors == []


def _kernel_running(portal: str, kernel_id: str) -> bool:
    try:
        with urllib.request.urlopen(f"{portal}/api/kernels/{kernel_id}", timeout=5):
            return True
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return False
        raise


def test_a_page_runs_the_learner_script_and_frees_its_kernel_when_left(portal, phone):
    """Does a module page show its widgets with the learner page script alone (none of
    JupyterLab's front end: voila.js, its extensions, MathJax), and does closing the tab
    shut its kernel down at once, long before the culler would (30 s idle)?"""
    phone.goto(portal + "/voila/render/account_security.ipynb")
    phone.locator(".wt-body .wt-card").first.wait_for()
    assert phone.locator("body[data-widgets-shown=true]").count() == 1
    paths = {urlparse(u).path for u in phone.requests}
    assert any(p.endswith("/static/learner-page.js") for p in paths)
    jupyterlab = [p for p in paths if p.endswith(("voila.js", "voila-style.js")) or "/labextensions/" in p]
    assert jupyterlab == []
    assert phone.errors == []
    kernel_id = json.loads(phone.locator("#jupyter-config-data").text_content())["kernelId"]
    assert _kernel_running(portal, kernel_id)
    phone.close(run_before_unload=True)
    deadline = time.monotonic() + 10
    while _kernel_running(portal, kernel_id):
        assert time.monotonic() < deadline, f"kernel {kernel_id} still running 10 s after its tab closed"
        time.sleep(0.25)


def test_portal_table_reads_on_a_phone(portal, phone):
    """At 390 px, does each module read as a card (headings not wrapped a character a line),
    with every cell saying what it is?"""
    phone.goto(portal + "/")
    phone.locator(".wt-portal tr[data-module]").wait_for()
    heading_box = phone.locator(".wt-portal thead").bounding_box()
    assert heading_box is None or heading_box["width"] <= 1  # headings only for screen readers
    cells = phone.locator(".wt-portal tr[data-module] td")
    widths = [cells.nth(i).bounding_box()["width"] for i in range(cells.count()) if cells.nth(i).is_visible()]
    assert widths and min(widths) > 300
    status = phone.locator(".wt-portal td.wt-not-started")
    assert status.get_attribute("data-label") == "状态"
    assert phone.evaluate(
        "() => getComputedStyle(document.querySelector('.wt-portal td.wt-not-started'), '::before').content"
    ).startswith('"状态')


def test_practice_is_practice_only_and_a_choice_looks_chosen(portal, phone):
    """Do practice and scenarios show only the practice-only questions (never a graded one), does
    the learner's own bubble read "我" (not "我 (我)"), and does a picked answer look picked
    and say so (aria-pressed)?"""
    from wechat_training.content.catalog import load_catalog

    catalog = load_catalog(VALID)
    graded = set(catalog.modules["account_security"].fixed) | set(catalog.draw_pool("account_security"))
    phone.goto(portal + "/voila/render/account_security.ipynb")
    phone.get_by_role("button", name="情景演练").click()
    phone.locator(".wt-chat").wait_for()
    assert phone.locator(".wt-qid").inner_text() == "Q-ACC-006"
    assert phone.locator(".wt-me .wt-sender").inner_text().split() == ["我", "08:31"]

    phone.get_by_role("button", name="练习").click()
    # Practice walks through its questions and wraps round: Q-ACC-007, Q-ACC-006, Q-ACC-007.
    shown = []
    for expected in ("Q-ACC-007", "Q-ACC-006", "Q-ACC-007"):
        phone.locator(".wt-qid", has_text=expected).wait_for()
        shown += phone.locator(".wt-qid").all_inner_texts()
        if len(shown) < 3:
            phone.get_by_role("button", name="下一题").click()
    assert set(shown) == {"Q-ACC-006", "Q-ACC-007"} and not set(shown) & graded
    from wechat_training.content.choice_order import PRACTICE_ATTEMPT, choice_order, position_label

    question = catalog.questions["Q-ACC-007"]
    order = choice_order(question, "account_security", EMPLOYEE, PRACTICE_ATTEMPT)
    names = {c.id: f"{position_label(order.index(c.id))}. {c.text.zh}" for c in question.choices}
    chosen = phone.get_by_role("button", name=names["a"])
    other = phone.get_by_role("button", name=names["b"])
    assert chosen.get_attribute("aria-pressed") == "false"
    chosen.click()
    phone.wait_for_function("() => document.querySelector('.wt-choices [aria-pressed=true]') !== null")
    assert chosen.get_attribute("aria-pressed") == "true" and other.get_attribute("aria-pressed") == "false"
    look = "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color, getComputedStyle(e).fontWeight]"
    assert chosen.evaluate(look) != other.evaluate(look)
    assert chosen.evaluate(look)[1] == "rgb(255, 255, 255)"  # white on blue, not a darker grey


def test_review_names_scenarios_and_fits_a_phone(portal, phone):
    """In the graded quiz's review at 390 px, is a scenario named by its first message (not
    "接下来你怎么做？"), and are the "change" buttons shown whole?"""
    from wechat_training.content.catalog import load_catalog

    catalog = load_catalog(VALID)
    qids = catalog.questions_for("account_security", EMPLOYEE)
    phone.goto(portal + "/voila/render/account_security.ipynb")
    phone.get_by_role("button", name="正式测验").click()
    phone.get_by_role("button", name="开始测验").click()
    for number in range(1, len(qids)):
        phone.get_by_text(f"第 {number} 题").first.wait_for()
        phone.get_by_role("button", name="下一题").click()
    # The last question must be on screen first: a click on the page being replaced is lost.
    phone.get_by_text(f"第 {len(qids)} 题").first.wait_for()
    phone.get_by_role("button", name="检查答案").click()
    phone.get_by_text("提交前检查").wait_for()
    scenario = phone.locator(".wt-review-item[data-question='Q-ACC-004']")
    assert "系统: “你的账号已开通" in scenario.inner_text()
    assert "接下来你怎么做" not in scenario.inner_text()
    edits = phone.locator(".wt-edit")
    assert edits.count() == len(qids)
    assert _fits(phone, ".wt-edit") == []
    assert edits.first.inner_text().strip() == "修改第 1 题"
