"""The employee roster: CSV or XLSX in, `wt_employee` (and nbgrader students) out.

Columns, in English or as HR exports them in Chinese:

=============  ========  ===========================================
english        chinese   meaning
=============  ========  ===========================================
employee_id    工号      required; the id used everywhere
name           姓名      required; kept exactly as written
department     部门
role           岗位
email          邮箱
manager        上级      the manager's employee id or name
hire_date      入职日期  YYYY-MM-DD (or YYYY/MM/DD, or an Excel date)
wecom_userid   企业微信  optional: WeCom user id, for @-mentions in
                         group-robot reminders (also 企业微信ID)
=============  ========  ===========================================

CSV files may be UTF-8 with or without a BOM, or GB18030 (what Excel on a
Chinese Windows saves). Every bad row is reported with its file and line and
nothing is imported unless every row is good; the import is one transaction
and re-importing updates rows by employee id, never duplicates them.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..assessment import gradebook
from ..submissions.store import EMPLOYEE_ID_PATTERN

COLUMNS: dict[str, tuple[str, ...]] = {
    "employee_id": ("employee_id", "工号", "员工编号"),
    "name": ("name", "姓名"),
    "department": ("department", "部门"),
    "role": ("role", "岗位", "职位"),
    "email": ("email", "邮箱", "电子邮箱"),
    "manager": ("manager", "上级", "直属上级"),
    "hire_date": ("hire_date", "入职日期"),
    "wecom_userid": ("wecom_userid", "企业微信", "企业微信ID", "企业微信账号"),
}
REQUIRED = ("employee_id", "name")
#: WeCom's own rule for user ids; it also keeps a roster cell from injecting markup into a <@userid> mention.
WECOM_USERID_PATTERN = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
HEADER_TO_COLUMN = {alias.lower(): column for column, aliases in COLUMNS.items() for alias in aliases}


class RosterError(ValueError):
    """Bad roster file; `problems` lists every one as 'file:line: message'."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class ImportReport:
    rows: int
    added: int
    updated: int

    @property
    def unchanged(self) -> int:
        return self.rows - self.added - self.updated


def read_roster(path: Path) -> list[dict[str, Any]]:
    """Read and validate every row; raises RosterError with all problems at once."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        lines = _csv_rows(path)
    elif suffix in (".xlsx", ".xlsm"):
        lines = _xlsx_rows(path)
    else:
        raise RosterError([f"{path}: a roster is a .csv or .xlsx file"])
    if not lines:
        raise RosterError([f"{path}:1: empty file: expected a header row"])
    header_line, header = lines[0]
    columns, problems = _map_header(path, header_line, header)
    rows: list[dict[str, Any]] = []
    first_line: dict[str, int] = {}
    for line, values in lines[1:]:
        if not any(str(v).strip() for v in values if v is not None):
            continue  # blank line
        row, row_problems = _row(path, line, columns, values)
        problems += row_problems
        if row is None:
            continue
        previous = first_line.setdefault(row["employee_id"], line)
        if previous != line:
            problems.append(f"{path}:{line}: employee id {row['employee_id']} already on line {previous}")
            continue
        rows.append(row)
    if problems:
        raise RosterError(problems)
    return rows


def import_roster(path: Path, db_url: str) -> ImportReport:
    """Validate the whole file, then upsert it in one transaction."""
    rows = read_roster(path)
    added, updated = gradebook.upsert_employees(db_url, rows)
    return ImportReport(rows=len(rows), added=added, updated=updated)


def _csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    text = decode(path.read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    start = 1
    for values in reader:
        rows.append((start, values))
        start = reader.line_num + 1
    return rows


def decode(data: bytes) -> str:
    """UTF-8 (BOM or not) first; GB18030 when the bytes are not UTF-8.

    GB18030 decodes almost any byte string, so UTF-8 must be tried first.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def _xlsx_rows(path: Path) -> list[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise RosterError([f"{path}: not a readable XLSX file ({exc})"]) from exc
    try:
        sheet = book.worksheets[0]
        return [(number, list(values)) for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        book.close()


def _map_header(path: Path, line: int, header: list[Any]) -> tuple[dict[int, str], list[str]]:
    problems = []
    columns: dict[int, str] = {}
    for index, raw in enumerate(header):
        name = str(raw or "").strip().lstrip("\ufeff")
        if not name:
            continue
        column = HEADER_TO_COLUMN.get(name.lower())
        if column is None:
            known = ", ".join(f"{c} ({'/'.join(a[1:])})" for c, a in COLUMNS.items())
            problems.append(f"{path}:{line}: unknown column {name!r}; columns are {known}")
        elif column in columns.values():
            problems.append(f"{path}:{line}: column {name!r} given twice")
        else:
            columns[index] = column
    for column in REQUIRED:
        if column not in columns.values():
            problems.append(f"{path}:{line}: missing column {column} ({'/'.join(COLUMNS[column][1:])})")
    return columns, problems


def _row(path: Path, line: int, columns: dict[int, str], values: list[Any]) -> tuple[dict[str, Any] | None, list[str]]:
    problems = []
    row: dict[str, Any] = {c: "" for c in COLUMNS}
    row["hire_date"] = None
    for index, column in columns.items():
        value = values[index] if index < len(values) else None
        if column == "hire_date":
            try:
                row[column] = _date(value)
            except ValueError:
                problems.append(f"{path}:{line}: hire date {value!r} is not a date (use YYYY-MM-DD)")
            continue
        row[column] = "" if value is None else str(value).strip()
    where = f"{path}:{line}"
    if not EMPLOYEE_ID_PATTERN.match(row["employee_id"]):
        problems.append(
            f"{where}: employee id {row['employee_id']!r} is not valid (1-64 letters, digits, '.', '_', '@', '-')"
        )
    if not row["name"]:
        problems.append(f"{where}: employee {row['employee_id'] or '?'} has no name")
    if row["wecom_userid"] and not WECOM_USERID_PATTERN.match(row["wecom_userid"]):
        problems.append(
            f"{where}: WeCom user id {row['wecom_userid']!r} of {row['employee_id']} is not valid "
            "(1-64 letters, digits, '.', '_', '@', '-')"
        )
    if row["email"] and ("@" not in row["email"] or " " in row["email"]):
        problems.append(f"{where}: email {row['email']!r} of {row['employee_id']} is not an address")
    return (None if problems else row), problems


def _date(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip().replace("/", "-").replace(".", "-")
    parts = text.split("-")
    if len(parts) != 3:
        raise ValueError(text)
    return date(int(parts[0]), int(parts[1]), int(parts[2])).isoformat()
