"""The words HR reads in the XLSX export: column headings and status words, zh-CN and en.

The CSV keeps the machine names of `rollup` (stable, documented in
docs/records-format.md); the workbook is for people, so it says 状态 / 已通过
instead of `status` / `passed` (issue 14).
"""

from __future__ import annotations

from . import rollup as R

LANGUAGES = ("zh", "en")

#: Workbook-only columns (derived from the record, not in the CSV).
SCORE_RATE = "score_rate"
MANAGER_NAME = "manager_name"

#: Heading of each column of the HR records sheet, in sheet order: (column, zh, en).
RECORD_HEADINGS: list[tuple[str, str, str]] = [
    (R.EMPLOYEE_ID, "工号", "Employee ID"),
    (R.NAME, "姓名", "Name"),
    (R.DEPARTMENT, "部门", "Department"),
    (R.ROLE, "岗位", "Role"),
    (MANAGER_NAME, "上级", "Manager"),
    (R.EMAIL, "邮箱", "E-mail"),
    (R.MODULE_ID, "课程", "Module"),
    (R.MANDATORY, "必修", "Mandatory"),
    (R.STATUS, "状态", "Status"),
    (R.OPEN_DATE, "开放日期", "Opens"),
    (R.DUE_DATE, "截止日期", "Due"),
    (R.BEST_SCORE, "最高分", "Best score"),
    (R.MAX_SCORE, "满分", "Max score"),
    (SCORE_RATE, "得分率", "Score %"),
    (R.ATTEMPTS, "提交次数", "Attempts"),
    (R.FIRST_ATTEMPT_AT, "首次提交 (UTC)", "First attempt (UTC)"),
    (R.LAST_ATTEMPT_AT, "最近提交 (UTC)", "Last attempt (UTC)"),
    (R.PASSED_AT, "通过时间 (UTC)", "Passed at (UTC)"),
    (R.VALID_UNTIL, "有效期至", "Valid until"),
    (R.RED_LINE_FAILURES, "触犯红线的提交次数", "Attempts that missed a red line"),
    (R.NOTE, "备注", "Note"),
]

SUMMARY_HEADINGS: list[tuple[str, str, str]] = [
    (R.DEPARTMENT, "部门", "Department"),
    (R.ASSIGNED, "应完成", "Assigned"),
    (R.PASSED, "已通过", "Passed"),
    (R.OVERDUE, "已逾期", "Overdue"),
    (R.EXPIRED, "已过期", "Expired"),
    (R.EXEMPT, "已豁免", "Exempt"),
    (R.COMPLETION_RATE, "完成率", "Completion"),
]

STATUS_WORDS: dict[str, tuple[str, str]] = {
    R.NOT_ASSIGNED: ("未分配", "not assigned"),
    R.NOT_STARTED: ("未开始", "not started"),
    R.IN_PROGRESS: ("待评分", "awaiting grading"),
    R.PASSED: ("已通过", "passed"),
    R.FAILED: ("未通过", "failed"),
    R.OVERDUE: ("已逾期", "overdue"),
    R.EXPIRED: ("已过期", "expired"),
    R.EXEMPT: ("已豁免", "exempt"),
}

SHEET_NAMES = {"zh": ("培训记录", "部门汇总"), "en": ("records", "departments")}
YES_NO = {"zh": ("否", "是"), "en": ("no", "yes")}


def heading(entry: tuple[str, str, str], lang: str) -> str:
    return entry[1] if lang == "zh" else entry[2]


def status_word(status: str, lang: str) -> str:
    zh, en = STATUS_WORDS.get(status, (status, status))
    return zh if lang == "zh" else en
