"""Many employees behind a real JupyterHub (issue 13), driven in real headless Chromium.

`wechat-training hub` is started as the README runs it, on loopback ports, with
the gradebook on a real PostgreSQL server. Two employees of different
departments log in, see their own module lists and submit a quiz; `grade` and
`records show` then attribute each attempt to the right person. The rest asks
what one employee can reach of another's, and of HR's.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, free_port
from click.testing import CliRunner
from postgres_server import create_database, pg_server  # noqa: F401  (fixture)

from wechat_training.cli import main
from wechat_training.content.catalog import load_catalog
from wechat_training.content.choice_order import choice_order, position_label

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "demo-pass-for-tests"
SALES = "E001001"  # 销售部 / 客户经理: the client-contact module is due
ENGINEER = "E001002"  # Engineering: it is not
HR = "H000001"
TRAINER = "T000001"
MODULE = "account_security"
CLIENT_MODULE = "customer_contact"
TIMEOUT_MS = 120_000

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright python package not installed")
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} not installed", allow_module_level=True)


def _wait_for(url: str, proc: subprocess.Popen, log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=3) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the hub did not start ({url}):\n{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def hub(pg_server, tmp_path_factory):  # noqa: F811 (the imported fixture)
    for program in ("jupyterhub", "configurable-http-proxy"):
        if shutil.which(program) is None:
            pytest.skip(f"{program} not installed (scripts/setup.sh installs it)")
    base = tmp_path_factory.mktemp("hub")
    course = base / "course"
    db = create_database(pg_server, "wt_hub")
    roster = base / "roster.csv"
    roster.write_text(
        "employee_id,name,department,role,manager\n"
        f"{SALES},Li Lei,销售部,客户经理,E009001\n"
        f"{ENGINEER},Han Meimei,Engineering,Developer,E009001\n"
        f"{HR},Zhao Min,HR,HR Partner,\n"
        f"{TRAINER},Sun Li,Training,Trainer,\n",
        encoding="utf-8",
    )
    imported = CliRunner().invoke(main, ["roster", "import", str(roster), "--course-dir", str(course), "--db", db])
    assert imported.exit_code == 0, imported.output
    port, portal_port = free_port(), free_port()
    env = {
        **os.environ,
        "WECHAT_TRAINING_HUB_API_PORT": str(free_port()),
        "WECHAT_TRAINING_HUB_PROXY_API_PORT": str(free_port()),
        "WECHAT_TRAINING_HUB_PORTAL_PORT": str(portal_port),
        "WECHAT_TRAINING_HUB_HR_PORT": str(free_port()),
        "WECHAT_TRAINING_CAMPAIGN": str(REPO / "campaign.yaml"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTER_DATA_DIR": str(base / "data"),
    }
    log = base / "hub.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wechat_training", "hub", "--root", str(REPO), "--port", str(port)]
            + ["--course-dir", str(course), "--db", db, "--hr", HR, "--trainer", TRAINER, "--pool-size", "1"]
            + ["--demo-password", PASSWORD, "--grade-every", "3600"],
            env=env,
            cwd=base,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url + "/hub/login", proc, log, 90)
        # The portal service is up once its own static files answer on its port.
        _wait_for(f"http://127.0.0.1:{portal_port}/services/portal/voila/static/voila.js", proc, log, 180)
        # The grading service's first run (at start) is over before anyone submits: two
        # `grade` runs at once on one course directory collide registering an assignment.
        deadline = time.monotonic() + 180
        while "graded 0 new submission(s)" not in log.read_text(errors="replace"):
            assert time.monotonic() < deadline, f"the grading service never ran:\n{log.read_text()[-3000:]}"
            time.sleep(0.5)
        yield {"url": url, "course": course, "db": db, "log": log, "portal_port": portal_port}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)
        # Services and kernels the hub did not stop in time.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def logged_in(browser, hub, user: str, **context_options):
    """A browser context logged in to the hub as `user` (landing where the hub sends them)."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, **context_options)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(hub["url"] + "/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    return context, page


def module_links(page) -> set[str]:
    page.get_by_role("button", name="English").click()
    page.get_by_text("WeChat compliance training").wait_for()
    return {text.removeprefix("Open: ") for text in page.locator("a.wt-open").all_inner_texts()}


def take_quiz(page, catalog, employee_id: str) -> dict:
    """Answer every question of MODULE right and submit; returns the answers given."""
    answers = {
        qid: sorted(catalog.questions[qid].correct_choice_ids()) for qid in catalog.questions_for(MODULE, employee_id)
    }
    page.get_by_role("link", name=f"Open: {catalog.modules[MODULE].title.get('en')}").click()
    page.get_by_role("button", name="Graded quiz").click()
    page.get_by_role("button", name="Start the quiz").click()
    for number, (qid, picks) in enumerate(answers.items(), start=1):
        question = catalog.questions[qid]
        page.get_by_text(f"Question {number} of {len(answers)}").wait_for()
        for choice_id in picks:
            if question.type == "true_false":
                name = {"true": "True", "false": "False"}[choice_id]
            else:
                # Letters are positions in the employee's seeded order for this attempt (the first).
                order = choice_order(question, MODULE, employee_id, 1)
                [choice] = [c for c in question.choices if c.id == choice_id]
                name = f"{position_label(order.index(choice_id))}. {choice.text.get('en')}"
            if question.type == "multiple":
                page.get_by_role("checkbox", name=name).check()
            else:
                page.get_by_role("button", name=name).click()
        if number < len(answers):
            page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Review answers").click()
    page.get_by_role("button", name="Submit").click()
    page.get_by_role("button", name="Yes, submit").click()
    page.locator(".wt-result").get_by_text("you passed this module").wait_for()
    return answers


def kernel_id(page) -> str:
    return json.loads(page.locator("#jupyter-config-data").text_content())["kernelId"]


def test_two_departments_log_in_see_their_modules_and_are_graded_apart(hub, browser, tmp_path):
    catalog = load_catalog(REPO)
    client_title = catalog.modules[CLIENT_MODULE].title.get("en")
    given = {}
    # The hub lower-cases nothing here, but SSO systems do: the sales employee logs in lower-cased.
    for login, employee_id, name, sees_client_module in (
        (SALES.lower(), SALES, "Li Lei", True),
        (ENGINEER, ENGINEER, "Han Meimei", False),
    ):
        context, page = logged_in(browser, hub, login)
        try:
            page.get_by_text(name).first.wait_for()
            assert "/services/portal/" in page.url
            assert (client_title in module_links(page)) is sees_client_module
            given[employee_id] = take_quiz(page, catalog, employee_id)
        except Exception as exc:
            page.screenshot(path=str(tmp_path / f"{employee_id}.png"), full_page=True)
            raise AssertionError(
                f"{exc}\nscreenshot: {tmp_path / f'{employee_id}.png'}\nhub log: {hub['log']}"
            ) from exc
        finally:
            context.close()

    for employee_id, answers in given.items():
        [stored] = [
            json.loads(p.read_text(encoding="utf-8"))
            for p in (hub["course"] / "submissions" / MODULE / employee_id).glob("*.json")
        ]
        assert stored["employee_id"] == employee_id and stored["identity_source"] == "jupyterhub"
        assert stored["answers"] == answers
        assert stored["signature"]  # signed with that employee's own key (the grader verifies it)

    runner = CliRunner()
    common = ["--root", str(REPO), "--course-dir", str(hub["course"]), "--db", hub["db"]]
    graded = runner.invoke(main, ["grade", *common])
    assert graded.exit_code == 0, graded.output
    assert "graded 2 new submission(s)" in graded.output and "0 flagged" in graded.output, graded.output
    campaign = ["--campaign", str(REPO / "campaign.yaml")]
    for employee_id, name in ((SALES, "Li Lei"), (ENGINEER, "Han Meimei")):
        shown = runner.invoke(main, ["records", "show", employee_id, *common, *campaign])
        assert shown.exit_code == 0, shown.output
        assert name in shown.output
        [line] = [row for row in shown.output.splitlines() if row.strip().startswith(MODULE)]
        assert "passed" in line, shown.output


def test_an_employee_reaches_only_the_portal_and_only_as_themself(hub, browser, tmp_path):
    # Forged identity: a proxy-style header and query parameters naming the engineer.
    forged = {"X-Remote-User": ENGINEER, "X-JupyterHub-User": ENGINEER, "X-Forwarded-User": ENGINEER}
    context, page = logged_in(browser, hub, SALES, extra_http_headers=forged)
    try:
        page.get_by_text("Li Lei").first.wait_for()
        page.goto(hub["url"] + f"/services/portal/voila/render/portal.ipynb?employee={ENGINEER}&user={ENGINEER}")
        page.get_by_text("Li Lei").first.wait_for()
        assert "Han Meimei" not in page.content()
        own_kernel = kernel_id(page)

        # The page may not run code in its kernel: Voila drops execute requests, under the hub too.
        marker = tmp_path / "executed"
        reply = page.evaluate(
            """async ([kernel, code]) => {
                const url = location.origin.replace('http', 'ws')
                    + '/services/portal/api/kernels/' + kernel + '/channels';
                const ws = new WebSocket(url);
                const seen = [];
                await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = fail; });
                ws.onmessage = (e) => { try { seen.push(JSON.parse(e.data).header.msg_type); } catch (_) {} };
                const id = 'x' + Math.random();
                ws.send(JSON.stringify({channel: 'shell', header: {msg_id: id, msg_type: 'execute_request',
                    username: '', session: 's', version: '5.3', date: ''}, parent_header: {}, metadata: {},
                    content: {code: code, silent: false, store_history: false, user_expressions: {},
                              allow_stdin: false, stop_on_error: true}, buffers: []}));
                await new Promise(ok => setTimeout(ok, 4000));
                ws.close();
                return seen;
            }""",
            [own_kernel, f"open({str(marker)!r}, 'w').write('ran')"],
        )
        assert "execute_reply" not in reply and not marker.exists()

        api = context.request
        # Nothing of Jupyter besides the portal: no server of their own to start (no Lab,
        # terminal, file browser), none of the engineer's, no HR dashboard.
        for path in (
            "/hub/spawn",
            f"/hub/spawn/{SALES}",
            "/services/hr/",
            f"/user/{ENGINEER}/lab",
            f"/user/{SALES}/lab",
        ):
            answer = api.get(hub["url"] + path)
            assert answer.status in (403, 404), (path, answer.status, answer.text()[:300])
            assert "HR dashboard" not in answer.text()
        # The content (answer keys included) is never served as files: Voila serves images only.
        for path in ("voila/files/portal.ipynb", "voila/files/../../quizzes/modules/account_security.yaml"):
            assert api.get(hub["url"] + "/services/portal/" + path).status in (403, 404), path
        # Voila's per-visit request channel is for the kernel only, never through the proxy.
        answer = api.get(hub["url"] + f"/services/portal/voila/query/{own_kernel}")
        assert answer.status == 403
    finally:
        context.close()

    # Without a login, the portal sends the browser to the hub's login page.
    anonymous = browser.new_context()
    try:
        answer = anonymous.request.get(hub["url"] + "/services/portal/voila/render/portal.ipynb", max_redirects=0)
        assert answer.status == 302 and "/hub/" in answer.headers["location"]
    finally:
        anonymous.close()


def test_hr_reaches_the_dashboard(hub, browser):
    context, page = logged_in(browser, hub, HR)
    try:
        page.get_by_role("heading", name="WeChat / WeCom compliance training: HR dashboard").wait_for()
        assert "/services/hr/" in page.url
    finally:
        context.close()


def test_someone_off_the_roster_is_told_so_and_gets_no_portal(hub, browser):
    context, page = logged_in(browser, hub, "X999999")
    try:
        page.get_by_text("You (X999999) are not on the training roster").wait_for()
        assert page.locator("#jupyter-config-data").count() == 0  # no kernel, nothing to submit
    finally:
        context.close()


def test_a_trainer_gets_jupyterlab_on_the_content(hub, browser):
    context, page = logged_in(browser, hub, TRAINER)
    try:
        # Trainers land on their own server's spawn, then JupyterLab on the content tree.
        page.wait_for_url(f"**/user/{TRAINER.lower()}/lab**", timeout=TIMEOUT_MS)
        page.locator(".jp-DirListing-content").get_by_text("quizzes").wait_for()
    finally:
        context.close()
