"""A real gradebook of fictional people for the reminder and certificate tests.

As of 2027-01-20 (tests/data/reminders/campaign.yaml): M001 周敏 manages E101-E103 and
E106; E102 failed publishing; E103 has no email; E104's manager M999 is not on the
roster; E105 has none; E106 passed account_security a year ago (expiring on 2027-01-25).
Built once per session (registering nbgrader's assignments costs seconds), copied per test.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

from records_gradebook import graded_attempt, register_modules, store

from wechat_training.assessment import gradebook
from wechat_training.content.catalog import load_catalog
from wechat_training.records.book import RecordBook, open_record_book
from wechat_training.records.roster import import_roster

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "reminders"
CAMPAIGN = DATA / "campaign.yaml"
AS_OF = date(2027, 1, 20)
MODULES = ("account_security", "publishing")

#: (employee, module, submitted, all answers right?)
ATTEMPTS = [
    ("M001", "account_security", "2026-12-01T09:00", True),
    ("M001", "publishing", "2026-12-02T09:00", True),
    ("E102", "account_security", "2026-12-10T09:00", True),
    ("E102", "publishing", "2026-12-20T09:00", False),
    ("E106", "account_security", "2026-01-25T09:00", True),
    ("E106", "publishing", "2026-12-03T09:00", True),
]


def build_course(course_dir: Path, roster: Path = DATA / "roster.csv") -> str:
    """Fill `course_dir`'s SQLite gradebook: the roster, the modules, graded attempts. Returns its URL."""
    course_dir.mkdir(parents=True, exist_ok=True)
    url = gradebook.default_url(course_dir)
    catalog = load_catalog(REPO)
    register_modules(url, catalog, MODULES)
    import_roster(roster, url)
    rows = [
        graded_attempt(catalog, eid, module, datetime.fromisoformat(when).replace(tzinfo=UTC), right)
        for eid, module, when, right in ATTEMPTS
    ]
    store(url, rows)
    gradebook.dispose(url)
    return url


def copy_course(source: Path, target: Path) -> str:
    shutil.copytree(source, target)
    return gradebook.default_url(target)


def book(course_dir: Path, as_of: date = AS_OF) -> RecordBook:
    return open_record_book(course_dir, REPO, campaign_path=CAMPAIGN, as_of=as_of)
