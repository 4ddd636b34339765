"""Record exports for HR: Excel-safe CSV, XLSX with a department summary, xAPI statements.

Every export is a pure function of the records frame (`records.build_records`),
so it can be re-made from the gradebook at any time with the same `as_of`.

Why not nbgrader's own CSV export: it builds lines by hand (a comma in a name
breaks the row), writes no BOM (Excel shows Chinese names garbled), lets a name
like `=HYPERLINK(...)` run as a formula, and writes 0 for people who never
submitted (issue 5).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import rollup as R
from . import vocabulary as V
from .workbook import Column, WorkbookError, serial_days, write_workbook

#: Spreadsheet apps run a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx", "xapi")

XAPI_VERSION = "1.0.3"
VERB_PASSED = "http://adlnet.gov/expapi/verbs/passed"
VERB_FAILED = "http://adlnet.gov/expapi/verbs/failed"
VERB_COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
ACTIVITY_TYPE = "http://adlnet.gov/expapi/activities/assessment"
_UUID_NAMESPACE = uuid.UUID("8f4a3c52-2d9e-4c7b-9a51-0b6f3e2c7d10")


class ExportError(ValueError):
    """An export that cannot be written (unknown format, unwritable path)."""


def neutralise(values: pd.Series) -> pd.Series:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe
    (OWASP's advice): Excel and LibreOffice then show the text as typed."""
    text = values.astype(object)
    is_text = np.fromiter((isinstance(v, str) for v in text), dtype=bool, count=len(text))
    risky = is_text & np.fromiter(
        (isinstance(v, str) and v.startswith(FORMULA_STARTS) for v in text), dtype=bool, count=len(text)
    )
    out = text.copy()
    out[risky] = ["'" + v for v in text[risky]]
    return out


def columns(records: pd.DataFrame, *, safe_text: bool) -> list[Column]:
    """Records as the cells a spreadsheet shows: numbers as numbers, times as ISO UTC text
    with Z, dates as ISO text, booleans as yes/no, '' for none. With `safe_text`,
    formula-looking text is neutralised (for CSV)."""
    out = []
    for name in records.columns:
        values = records[name]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            # UTC ticks as an int64 view: factorising Timestamps one by one is ~10x slower.
            ticks = np.asarray(values.array.asi8)
            codes, uniques = pd.factorize(np.where(values.isna().to_numpy(), np.iinfo(np.int64).min, ticks))
            missing = uniques == np.iinfo(np.int64).min
            codes = np.where(missing[codes], -1, codes) if missing.any() else codes
            uniques = uniques.view(f"datetime64[{values.dt.unit}]")
            # Nearly every time is distinct: format them in numpy, not one by one in Python.
            text = np.datetime_as_string(np.asarray(uniques, dtype="datetime64[s]"), unit="s", timezone="UTC")
            out.append(Column(str(name), codes, text.tolist(), numeric=False))
        elif values.dtype == bool:
            out.append(Column(str(name), values.to_numpy().astype(np.int64), ["no", "yes"], numeric=False))
        elif pd.api.types.is_numeric_dtype(values.dtype):
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
            out.append(Column(str(name), codes, list(uniques), numeric=True))
        else:
            codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
            text = pd.Series(uniques, dtype=object).astype(str)
            if safe_text:
                text = neutralise(text)
            out.append(Column(str(name), codes, text.tolist(), numeric=False))
    return out


def write_csv(records: pd.DataFrame, out: Path | str) -> Path:
    """UTF-8 with BOM (Excel detects the encoding from it), every text field quoted,
    CRLF line ends, formula-looking text neutralised, nothing at all for a missing value."""
    out = Path(out)
    rendered = []
    cols = columns(records, safe_text=True)
    for j, column in enumerate(cols):
        if column.numeric:
            cells = [repr(float(v)) if isinstance(v, float) else str(v) for v in column.values]
        else:
            cells = ['"' + v.replace('"', '""') + '"' for v in column.values]
        cells.append("")  # code -1: missing
        # The separator (or the line end) goes onto each distinct value once, so a chunk
        # of rows is a single join over a row-major array.
        end = "\r\n" if j == len(cols) - 1 else ","
        rendered.append(np.array([c + end for c in cells], dtype=object)[column.codes])
    header = ",".join('"' + str(c).replace('"', '""') + '"' for c in records.columns)
    try:
        with out.open("w", encoding="utf-8-sig", newline="") as handle:
            handle.write(header + "\r\n")
            chunk = 100_000
            for start in range(0, len(records), chunk):
                block = np.stack([c[start : start + chunk] for c in rendered], axis=1)
                handle.write("".join(block.ravel().tolist()))
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror}") from exc
    return out


def write_xlsx(
    records: pd.DataFrame,
    out: Path | str,
    *,
    module_titles: dict[str, dict[str, str]] | None = None,
    lang: str = "zh",
) -> Path:
    """The HR workbook: a records sheet and a department summary sheet, for people.

    Headings and status words in Chinese (`lang="en"`: English), module titles
    instead of ids, the manager's name, dates and times as date cells, scores
    and completion as percent cells, column widths, a frozen header row with
    filter buttons. Text is stored as text cells exactly as typed (a name
    starting with '=' is a string cell, never a formula); see `workbook` for
    why not openpyxl. The machine columns stay in the CSV.
    """
    if lang not in V.LANGUAGES:
        raise ExportError(f"unknown language {lang!r}: use one of {', '.join(V.LANGUAGES)}")
    records_sheet, summary_sheet = V.SHEET_NAMES[lang]
    sheets = [
        (records_sheet, hr_columns(records, module_titles or {}, lang)),
        (summary_sheet, summary_columns(R.department_summary(records), lang)),
    ]
    try:
        return write_workbook(out, sheets, autofilter=True)
    except WorkbookError as exc:
        raise ExportError(str(exc)) from exc
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror}") from exc


def hr_columns(records: pd.DataFrame, module_titles: dict[str, dict[str, str]], lang: str) -> list[Column]:
    """The records as HR reads them (see `write_xlsx`), in `vocabulary.RECORD_HEADINGS` order."""
    view = records.copy()
    title_key = "zh-CN" if lang == "zh" else "en-US"
    titles = {m: t.get(title_key) or m for m, t in module_titles.items()}
    view[R.MODULE_ID] = view[R.MODULE_ID].map(lambda m: titles.get(m, m))
    view[R.STATUS] = view[R.STATUS].map(lambda s: V.status_word(s, lang))
    names = records.drop_duplicates(R.EMPLOYEE_ID).set_index(R.EMPLOYEE_ID)[R.NAME]
    names = names[names.astype(str) != ""]
    # A manager not on the roster (or named, not numbered, on it) keeps what the roster says.
    view[V.MANAGER_NAME] = records[R.MANAGER].map(names).fillna(records[R.MANAGER])
    with np.errstate(invalid="ignore", divide="ignore"):
        view[V.SCORE_RATE] = (records[R.BEST_SCORE] / records[R.MAX_SCORE]).where(records[R.MAX_SCORE] > 0)
    no, yes = V.YES_NO[lang]
    out = []
    for entry in V.RECORD_HEADINGS:
        name, header = entry[0], V.heading(entry, lang)
        values = view[name]
        if name == R.MANDATORY:
            out.append(_sized(Column(header, values.to_numpy().astype(np.int64), [no, yes], numeric=False)))
        elif isinstance(values.dtype, pd.DatetimeTZDtype):
            out.append(_time_column(header, values))
        elif name in (R.OPEN_DATE, R.DUE_DATE, R.VALID_UNTIL):
            codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
            days = np.array([np.datetime64(d, "D") for d in uniques], dtype="datetime64[D]")
            out.append(Column(header, codes, serial_days(days).tolist(), numeric=True, style="date", width=12))
        elif pd.api.types.is_numeric_dtype(values.dtype):
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
            style = "percent" if name == V.SCORE_RATE else ""
            out.append(_sized(Column(header, codes, list(uniques), numeric=True, style=style)))
        else:
            codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
            out.append(_sized(Column(header, codes, pd.Series(uniques, dtype=object).astype(str).tolist(), False)))
    return out


def summary_columns(summary: pd.DataFrame, lang: str) -> list[Column]:
    out = []
    for entry in V.SUMMARY_HEADINGS:
        name, header = entry[0], V.heading(entry, lang)
        codes, uniques = pd.factorize(summary[name].astype(object), use_na_sentinel=True)
        if name == R.DEPARTMENT:
            out.append(_sized(Column(header, codes, [str(u) for u in uniques], numeric=False)))
        else:
            style = "percent" if name == R.COMPLETION_RATE else ""
            out.append(_sized(Column(header, codes, [float(u) for u in uniques], numeric=True, style=style)))
    return out


def _time_column(header: str, values: pd.Series) -> Column:
    """UTC times as date-time cells; one serial per distinct instant."""
    ticks = np.asarray(values.dt.tz_localize(None).astype("datetime64[us]").to_numpy())
    codes, uniques = pd.factorize(np.where(values.isna().to_numpy(), np.datetime64("NaT"), ticks))
    serial = serial_days(np.asarray(uniques, dtype="datetime64[us]"))
    missing = np.isnan(serial)
    if missing.any():
        codes = np.where(missing[codes], -1, codes)
    return Column(header, codes, serial.tolist(), numeric=True, style="datetime", width=17)


def _display_width(text: str) -> int:
    """Characters as a spreadsheet lays them out: CJK and full-width forms take two."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


def _sized(column: Column, *, widest: int = 40) -> Column:
    """The column with a width that fits its heading and (a sample of) its values."""
    sample = (
        column.values[:5000]
        if not column.numeric
        else [f"{v:g}" if isinstance(v, float) else str(v) for v in column.values[:200]]
    )
    if column.style == "percent":
        sample = ["100.0%"]
    longest = max([_display_width(column.name), *(_display_width(str(v)) for v in sample)])
    width = min(max(longest + 2, 6), widest)
    return Column(column.name, column.codes, column.values, column.numeric, column.style, width)


def xapi_statements(
    records: pd.DataFrame,
    home_page: str,
    module_titles: dict[str, dict[str, str]] | None = None,
) -> Iterator[dict[str, Any]]:
    """xAPI 1.0.3 statements, one per record with attempts:

    - `passed` for a record whose latest pass is on file (passed or expired), scored;
    - `failed` for graded attempts none of which passed, with the best score;
    - `completed` for attempts submitted but not graded yet.

    The actor is the employee's account on the company home page (no names or
    e-mails leave the company). Statement ids are derived from the record, so
    exporting the same period twice yields the same statements.
    """
    base = home_page.rstrip("/")
    titles = module_titles or {}
    with_attempts = records[records[R.ATTEMPTS] > 0]
    for row in with_attempts.to_dict("records"):
        passed_at = row[R.PASSED_AT]
        if pd.notna(passed_at):
            verb, success, when = VERB_PASSED, True, passed_at
        elif pd.notna(row[R.BEST_SCORE]):
            verb, success, when = VERB_FAILED, False, row[R.LAST_ATTEMPT_AT]
        else:
            verb, success, when = VERB_COMPLETED, None, row[R.LAST_ATTEMPT_AT]
        module = row[R.MODULE_ID]
        result: dict[str, Any] = {"completion": True}
        if success is not None:
            result["success"] = success
            score, top = float(row[R.BEST_SCORE]), float(row[R.MAX_SCORE])
            result["score"] = {"scaled": round(score / top, 4) if top else 0.0, "raw": score, "min": 0.0, "max": top}
        timestamp = pd.Timestamp(when).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
        extensions = {f"{base}/xapi/extensions/module-id": module}
        if isinstance(row[R.CONTENT_VERSION], str) and row[R.CONTENT_VERSION]:
            extensions[f"{base}/xapi/extensions/content-version"] = row[R.CONTENT_VERSION]
        name = titles.get(module) or {"en-US": module}
        key = f"{base}|{row[R.EMPLOYEE_ID]}|{module}|{verb}|{timestamp}"
        yield {
            "id": str(uuid.uuid5(_UUID_NAMESPACE, key)),
            "actor": {"objectType": "Agent", "account": {"homePage": base, "name": row[R.EMPLOYEE_ID]}},
            "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[1]}},
            "object": {
                "objectType": "Activity",
                "id": f"{base}/training/wechat/{module}",
                "definition": {"type": ACTIVITY_TYPE, "name": name},
            },
            "result": result,
            "context": {
                "contextActivities": {"parent": [{"objectType": "Activity", "id": f"{base}/training/wechat"}]},
                "extensions": extensions,
            },
            "timestamp": timestamp,
            "version": XAPI_VERSION,
        }


def write_xapi(
    records: pd.DataFrame, out: Path | str, home_page: str, module_titles: dict[str, dict[str, str]] | None = None
) -> Path:
    """xAPI statements as one JSON array (the body an LRS accepts in one POST)."""
    import json

    out = Path(out)
    buffer = io.StringIO()
    buffer.write("[\n")
    for i, statement in enumerate(xapi_statements(records, home_page, module_titles)):
        buffer.write((",\n" if i else "") + json.dumps(statement, ensure_ascii=False, sort_keys=True))
    buffer.write("\n]\n")
    try:
        out.write_text(buffer.getvalue(), encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror}") from exc
    return out


def write(
    records: pd.DataFrame,
    fmt: str,
    out: Path | str,
    *,
    home_page: str,
    module_titles: dict[str, dict[str, str]] | None = None,
    lang: str = "zh",
) -> Path:
    """Write `records` as `fmt` (one of FORMATS); `lang` is the XLSX's language (zh or en)."""
    if fmt == "csv":
        return write_csv(records, out)
    if fmt == "xlsx":
        return write_xlsx(records, out, module_titles=module_titles, lang=lang)
    if fmt == "xapi":
        return write_xapi(records, out, home_page, module_titles)
    raise ExportError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
