"""Answers read out of an nbgrader notebook submission, as data only.

A submitted notebook is untrusted text. Nothing in it is executed: each answer
cell must be exactly ``answer = <literal>`` and the literal is read with
``ast.literal_eval`` semantics; anything else (a class with a rigged
``__eq__``, a shadowed builtin, an IPython input transformer, code that opens
the course's source notebook, a second statement) scores zero and is flagged.

The notebook's structure is compared with the master copy built from the
catalogue (`assignments.notebook_for`, as nbgrader releases it): deleted,
duplicated, added or unknown cells, edited locked cells and edited nbgrader
metadata (points, grade flags, ids) are all flagged. Flags never add points.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..content.catalog import Catalog
from . import assignments

#: A release notebook is ~15 kB; 2 MB leaves room for outputs and stops a
#: 50 MB notebook before it is parsed.
MAX_NOTEBOOK_BYTES = 2_000_000
MAX_ANSWER_CHARS = 2_000
#: nbgrader metadata keys a learner has no reason to touch.
NBGRADER_KEYS = ("grade", "solution", "locked", "points", "grade_id", "task")


@dataclass(frozen=True)
class ExpectedCell:
    """A cell as the release notebook holds it (hidden tests removed, key cleared)."""

    grade_id: str
    cell_type: str
    source: str
    nbgrader: dict[str, Any]
    ours: dict[str, Any]


@dataclass(frozen=True)
class NotebookAnswers:
    """What a submitted notebook says, read as data."""

    module_id: str
    question_ids: list[str]
    answers: dict[str, list[str]]  #: question id -> choice ids (only well-formed answers)
    flags: list[str] = field(default_factory=list)


def expected_cells(catalog: Catalog, module_id: str) -> list[ExpectedCell]:
    """The module's cells as nbgrader releases them: the master copy to compare with."""
    expected = []
    for cell in assignments.notebook_for(catalog, module_id).cells:
        meta = cell.metadata["nbgrader"]
        part = cell.metadata["wechat_training"]["part"]
        if part == "answer":
            source = assignments.ANSWER_STUB
        elif part == "test":
            source = assignments.test_visible_source(cell.metadata["wechat_training"]["question"])
        else:
            source = cell.source
        expected.append(
            ExpectedCell(
                grade_id=meta["grade_id"],
                cell_type=cell.cell_type,
                source=source,
                nbgrader={k: meta[k] for k in NBGRADER_KEYS if k in meta},
                ours=dict(cell.metadata["wechat_training"]),
            )
        )
    return expected


def read_notebook(path: Path, catalog: Catalog, module_id: str) -> NotebookAnswers:
    """Read a submitted notebook file (size-checked before it is parsed)."""
    path = Path(path)
    qids = assignments.module_questions(catalog, module_id)
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        return NotebookAnswers(
            module_id, qids, {}, [f"notebook is {size} bytes, over the {MAX_NOTEBOOK_BYTES} limit: not read"]
        )
    return read_notebook_bytes(path.read_bytes(), catalog, module_id)


def read_notebook_bytes(data: bytes, catalog: Catalog, module_id: str) -> NotebookAnswers:
    qids = assignments.module_questions(catalog, module_id)
    if len(data) > MAX_NOTEBOOK_BYTES:
        return NotebookAnswers(
            module_id, qids, {}, [f"notebook is {len(data)} bytes, over the {MAX_NOTEBOOK_BYTES} limit: not read"]
        )
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return NotebookAnswers(module_id, qids, {}, [f"not a notebook: invalid JSON ({_short(exc)})"])
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return NotebookAnswers(module_id, qids, {}, ["not a notebook: no list of cells"])
    return _read_cells(nb, catalog, module_id, qids)


def _read_cells(nb: dict[str, Any], catalog: Catalog, module_id: str, qids: list[str]) -> NotebookAnswers:
    flags: list[str] = []
    expected = {c.grade_id: c for c in expected_cells(catalog, module_id)}
    meta = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    ours = meta.get("wechat_training") if isinstance(meta.get("wechat_training"), dict) else {}
    if ours.get("module", module_id) != module_id:
        flags.append(f"notebook metadata names module {ours.get('module')!r}, graded as {module_id}")

    seen: Counter[str] = Counter()
    cells: dict[str, dict[str, Any]] = {}
    for index, cell in enumerate(nb["cells"], start=1):
        if not isinstance(cell, dict):
            flags.append(f"cell {index} is not a cell")
            continue
        gid = _grade_id(cell)
        if gid is None:
            if cell.get("cell_type") == "code" and _source(cell).strip():
                flags.append(f"cell {index}: added code cell (not run)")
            continue
        seen[gid] += 1
        if gid not in expected:
            flags.append(f"cell {index}: unknown cell id {gid!r}")
            continue
        if seen[gid] == 1:
            cells[gid] = cell

    for gid, count in seen.items():
        if count > 1 and gid in expected:
            flags.append(f"duplicated cell {gid} ({count} copies)")
    for gid, want in expected.items():
        if gid not in cells:
            flags.append(f"deleted cell {gid}")
            continue
        flags.extend(_compare(cells[gid], want))

    answers: dict[str, list[str]] = {}
    for qid in qids:
        gid = assignments.grade_id(qid) + assignments.ANSWER_SUFFIX
        if gid not in cells or seen[gid] > 1:
            continue  # deleted or duplicated: already flagged, scores zero
        value, problem = parse_answer(_source(cells[gid]))
        if problem:
            flags.append(f"{qid}: {problem}")
            continue
        picked_ids = picked(value)
        if picked_ids is None:
            flags.append(f"{qid}: answer {_short(value)} is not a choice id, a list of them, True or False")
            continue
        answers[qid] = picked_ids
    return NotebookAnswers(module_id, qids, answers, flags)


def _compare(cell: dict[str, Any], want: ExpectedCell) -> list[str]:
    flags = []
    gid = want.grade_id
    if cell.get("cell_type") != want.cell_type:
        flags.append(f"cell {gid}: type changed to {cell.get('cell_type')!r}")
    meta = cell.get("metadata", {}).get("nbgrader", {})
    for key, value in want.nbgrader.items():
        if meta.get(key) != value:
            flags.append(f"cell {gid}: nbgrader metadata '{key}' edited ({value!r} -> {meta.get(key)!r})")
    for key in sorted(set(meta) & set(NBGRADER_KEYS) - set(want.nbgrader)):
        if meta[key] not in (False, None):
            flags.append(f"cell {gid}: nbgrader metadata '{key}' added ({meta[key]!r})")
    if cell.get("metadata", {}).get("wechat_training", want.ours) != want.ours:
        flags.append(f"cell {gid}: wechat_training metadata edited")
    if want.nbgrader.get("locked") and _source(cell).strip() != want.source.strip():
        flags.append(f"cell {gid}: locked cell edited")
    return flags


def parse_answer(source: str) -> tuple[Any, str | None]:
    """The literal assigned in an answer cell, or (None, why it is not one).

    An empty cell is an unanswered question, not a problem.
    """
    if len(source) > MAX_ANSWER_CHARS:
        return None, f"answer cell is {len(source)} characters long: not read"
    try:
        tree = ast.parse(source, mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return None, f"answer cell is not valid Python ({_short(exc)})"
    if not tree.body:
        return None, None
    if (
        len(tree.body) != 1
        or not isinstance(tree.body[0], ast.Assign)
        or len(tree.body[0].targets) != 1
        or not isinstance(tree.body[0].targets[0], ast.Name)
        or tree.body[0].targets[0].id != assignments.ANSWER_NAME
    ):
        return None, f"answer cell must be one line '{assignments.ANSWER_NAME} = <literal>': other code is not run"
    try:
        return ast.literal_eval(tree.body[0].value), None
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return None, "answer is not a literal (code is not run)"


def picked(value: Any) -> list[str] | None:
    """A literal answer as sorted choice ids; None when it has no such reading.

    Mirrors `_picked` in the assignment's setup cell, so that stock nbgrader
    and this grader agree on every honest answer.
    """
    if value is True:
        return ["true"]
    if value is False:
        return ["false"]
    if value is None or value == "":
        return []
    if type(value) is str:
        return [value]
    if type(value) in (list, tuple, set, frozenset) and all(type(v) is str for v in value):
        return sorted(set(value))
    return None


def _grade_id(cell: dict[str, Any]) -> str | None:
    meta = cell.get("metadata")
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    gid = nbg.get("grade_id") if isinstance(nbg, dict) else None
    return gid if isinstance(gid, str) and gid else None


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value) if not isinstance(value, Exception) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
