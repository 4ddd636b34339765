"""A minimal, fast XLSX writer for columns of text and numbers (the records export).

Why not openpyxl: on this kit's 2-core reference machine openpyxl's write-only
mode costs ~20 us a cell, so 100,000 employees x 6 modules x 21 columns would
take minutes; issue 5 asks for under 10 s (benchmarks/records.py measures both).
Why not xlsxwriter (issue 11 asked to switch if it came within 1.5x of ours):
its constant_memory mode took 14.87 s for the first 60,000 records where this
writer took 0.54 s (27x, same frame, same run, 2026-12-02); on the whole 600,000
it was 148 s against 4.9-7.2 s (shared/PERF_NOTES.md). Its per-cell Python
calls are the cost, which no option removes.
Here each column arrives as its distinct values plus a code per row (`Column`):
every distinct value's cell XML is made once (text goes to the shared-string
table, so a department or status is stored once), rows are picked by code and a
chunk of rows is one string join, compressed in a thread while the next chunk
is built. Tests read every file back with openpyxl and LibreOffice.

Every text cell is a string cell: text that looks like a formula ('=...') is
never a formula here, whatever it starts with.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: Characters XML 1.0 cannot hold at all: removed (Excel would refuse the file).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CHUNK_ROWS = 50_000
_MAX_ROWS = 1_048_576

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    "{sheets}"
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    "</Types>"
)
_SHEET_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
    'Target="docProps/core.xml"/>'
    "</Relationships>"
)
_CORE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>wechat-training</dc:creator></cp:coreProperties>'
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


@dataclass(frozen=True)
class Column:
    """One column as its distinct values and, per row, the index of its value (-1: empty).

    Writers render each distinct value once and pick by code: 600,000 records hold
    a few thousand distinct departments, dates and statuses, and each name six times.
    """

    name: str
    codes: np.ndarray
    values: list[Any]  #: str for text columns, numbers for numeric ones
    numeric: bool

    def __len__(self) -> int:
        return len(self.codes)


class WorkbookError(ValueError):
    """A frame that cannot be written as a sheet (too many rows, bad sheet name)."""


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_NEEDS_ESCAPE = re.compile(r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f]")


def _escape(texts: list[str]) -> list[str]:
    """Text safe inside an XML element: markup characters escaped, CR kept as a reference,
    characters XML cannot hold removed. One scan of all texts first: usually nothing to do."""
    if not _NEEDS_ESCAPE.search("".join(texts)):
        return texts
    return [_escape_one(t) if _NEEDS_ESCAPE.search(t) else t for t in texts]


def _escape_one(text: str) -> str:
    text = _ILLEGAL.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def write_workbook(out: Path | str, sheets: Sequence[tuple[str, Sequence[Column]]]) -> Path:
    """Write each (sheet name, columns) as a sheet. The header row is bold and frozen."""
    out = Path(out)
    for name, cols in sheets:
        rows = len(cols[0]) if cols else 0
        if rows + 1 > _MAX_ROWS:
            raise WorkbookError(f"sheet {name!r}: {rows} rows is more than a spreadsheet holds ({_MAX_ROWS - 1})")
        if not name or len(name) > 31 or re.search(r"[\[\]:*?/\\]", name):
            raise WorkbookError(f"invalid sheet name {name!r}")
    strings = _SharedStrings()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        for n, (_name, cols) in enumerate(sheets, start=1):
            with package.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True) as handle:
                _write_sheet(handle, cols, strings)
        package.writestr("xl/sharedStrings.xml", strings.xml())
        package.writestr(
            "[Content_Types].xml",
            _CONTENT_TYPES.format(sheets="".join(_SHEET_TYPE.format(n=n) for n in range(1, len(sheets) + 1))),
        )
        package.writestr("_rels/.rels", _ROOT_RELS)
        package.writestr("docProps/core.xml", _CORE)
        package.writestr("xl/styles.xml", _STYLES)
        package.writestr("xl/workbook.xml", _workbook_xml([name for name, _ in sheets]))
        package.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
    return out


def _workbook_xml(names: list[str]) -> str:
    sheets = "".join(
        f'<sheet name="{_escape([name])[0].replace(chr(34), "&quot;")}" sheetId="{i}" r:id="rId{i}"/>'
        for i, name in enumerate(names, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f"<sheets>{sheets}</sheets></workbook>"
    )


def _workbook_rels(count: int) -> str:
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        f'Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, count + 1)
    )
    extra = count + 1
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f"{rels}"
        f'<Relationship Id="rId{extra}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
        'Target="sharedStrings.xml"/>'
        f'<Relationship Id="rId{extra + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
        'Target="styles.xml"/>'
        "</Relationships>"
    )


class _SharedStrings:
    """The workbook's string table: each distinct text stored once, cells refer to it by index."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def ids(self, texts: list[str]) -> list[int]:
        known = self.index
        out = []
        for text in texts:
            found = known.get(text)
            if found is None:
                found = known[text] = len(known)
            out.append(found)
        return out

    def xml(self) -> bytes:
        escaped = _escape(list(self.index))
        # Keep leading/trailing spaces and line breaks exactly as typed.
        items = "".join(f'<si><t xml:space="preserve">{t}</t></si>' for t in escaped)
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(self.index)}" uniqueCount="{len(self.index)}">{items}</sst>'
        ).encode()


def _cells(column: Column, strings: _SharedStrings, before: str = "", after: str = "") -> np.ndarray:
    """Per row, the cell's XML: each distinct value rendered once (with `before`/`after`
    row tags glued on), then picked by code."""
    if column.numeric:
        xml = [f"<c><v>{float(v)!r}</v></c>" for v in column.values]
    elif len(column.values) * 2 > len(column.codes):
        # Mostly distinct text (times): inline strings, a shared table would only grow.
        escaped = _escape(list(column.values))
        xml = [f'<c t="inlineStr"><is><t xml:space="preserve">{t}</t></is></c>' if t else "<c/>" for t in escaped]
    else:
        ids = strings.ids(column.values)
        xml = [f'<c t="s"><v>{i}</v></c>' if t else "<c/>" for t, i in zip(column.values, ids, strict=True)]
    xml.append("<c/>")  # code -1: empty
    if before or after:
        xml = [before + x + after for x in xml]
    return np.array(xml, dtype=object)[column.codes]


def _write_sheet(handle, cols: Sequence[Column], strings: _SharedStrings) -> None:
    rows = len(cols[0]) if cols else 0
    last = f"{column_letter(max(len(cols) - 1, 0))}{rows + 1}"
    handle.write(
        (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<dimension ref="A1:{last}"/>'
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
            'state="frozen"/></sheetView></sheetViews><sheetData>'
        ).encode()
    )
    header_ids = strings.ids([c.name for c in cols])
    header = "".join(f'<c r="{column_letter(j)}1" s="1" t="s"><v>{i}</v></c>' for j, i in enumerate(header_ids))
    handle.write(f'<row r="1">{header}</row>'.encode())
    # Each distinct value's cell XML is made once, then taken by row (see Column); rows
    # carry no r= attribute (optional in SpreadsheetML), so the row tags glue onto the
    # first and last cells and a chunk is one join over a row-major array.
    last_index = len(cols) - 1
    rendered = [
        _cells(c, strings, "<row>" if j == 0 else "", "</row>" if j == last_index else "") for j, c in enumerate(cols)
    ]
    # zlib releases the GIL: compress one chunk in a thread while the next is built.
    with ThreadPoolExecutor(max_workers=1) as writer:
        pending = None
        for start in range(0, rows, _CHUNK_ROWS):
            block = np.stack([c[start : start + _CHUNK_ROWS] for c in rendered], axis=1)
            data = "".join(block.ravel().tolist()).encode("utf-8")
            if pending is not None:
                pending.result()
            pending = writer.submit(handle.write, data)
        if pending is not None:
            pending.result()
    handle.write(b"</sheetData></worksheet>")
