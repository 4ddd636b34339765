"""Training campaigns: who must take which module, by when, and who is exempt.

A campaign file (`campaign.yaml` at the content root, or a directory of
`*.yaml` files, one per campaign) looks like::

    home_page: https://corp.example      # identifies employee accounts in xAPI
    portal_url: https://training.corp.example/   # the link reminders carry
    remind_days: 14                      # remind this many days before a due date or a pass expiring
    escalate_after_days: 7               # managers hear of reports overdue longer than this
    campaigns:
      - id: wecom-2026
        title: {zh: 2026年度企业微信合规培训, en: 2026 WeCom compliance training}
        open_date: 2026-01-05
        due_date: 2026-03-31
        validity_days: 365                 # retrain a year after passing
        new_hire_days: 30                  # people hired after open_date: due 30 days after hire
        audience: {everyone: true}         # or {departments: [...], roles: [...]}
        modules: [account_security, publishing]
        mandatory: true
    exemptions:
      - employee_id: E1001
        modules: [customer_contact]        # or [all]
        approver: Zhou Min (HR)
        reason: Back office, no customer contact
        expires: 2026-12-31

`load_campaign(path)` validates it like the content (every problem at once as
`path:line: message`) and returns a `Campaign`. Without a campaign file,
`Campaign.default()` makes every module mandatory for everyone with no dates.

When several campaign entries give the same module to one employee, the
strictest wins: mandatory if any entry is, the earliest open and due dates and
the shortest validity.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from . import located_yaml
from .problems import ContentError, Problem, display_path
from .schema import AREAS, Area, Text

CAMPAIGN_FILE = "campaign.yaml"
CAMPAIGN_VARIABLE = "WECHAT_TRAINING_CAMPAIGN"
DEFAULT_HOME_PAGE = "https://corp.example"
DEFAULT_PORTAL_URL = "http://127.0.0.1:8866/"
DEFAULT_REMIND_DAYS = 14
DEFAULT_ESCALATE_AFTER_DAYS = 7
#: Top-level settings that must agree when a campaign directory holds several files.
_SHARED_SETTINGS = ("home_page", "portal_url", "remind_days", "escalate_after_days")
ALL_MODULES = "all"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Audience(_Strict):
    """Who a campaign entry applies to: everyone, or listed departments and/or roles."""

    everyone: bool = Field(default=False, description="true: every employee on the roster.")
    departments: list[str] = Field(default_factory=list, description="Department names exactly as on the roster.")
    roles: list[str] = Field(default_factory=list, description="Role names exactly as on the roster.")

    @model_validator(mode="after")
    def _says_who(self) -> Audience:
        if self.everyone and (self.departments or self.roles):
            raise ValueError("'everyone: true' cannot be combined with departments or roles")
        if not self.everyone and not self.departments and not self.roles:
            raise ValueError("name an audience: 'everyone: true', 'departments: [...]' or 'roles: [...]'")
        return self

    def includes(self, employee: Mapping[str, Any]) -> bool:
        if self.everyone:
            return True
        return employee.get("department") in self.departments or employee.get("role") in self.roles


class CampaignEntry(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="Stable ASCII id of the campaign.")
    title: Text = Field(description="Title shown to HR and learners.")
    open_date: date = Field(description="First day the modules may be taken (YYYY-MM-DD).")
    due_date: date | None = Field(default=None, description="Last day to pass; after it an unpassed module is overdue.")
    validity_days: int | None = Field(
        default=None, ge=1, description="A pass expires this many days after it; omit for no expiry."
    )
    new_hire_days: int | None = Field(
        default=None,
        ge=1,
        description="Employees hired after open_date are due this many days after their hire date instead.",
    )
    audience: Audience = Field(description="Who must take the modules.")
    modules: list[Area] = Field(min_length=1, description="Module ids (areas) this campaign assigns.")
    mandatory: bool = Field(default=True, description="false: recommended only; never overdue.")

    @model_validator(mode="after")
    def _dates_in_order(self) -> CampaignEntry:
        if self.due_date is not None and self.due_date < self.open_date:
            raise ValueError(f"due_date {self.due_date} is before open_date {self.open_date}")
        return self


class Exemption(_Strict):
    employee_id: str = Field(min_length=1, description="Employee id exactly as on the roster.")
    modules: list[Area | Literal["all"]] = Field(min_length=1, description="Exempted module ids, or [all].")
    approver: str = Field(min_length=1, description="Who approved the exemption (name and function).")
    reason: str = Field(min_length=1, description="Why the employee is exempt.")
    expires: date = Field(description="Last day the exemption holds (YYYY-MM-DD); renew it explicitly.")

    def covers(self, module_id: str) -> bool:
        return ALL_MODULES in self.modules or module_id in self.modules


class CampaignFile(_Strict):
    home_page: str = Field(
        default=DEFAULT_HOME_PAGE,
        pattern=r"^https?://\S+$",
        description="The company's home page: xAPI actors are accounts on it, named by employee id.",
    )
    portal_url: str = Field(
        default=DEFAULT_PORTAL_URL,
        pattern=r"^https?://\S+$",
        description="Address of the learner portal as employees reach it: the link every reminder carries.",
    )
    remind_days: int = Field(
        default=DEFAULT_REMIND_DAYS,
        ge=0,
        le=366,
        description="Remind employees this many days before a due date, and before a pass expires "
        "(0: only once overdue).",
    )
    escalate_after_days: int = Field(
        default=DEFAULT_ESCALATE_AFTER_DAYS,
        ge=0,
        le=366,
        description="Managers get a digest of their reports overdue for more than this many days.",
    )
    campaigns: list[CampaignEntry] = Field(default_factory=list, description="Campaign entries.")
    exemptions: list[Exemption] = Field(default_factory=list, description="Approved exemptions.")


@dataclass(frozen=True)
class Assignment:
    module_id: str
    open_date: date | None
    due_date: date | None
    validity_days: int | None
    mandatory: bool


@dataclass(frozen=True)
class Campaign:
    """Every campaign entry and exemption in force, merged from one or more files."""

    entries: tuple[CampaignEntry, ...]
    exemptions: tuple[Exemption, ...]
    home_page: str = DEFAULT_HOME_PAGE
    #: The learner portal's address, for reminder links.
    portal_url: str = DEFAULT_PORTAL_URL
    #: Days before a due date (or a pass's expiry) from which employees are reminded.
    remind_days: int = DEFAULT_REMIND_DAYS
    #: Days past due after which a manager hears of an overdue report.
    escalate_after_days: int = DEFAULT_ESCALATE_AFTER_DAYS
    #: True for the built-in default (no campaign file): all modules, everyone, no dates.
    is_default: bool = False

    @classmethod
    def default(cls, modules: tuple[str, ...] = AREAS) -> Campaign:
        entry = CampaignEntry(
            id="default",
            title=Text(zh="全部必修模块", en="All mandatory modules"),
            open_date=date(1970, 1, 1),
            audience=Audience(everyone=True),
            modules=list(modules),
        )
        return cls(entries=(entry,), exemptions=(), is_default=True)

    @property
    def module_ids(self) -> list[str]:
        seen = {m for e in self.entries for m in e.modules}
        return [a for a in AREAS if a in seen]

    def assignments_for(self, employee: Mapping[str, Any]) -> list[Assignment]:
        """The modules assigned to one employee (a mapping with at least department and role;
        hire_date as a date or ISO text moves the due date of new hires), in area order."""
        hired = _as_date(employee.get("hire_date"))
        merged: dict[str, Assignment] = {}
        for entry in self.entries:
            if not entry.audience.includes(employee):
                continue
            due = entry.due_date
            if entry.new_hire_days and hired is not None and hired > entry.open_date:
                due = hired + timedelta(days=entry.new_hire_days)
            for module_id in entry.modules:
                new = Assignment(
                    module_id, None if self.is_default else entry.open_date, due, entry.validity_days, entry.mandatory
                )
                merged[module_id] = _stricter(merged.get(module_id), new)
        return [merged[a] for a in AREAS if a in merged]

    def due_date(self, employee: Mapping[str, Any], module_id: str) -> date | None:
        for assignment in self.assignments_for(employee):
            if assignment.module_id == module_id:
                return assignment.due_date
        return None

    def exemption(self, employee_id: str, module_id: str, on: date) -> Exemption | None:
        """The exemption in force for this employee and module on a day, if any."""
        for exemption in self.exemptions:
            if exemption.employee_id == employee_id and exemption.covers(module_id) and on <= exemption.expires:
                return exemption
        return None

    def is_exempt(self, employee_id: str, module_id: str, on: date) -> bool:
        return self.exemption(employee_id, module_id, on) is not None


def _stricter(old: Assignment | None, new: Assignment) -> Assignment:
    if old is None:
        return new
    # A recommendation never tightens a mandatory assignment's dates.
    if old.mandatory != new.mandatory:
        return old if old.mandatory else new
    return Assignment(
        module_id=new.module_id,
        open_date=_min(old.open_date, new.open_date),
        due_date=_min(old.due_date, new.due_date),
        validity_days=_min(old.validity_days, new.validity_days),
        mandatory=old.mandatory or new.mandatory,
    )


def _min(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _as_date(value: Any) -> date | None:
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, date):
        return value if type(value) is date else value.date()  # a datetime or pandas Timestamp
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def load_campaign(path: Path | str) -> Campaign:
    """Load `path` (a campaign file, or a directory of them); raise ContentError with every problem."""
    path = Path(path)
    base = path if path.is_dir() else path.parent
    files = sorted(path.glob("*.y*ml")) if path.is_dir() else [path]
    if not files:
        raise ContentError([Problem(str(path), 0, "no campaign files (*.yaml) in this directory")])
    problems: list[Problem] = []
    entries: list[tuple[CampaignEntry, str, int]] = []
    exemptions: list[Exemption] = []
    settings: dict[str, list[tuple[Any, str, int]]] = {key: [] for key in _SHARED_SETTINGS}
    for file in files:
        shown = display_path(file, base) if path.is_dir() else str(path)
        if not file.is_file():
            problems.append(Problem(shown, 0, "campaign file not found"))
            continue
        try:
            doc = located_yaml.load(file, shown)
        except located_yaml.YamlSyntaxError as exc:
            problems.append(exc.problem)
            continue
        parsed = _validate(doc, problems)
        if parsed is None:
            continue
        for key in _SHARED_SETTINGS:
            if key in (doc.data or {}):
                settings[key].append((getattr(parsed, key), shown, doc.line_of((key,))))
        for i, entry in enumerate(parsed.campaigns):
            entries.append((entry, shown, doc.line_of(("campaigns", i, "id"))))
        for i, exemption in enumerate(parsed.exemptions):
            exemptions.append(exemption)
            _check_exemption(exemption, shown, doc.line_of(("exemptions", i)), problems)
    seen: dict[str, tuple[str, int]] = {}
    for entry, shown, line in entries:
        if entry.id in seen:
            first = seen[entry.id]
            problems.append(Problem(shown, line, f"duplicate campaign id {entry.id} (first at {first[0]}:{first[1]})"))
        seen.setdefault(entry.id, (shown, line))
        if len(set(entry.modules)) != len(entry.modules):
            problems.append(Problem(shown, line, f"campaign {entry.id}: a module is listed twice"))
    for key, found in settings.items():
        if len({value for value, _, _ in found}) > 1:
            for value, shown, line in found[1:]:
                problems.append(Problem(shown, line, f"{key} {value} differs from {found[0][0]} in {found[0][1]}"))
    if problems:
        raise ContentError(problems)
    chosen = {key: found[0][0] for key, found in settings.items() if found}
    return Campaign(entries=tuple(e for e, _, _ in entries), exemptions=tuple(exemptions), **chosen)


def _validate(doc: located_yaml.LocatedDocument, problems: list[Problem]) -> CampaignFile | None:
    if not isinstance(doc.data, dict):
        problems.append(Problem(doc.path, doc.line_of(()), "expected a mapping with 'campaigns' and 'exemptions'"))
        return None
    try:
        return CampaignFile.model_validate(doc.data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.append(Problem(doc.path, doc.line_of(loc), _describe(doc.data, loc, err)))
        return None


def _describe(data: Any, loc: tuple[Any, ...], err: Mapping[str, Any]) -> str:
    # Name the campaign or exemption a problem sits in: "campaign wecom-2026: ..."
    label = ""
    rest = loc
    if len(loc) >= 2 and loc[0] in ("campaigns", "exemptions") and isinstance(loc[1], int):
        items = data.get(loc[0]) or []
        item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        key = "id" if loc[0] == "campaigns" else "employee_id"
        ident = item.get(key) if isinstance(item, dict) else None
        label = f"{'campaign' if loc[0] == 'campaigns' else 'exemption for'} {ident or '#' + str(loc[1] + 1)}: "
        rest = loc[2:]
    # pydantic adds model and union member names to loc; people need the YAML path.
    field = ".".join(str(p) for p in rest if not (isinstance(p, str) and (p[:1].isupper() or "[" in p)))
    kind = err["type"]
    if kind == "missing":
        return f"{label}missing required key '{field}'"
    if kind == "extra_forbidden":
        return f"{label}unknown key '{field}'"
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{label}{field}: {message}" if field else f"{label}{message}"


def _check_exemption(exemption: Exemption, shown: str, line: int, problems: list[Problem]) -> None:
    if ALL_MODULES in exemption.modules and len(exemption.modules) > 1:
        problems.append(Problem(shown, line, f"exemption for {exemption.employee_id}: 'all' stands alone"))


def campaign_for(root: Path | str, path: Path | str | None = None) -> Campaign:
    """The campaign in force: `path` if given, else $WECHAT_TRAINING_CAMPAIGN (set by
    `serve`, read by the portal too), else `campaign.yaml` at the content root, else the
    default (every module, everyone, no dates)."""
    path = path or os.environ.get(CAMPAIGN_VARIABLE) or None
    if path is not None:
        return load_campaign(path)
    default = Path(root) / CAMPAIGN_FILE
    return load_campaign(default) if default.exists() else Campaign.default()
