"""Who is reminded of what, the dry-run table, the file channel, and bad roster data."""

from __future__ import annotations

import email
import json
from email import policy
from pathlib import Path

from click.testing import CliRunner
from reminder_book import AS_OF, CAMPAIGN, DATA, REPO, book, build_course

from wechat_training.assessment import gradebook
from wechat_training.cli import main
from wechat_training.records import reminders
from wechat_training.records.reminder_log import ReminderLog


def _plan(course: Path, url: str) -> reminders.ReminderPlan:
    return reminders.plan_for_book(book(course), url)


def _remind(course: Path, *args: str):
    return CliRunner().invoke(
        main,
        ["remind", "--root", str(REPO), "--course-dir", str(course), "--campaign", str(CAMPAIGN),
         "--as-of", AS_OF.isoformat(), *args],
    )  # fmt: skip


def test_each_employee_gets_their_open_modules_and_managers_their_overdue_reports(reminder_course):
    """Are open, overdue and expiring modules reminded, passes far from expiry left alone, and the
    overdue past escalate_after_days put in the manager's digest (found by id or by unique name)?"""
    course, url = reminder_course
    plan = _plan(course, url)
    own = {r.recipient_id: [(i.module_id, i.state) for i in r.items] for r in plan.employees}
    assert own == {
        "E101": [("account_security", "not_started"), ("publishing", "overdue")],
        "E102": [("publishing", "overdue")],
        "E103": [("account_security", "not_started"), ("publishing", "overdue")],
        "E104": [("account_security", "not_started"), ("publishing", "overdue")],
        "E105": [("account_security", "not_started"), ("publishing", "overdue")],
        "E106": [("account_security", "expiring")],
    }
    (digest,) = plan.managers
    assert (digest.recipient_id, digest.name, digest.email) == ("M001", "周敏", "zhou.min@corp.example")
    assert [(i.employee_id, i.module_id, i.days_overdue) for i in digest.items] == [
        ("E101", "publishing", 15),
        ("E102", "publishing", 15),
        ("E103", "publishing", 15),
    ]
    assert plan.problems == [
        "E104 李雷: manager 'M999' is not on the roster; overdue publishing not escalated",
        "E105 韩梅梅: no manager on the roster (上级/manager column empty or missing); "
        "overdue publishing not escalated",
    ]


def test_nothing_is_escalated_before_escalate_after_days(reminder_course):
    """Five days after the due date (escalate_after_days is 7), do managers hear nothing yet?"""
    from datetime import date

    course, url = reminder_course
    plan = reminders.plan_for_book(book(course, as_of=date(2027, 1, 10)), url)
    assert plan.managers == [] and plan.problems == []
    assert {r.recipient_id for r in plan.employees} == {"E101", "E102", "E103", "E104", "E105"}


def test_message_is_chinese_first_then_english_with_titles_due_date_and_link(reminder_course):
    """Does an employee's message carry the module titles in both languages, the due date and the
    portal link, Chinese above English, and the WeCom version @-mention them?"""
    course, url = reminder_course
    e101 = next(r for r in _plan(course, url).employees if r.recipient_id == "E101")
    body = e101.body()
    assert body.startswith("欧阳娜娜，您好：")
    assert body.index("Dear 欧阳娜娜") > body.index("请登录培训平台完成：https://training.corp.example/portal")
    assert "账号安全" in body or "账户安全" in body
    catalog_titles = book(course).catalog.modules
    for module in ("account_security", "publishing"):
        assert catalog_titles[module].title.zh in body and catalog_titles[module].title.en in body
    assert "截止 2027-01-29" in body and "due 2027-01-29" in body
    assert "已逾期 15 天（截止 2027-01-05）" in body and "overdue by 15 days (was due 2027-01-05)" in body
    assert e101.markdown().splitlines()[1] == "<@ouyang.nana> 欧阳娜娜（E101）"


def test_dry_run_prints_the_table_and_sends_nothing(reminder_course):
    """Does --dry-run list every message with its address and modules, warn about the reports it
    cannot escalate, and leave no trace in the reminder log?"""
    course, url = reminder_course
    result = _remind(course, "--dry-run", "--via", "email")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["to", "id", "name", "address", "state", "modules"]
    assert lines[1].split() == [
        "employee", "E101", "欧阳娜娜", "ouyang.nana@corp.example", "would", "send", "account_security",
        "not_started", "due", "2027-01-29",
    ]  # fmt: skip
    assert any(line.split()[:6] == ["employee", "E103", "王芳", "-", "no", "email"] for line in lines)
    assert any(line.split()[-3:] == ["expiring", "until", "2027-01-25"] for line in lines)
    assert any(line.split()[:3] == ["manager", "M001", "周敏"] for line in lines)
    # Columns line up although names mix Chinese and Latin letters.
    assert len({_width(line[: line.index("would send")]) for line in lines if "would send" in line}) == 1
    assert lines[-1] == "6 employee reminder(s), 1 manager digest(s) as of 2027-01-20"
    assert "warning: E104 李雷: manager 'M999' is not on the roster" in result.stderr
    assert ReminderLog.peek(url) == {}


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def test_file_channel_writes_one_eml_per_message_and_nothing_on_a_rerun(reminder_course, tmp_path):
    """Does --via file write one parseable .eml per message (UTF-8 names), and a second run the same
    day write nothing new?"""
    course, url = reminder_course
    out = tmp_path / "outbox"
    first = _remind(course, "--via", "file", "--out", str(out))
    assert first.exit_code == 0, first.output
    assert "7 sent via file, 0 already sent, 0 failed, 0 in doubt" in first.stdout
    files = sorted(out.glob("*.eml"))
    assert len(files) == 7
    message = email.message_from_bytes((out / "2027-01-20_employee_E101.eml").read_bytes(), policy=policy.default)
    assert message["To"].addresses[0].display_name == "欧阳娜娜"
    assert message["Subject"] == "企业微信合规培训提醒 / WeCom compliance training reminder"
    stamps = {p: p.stat().st_mtime_ns for p in files}
    second = _remind(course, "--via", "file", "--out", str(out))
    assert "0 sent via file, 7 already sent" in second.stdout
    assert {p: p.stat().st_mtime_ns for p in sorted(out.glob("*.eml"))} == stamps


def test_file_channel_jsonl_has_one_line_per_message(reminder_course, tmp_path):
    """Does --out FILE.jsonl get one JSON object per message with key, recipient and modules?"""
    course, url = reminder_course
    out = tmp_path / "reminders.jsonl"
    assert _remind(course, "--via", "file", "--out", str(out)).exit_code == 0
    _remind(course, "--via", "file", "--out", str(out))
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 7 and len({r["key"] for r in records}) == 7
    digest = next(r for r in records if r["kind"] == "manager")
    assert [i["employee_id"] for i in digest["items"]] == ["E101", "E102", "E103"]
    assert digest["body"].startswith("周敏，您好：")


def test_roster_without_manager_column_names_everyone_unescalated_and_still_reminds(tmp_path):
    """With no 上级 column, is each overdue employee named in a warning while their own reminders
    still go out?"""
    course = tmp_path / "course"
    url = build_course(course, DATA / "roster_no_manager.csv")
    try:
        result = _remind(course, "--via", "file", "--out", str(tmp_path / "out"))
        assert result.exit_code == 0, result.output
        for who in ("E101 欧阳娜娜", "E102 司马建国"):
            assert f"warning: {who}: no manager on the roster (上级/manager column empty or missing)" in result.stderr
        assert sorted(p.name for p in (tmp_path / "out").glob("*.eml")) == [
            "2027-01-20_employee_E101.eml",
            "2027-01-20_employee_E102.eml",
        ]
    finally:
        gradebook.dispose(url)


def test_remind_without_a_channel_says_how():
    """Does a send without --via fail with a usage message naming the channels?"""
    result = CliRunner().invoke(main, ["remind"])
    assert result.exit_code == 2 and "--via email|wecom|file" in result.output
