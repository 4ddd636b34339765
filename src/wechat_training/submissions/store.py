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
signature          HMAC of all other fields with the employee's key
                   (`provenance`); the store assigns submission_id and
                   signature when it writes (`seal`)
=================  ==========================================================

Provenance (issue 15): see `provenance` for the keys. The grader accepts a file
only if its signature and its id verify with the employee's key derived from
the master key; anything else is kept in place, named in ``wt_rejected`` and
never counts, for nobody.

Reading is bounded and total (`read`): the file is opened with O_NOFOLLOW and
O_NONBLOCK and must be a regular file (no FIFO, device or symlink), at most
MAX_SUBMISSION_BYTES; JSON nesting, integer digits, list lengths and string
lengths are limited (strings to what the gradebook's columns hold), and every
failure is a `SubmissionError` naming the file. `paths` walks the fixed layout
without following symlinked folders and yields odd entries (symlinks, FIFOs)
too, so the grader names and rejects them instead of skipping them silently.

Files are written atomically (temp file, fsync, rename, fsync directory), so a
reader never sees half an attempt, and an attempt is never overwritten: each
resubmission is a new file. Nothing in a submission is ever executed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import provenance
from .layout import STORE_DIR, paths, store_path  # noqa: F401 - the store's public names

FORMAT = "wechat-training-submission/1"
EMPLOYEE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MODULE_ID_PATTERN = re.compile(r"^[a-z_]{1,40}$")
MAX_SUBMISSION_BYTES = 1_000_000
#: Longest string a field may hold: the gradebook's column lengths (PostgreSQL enforces them).
MAX_CONTENT_VERSION = 64
MAX_TIME_TEXT = 40
MAX_QUESTION_ID = 32
MAX_RULE_ID = 64
MAX_LIST = 500
#: Deepest JSON nesting the format has is 3 (object > answers > list).
MAX_DEPTH = 8
MAX_INT_DIGITS = 12
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
    #: HMAC by the employee's key over every other field ('' until sealed).
    signature: str = ""
    path: Path | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("path")
        return data

    def signed_fields(self) -> dict[str, Any]:
        """What the signature covers: every field but the signature itself.

        The values are this submission's own (not copies, as `to_json` makes):
        they are only serialised, and `asdict`'s deep copy was a quarter of the
        grader's time."""
        return {name: getattr(self, name) for name in _SIGNED_FIELDS}


_SIGNED_FIELDS = tuple(name for name in Submission.__dataclass_fields__ if name not in ("path", "signature"))


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


def seal(submission: Submission, signer: provenance.Signer) -> Submission:
    """The submission with an id bound to its employee and module, and signed."""
    if signer.employee_id != submission.employee_id:
        raise provenance.StoreKeyError(
            f"cannot sign for {submission.employee_id!r} with the key of {signer.employee_id!r}"
        )
    bound = replace(submission, submission_id=signer.new_id(submission.module_id), signature="")
    return replace(bound, signature=signer.sign(bound.signed_fields()))


def write(course_dir: Path, submission: Submission, signer: provenance.Signer | None = None) -> Path:
    """Write one attempt atomically; never replaces an existing file.

    An unsigned submission is sealed first (`seal`) with `signer`, or with
    `provenance.signer_for` (the kernel's own key, else the master key):
    the file then carries a new submission id; read it back for the final object."""
    check_employee_id(submission.employee_id)
    if not submission.signature:
        submission = seal(submission, signer or provenance.signer_for(course_dir, submission.employee_id))
    if not MODULE_ID_PATTERN.match(submission.module_id):
        raise ValueError(f"module id {submission.module_id!r} is not valid")
    directory = store_path(course_dir) / submission.module_id / submission.employee_id
    for part in (store_path(course_dir), directory.parent, directory):
        # A folder planted as a symlink would take the attempt out of the store,
        # where the grader never counts it: refuse loudly instead.
        if part.is_symlink():
            raise SubmissionError(
                f"{part}: the store folder is a symlink; remove it (an attempt is never written through it)"
            )
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
    """Parse one submission file; raises SubmissionError naming the file and what is wrong.

    Checks the format only, not who wrote it (`provenance.Verifier` does)."""
    path = Path(path)
    raw = _read_bounded(path)
    try:
        data = json.loads(raw.decode("utf-8"), parse_int=_small_int, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and huge integers; RecursionError deep nesting.
        raise SubmissionError(
            f"{path}: not a readable JSON submission ({type(exc).__name__}: {str(exc)[:200]})"
        ) from exc
    if _depth(data) > MAX_DEPTH:
        raise SubmissionError(f"{path}: nested deeper than {MAX_DEPTH} levels")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SubmissionError(f"{path}: not a {FORMAT} file")
    data.setdefault("signature", "")  # files from before issue 15: read, then rejected as unsigned
    expected = {f for f in Submission.__dataclass_fields__ if f != "path"}
    missing = sorted(expected - set(data) - OPTIONAL_KEYS)
    extra = sorted(set(data) - expected)
    if missing or extra:
        raise SubmissionError(f"{path}: keys differ from the format (missing {missing}, unexpected {extra})")
    for key in (
        "submission_id",
        "employee_id",
        "module_id",
        "content_version",
        "started_at",
        "submitted_at",
        "identity_source",
        "signature",
    ):
        _require(path, data, key, str)
    if not EMPLOYEE_ID_PATTERN.match(data["employee_id"]):
        raise SubmissionError(f"{path}: invalid employee id {data['employee_id'][:80]!r}")
    if not MODULE_ID_PATTERN.match(data["module_id"]):
        raise SubmissionError(f"{path}: invalid module id {data['module_id'][:80]!r}")
    if not provenance.SUBMISSION_ID_PATTERN.match(data["submission_id"]):
        raise SubmissionError(f"{path}: submission id must be 32 lowercase hex digits")
    for key, limit in (
        ("content_version", MAX_CONTENT_VERSION),
        ("started_at", MAX_TIME_TEXT),
        ("submitted_at", MAX_TIME_TEXT),
        ("identity_source", 16),
        ("signature", 64),
    ):
        if len(data[key]) > limit:
            raise SubmissionError(f"{path}: '{key}' is longer than {limit} characters")
    qids = data["question_ids"]
    if not isinstance(qids, list) or len(qids) > MAX_LIST or not all(_short(q, MAX_QUESTION_ID) for q in qids):
        raise SubmissionError(f"{path}: question_ids must be a list of at most {MAX_LIST} short strings")
    answers = data["answers"]
    if (
        not isinstance(answers, dict)
        or len(answers) > MAX_LIST
        or not all(
            _short(k, MAX_QUESTION_ID) and isinstance(v, list) and len(v) <= 64 and all(_short(c, 16) for c in v)
            for k, v in answers.items()
        )
    ):
        raise SubmissionError(f"{path}: answers must map question ids to lists of choice ids")
    versions = data["rule_versions"]
    if (
        not isinstance(versions, dict)
        or len(versions) > MAX_LIST
        or not all(_short(k, MAX_RULE_ID) and type(v) is int and 0 <= v < 10**9 for k, v in versions.items())
    ):
        raise SubmissionError(f"{path}: rule_versions must map rule ids to integers")
    attempt = data.get("attempt")
    if attempt is not None and (not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 1):
        raise SubmissionError(f"{path}: attempt must be a whole number from 1")
    order = data.get("choice_order", {})
    if (
        not isinstance(order, dict)
        or len(order) > MAX_LIST
        or not all(
            _short(k, MAX_QUESTION_ID) and isinstance(v, list) and len(v) <= 64 and all(_short(c, 16) for c in v)
            for k, v in order.items()
        )
    ):
        raise SubmissionError(f"{path}: choice_order must map question ids to lists of choice ids")
    for key in ("started_at", "submitted_at"):
        try:
            moment = datetime.fromisoformat(data[key].replace("Z", "+00:00"))
        except ValueError as exc:
            raise SubmissionError(f"{path}: {key} is not an ISO 8601 time") from exc
        if moment.tzinfo is None:
            raise SubmissionError(f"{path}: {key} has no time zone (the portal writes UTC)")
    return Submission(**data, path=path)


def _read_bounded(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_SUBMISSION_BYTES, or SubmissionError.

    O_NOFOLLOW: a symlink is refused, never followed out of the store; O_NONBLOCK:
    opening a FIFO returns at once (then refused as not a regular file)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        kind = "a symlink (not followed)" if path.is_symlink() else f"unreadable ({exc.strerror})"
        raise SubmissionError(f"{path}: {kind}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionError(f"{path}: not a regular file (mode {stat.filemode(info.st_mode)})")
        if info.st_size > MAX_SUBMISSION_BYTES:
            raise SubmissionError(f"{path}: {info.st_size} bytes, larger than {MAX_SUBMISSION_BYTES}")
        chunks, left = [], MAX_SUBMISSION_BYTES + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise SubmissionError(f"{path}: unreadable ({exc.strerror})") from exc
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > MAX_SUBMISSION_BYTES:  # grew while being read
        raise SubmissionError(f"{path}: larger than {MAX_SUBMISSION_BYTES}")
    return raw


def _small_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"integer of {len(text)} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(value: Any, level: int = 1) -> int:
    """How deep `value` nests (a scalar is 1), counted no further than past MAX_DEPTH."""
    if level > MAX_DEPTH or not isinstance(value, (dict, list)):
        return level
    deepest = level
    # Scalars are counted here rather than by a call each: a file holds hundreds of them.
    for child in value.values() if isinstance(value, dict) else value:
        if isinstance(child, (dict, list)):
            deepest = max(deepest, _depth(child, level + 1))
        else:
            deepest = max(deepest, level + 1)
    return deepest


def _short(value: Any, limit: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit


def _require(path: Path, data: dict[str, Any], key: str, kind: type) -> None:
    if not isinstance(data.get(key), kind):
        raise SubmissionError(f"{path}: '{key}' must be a {kind.__name__}")


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
