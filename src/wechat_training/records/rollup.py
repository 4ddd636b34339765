"""Training records: one row per employee and module, rolled up from gradebook frames.

Pure pandas: frames in (`gradebook.read_frames`), frames out. Nothing here
reads the database or files, so every status is testable on frames built by
hand and the same roll-up serves the CLI, the exports, the nbgrader export
plugin and the HR dashboard.

Status of a record, first match wins:

=============  ================================================================
exempt         an approved exemption is in force on the as-of day
not_assigned   no campaign gives the module to the employee
passed         a pass that is still valid
expired        the latest pass ran out of validity, or a rule the module cites
               has a newer version than the one the pass was tested on
overdue        mandatory, due date before the as-of day, no valid pass
failed         graded attempts, none passed
in_progress    attempts submitted but not graded yet
not_started    no attempt
=============  ================================================================

`as_of` freezes the picture: attempts submitted after the end of that day
(UTC) are ignored, so re-running a closed period's export gives the same file
(rule-version expiry compares with the catalogue passed in, i.e. today's rules).
Rows come ordered by employee id, then module in the order given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd

from ..content.campaign import Campaign

# Record columns (the export header, in order).
EMPLOYEE_ID = "employee_id"
NAME = "name"
DEPARTMENT = "department"
ROLE = "role"
MANAGER = "manager"
EMAIL = "email"
MODULE_ID = "module_id"
MANDATORY = "mandatory"
STATUS = "status"
OPEN_DATE = "open_date"
DUE_DATE = "due_date"
BEST_SCORE = "best_score"
MAX_SCORE = "max_score"
ATTEMPTS = "attempts"
FIRST_ATTEMPT_AT = "first_attempt_at"
LAST_ATTEMPT_AT = "last_attempt_at"
PASSED_AT = "passed_at"
VALID_UNTIL = "valid_until"
CONTENT_VERSION = "content_version"
RED_LINE_FAILURES = "red_line_failures"
NOTE = "note"

RECORD_COLUMNS = [
    EMPLOYEE_ID,
    NAME,
    DEPARTMENT,
    ROLE,
    MANAGER,
    EMAIL,
    MODULE_ID,
    MANDATORY,
    STATUS,
    OPEN_DATE,
    DUE_DATE,
    BEST_SCORE,
    MAX_SCORE,
    ATTEMPTS,
    FIRST_ATTEMPT_AT,
    LAST_ATTEMPT_AT,
    PASSED_AT,
    VALID_UNTIL,
    CONTENT_VERSION,
    RED_LINE_FAILURES,
    NOTE,
]

# Statuses.
NOT_ASSIGNED = "not_assigned"
NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
PASSED = "passed"
FAILED = "failed"
OVERDUE = "overdue"
EXPIRED = "expired"
EXEMPT = "exempt"
STATUSES = (NOT_ASSIGNED, NOT_STARTED, IN_PROGRESS, PASSED, FAILED, OVERDUE, EXPIRED, EXEMPT)

# Department summary columns.
ASSIGNED = "assigned"
COMPLETION_RATE = "completion_rate"
SUMMARY_COLUMNS = [DEPARTMENT, ASSIGNED, PASSED, OVERDUE, EXPIRED, EXEMPT, COMPLETION_RATE]

_EMPLOYEE_COLUMNS = [EMPLOYEE_ID, NAME, DEPARTMENT, ROLE, EMAIL, MANAGER, "hire_date"]
NOT_ON_ROSTER = "not on the roster"  #: the note of a record whose employee is not on the roster


def end_of_day(day: date) -> pd.Timestamp:
    """The last instant of `day` in UTC: attempts up to it count for an as-of export."""
    return pd.Timestamp(datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)) - pd.Timedelta(1, "us")


def today() -> date:
    return datetime.now(UTC).date()


def build_records(
    employees: pd.DataFrame,
    attempts: pd.DataFrame,
    campaign: Campaign,
    *,
    modules: Sequence[str] | None = None,
    rule_versions: Mapping[str, Mapping[str, int]] | None = None,
    as_of: date | None = None,
) -> pd.DataFrame:
    """One record per employee and module (see the module docstring for statuses).

    `employees` and `attempts` are `gradebook.Frames` frames. `modules` defaults to the
    campaign's modules plus any module attempted. `rule_versions` is
    {module_id: {rule_id: version}} from the current catalogue
    (`Catalog.rule_versions`); without it no pass expires on a rule change.
    Employees who attempted a module but are missing from the roster still get
    their records (noted), so nothing recorded is dropped from an export.
    """
    as_of = as_of or today()
    attempts = attempts[attempts["submitted_at"] <= end_of_day(as_of)]
    people = _people(employees, attempts)
    module_ids = list(modules) if modules is not None else _modules(campaign, attempts)
    # The grid is every (employee, module) pair, employee-major: pair k is employee
    # k // M and module k % M, so the roll-up fills it by position instead of merging.
    n_people, n_modules = len(people), len(module_ids)
    person = np.repeat(np.arange(n_people), n_modules)
    module = np.tile(np.arange(n_modules), n_people)
    grid = pd.DataFrame(
        {c: people[c].to_numpy()[person] for c in (EMPLOYEE_ID, NAME, DEPARTMENT, ROLE, MANAGER, EMAIL)}
    )
    grid[MODULE_ID] = np.array(module_ids, dtype=object)[module]
    plan = _plan(people, campaign, module_ids)
    roll = _rollup(attempts, people[EMPLOYEE_ID], module_ids, rule_versions or {})
    profile = plan["profile"][person]
    assigned = plan["assigned"][profile, module]
    grid[MANDATORY] = plan["mandatory"][profile, module]
    grid[OPEN_DATE] = plan["open"][profile, module]
    grid[DUE_DATE] = plan["due"][profile, module]
    for column in (
        BEST_SCORE,
        MAX_SCORE,
        ATTEMPTS,
        FIRST_ATTEMPT_AT,
        LAST_ATTEMPT_AT,
        PASSED_AT,
        CONTENT_VERSION,
        RED_LINE_FAILURES,
    ):
        grid[column] = roll[column]

    validity = plan["validity"][profile, module]
    passed_day = roll[PASSED_AT].dt.tz_localize(None).dt.floor("D")
    valid_until = passed_day + pd.to_timedelta(validity, unit="D")
    grid[VALID_UNTIL] = _as_dates(valid_until)
    as_of_ts = pd.Timestamp(as_of)
    validity_over = (valid_until < as_of_ts).to_numpy()
    has_pass = roll[PASSED_AT].notna().to_numpy()
    stale_rules = roll["_stale_rules"]
    stale = stale_rules != ""
    due = pd.to_datetime(pd.Series(grid[DUE_DATE]), errors="coerce")
    late = grid[MANDATORY].to_numpy() & (due < as_of_ts).to_numpy()

    exempt_note = _exemptions(grid, campaign, as_of)
    exempt = exempt_note != ""
    conditions = [
        exempt,
        ~assigned,
        has_pass & ~validity_over & ~stale,
        has_pass,
        late,
        roll["_graded"] > 0,
        roll[ATTEMPTS] > 0,
    ]
    choices = [EXEMPT, NOT_ASSIGNED, PASSED, EXPIRED, OVERDUE, FAILED, IN_PROGRESS]
    grid[STATUS] = np.select(conditions, choices, default=NOT_STARTED).astype(object)

    notes = np.full(len(grid), "", dtype=object)
    lapsed = has_pass & validity_over
    notes[lapsed] = ["validity ended " + str(d) for d in grid[VALID_UNTIL].to_numpy()[lapsed]]
    changed = has_pass & stale
    notes[changed] = ["rule changed since the pass: " + r for r in stale_rules[changed]]
    notes[exempt] = exempt_note[exempt]
    notes[people["_off_roster"].to_numpy(dtype=bool)[person]] = NOT_ON_ROSTER
    grid[NOTE] = notes
    return grid[RECORD_COLUMNS]


def _as_dates(values: pd.Series) -> pd.Series:
    """Day columns as `datetime.date` objects, None when missing, whatever pandas inferred
    (a column of dates with NaN, or datetime64). Converted once per distinct day."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    days = [u.date() if isinstance(u, datetime) else u for u in uniques]
    lookup = np.array([*days, None], dtype=object)
    return pd.Series(lookup[codes], index=values.index, dtype=object)


def _people(employees: pd.DataFrame, attempts: pd.DataFrame) -> pd.DataFrame:
    """The roster, plus anyone who attempted a module without being on it, sorted by id."""
    people = employees.reindex(columns=_EMPLOYEE_COLUMNS).copy()
    people["_off_roster"] = False
    missing = pd.Index(attempts[EMPLOYEE_ID].unique()).difference(pd.Index(people[EMPLOYEE_ID]))
    if len(missing):
        extra = pd.DataFrame({EMPLOYEE_ID: list(missing), "_off_roster": True})
        people = pd.concat([people, extra], ignore_index=True)
    for column in (EMPLOYEE_ID, NAME, DEPARTMENT, ROLE, EMAIL, MANAGER):
        people[column] = people[column].astype(object).where(people[column].notna(), "")
    people = people.drop_duplicates(EMPLOYEE_ID)
    return people.sort_values(EMPLOYEE_ID, kind="stable").reset_index(drop=True)


def _modules(campaign: Campaign, attempts: pd.DataFrame) -> list[str]:
    from ..content.schema import AREAS

    known = set(campaign.module_ids) | set(attempts[MODULE_ID].unique())
    return [a for a in AREAS if a in known] + sorted(known - set(AREAS))


def _plan(people: pd.DataFrame, campaign: Campaign, module_ids: list[str]) -> dict[str, np.ndarray]:
    """Assignments as tables [profile, module], with each employee's profile index.

    A profile is a distinct (department, role, hire date): 100,000 employees share a
    few hundred, so the campaign is asked once per profile, not per person.
    """
    hired = pd.to_datetime(people["hire_date"], errors="coerce")
    hired_text = hired.dt.strftime("%Y-%m-%d").astype(object).where(hired.notna(), "")
    key = people[DEPARTMENT].astype(str) + "\x1f" + people[ROLE].astype(str) + "\x1f" + hired_text.astype(str)
    codes, uniques = pd.factorize(key.astype(object))
    shape = (len(uniques), len(module_ids))
    tables = {
        "assigned": np.zeros(shape, dtype=bool),
        "mandatory": np.zeros(shape, dtype=bool),
        "open": np.full(shape, None, dtype=object),
        "due": np.full(shape, None, dtype=object),
        "validity": np.full(shape, np.nan),
    }
    column_of = {m: j for j, m in enumerate(module_ids)}
    for i, text in enumerate(uniques):
        department, role, hire = text.split("\x1f")
        for a in campaign.assignments_for({DEPARTMENT: department, ROLE: role, "hire_date": hire or None}):
            j = column_of.get(a.module_id)
            if j is None:
                continue
            tables["assigned"][i, j] = True
            tables["mandatory"][i, j] = a.mandatory
            tables["open"][i, j] = a.open_date
            tables["due"][i, j] = a.due_date
            tables["validity"][i, j] = np.nan if a.validity_days is None else a.validity_days
    tables["profile"] = np.asarray(codes)
    return tables


def _rollup(
    attempts: pd.DataFrame,
    employee_ids: pd.Series,
    module_ids: list[str],
    rule_versions: Mapping[str, Mapping[str, int]],
) -> dict:
    """Per grid position (employee-major, see build_records): attempts, first/last, best, latest pass."""
    size = len(employee_ids) * len(module_ids)
    person = pd.Index(employee_ids).get_indexer(attempts[EMPLOYEE_ID])
    module = pd.Index(module_ids).get_indexer(attempts[MODULE_ID])
    keep = (person >= 0) & (module >= 0)
    frame = attempts[keep]
    key = (person[keep] * len(module_ids) + module[keep]).astype(np.int64)
    ticks = np.asarray(frame["submitted_at"].dt.as_unit("us").array.asi8)
    score = frame["score"].to_numpy(dtype=float)
    graded = ~np.isnan(score)
    passed = frame["passed"].fillna(False).to_numpy(dtype=bool) & graded

    out: dict = {}
    counts = np.bincount(key, minlength=size)
    out[ATTEMPTS] = counts
    out["_graded"] = np.bincount(key, weights=graded, minlength=size).astype(int)
    red = frame["red_line_misses"].fillna(0).to_numpy() > 0
    out[RED_LINE_FAILURES] = np.bincount(key, weights=red, minlength=size).astype(int)
    nat = np.iinfo(np.int64).min
    first = np.full(size, np.iinfo(np.int64).max)
    np.minimum.at(first, key, ticks)
    last = np.full(size, nat)
    np.maximum.at(last, key, ticks)
    first[counts == 0] = nat
    out[FIRST_ATTEMPT_AT] = _utc(first)
    out[LAST_ATTEMPT_AT] = _utc(last)

    # Best attempt: highest score, then the latest; its max score goes with it.
    best_score, max_score = np.full(size, np.nan), np.full(size, np.nan)
    rows = np.flatnonzero(graded)
    if len(rows):
        order = rows[np.lexsort((ticks[rows], score[rows], key[rows]))]
        ends = order[np.r_[key[order][1:] != key[order][:-1], True]]
        best_score[key[ends]] = score[ends]
        max_score[key[ends]] = frame["max_score"].to_numpy(dtype=float)[ends]
    out[BEST_SCORE], out[MAX_SCORE] = best_score, max_score

    # The pass that counts is the latest one: it carries the longest validity.
    passed_at = np.full(size, nat)
    version = np.full(size, None, dtype=object)
    stale = np.full(size, "", dtype=object)
    rows = np.flatnonzero(passed)
    if len(rows):
        order = rows[np.lexsort((ticks[rows], key[rows]))]
        ends = order[np.r_[key[order][1:] != key[order][:-1], True]]
        where = key[ends]
        passed_at[where] = ticks[ends]
        versions = frame["content_version"].to_numpy(dtype=object)[ends]
        version[where] = versions
        stale[where] = _stale_rules(
            np.array(module_ids, dtype=object)[module[keep][ends]],
            versions,
            frame["rule_versions"].to_numpy(dtype=object)[ends],
            rule_versions,
        )
    out[PASSED_AT] = _utc(passed_at)
    out[CONTENT_VERSION] = version
    out["_stale_rules"] = stale
    return out


def _utc(ticks: np.ndarray) -> pd.Series:
    return pd.Series(ticks.view("datetime64[us]")).dt.tz_localize("UTC")


def _stale_rules(
    modules: np.ndarray, versions: np.ndarray, tested: np.ndarray, current: Mapping[str, Mapping[str, int]]
) -> list[str]:
    """For each pass, the cited rules whose version changed since it ('ACC-003 v1->v2'), '' if none.

    Computed once per (module, rule versions tested): the key is the pass's own
    rule versions, never the content version a file claims, so one attempt's
    values cannot decide another's answer (issue 15).
    """
    answers: dict[tuple[str, tuple], str] = {}
    # The gradebook reader shares one dict per distinct rule_versions text, so most
    # passes are answered by the dict's identity without sorting its items again.
    by_identity: dict[tuple[str, int], str] = {}
    out = []
    for module_id, _version, rules in zip(modules, versions, tested, strict=True):
        shared = (module_id, id(rules))
        if shared in by_identity:
            out.append(by_identity[shared])
            continue
        rules = rules if isinstance(rules, Mapping) else {}
        key = (module_id, tuple(sorted(rules.items())))
        if key not in answers:
            now = current.get(module_id, {})
            changed = [
                f"{rid} v{rules[rid]}->v{now[rid]}" for rid in sorted(now) if rid in rules and rules[rid] != now[rid]
            ]
            answers[key] = ", ".join(changed)
        by_identity[shared] = answers[key]
        out.append(answers[key])
    return out


def _exemptions(grid: pd.DataFrame, campaign: Campaign, as_of: date) -> np.ndarray:
    note = np.full(len(grid), "", dtype=object)
    live = [e for e in campaign.exemptions if as_of <= e.expires]
    if not live:
        return note
    employee = grid[EMPLOYEE_ID].to_numpy(dtype=object)
    module = grid[MODULE_ID].to_numpy(dtype=object)
    for exemption in live:
        hit = employee == exemption.employee_id
        if "all" not in exemption.modules:
            hit &= np.isin(module, list(exemption.modules))
        note[hit] = f"exempt until {exemption.expires} ({exemption.reason}; approved by {exemption.approver})"
    return note


def department_summary(records: pd.DataFrame) -> pd.DataFrame:
    """Per department: mandatory records assigned (exempt ones apart), passed, overdue, expired,
    exempt, and completion rate = passed / assigned."""
    mandatory = records[records[MANDATORY] & (records[STATUS] != NOT_ASSIGNED)]
    counts = pd.crosstab(mandatory[DEPARTMENT], mandatory[STATUS])
    summary = pd.DataFrame(index=counts.index)
    for status in (PASSED, OVERDUE, EXPIRED, EXEMPT):
        summary[status] = counts[status] if status in counts else 0
    summary[ASSIGNED] = counts.sum(axis=1) - summary[EXEMPT]
    rate = summary[PASSED] / summary[ASSIGNED].where(summary[ASSIGNED] > 0)
    summary[COMPLETION_RATE] = rate.fillna(0.0).round(4)
    summary = summary.reset_index().rename(columns={"row_0": DEPARTMENT})
    summary.columns.name = None
    return summary[SUMMARY_COLUMNS].sort_values(DEPARTMENT, kind="stable").reset_index(drop=True)


def employee_records(records: pd.DataFrame, employee_id: str) -> pd.DataFrame:
    """One person's records; raises KeyError naming the id when there are none."""
    mine = records[records[EMPLOYEE_ID] == employee_id]
    if mine.empty:
        raise KeyError(f"no records for employee {employee_id!r} (not on the roster and no attempts)")
    return mine.reset_index(drop=True)
