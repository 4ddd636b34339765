"""What the portal tells an employee: modules due, status from their own attempts, due dates."""

from datetime import date
from pathlib import Path

import pytest

from wechat_training.content.catalog import load_catalog
from wechat_training.learning.identity import Identity
from wechat_training.learning.quiz_session import GradedQuiz
from wechat_training.learning.status import FAILED, NOT_STARTED, PASSED, statuses
from wechat_training.learning.widgets import markup

VALID = Path(__file__).parent / "data" / "valid"
MODULE = "account_security"
TODAY = date(2026, 3, 1)
NO_CAMPAIGN = Path("/nonexistent/campaign.yaml")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(VALID)


def attempt(catalog, course_dir, employee, right: bool, when: str):
    quiz = GradedQuiz(catalog, MODULE, Identity(employee, "local"), course_dir, clock=lambda: when)
    for qid in quiz.question_ids:
        good = sorted(catalog.questions[qid].correct_choice_ids())
        quiz.answer(qid, good if right else (["a"] if qid == "Q-ACC-001" else good))
    return quiz.submit()


def test_without_campaign_every_module_is_due_with_no_date(catalog, tmp_path):
    rows = statuses(catalog, tmp_path, "E100001", TODAY, NO_CAMPAIGN)
    assert [(r.module_id, r.status, r.due, r.attempts) for r in rows] == [(MODULE, NOT_STARTED, None, 0)]


def test_failed_then_passed_shows_passed_with_best_score_and_date(catalog, tmp_path):
    attempt(catalog, tmp_path, "E100001", right=False, when="2026-02-01T09:00:00.000Z")
    [row] = statuses(catalog, tmp_path, "E100001", TODAY, NO_CAMPAIGN)
    assert (row.status, row.best_score, row.max_score, row.attempts) == (FAILED, 3, 4, 1)
    attempt(catalog, tmp_path, "E100001", right=True, when="2026-02-03T09:00:00.000Z")
    [row] = statuses(catalog, tmp_path, "E100001", TODAY, NO_CAMPAIGN)
    assert (row.status, row.best_score, row.passed_on, row.attempts) == (PASSED, 4, date(2026, 2, 3), 2)


def test_only_the_employees_own_attempts_count(catalog, tmp_path):
    attempt(catalog, tmp_path, "E100002", right=True, when="2026-02-03T09:00:00.000Z")
    [row] = statuses(catalog, tmp_path, "E100001", TODAY, NO_CAMPAIGN)
    assert row.status == NOT_STARTED


def test_campaign_due_dates_overdue_and_exemptions(catalog, tmp_path):
    pytest.importorskip("wechat_training.content.campaign", reason="campaign module (records issue) not installed")
    campaign = tmp_path / "campaign.yaml"
    campaign.write_text(
        "campaigns:\n"
        "  - id: c1\n"
        "    title: {zh: 培训, en: Training}\n"
        "    open_date: 2026-01-05\n"
        "    due_date: 2026-02-28\n"
        "    audience: {everyone: true}\n"
        "    modules: [account_security]\n"
        "exemptions:\n"
        "  - employee_id: E100009\n"
        "    modules: [all]\n"
        "    approver: Zhou Min, HR\n"
        "    reason: leave\n"
        "    expires: 2026-06-30\n",
        encoding="utf-8",
    )
    [row] = statuses(catalog, tmp_path, "E100001", TODAY, campaign)
    assert row.due == date(2026, 2, 28) and row.overdue(TODAY) and not row.overdue(date(2026, 2, 1))
    html = markup.portal_table(catalog, [row], "en", TODAY)
    assert "Overdue" in html and "2026-02-28" in html
    assert statuses(catalog, tmp_path, "E100009", TODAY, campaign) == []


def test_portal_table_links_each_module_and_speaks_both_languages(catalog, tmp_path):
    rows = statuses(catalog, tmp_path, "E100001", TODAY, NO_CAMPAIGN)
    zh = markup.portal_table(catalog, rows, "zh", TODAY)
    en = markup.portal_table(catalog, rows, "en", TODAY)
    assert 'href="account_security.ipynb"' in zh and "未开始" in zh and "账号安全" in zh
    assert 'href="account_security.ipynb?lang=en"' in en and "Not started" in en and "Account security" in en


def test_authored_text_is_escaped_in_chat_bubbles(catalog):
    question = catalog.questions["Q-ACC-004"]
    html = markup.chat(question, "en")
    assert html.count('class="wt-msg') == 2 and "wt-me" in html and "09:01" in html
    assert "<script" not in markup.error_box("<script>alert(1)</script>", "en")


def test_every_widget_of_a_module_page_shares_one_layout_and_one_style_of_each_kind(
    catalog, tmp_path, monkeypatch
):
    """ipywidgets makes a Layout (and a Style) model per widget unless handed one; every model is
    a comm, a state the kernel sends and a model the browser builds (issue 11 §3)."""
    from collections import Counter

    from ipywidgets.widgets.widget import _instances

    from wechat_training.learning.widgets import shared_models
    from wechat_training.learning.widgets.module_view import ModulePage

    # As in a fresh kernel: earlier tests of this process have made the shared models already.
    monkeypatch.setattr(shared_models, "_models", {})
    before = set(_instances)
    page = ModulePage(catalog, MODULE, Identity("E100001", "local"), tmp_path, "zh", css="")
    for section in ("scenarios", "practice", "quiz"):
        page.nav.value = section
    kinds = Counter(type(_instances[key]).__name__ for key in set(_instances) - before)
    assert kinds["Layout"] <= 2, kinds  # plain, and as wide as the content (buttons, check boxes)
    assert all(kinds[kind] == 1 for kind in kinds if kind.endswith("Style")), kinds
    assert {"HTMLStyle", "ToggleButtonsStyle", "ButtonStyle"} <= set(kinds), kinds


def test_a_page_whose_template_links_the_stylesheet_leaves_it_out_of_its_widgets(monkeypatch):
    from wechat_training.learning.widgets import page

    assert "wt-page" in page.stylesheet()  # a notebook or the trainer preview: the page has no template
    monkeypatch.setenv(page.ASSETS_IN_PAGE_VARIABLE, "1")
    assert page.stylesheet() == ""
