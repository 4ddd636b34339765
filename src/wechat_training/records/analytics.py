"""Aggregate views of the records for HR and trainers: frames in, frames out.

The privacy rule, one for every view (issue 14): what people *answered* is
assessment detail and is shown only for groups of at least `min_group` people
(default 5): with fewer, a miss rate shows what one person got wrong ("the only
analyst in Legal missed ACC-003"). Training *status* (passed, overdue) is the
HR record itself: HR sees it by name in the overdue list and the exports, so
completion by department is shown for every department, however small; hiding
it would protect nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from . import rollup as R

DEFAULT_MIN_GROUP = 5

# Column names of the frames returned here.
PEOPLE = "people"
ANSWERS = "answers"
MISSES = "misses"
MISS_RATE = "miss_rate"
RULE_ID = "rule_id"
DAY = "day"
PASSED_SHARE = "passed_share"
HIDDEN_GROUPS = "hidden_groups"


def completion_by_department(records: pd.DataFrame) -> pd.DataFrame:
    """`records.department_summary` plus the number of people assigned something, every
    department (status is shown by name to HR anyway: see the module docstring)."""
    summary = R.department_summary(records)
    mandatory = records[records[R.MANDATORY] & ~records[R.STATUS].isin([R.NOT_ASSIGNED, R.EXEMPT])]
    people = mandatory.groupby(R.DEPARTMENT)[R.EMPLOYEE_ID].nunique().rename(PEOPLE)
    summary = summary.merge(people, left_on=R.DEPARTMENT, right_index=True, how="left")
    summary[PEOPLE] = summary[PEOPLE].fillna(0).astype(int)
    return summary[[R.DEPARTMENT, PEOPLE, *R.SUMMARY_COLUMNS[1:]]].reset_index(drop=True)


def hidden_rule_groups(answers: pd.DataFrame, employees: pd.DataFrame, min_group: int = DEFAULT_MIN_GROUP) -> int:
    """How many departments with answers have fewer than `min_group` people who answered
    (their miss rates are hidden; said on screen)."""
    departments = employees[[R.EMPLOYEE_ID, R.DEPARTMENT]].drop_duplicates(R.EMPLOYEE_ID)
    frame = answers.merge(departments, on=R.EMPLOYEE_ID, how="left")
    people = frame.groupby(R.DEPARTMENT)[R.EMPLOYEE_ID].nunique()
    return int((people < min_group).sum())


def overdue_list(records: pd.DataFrame) -> pd.DataFrame:
    """Who is overdue on what (HR acts on people, so this list is by name), oldest due date first."""
    overdue = records[records[R.STATUS] == R.OVERDUE]
    columns = [R.EMPLOYEE_ID, R.NAME, R.DEPARTMENT, R.MANAGER, R.MODULE_ID, R.DUE_DATE, R.ATTEMPTS, R.BEST_SCORE]
    return overdue.sort_values([R.DUE_DATE, R.DEPARTMENT, R.EMPLOYEE_ID], kind="stable")[columns].reset_index(drop=True)


def rule_miss_rates(
    answers: pd.DataFrame,
    employees: pd.DataFrame,
    min_group: int = DEFAULT_MIN_GROUP,
) -> pd.DataFrame:
    """Per department and rule: people who answered a question on it, answers, misses and
    miss rate, worst first within each department. Cells with fewer than `min_group`
    people are left out, and so are rules nobody missed (a list of rules missed most
    padded with 0 % rows says nothing). `answers` is `gradebook.Frames.answers` (one row per question
    and rule), `employees` the roster (for departments)."""
    departments = employees[[R.EMPLOYEE_ID, R.DEPARTMENT]].drop_duplicates(R.EMPLOYEE_ID)
    frame = answers.merge(departments, on=R.EMPLOYEE_ID, how="left")
    frame[R.DEPARTMENT] = frame[R.DEPARTMENT].astype(object).where(frame[R.DEPARTMENT].notna(), "")
    frame = frame.assign(_miss=~frame["correct"].astype(bool))
    grouped = (
        frame.groupby([R.DEPARTMENT, RULE_ID], sort=False)
        .agg(**{PEOPLE: (R.EMPLOYEE_ID, "nunique"), ANSWERS: ("_miss", "size"), MISSES: ("_miss", "sum")})
        .reset_index()
    )
    grouped[MISSES] = grouped[MISSES].astype(int)
    grouped[MISS_RATE] = (grouped[MISSES] / grouped[ANSWERS]).round(4)
    shown = grouped[(grouped[PEOPLE] >= min_group) & (grouped[MISSES] > 0)]
    return shown.sort_values(
        [R.DEPARTMENT, MISS_RATE, RULE_ID], ascending=[True, False, True], kind="stable"
    ).reset_index(drop=True)


def completion_trend(records: pd.DataFrame, as_of=None) -> pd.DataFrame:
    """Share of mandatory assigned records (exempt ones apart) passed by the end of each day
    on which someone passed, from 0 on the day the training opened (or the day before the
    first pass) to `as_of` (a line, not one dot). Counts today's valid passes, so an
    expired pass does not count."""
    mandatory = records[records[R.MANDATORY] & ~records[R.STATUS].isin([R.NOT_ASSIGNED, R.EXEMPT])]
    total = len(mandatory)
    passed = mandatory[mandatory[R.STATUS] == R.PASSED]
    if total == 0 or passed.empty:
        return pd.DataFrame(
            {
                DAY: pd.Series([], dtype=object),
                R.PASSED: pd.Series([], dtype=int),
                PASSED_SHARE: pd.Series([], dtype=float),
            }
        )
    per_day = passed[R.PASSED_AT].dt.date.value_counts().sort_index()
    cumulative = per_day.cumsum()
    days, counts = list(cumulative.index), [int(c) for c in cumulative.to_numpy()]
    opened = [d for d in mandatory[R.OPEN_DATE] if d is not None and d == d and d < days[0]]
    start = min(opened) if opened else days[0] - timedelta(days=1)
    days, counts = [start, *days], [0, *counts]
    if as_of is not None and as_of > days[-1]:
        days, counts = [*days, as_of], [*counts, counts[-1]]
    return pd.DataFrame({DAY: days, R.PASSED: counts, PASSED_SHARE: [round(c / total, 4) for c in counts]})


def rule_miss_rates_overall(
    answers: pd.DataFrame,
    employees: pd.DataFrame,
    min_group: int = DEFAULT_MIN_GROUP,
) -> pd.DataFrame:
    """`rule_miss_rates` over everyone at once (one row per rule, worst first): the trainer's
    view of which rules are misunderstood. Rules answered by fewer than `min_group` people are left out."""
    everyone = employees[[R.EMPLOYEE_ID]].assign(**{R.DEPARTMENT: ""})
    per_rule = rule_miss_rates(answers, everyone, min_group).drop(columns=[R.DEPARTMENT])
    return per_rule.sort_values([MISS_RATE, RULE_ID], ascending=[False, True], kind="stable").reset_index(drop=True)
