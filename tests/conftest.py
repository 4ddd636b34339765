import os
import sys
from pathlib import Path

import pytest

# Test helpers (content_trees, ...) live beside the tests.
sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO.parent / "shared" / "seeds"

#: CI sets this: there a missing browser, database or LRS means the behaviour went
#: untested, so a skip must fail the run instead of passing quietly.
STRICT = os.environ.get("WECHAT_TRAINING_STRICT") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under WECHAT_TRAINING_STRICT=1: {report.longrepr}"


@pytest.fixture(scope="session")
def reminder_course_template(tmp_path_factory):
    """The reminder tests' gradebook, built once (see tests/reminder_book.py)."""
    from reminder_book import build_course

    path = tmp_path_factory.mktemp("reminder-template") / "course"
    build_course(path)
    return path


@pytest.fixture
def reminder_course(reminder_course_template, tmp_path):
    """A fresh copy of it per test: (course_dir, db_url)."""
    from reminder_book import copy_course

    from wechat_training.assessment import gradebook

    course = tmp_path / "course"
    url = copy_course(reminder_course_template, course)
    yield course, url
    gradebook.dispose(url)
