"""The submission store: graded attempts written by the portal, read by the grader.

Layout, under the course directory (`grading/` by default)::

    submissions/<module_id>/<employee_id>/<submitted_at>_<submission_id>.json

One JSON object per attempt (format `wechat-training-submission/1`):

=================  ==========================================================
key                meaning
=================  ==========================================================
format             "wechat-training-submission/1"
submission_id      random hex id of this attempt (32 chars)
employee_id        from the server-side identity, never from a form
module_id          the module (= area) attempted
content_version    `Catalog.content_version(module_id)` when the quiz started
rule_versions      {rule id: version} of the rules the module cites
question_ids       the questions shown, in order
answers            {question id: [choice ids picked]}; true/false picks
                   "true" or "false"; [] for unanswered
started_at         ISO 8601 UTC, when the quiz was opened
submitted_at       ISO 8601 UTC, when it was submitted (server clock)
identity_source    "jupyterhub", "header" or "local"
attempt            1 for the employee's first attempt of the module, 2 for the
                   next…; part of the seed of the choice order (optional:
                   files written before issue 9 lack it)
choice_order       {question id: [choice ids in the order shown]} for every
                   question with choices (optional, like attempt)
=================  ==========================================================

Files are written atomically (temp file, fsync, rename, fsync directory), so a
reader never sees half an attempt, and an attempt is never overwritten: each
resubmission is a new file. Nothing in a submission is ever executed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FORMAT = "wechat-training-submission/1"
STORE_DIR = "submissions"
EMPLOYEE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MODULE_ID_PATTERN = re.compile(r"^[a-z_]{1,40}$")
MAX_SUBMISSION_BYTES = 1_000_000
#: Keys added after the first files were written; older files without them stay readable.
OPTIONAL_KEYS = frozenset({"attempt", "choice_order"})


class SubmissionError(ValueError):
    """A submission file that cannot be read as a submission; names the file."""


@dataclass(frozen=True)
class Submission:
    submission_id: str
    employee_id: str
    module_id: str
    content_version: str
    rule_versions: dict[str, int]
    question_ids: list[str]
    answers: dict[str, list[str]]
    started_at: str
    submitted_at: str
    identity_source: str
    format: str = FORMAT
    #: Issue 9: which attempt this is and the choice order shown; absent (None, {})
    #: in files written before choices were shuffled.
    attempt: int | None = None
    choice_order: dict[str, list[str]] = field(default_factory=dict)
    path: Path | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("path")
        return data


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def check_employee_id(employee_id: str) -> str:
    if not isinstance(employee_id, str) or not EMPLOYEE_ID_PATTERN.match(employee_id):
        raise ValueError(f"employee id {employee_id!r} is not valid: use 1-64 letters, digits, '.', '_', '@' or '-'")
    return employee_id


def new_submission(
    *,
    employee_id: str,
    module_id: str,
    content_version: str,
    rule_versions: Mapping[str, int],
    question_ids: Sequence[str],
    answers: Mapping[str, Sequence[str]],
    started_at: str,
    identity_source: str,
    submitted_at: str | None = None,
    attempt: int | None = None,
    choice_order: Mapping[str, Sequence[str]] | None = None,
) -> Submission:
    check_employee_id(employee_id)
    return Submission(
        submission_id=secrets.token_hex(16),
        employee_id=employee_id,
        module_id=module_id,
        content_version=content_version,
        rule_versions=dict(rule_versions),
        question_ids=list(question_ids),
        answers={qid: sorted(answers.get(qid, ())) for qid in question_ids},
        started_at=started_at,
        submitted_at=submitted_at or utc_now(),
        identity_source=identity_source,
        attempt=attempt,
        choice_order={qid: list(order) for qid, order in (choice_order or {}).items()},
    )


def store_path(course_dir: Path) -> Path:
    return Path(course_dir) / STORE_DIR


def write(course_dir: Path, submission: Submission) -> Path:
    """Write one attempt atomically; never replaces an existing file."""
    check_employee_id(submission.employee_id)
    if not MODULE_ID_PATTERN.match(submission.module_id):
        raise ValueError(f"module id {submission.module_id!r} is not valid")
    directory = store_path(course_dir) / submission.module_id / submission.employee_id
    directory.mkdir(parents=True, exist_ok=True)
    stamp = submission.submitted_at.replace(":", "").replace("-", "").replace(".", "")
    target = directory / f"{stamp}_{submission.submission_id}.json"
    payload = json.dumps(submission.to_json(), ensure_ascii=False, indent=1, sort_keys=True).encode()
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        # link() fails if the target exists, unlike rename(): an attempt is never replaced.
        os.link(tmp_name, target)
    finally:
        os.unlink(tmp_name)
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return target


def read(path: Path) -> Submission:
    """Parse one submission file; raises SubmissionError naming the file and what is wrong."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_SUBMISSION_BYTES:
            raise SubmissionError(f"{path}: {size} bytes, larger than {MAX_SUBMISSION_BYTES}")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SubmissionError(f"{path}: not a readable JSON submission ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SubmissionError(f"{path}: not a {FORMAT} file")
    expected = {f for f in Submission.__dataclass_fields__ if f != "path"}
    missing = sorted(expected - set(data) - OPTIONAL_KEYS)
    extra = sorted(set(data) - expected)
    if missing or extra:
        raise SubmissionError(f"{path}: keys differ from the format (missing {missing}, unexpected {extra})")
    _require(path, data, "submission_id", str)
    _require(path, data, "employee_id", str)
    _require(path, data, "module_id", str)
    _require(path, data, "content_version", str)
    _require(path, data, "started_at", str)
    _require(path, data, "submitted_at", str)
    _require(path, data, "identity_source", str)
    if not EMPLOYEE_ID_PATTERN.match(data["employee_id"]):
        raise SubmissionError(f"{path}: invalid employee id {data['employee_id']!r}")
    if not isinstance(data["question_ids"], list) or not all(isinstance(q, str) for q in data["question_ids"]):
        raise SubmissionError(f"{path}: question_ids must be a list of strings")
    answers = data["answers"]
    if not isinstance(answers, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(c, str) for c in v) for k, v in answers.items()
    ):
        raise SubmissionError(f"{path}: answers must map question ids to lists of choice ids")
    versions = data["rule_versions"]
    if not isinstance(versions, dict) or not all(isinstance(v, int) for v in versions.values()):
        raise SubmissionError(f"{path}: rule_versions must map rule ids to integers")
    attempt = data.get("attempt")
    if attempt is not None and (not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 1):
        raise SubmissionError(f"{path}: attempt must be a whole number from 1")
    order = data.get("choice_order", {})
    if not isinstance(order, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(c, str) for c in v) for k, v in order.items()
    ):
        raise SubmissionError(f"{path}: choice_order must map question ids to lists of choice ids")
    for stamp in ("started_at", "submitted_at"):
        try:
            datetime.fromisoformat(data[stamp].replace("Z", "+00:00"))
        except ValueError as exc:
            raise SubmissionError(f"{path}: {stamp} is not an ISO 8601 time") from exc
    return Submission(**data, path=path)


def _require(path: Path, data: dict[str, Any], key: str, kind: type) -> None:
    if not isinstance(data.get(key), kind):
        raise SubmissionError(f"{path}: '{key}' must be a {kind.__name__}")


def paths(course_dir: Path, module_id: str | None = None, employee_id: str | None = None) -> Iterator[Path]:
    """Every submission file in the store, in a stable order (module, employee, time)."""
    root = store_path(course_dir)
    if not root.is_dir():
        return
    modules = [root / module_id] if module_id else sorted(p for p in root.iterdir() if p.is_dir())
    for module_dir in modules:
        if not module_dir.is_dir():
            continue
        employees = [module_dir / employee_id] if employee_id else sorted(p for p in module_dir.iterdir() if p.is_dir())
        for employee_dir in employees:
            if employee_dir.is_dir():
                yield from sorted(p for p in employee_dir.glob("*.json") if not p.name.startswith("."))


def attempts(course_dir: Path, employee_id: str, module_id: str | None = None) -> list[Submission]:
    """One employee's readable attempts, oldest first (unreadable files are skipped here;
    the grader reports them)."""
    found = []
    for path in paths(course_dir, module_id=module_id, employee_id=check_employee_id(employee_id)):
        try:
            found.append(read(path))
        except SubmissionError:
            continue
    return sorted(found, key=lambda s: s.submitted_at)
