"""The trainer's preview: exactly one item as the learner sees it, redrawn when the YAML is saved.

The browser test runs the real `wechat-training preview` (Voila) in headless
Chromium on a tmp copy of tests/data/valid, edits a stem on disk and waits for
the page to show it without a restart. The notebook test runs the one-line
JupyterLab cell with nbclient.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, free_port
from nbclient import NotebookClient

from wechat_training.content.catalog import load_catalog
from wechat_training.learning.preview import notebook_source, target

VALID = Path(__file__).parent / "data" / "valid"
#: The scenario under preview and the line of its stem (prompt) the test rewrites.
SCENARIO = "Q-ACC-004"
STEM_LINE = "prompt: {zh: 接下来你怎么做？, en: What do you do next}"
NEW_STEM = "prompt: {zh: 改过的题干：现在你先做什么？, en: Edited stem}"


@pytest.fixture
def content(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(VALID, root)
    return root


def test_target_of_question_rule_and_module():
    catalog = load_catalog(VALID)
    assert target(catalog, "Q-ACC-002").question_ids == ("Q-ACC-002",)
    by_rule = target(catalog, "ACC-002")
    assert [r.id for r in by_rule.rules] == ["ACC-002"]
    assert set(by_rule.question_ids) == {q.id for q in catalog.questions.values() if "ACC-002" in q.rules}
    assert len(target(catalog, "account_security").question_ids) == len(catalog.questions)
    with pytest.raises(KeyError, match="no question, rule or module"):
        target(catalog, "Q-ACC-099")


def test_one_line_cell_renders_in_a_kernel_without_touching_the_store(content, tmp_path, monkeypatch):
    """Does `preview("Q-ACC-001")` in a notebook cell display the question, and write nothing?"""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(notebook_source("Q-ACC-001", content), id="preview"))
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "from wechat_training.learning.preview import _pages\n"
            "page = _pages[-1]\n"
            "print(page.target.question_ids, page.problem, page.section.practice.question.id)",
            id="probe",
        )
    )
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(sys.path))  # the kernel imports this checkout
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = nb.cells[0].outputs
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs), outputs
    assert nb.cells[1].outputs[0]["text"].strip() == "('Q-ACC-001',) None Q-ACC-001"
    before = sorted(p.relative_to(content) for p in content.rglob("*"))
    assert before == sorted(p.relative_to(VALID) for p in VALID.rglob("*"))  # no store, no files


@pytest.mark.browser
@pytest.mark.slow
def test_saved_stem_shows_without_restart(content, tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright python package not installed")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not installed")
    questions = content / "quizzes" / "questions" / "account_security.yaml"
    assert STEM_LINE in questions.read_text(encoding="utf-8")
    port = free_port()
    log = tmp_path / "preview.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wechat_training", "preview", SCENARIO, "--root", str(content), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "voila/static/voila.js", timeout=2)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(0.3)
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.set_default_timeout(60_000)
            page.goto(url)
            page.get_by_text("接下来你怎么做？").wait_for()
            assert page.locator(".wt-bubble", has_text="初始密码为123456").count() == 1  # the chat
            assert page.locator(".wt-card[data-rule='ACC-002']").count() == 1  # the cited rule's card
            page.get_by_role("button", name="b. 先用着，以后再说").click()
            page.get_by_role("button", name="查看结果").click()
            feedback = page.locator(".wt-feedback")
            feedback.wait_for()
            assert "首次登录就改（ACC-002）" in feedback.inner_text()
            assert feedback.locator("blockquote.wt-quote[data-rule='ACC-002']").count() == 1  # feedback cites the rule

            text = questions.read_text(encoding="utf-8")
            questions.write_text(text.replace(STEM_LINE, NEW_STEM), encoding="utf-8")
            saved = time.monotonic()
            page.get_by_text("改过的题干：现在你先做什么？").wait_for(timeout=15_000)
            refresh = time.monotonic() - saved
            (tmp_path / "refresh_seconds.txt").write_text(f"{refresh:.2f}\n")
            print(f"preview refreshed {refresh:.2f} s after the save")
            assert refresh < 5

            questions.write_text(text.replace("type: single", "type: singel", 1), encoding="utf-8")
            page.get_by_text("account_security.yaml:", exact=False).first.wait_for(timeout=15_000)
            browser.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_preview_of_an_unknown_id_says_so_without_starting_a_server():
    from click.testing import CliRunner

    from wechat_training.cli import main

    result = CliRunner().invoke(main, ["preview", "Q-ACC-099", "--root", str(VALID)])
    assert result.exit_code == 1 and "'Q-ACC-099' is no question, rule or module id" in result.output


def test_a_draft_is_previewed(content):
    from click.testing import CliRunner

    from wechat_training.cli import main

    CliRunner().invoke(main, ["new", "question", "ACC-001", "--root", str(content)])
    assert "Q-ACC-008" not in load_catalog(content).questions
    preview_catalog = load_catalog(content, include_drafts=True)
    assert target(preview_catalog, "Q-ACC-008").question_ids == ("Q-ACC-008",)
    assert "Q-ACC-008" in target(preview_catalog, "ACC-001").question_ids
