"""The safe `nbgrader autograde` pipeline of this course (set in grading/nbgrader_config.py).

Stock autograde executes each submission in a kernel and reads the grades off
the test cells' outputs, so a submission can rig its own score or the gradebook
(issue 4). Here the sanitize phase first hands the RAW submitted file to
`grader.grade_notebook` (answers read as literals, keys from the catalogue,
tampering flagged), then runs nbgrader's own non-executing clean-up so the
autograded copy and formgrader look as usual. The autograde phase runs
nothing: no `Execute`, and no `SaveAutoGrades` to overwrite our scores.

A notebook nbgrader cannot even parse (invalid JSON) fails in nbgrader before
any preprocessor, which reports it and stores no points.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nbgrader.preprocessors import (
    ClearOutput,
    DeduplicateIds,
    NbGraderPreprocessor,
    OverwriteCells,
    OverwriteKernelspec,
)

from ..content.location import content_root


class SafeGrade(NbGraderPreprocessor):
    """Grade the submitted file as data and store the attempt; the notebook passes through."""

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        from . import grader

        ids = resources["nbgrader"]
        path = Path(resources["metadata"]["path"]) / f"{ids['notebook']}.ipynb"
        # submitted/<student>/<assignment>/<notebook>.ipynb
        course_dir = path.resolve().parents[3]
        catalog = _catalog(content_root(beside=course_dir))
        row, new = grader.grade_notebook(
            course_dir,
            catalog,
            module_id=ids["assignment"],
            employee_id=ids["student"],
            path=path,
            submitted_at=_timestamp(path.parent),
            db_url=ids["db_url"],
        )
        attempt = row.attempt
        self.log.info(
            "%s %s: %g/%g%s",
            ids["student"],
            ids["assignment"],
            attempt["score"],
            attempt["max_score"],
            "" if new else " (already graded)",
        )
        if attempt["flags"]:
            self.log.warning("%s %s flagged: %s", ids["student"], ids["assignment"], attempt["flags"])
        return nb, resources


@functools.lru_cache(maxsize=2)
def _catalog(root: Path) -> Any:
    """Loaded once per autograde run, not once per notebook."""
    from ..content.catalog import load_catalog

    return load_catalog(root)


def _timestamp(directory: Path) -> datetime | None:
    """nbgrader's timestamp.txt of the submission, if readable."""
    stamp = directory / "timestamp.txt"
    if not stamp.is_file():
        return None
    import dateutil.parser

    try:
        moment = dateutil.parser.parse(stamp.read_text(encoding="utf-8", errors="replace").strip()[:64])
    except (ValueError, OverflowError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


SANITIZE_PREPROCESSORS = [SafeGrade, ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells]
AUTOGRADE_PREPROCESSORS: list[type] = []
