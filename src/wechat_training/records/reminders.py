"""Who is reminded of what: one message per employee, one digest per manager.

Pure: the records frame (`rollup.build_records`) and the campaign in,
`Reminder` values out; nothing here sends or reads the database (see
`delivery` and `channels`). Only mandatory, assigned, non-exempt records whose
module is open count:

=============  ===============================================================
reminded       when
=============  ===============================================================
not_started,   the due date is at most the campaign's `remind_days` away (or the
in_progress,   module has no due date)
failed
overdue        always; and the employee's manager gets it in a digest once it
               is more than `escalate_after_days` past due
expired        always (the pass ran out or a cited rule changed: retrain)
passed         the pass expires within `remind_days` ("expiring")
=============  ===============================================================

A reminder's `key` (day, kind, recipient) is what the reminder log keeps so
that a rerun on the same day sends nothing new.

Managers come from the roster's 上级/manager column: an employee id, or a name
that exactly one employee has. A report without a manager, or with a manager
not on the roster, is a `problem` naming the employee; everyone else is still
reminded and escalated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from ..content.campaign import Campaign
from . import rollup as R

EMPLOYEE = "employee"
MANAGER = "manager"
EXPIRING = "expiring"  #: a pass still valid but ending within remind_days

_OPEN_WORK = (R.NOT_STARTED, R.IN_PROGRESS, R.FAILED)
_ROW_COLUMNS = [
    R.EMPLOYEE_ID, R.NAME, R.DEPARTMENT, R.MANAGER, R.MODULE_ID, R.STATUS, R.OPEN_DATE, R.DUE_DATE, R.VALID_UNTIL,
]  # fmt: skip

#: How each reminded state reads, Chinese then English; {due}, {days} and {until} are filled in.
STATE_TEXT: dict[str, tuple[str, str]] = {
    R.NOT_STARTED: ("未开始，截止 {due}", "not started, due {due}"),
    R.IN_PROGRESS: ("已提交、待评分，截止 {due}", "submitted, waiting for grading, due {due}"),
    R.FAILED: ("未通过，请重新作答，截止 {due}", "not passed yet, please try again, due {due}"),
    R.OVERDUE: ("已逾期 {days} 天（截止 {due}）", "overdue by {days} days (was due {due})"),
    R.EXPIRED: ("合格已失效，请重新培训", "your pass is no longer valid, please retrain"),
    EXPIRING: ("合格将于 {until} 到期，请及时重新培训", "your pass ends on {until}, please retrain before then"),
}
NO_DUE_DATE = ("无截止日期", "no due date")


@dataclass(frozen=True)
class Item:
    """One module on a reminder (for a digest: one report's module)."""

    employee_id: str
    name: str
    department: str
    module_id: str
    title_zh: str
    title_en: str
    state: str  #: a record status, or EXPIRING
    due_date: date | None
    valid_until: date | None
    days_overdue: int

    def describe(self, lang: str) -> str:
        zh, en = STATE_TEXT[self.state]
        due = str(self.due_date) if self.due_date else NO_DUE_DATE[0 if lang == "zh" else 1]
        text = zh if lang == "zh" else en
        return text.format(due=due, days=self.days_overdue, until=self.valid_until)


@dataclass(frozen=True)
class Reminder:
    """One message to one person: an employee's own reminder or a manager's digest."""

    kind: str  #: EMPLOYEE or MANAGER
    day: date  #: the as-of day it is for
    recipient_id: str
    name: str
    email: str
    wecom_userid: str
    items: tuple[Item, ...]
    portal_url: str

    @property
    def key(self) -> str:
        """What the reminder log keys on: one message per recipient, kind and day."""
        return f"{self.day.isoformat()}/{self.kind}/{self.recipient_id}"

    @property
    def subject(self) -> str:
        if self.kind == MANAGER:
            return f"下属培训逾期汇总 / Overdue compliance training in your team ({self.day})"
        return "企业微信合规培训提醒 / WeCom compliance training reminder"

    def body(self) -> str:
        """Plain text, Chinese first, English below."""
        return "\n".join([*self._lines("zh"), "", "-" * 40, "", *self._lines("en"), ""])

    def markdown(self, mention: bool = True) -> str:
        """WeCom markdown: `<@userid>` mentions the recipient when the roster has their WeCom id."""
        who = f"<@{self.wecom_userid}> " if mention and self.wecom_userid else ""
        zh, en = self.subject.split(" / ", 1)
        lines = [f"**{zh}**", f"{who}{self.name}（{self.recipient_id}）"]
        lines += [f"> {line}" for line in self._items("zh")]
        lines += [f"[进入培训平台]({self.portal_url})", "", f"**{en}**"]
        lines += [f"> {line}" for line in self._items("en")]
        lines.append(f"[Open the training portal]({self.portal_url})")
        return "\n".join(lines)

    def _items(self, lang: str) -> list[str]:
        out = []
        for item in self.items:
            title = item.title_zh if lang == "zh" else item.title_en
            text = f"{title}: {item.describe(lang)}" if lang == "en" else f"{title}：{item.describe(lang)}"
            if self.kind == MANAGER:
                department = f", {item.department}" if item.department else ""
                text = f"{item.name} ({item.employee_id}{department}) - {text}"
            out.append(text)
        return out

    def _lines(self, lang: str) -> list[str]:
        bullets = [f"- {line}" for line in self._items(lang)]
        if self.kind == MANAGER and lang == "zh":
            return [
                f"{self.name}，您好：",
                "",
                f"截至 {self.day}，您的下列下属未按期完成企业微信合规培训：",
                *bullets,
                "",
                f"请督促其尽快在培训平台完成：{self.portal_url}",
            ]
        if self.kind == MANAGER:
            return [
                f"Dear {self.name},",
                "",
                f"As of {self.day}, these members of your team are overdue with their WeCom compliance training:",
                *bullets,
                "",
                f"Please ask them to complete it on the training portal: {self.portal_url}",
            ]
        if lang == "zh":
            return [
                f"{self.name}，您好：",
                "",
                "您有以下企业微信合规培训模块需要完成：",
                *bullets,
                "",
                f"请登录培训平台完成：{self.portal_url}",
            ]
        return [
            f"Dear {self.name},",
            "",
            "These WeCom compliance training modules need your attention:",
            *bullets,
            "",
            f"Please complete them on the training portal: {self.portal_url}",
        ]


@dataclass(frozen=True)
class ReminderPlan:
    day: date
    reminders: list[Reminder]
    #: one line per employee who could not be handled fully, naming them (no manager, ...)
    problems: list[str] = field(default_factory=list)

    @property
    def employees(self) -> list[Reminder]:
        return [r for r in self.reminders if r.kind == EMPLOYEE]

    @property
    def managers(self) -> list[Reminder]:
        return [r for r in self.reminders if r.kind == MANAGER]


def plan_reminders(
    records: pd.DataFrame,
    campaign: Campaign,
    titles: Mapping[str, tuple[str, str]],
    as_of: date,
    *,
    wecom_userids: Mapping[str, str] | None = None,
) -> ReminderPlan:
    """The reminders due on `as_of`. `titles` is {module_id: (zh, en)}; `wecom_userids`
    {employee_id: WeCom user id} from the roster (optional column)."""
    wecom_userids = wecom_userids or {}
    people = {
        row[R.EMPLOYEE_ID]: row
        for row in records.drop_duplicates(R.EMPLOYEE_ID)[
            [R.EMPLOYEE_ID, R.NAME, R.DEPARTMENT, R.EMAIL, R.MANAGER, R.NOTE]
        ].to_dict("records")
    }
    by_name: dict[str, list[str]] = {}
    for eid, person in people.items():
        if person[R.NAME]:
            by_name.setdefault(person[R.NAME], []).append(eid)

    own: dict[str, list[Item]] = {}
    escalated: dict[str, list[Item]] = {}
    unescalated: dict[tuple[str, str, str], list[str]] = {}
    # Only the rows that can be reminded, and only the columns read: boxing every
    # timestamp column of 600,000 records costs more than the rest of the plan.
    candidates = records[
        records[R.MANDATORY].astype(bool)
        & records[R.STATUS].isin([*_OPEN_WORK, R.OVERDUE, R.EXPIRED, R.PASSED])
        & (records[R.NOTE] != "not on the roster")
    ][_ROW_COLUMNS]
    for row in candidates.itertuples(index=False):
        item = _item(row, campaign, titles, as_of)
        if item is None:
            continue
        own.setdefault(row.employee_id, []).append(item)
        if item.state == R.OVERDUE and item.days_overdue > campaign.escalate_after_days:
            manager = _manager_of(row.manager, row.employee_id, people, by_name)
            if isinstance(manager, str) and manager in people:
                escalated.setdefault(manager, []).append(item)
            else:
                unescalated.setdefault((row.employee_id, row.name, manager[0]), []).append(row.module_id)
    problems = [
        f"{eid} {name}: {why}; overdue {', '.join(modules)} not escalated"
        for (eid, name, why), modules in unescalated.items()
    ]

    reminders: list[Reminder] = []
    for kind, groups in ((EMPLOYEE, own), (MANAGER, escalated)):
        for eid in sorted(groups):
            person = people[eid]
            reminders.append(
                Reminder(
                    kind=kind,
                    day=as_of,
                    recipient_id=eid,
                    name=person[R.NAME] or eid,
                    email=person[R.EMAIL] or "",
                    wecom_userid=wecom_userids.get(eid, "") or "",
                    items=tuple(groups[eid]),
                    portal_url=campaign.portal_url,
                )
            )
    return ReminderPlan(as_of, reminders, problems)


def plan_for_book(book, db_url: str) -> ReminderPlan:
    """`plan_reminders` for a `book.RecordBook`, with WeCom user ids from the roster in `db_url`."""
    from ..assessment import gradebook

    titles = {m.id: (m.title.zh, m.title.en) for m in book.catalog.modules.values()}
    wecom = {eid: row.get("wecom_userid") or "" for eid, row in gradebook.employees(db_url).items()}
    return plan_reminders(book.records, book.campaign, titles, book.as_of, wecom_userids=wecom)


def _item(row, campaign: Campaign, titles: Mapping[str, tuple[str, str]], as_of: date) -> Item | None:
    if row.open_date is not None and row.open_date > as_of:
        return None
    due, until = row.due_date, row.valid_until
    state = row.status
    if state in _OPEN_WORK:
        if due is not None and (due - as_of).days > campaign.remind_days:
            return None
    elif state == R.PASSED:
        if until is None or (until - as_of).days > campaign.remind_days:
            return None
        state = EXPIRING
    elif state not in (R.OVERDUE, R.EXPIRED):
        return None  # exempt, not_assigned
    zh, en = titles.get(row.module_id, (row.module_id, row.module_id))
    return Item(
        employee_id=row.employee_id,
        name=row.name or row.employee_id,
        department=row.department or "",
        module_id=row.module_id,
        title_zh=zh,
        title_en=en,
        state=state,
        due_date=due,
        valid_until=until,
        days_overdue=(as_of - due).days if state == R.OVERDUE and due is not None else 0,
    )


def _manager_of(
    manager: str, employee_id: str, people: Mapping[str, Mapping], by_name: Mapping[str, list[str]]
) -> str | tuple[str]:
    """The manager's employee id, or (why not,) for the problem line."""
    manager = (manager or "").strip()
    if not manager:
        return ("no manager on the roster (上级/manager column empty or missing)",)
    if manager == employee_id:
        return ("is their own manager on the roster",)
    if manager in people:
        return manager
    named = by_name.get(manager, [])
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        return (f"manager {manager!r} matches {len(named)} employees by name; use the manager's employee id",)
    return (f"manager {manager!r} is not on the roster",)
