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
