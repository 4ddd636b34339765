"""End to end as an employee sees it: `wechat-training serve` (real Voila) in real headless Chromium.

Driven by Playwright's Python package against Debian's /usr/bin/chromium
(never `playwright install`). Screenshots of the portal, a scenario and the
result are written under the test's tmp dir; their paths are in any failure.
"""

import json
import os
from pathlib import Path

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, running_serve

from wechat_training.content.catalog import load_catalog
from wechat_training.content.choice_order import PRACTICE_ATTEMPT, choice_order, choice_orders, position_label
from wechat_training.submissions import provenance
from wechat_training.submissions import store as submissions

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VALID = Path(__file__).parent / "data" / "valid"
EMPLOYEE = "E100001"
MODULE = "account_security"
TIMEOUT_MS = 60_000

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright python package not installed")
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The real CLI command, as the README runs it, on the tiny test content."""
    base = tmp_path_factory.mktemp("serve")
    course = base / "course"
    args = ["--root", str(VALID), "--course-dir", str(course), "--employee", EMPLOYEE]
    with running_serve(base, *args, "--employee-name", "Chen Jing", "--pool-size", "1", startup_seconds=60) as (_, url):
        yield {"url": url, "course": course, "log": base / "serve.log"}


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    tab.shots = []  # type: ignore[attr-defined]  # screenshots taken so far, listed on failure
    yield tab
    context.close()


def shot(page, tmp_path, name):
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.shots.append(path)


def expected_answers():
    """What the test will click: every answer right except the red-line question Q-ACC-001."""
    catalog = load_catalog(VALID)
    answers = {}
    for qid in catalog.questions_for(MODULE, EMPLOYEE):
        answers[qid] = ["a"] if qid == "Q-ACC-001" else sorted(catalog.questions[qid].correct_choice_ids())
    return catalog, answers


def choice_name(question, choice_id, attempt, lang="en"):
    """The accessible name of a choice as the page shows it: its letter is its position in
    the employee's seeded order for this attempt (content.choice_order), not its id."""
    if question.type == "true_false":
        return {"true": "True", "false": "False"}[choice_id]
    order = choice_order(question, MODULE, EMPLOYEE, attempt)
    [choice] = [c for c in question.choices if c.id == choice_id]
    return f"{position_label(order.index(choice_id))}. {choice.text.get(lang)}"


def attempt_number(course) -> int:
    """The attempt the portal is about to start: one more than the employee's files in the store."""
    employee_dir = course / "submissions" / MODULE / EMPLOYEE
    return len(list(employee_dir.glob("*.json"))) + 1 if employee_dir.exists() else 1


def unlabelled_controls(page) -> list[str]:
    """Visible inputs and buttons a screen reader could not name."""
    return page.evaluate(
        """() => [...document.querySelectorAll('input, button, select, textarea')]
            .filter(el => el.offsetParent !== null && el.type !== 'hidden')
            .filter(el => {
              const name = (el.getAttribute('aria-label') || el.getAttribute('title') || '').trim();
              const labels = el.labels ? [...el.labels].map(l => l.textContent.trim()).join('') : '';
              const text = el.tagName === 'BUTTON' ? el.textContent.trim() : '';
              return !(name || labels || text);
            }).map(el => el.outerHTML.slice(0, 120))"""
    )


def test_employee_takes_the_module_end_to_end(server, page, tmp_path):
    catalog, answers = expected_answers()
    try:
        page.goto(server["url"] + "/")
        page.get_by_text("微信合规培训").wait_for()
        page.get_by_text("Chen Jing").wait_for()
        page.get_by_text("未开始").wait_for()
        shot(page, tmp_path, "portal")
        assert unlabelled_controls(page) == []

        page.get_by_role("button", name="English").click()
        page.get_by_text("WeChat compliance training").wait_for()
        page.get_by_role("link", name="Open: Account security").click()

        # The module opens in the language chosen on the portal.
        page.get_by_role("heading", name="Account security").wait_for()
        page.locator(".wt-card[data-rule='ACC-001']").get_by_text("Red line").wait_for()

        page.get_by_role("button", name="Scenarios").click()
        # The scenarios tab shows the practice-only scenario, never a graded one.
        page.locator(".wt-chat .wt-me .wt-bubble").get_by_text("OK, thanks.").wait_for()
        page.get_by_text("Leave the new starters' first passwords alone; we change everyone's at month end.").wait_for()
        shot(page, tmp_path, "scenario")

        page.get_by_role("button", name="Practice").click()
        # Practice holds only practice-only questions: Q-ACC-007 comes first.
        page.get_by_role("button", name=choice_name(catalog.questions["Q-ACC-007"], "a", PRACTICE_ATTEMPT)).click()
        page.get_by_role("button", name="Check answer").click()
        feedback = page.locator(".wt-feedback")
        feedback.get_by_text("Not correct.").wait_for()
        assert "ACC-001" in feedback.locator(".wt-quote").inner_text()

        page.get_by_role("button", name="Graded quiz").click()
        attempt = attempt_number(server["course"])
        page.get_by_role("button", name="Start the quiz").click()
        for number, (qid, picks) in enumerate(answers.items(), start=1):
            question = catalog.questions[qid]
            page.get_by_text(f"Question {number} of {len(answers)}").wait_for()
            for choice_id in picks:
                name = choice_name(question, choice_id, attempt)
                if question.type == "multiple":
                    page.get_by_role("checkbox", name=name).check()
                else:
                    page.get_by_role("button", name=name).click()
            if number < len(answers):
                page.get_by_role("button", name="Next").click()
        page.get_by_role("button", name="Review answers").click()
        page.get_by_text("Review before submitting").wait_for()
        assert unlabelled_controls(page) == []
        page.get_by_role("button", name="Submit").click()
        page.get_by_text("Submit now?").wait_for()
        page.get_by_role("button", name="Yes, submit").click()

        result = page.locator(".wt-result")
        result.get_by_text("You did not pass this time.").wait_for()
        assert "Q-ACC-001" in result.locator(".wt-red-line-misses").inner_text()
        assert "ACC-001" in result.locator(".wt-revisit").inner_text()
        shot(page, tmp_path, "result")
    except Exception as exc:
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        raise AssertionError(
            f"{exc}\nscreenshots: {page.shots + [tmp_path / 'failure.png']}\nserver log: {server['log']}"
        ) from exc

    files = list((server["course"] / "submissions" / MODULE / EMPLOYEE).glob("*.json"))
    assert len(files) == 1
    stored = json.loads(files[0].read_text(encoding="utf-8"))
    assert stored["answers"] == answers
    assert stored["question_ids"] == list(answers)
    assert stored["employee_id"] == EMPLOYEE and stored["identity_source"] == "local"
    shown = [catalog.questions[q] for q in answers]
    assert stored["attempt"] == attempt
    assert stored["choice_order"] == choice_orders(shown, MODULE, EMPLOYEE, attempt)
    # Signed in the kernel with the employee's own key: the grader can prove the portal wrote it.
    written = submissions.read(files[0])
    verifier = provenance.Verifier.for_course(server["course"])
    assert verifier.problem(EMPLOYEE, MODULE, written.submission_id, written.signed_fields(), written.signature) is None
    assert (server["course"] / provenance.KEY_FILE).stat().st_mode & 0o777 == 0o600


def focused_name(page) -> str:
    return page.evaluate(
        """() => { const el = document.activeElement; if (!el) return '';
           if (el.labels && el.labels.length) return el.labels[0].textContent.trim();
           return (el.getAttribute('aria-label') || el.textContent || '').trim(); }"""
    )


def tab_to(page, name: str, limit: int = 80) -> None:
    """Press Tab until the focused control is called `name` (as a keyboard user would)."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        current = focused_name(page)
        if current == name:
            return
        seen.append(current)
    raise AssertionError(f"never reached {name!r} with Tab; focus went through {seen}")


def press_on(page, name: str, key: str = "Enter", then: str | None = None) -> None:
    tab_to(page, name)
    page.keyboard.press(key)
    if then:
        page.get_by_text(then).first.wait_for()


def test_quiz_can_be_completed_with_the_keyboard_only(server, page, tmp_path):
    catalog = load_catalog(VALID)
    employee_dir = server["course"] / "submissions" / MODULE / EMPLOYEE
    before = set(employee_dir.glob("*.json")) if employee_dir.exists() else set()
    qids = catalog.questions_for(MODULE, EMPLOYEE)
    attempt = attempt_number(server["course"])
    try:
        page.goto(server["url"] + f"/voila/render/{MODULE}.ipynb?lang=en")
        page.get_by_role("heading", name="Account security").wait_for()
        press_on(page, "Graded quiz", then="Start the quiz")
        press_on(page, "Start the quiz", key="Space", then="Question 1 of")
        for number, qid in enumerate(qids, start=1):
            question = catalog.questions[qid]
            page.get_by_text(f"Question {number} of {len(qids)}").wait_for()
            for choice_id in sorted(question.correct_choice_ids()):
                # Space on a button or checkbox, as a keyboard user would.
                tab_to(page, choice_name(question, choice_id, attempt))
                page.keyboard.press("Space")
            if number < len(qids):
                press_on(page, "Next", then=f"Question {number + 1} of")
        press_on(page, "Review answers", then="Review before submitting")
        press_on(page, "Submit", then="Submit now?")
        press_on(page, "Yes, submit", then="Well done: you passed this module.")
        shot(page, tmp_path, "keyboard-result")
    except Exception as exc:
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        raise AssertionError(
            f"{exc}\nscreenshots: {page.shots + [tmp_path / 'failure.png']}\nserver log: {server['log']}"
        ) from exc
    [new] = set(employee_dir.glob("*.json")) - before
    stored = json.loads(new.read_text(encoding="utf-8"))
    assert stored["answers"] == {q: sorted(catalog.questions[q].correct_choice_ids()) for q in qids}
