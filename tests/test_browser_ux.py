"""What a new employee trips over, checked in the real portal (`serve`) in headless Chromium (issue 14)."""

from __future__ import annotations

import os
from pathlib import Path

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
